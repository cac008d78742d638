//! A cart's lines: created with items, added, set, removed; priced from the catalog, and the
//! errors of each change.

use axum::http::{Method, StatusCode};
use nanoshop_api::testing::TestRequest;
use nanoshop_domain::cart::CartStatus;
use serde_json::json;

use super::shop;

#[tokio::test]
async fn a_guest_cart_is_created_with_its_token_once_and_priced_from_the_catalog() {
    let shop = shop().await;
    let reply = TestRequest::post("/carts")
        .json(&json!({"currency": "EUR", "items": [{"sku": "P0", "quantity": 2}]}))
        .send(&shop.app)
        .await;
    let body = reply.assert_status(StatusCode::CREATED);
    assert!(body["token"].as_str().is_some_and(|t| t.len() == 43), "{body}");
    assert_eq!(body["totals"]["subtotal"], json!({"amount": 2000, "currency": "EUR"}));
    assert!(reply.header("etag").is_some());
    let cart =
        super::GuestCart { id: body["id"].as_str().unwrap().into(), token: body["token"].as_str().unwrap().into() };
    let read = cart.request(Method::GET, "").send(&shop.app).await;
    assert!(read.assert_status(StatusCode::OK).get("token").is_none(), "the token is shown once");
}

#[tokio::test]
async fn a_new_cart_is_refused_for_another_currency_an_unknown_sku_or_too_many_units() {
    let shop = shop().await;
    let create = |body| TestRequest::post("/carts").json(&body).send(&shop.app);
    create(json!({"currency": "USD"})).await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "unsupported_currency");
    let unknown = create(json!({"currency": "EUR", "items": [{"sku": "NOPE", "quantity": 1}]})).await;
    unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "unknown_sku");
    let zero = create(json!({"currency": "EUR", "items": [{"sku": "P0", "quantity": 0}]})).await;
    zero.assert_field_error("validation_failed", "items[0].quantity");
    let over = create(json!({"currency": "EUR", "items": [{"sku": "P0", "quantity": 11}]})).await;
    over.assert_field_error("quantity_limit", "items[0].quantity");
    let unread = TestRequest::post("/carts").raw("{", "application/json").send(&shop.app).await;
    assert_eq!(unread.status.as_u16() / 100, 4, "{}", unread.body);
}

#[tokio::test]
async fn lines_are_added_set_and_removed() {
    let shop = shop().await;
    let cart = shop.guest_cart(json!([{"sku": "P0", "quantity": 1}])).await;
    let added = cart.request(Method::POST, "/items").json(&json!({"sku": "P0", "quantity": 2})).send(&shop.app).await;
    assert_eq!(added.assert_status(StatusCode::OK)["items"][0]["quantity"], 3, "lines merge by SKU");
    let added = cart.request(Method::POST, "/items").json(&json!({"sku": "P1", "quantity": 1})).send(&shop.app).await;
    assert_eq!(added.assert_status(StatusCode::OK)["items"].as_array().map(Vec::len), Some(2));

    let set = cart.request(Method::PATCH, "/items/P1").json(&json!({"quantity": 4})).send(&shop.app).await;
    assert_eq!(set.assert_status(StatusCode::OK)["items"][1]["quantity"], 4);
    let zeroed = cart.request(Method::PATCH, "/items/P1").json(&json!({"quantity": 0})).send(&shop.app).await;
    assert_eq!(zeroed.assert_status(StatusCode::OK)["items"].as_array().map(Vec::len), Some(1));
    let removed = cart.request(Method::DELETE, "/items/P0").send(&shop.app).await;
    assert_eq!(removed.assert_status(StatusCode::OK)["items"], json!([]));
}

#[tokio::test]
async fn a_bad_line_is_422_naming_the_field() {
    let shop = shop().await;
    let cart = shop.guest_cart(json!([])).await;
    let add = |body| cart.request(Method::POST, "/items").json(&body).send(&shop.app);
    add(json!({"sku": "no spaces", "quantity": 1})).await.assert_field_error("validation_failed", "sku");
    add(json!({"sku": "P0", "quantity": 100})).await.assert_field_error("validation_failed", "quantity");
    add(json!({"sku": "GONE", "quantity": 1})).await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "unknown_sku");
    add(json!({"sku": "P0", "quantity": 1, "colour": "red"}))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let over = cart.request(Method::PATCH, "/items/P0").json(&json!({"quantity": 11})).send(&shop.app).await;
    assert_eq!(over.status.as_u16() / 100, 4, "{}", over.body);
}

#[tokio::test]
async fn a_checked_out_cart_is_read_only() {
    let shop = shop().await;
    let cart = shop.guest_cart(json!([{"sku": "P0", "quantity": 1}])).await;
    shop.alter_cart(&cart.id, |c| c.status = CartStatus::CheckedOut).await;
    let read = cart.request(Method::GET, "").send(&shop.app).await;
    assert_eq!(read.assert_status(StatusCode::OK)["status"], "checked_out");
    let changes = [
        cart.request(Method::POST, "/items").json(&json!({"sku": "P1", "quantity": 1})),
        cart.request(Method::PATCH, "/items/P0").json(&json!({"quantity": 2})),
        cart.request(Method::DELETE, "/items/P0"),
        cart.request(Method::DELETE, "/discount"),
    ];
    for change in changes {
        change.send(&shop.app).await.assert_problem(StatusCode::CONFLICT, "cart_already_checked_out");
    }
}
