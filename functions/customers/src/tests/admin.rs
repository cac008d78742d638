//! `GET /customers/{sub}` and `GET /customers?email=`.

use axum::http::StatusCode;
use nanoshop_api::testing::TestRequest;
use serde_json::json;

use super::{berlin, shop};

#[tokio::test]
async fn an_admin_reads_a_customers_profile_addresses_and_orders() {
    let shop = shop().await;
    let (token, admin) = (shop.customer("cust_1"), shop.auth.admin());
    TestRequest::patch("/me")
        .bearer(&token)
        .json(&json!({"name": "Ada", "email": "Ada@Example.com"}))
        .send(&shop.app)
        .await;
    shop.add_address(&token, json!({"address": berlin()})).await;
    let first = shop.order("cust_1", "ada@example.com").await;
    let second = shop.order("cust_1", "ada@example.com").await;

    let reply = TestRequest::get("/customers/cust_1").bearer(&admin).send(&shop.app).await;
    let customer = reply.assert_status(StatusCode::OK);
    assert_eq!(customer["profile"], shop.me(&token).await);
    assert_eq!(customer["addresses"].as_array().unwrap().len(), 1);
    let ids: Vec<&str> = customer["orders"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [second.id.as_str(), first.id.as_str()], "newest first");

    let found = TestRequest::get("/customers?email=%20ADA@example.COM").bearer(&admin).send(&shop.app).await;
    let items = found.assert_status(StatusCode::OK)["items"].clone();
    assert_eq!(items, json!([customer["profile"]]));
}

#[tokio::test]
async fn a_customer_with_only_orders_is_found_and_no_one_is_404() {
    let shop = shop().await;
    let admin = shop.auth.admin();
    shop.order("cust_9", "nine@example.com").await;
    let reply = TestRequest::get("/customers/cust_9").bearer(&admin).send(&shop.app).await;
    let customer = reply.assert_status(StatusCode::OK);
    assert_eq!((customer["profile"]["name"].clone(), customer["orders"].as_array().unwrap().len()), (json!(null), 1));
    for sub in ["nobody", &"x".repeat(129)] {
        let reply = TestRequest::get(format!("/customers/{sub}")).bearer(&admin).send(&shop.app).await;
        reply.assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
    let none = TestRequest::get("/customers?email=nobody@example.com").bearer(&admin).send(&shop.app).await;
    assert_eq!(none.assert_status(StatusCode::OK)["items"], json!([]));
    let missing = TestRequest::get("/customers").bearer(&admin).send(&shop.app).await;
    missing.assert_problem(StatusCode::BAD_REQUEST, "invalid_query");
}
