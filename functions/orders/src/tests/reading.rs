//! Who sees which orders: lists for customers (their own) and admins (all, filtered); one order
//! for its owner, an admin, or a guest with its order token.

use axum::http::StatusCode;
use nanoshop_api::testing::{CUSTOMER, TestRequest};
use serde_json::Value;

use super::shop;

fn ids(body: &Value) -> Vec<&str> {
    body["items"].as_array().unwrap().iter().filter_map(|o| o["id"].as_str()).collect()
}

#[tokio::test]
async fn customers_list_their_own_orders_and_admins_all_of_them() {
    let shop = shop().await;
    let mine = shop.pending(Some(CUSTOMER)).await;
    let theirs = shop.paid(Some("cust_2")).await;
    TestRequest::get("/orders").send(&shop.app).await.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");

    let customer = shop.auth.customer(CUSTOMER);
    let listed = TestRequest::get("/orders").bearer(&customer).send(&shop.app).await;
    assert_eq!(ids(listed.assert_status(StatusCode::OK)), [mine.id.as_str()]);
    let admin = shop.auth.admin();
    let all = TestRequest::get("/orders").bearer(&admin).send(&shop.app).await;
    assert_eq!(ids(all.assert_status(StatusCode::OK)), [theirs.id.as_str(), mine.id.as_str()], "newest first");
    let paid = TestRequest::get("/orders?status=paid").bearer(&admin).send(&shop.app).await;
    assert_eq!(ids(paid.assert_status(StatusCode::OK)), [theirs.id.as_str()]);

    let filtered = TestRequest::get("/orders?status=paid").bearer(&customer).send(&shop.app).await;
    filtered.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let unknown = TestRequest::get("/orders?status=lost").bearer(&admin).send(&shop.app).await;
    unknown.assert_problem(StatusCode::BAD_REQUEST, "invalid_status");
}

#[tokio::test]
async fn an_order_opens_for_its_owner_an_admin_or_its_token_and_is_404_for_anyone_else() {
    let shop = shop().await;
    let order = shop.pending(Some(CUSTOMER)).await;
    let path = format!("/orders/{}", order.id);
    TestRequest::get(&path).send(&shop.app).await.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let owner = TestRequest::get(&path).bearer(&shop.auth.customer(CUSTOMER)).send(&shop.app).await;
    assert_eq!(owner.assert_status(StatusCode::OK)["email"], "ada@example.com");
    TestRequest::get(&path).bearer(&shop.auth.admin()).send(&shop.app).await.assert_status(StatusCode::OK);
    let token = shop.order_token(&order).await;
    let guest = TestRequest::get(&path).header("x-order-token", &token).send(&shop.app).await;
    assert_eq!(guest.assert_status(StatusCode::OK)["id"], order.id.as_str());

    let stranger = TestRequest::get(&path).bearer(&shop.auth.customer("cust_2")).send(&shop.app).await;
    stranger.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let other = shop.pending(None).await;
    let other_token = shop.order_token(&other).await;
    let wrong = TestRequest::get(&path).header("x-order-token", &other_token).send(&shop.app).await;
    wrong.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let missing =
        TestRequest::get("/orders/ord_01M9730DAH83EZ1SZBA819VNSW").bearer(&shop.auth.admin()).send(&shop.app).await;
    missing.assert_problem(StatusCode::NOT_FOUND, "not_found");
}
