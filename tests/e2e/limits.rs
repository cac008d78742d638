//! Abuse limits of the cart and the checkout: the store's limit of units per SKU (so one
//! anonymous cart cannot hold a SKU's whole stock through the payment window).

use std::sync::Arc;

use axum::http::{Method, StatusCode, header};
use nanoshop_domain::cart::MaxUnitsPerSku;
use nanoshop_store::embedded::EmbeddedStore;
use serde_json::json;

use crate::cart::{guest_cart, shop};
use crate::checkout::checkout;
use crate::support::{Reply, TestApp};

fn limit(n: &str) -> MaxUnitsPerSku {
    n.parse().unwrap()
}

fn assert_quantity_limit(reply: &Reply, field: &str) {
    assert_eq!((reply.status, reply.code()), (StatusCode::UNPROCESSABLE_ENTITY, "quantity_limit"), "{}", reply.body);
    assert_eq!(reply.body["errors"][0]["field"], field, "{}", reply.body);
    assert_eq!(reply.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("application/problem+json"));
}

#[tokio::test]
async fn a_cart_holds_at_most_the_stores_limit_of_one_sku_and_a_refusal_changes_nothing() {
    let t = TestApp::new();
    shop(&t, 2).await;
    t.json(Method::PUT, "/inventory/P0", Some(&t.admin), &json!({"on_hand": 500})).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 6}])).await;
    let store = t.embedded.clone().unwrap();
    let before = store.snapshot();

    let add = cart.send(&t, Method::POST, "/items", Some(json!({"sku": "P0", "quantity": 5}))).await;
    assert_quantity_limit(&add, "quantity");
    assert_eq!(add.body["errors"][0]["message"], "the store sells at most 10 units of `P0` per order");
    assert_quantity_limit(&cart.send(&t, Method::PATCH, "/items/P0", Some(json!({"quantity": 11}))).await, "quantity");
    assert_quantity_limit(
        &cart.send(&t, Method::POST, "/items", Some(json!({"sku": "P1", "quantity": 11}))).await,
        "quantity",
    );
    let create = t
        .json(
            Method::POST,
            "/carts",
            None,
            &json!({"currency": "EUR", "items": [{"sku": "P1", "quantity": 1}, {"sku": "P0", "quantity": 6}, {"sku": "P0", "quantity": 5}]}),
        )
        .await;
    assert_quantity_limit(&create, "items[2].quantity");
    // Malformed quantities are still plain validation errors, whatever the store's limit.
    let hundred = cart.send(&t, Method::PATCH, "/items/P0", Some(json!({"quantity": 100}))).await;
    assert_eq!((hundred.status, hundred.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    assert!(store.snapshot() == before, "a refused change wrote to the store");

    // Up to the limit is fine, by adding or by setting.
    let add = cart.send(&t, Method::POST, "/items", Some(json!({"sku": "P0", "quantity": 4}))).await;
    assert_eq!((add.status, add.body["items"][0]["quantity"].clone()), (StatusCode::OK, json!(10)), "{}", add.body);
    let set = cart.send(&t, Method::PATCH, "/items/P0", Some(json!({"quantity": 7}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
}

#[tokio::test]
async fn checkout_refuses_a_cart_filled_before_the_limit_was_lowered_and_reserves_nothing() {
    let store = Arc::new(EmbeddedStore::in_memory());
    // The same tables served first with a limit of 20, then, after a redeploy, with 10.
    let before = TestApp::limited(store.clone(), limit("20"));
    shop(&before, 2).await;
    before.json(Method::PUT, "/inventory/P0", Some(&before.admin), &json!({"on_hand": 50})).await;
    let cart = guest_cart(&before, json!([{"sku": "P0", "quantity": 15}, {"sku": "P1", "quantity": 2}])).await;

    let after = TestApp::limited(store.clone(), limit("10"));
    let refused = checkout(&after, &cart, "over-the-limit").await;
    assert_quantity_limit(&refused, "P0");
    assert_eq!(
        refused.body["errors"].as_array().map(Vec::len),
        Some(1),
        "only the line over the limit: {}",
        refused.body
    );
    assert_eq!(after.stock("P0").await, (50, 0, 50), "nothing reserved");
    assert_eq!(after.get("/orders", Some(&after.admin)).await.body["items"], json!([]), "no order");

    // The cart still opens, and comes down to the limit; then it checks out.
    let read = cart.send(&after, Method::GET, "", None).await;
    assert_eq!((read.status, read.body["items"][0]["quantity"].clone()), (StatusCode::OK, json!(15)));
    let lowered = cart.send(&after, Method::PATCH, "/items/P0", Some(json!({"quantity": 10}))).await;
    assert_eq!(lowered.status, StatusCode::OK, "{}", lowered.body);
    let placed = checkout(&after, &cart, "within-the-limit").await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(after.stock("P0").await, (50, 10, 40));
}
