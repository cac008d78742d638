//! The customers function through the whole backend (`nanoshop serve`'s router, every response
//! checked against the OpenAPI document): a signed-in customer who bought something keeps a
//! profile and an address book, the admin looks them up, and they export and then erase it all.
//! The same walk is the customers function's part of the access audit (`access.rs`).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::cart::shop;
use crate::support::TestApp;

fn address(city: &str) -> Value {
    json!({"name": "C", "line1": "1 Rue", "city": city, "postal_code": "75001", "country": "FR"})
}

/// Every customers route, in a customer's life, as `t.customer` (`cust_1`) who has placed at
/// least one order. Leaves the customer erased.
pub async fn customers_scenario(t: &TestApp) {
    let me = Some(t.customer.as_str());
    let admin = Some(t.admin.as_str());
    let empty = t.get("/me", me).await;
    assert_eq!((empty.status, empty.body["sub"].as_str()), (StatusCode::OK, Some("cust_1")), "{}", empty.body);
    let patched = t.json(Method::PATCH, "/me", me, &json!({"name": "C", "email": "C@Shop.example"})).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);

    let home = t.json(Method::POST, "/me/addresses", me, &json!({"label": "Home", "address": address("Paris")})).await;
    assert_eq!(home.status, StatusCode::CREATED, "{}", home.body);
    let work = json!({"label": "Work", "address": address("Lyon"), "default_billing": true});
    let work = t.json(Method::POST, "/me/addresses", me, &work).await;
    assert_eq!(work.status, StatusCode::CREATED, "{}", work.body);
    let home = format!("/me/addresses/{}", home.body["id"].as_str().unwrap());
    let work = format!("/me/addresses/{}", work.body["id"].as_str().unwrap());
    let relabelled = t.json(Method::PATCH, &home, me, &json!({"label": "Flat"})).await;
    assert_eq!(relabelled.status, StatusCode::OK, "{}", relabelled.body);
    let shipping = t.json(Method::PATCH, &work, me, &json!({"default_shipping": true})).await;
    assert_eq!(shipping.body["default_shipping"], true, "{}", shipping.body);
    let book = t.get("/me/addresses", me).await;
    let labels: Vec<&str> =
        book.body["items"].as_array().unwrap().iter().map(|a| a["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["Flat", "Work"]);
    assert_eq!(t.send(Method::DELETE, &home, me, &[], None).await.status, StatusCode::NO_CONTENT);

    let found = t.get("/customers?email=c@shop.EXAMPLE", admin).await;
    assert_eq!(found.body["items"][0]["sub"], "cust_1", "{}", found.body);
    let customer = t.get("/customers/cust_1", admin).await;
    assert_eq!(customer.status, StatusCode::OK, "{}", customer.body);
    let orders = customer.body["orders"].as_array().unwrap().len();
    assert!(orders >= 1, "{}", customer.body);
    let export = t.get("/me/export", me).await;
    assert_eq!(
        (export.body["orders"].as_array().unwrap().len(), export.body["profile"]["name"].as_str()),
        (orders, Some("C"))
    );

    assert_eq!(t.send(Method::DELETE, "/me", me, &[], None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get("/me", me).await.body["name"], Value::Null);
    assert_eq!(t.get("/customers/cust_1", admin).await.status, StatusCode::NOT_FOUND);
    let order_id = export.body["orders"][0]["id"].as_str().unwrap();
    let order = t.order(order_id).await;
    assert_eq!((order.email.as_str(), order.customer_id), ("", None), "the order is anonymised");
    // Their order history is gone with the link to them; the merchant still has the order.
    assert_eq!(t.get("/orders", me).await.body["items"], json!([]));
    assert_eq!(t.get(&format!("/orders/{order_id}"), admin).await.body["totals"], export.body["orders"][0]["totals"]);
}

#[tokio::test]
async fn a_customer_keeps_a_profile_and_an_address_book_exports_and_erases_them() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let cart = t.customer_cart().await;
    let bought = t.customer_checkout(&cart.body, "customers-1").await;
    assert_eq!(bought.status, StatusCode::CREATED, "{}", bought.body);
    customers_scenario(&t).await;
}
