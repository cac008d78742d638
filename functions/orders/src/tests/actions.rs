//! What owners and admins do to an order: cancel, a fresh order token, fulfilment and refunds,
//! and what each refuses.

use axum::http::StatusCode;
use nanoshop_api::testing::{CUSTOMER, TestRequest, seed};
use serde_json::json;

use super::shop;

#[tokio::test]
async fn the_owner_cancels_a_pending_order_and_its_stock_comes_back() {
    let shop = shop().await;
    let order = shop.pending(Some(CUSTOMER)).await;
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 2, 3));
    let path = format!("/orders/{}/cancel", order.id);
    let token = shop.order_token(&order).await;
    let guest = TestRequest::post(&path).header("x-order-token", &token).send(&shop.app).await;
    guest.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let stranger = TestRequest::post(&path).bearer(&shop.auth.customer("cust_2")).send(&shop.app).await;
    stranger.assert_problem(StatusCode::NOT_FOUND, "not_found");
    TestRequest::post(&path).send(&shop.app).await.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");

    let owner = shop.auth.customer(CUSTOMER);
    let cancelled = TestRequest::post(&path).bearer(&owner).send(&shop.app).await;
    assert_eq!(cancelled.assert_status(StatusCode::OK)["status"], "cancelled");
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 0, 5));
    let again = TestRequest::post(&path).bearer(&owner).send(&shop.app).await;
    again.assert_problem(StatusCode::CONFLICT, "invalid_transition");
}

#[tokio::test]
async fn a_fresh_order_token_retires_the_earlier_ones() {
    let shop = shop().await;
    let order = shop.pending(Some(CUSTOMER)).await;
    let old = shop.order_token(&order).await;
    let path = format!("/orders/{}/token", order.id);
    let guest = TestRequest::post(&path).header("x-order-token", &old).send(&shop.app).await;
    guest.assert_problem(StatusCode::FORBIDDEN, "forbidden");

    let fresh = TestRequest::post(&path).bearer(&shop.auth.customer(CUSTOMER)).send(&shop.app).await;
    let token = fresh.assert_status(StatusCode::CREATED)["order_token"].as_str().unwrap().to_owned();
    let read = |token: String| TestRequest::get(format!("/orders/{}", order.id)).header("x-order-token", &token);
    read(token).send(&shop.app).await.assert_status(StatusCode::OK);
    read(old).send(&shop.app).await.assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn an_admin_ships_a_paid_order_and_not_an_unpaid_one() {
    let shop = shop().await;
    let admin = shop.auth.admin();
    let unpaid = shop.pending(None).await;
    let ship = |id: &str| TestRequest::post(format!("/orders/{id}/fulfillments")).bearer(&admin);
    let early = ship(unpaid.id.as_str()).json(&json!({})).send(&shop.app).await;
    early.assert_problem(StatusCode::CONFLICT, "invalid_transition");

    let order = shop.paid(None).await;
    let bad_url = ship(order.id.as_str()).json(&json!({"tracking_url": "ftp://x"})).send(&shop.app).await;
    bad_url.assert_field_error("validation_failed", "tracking_url");
    let too_many =
        ship(order.id.as_str()).json(&json!({"lines": [{"sku": "P0", "quantity": 3}]})).send(&shop.app).await;
    too_many.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_lines");
    let shipped =
        ship(order.id.as_str()).json(&json!({"carrier": "DHL", "tracking_number": "123"})).send(&shop.app).await;
    let body = shipped.assert_status(StatusCode::CREATED);
    assert_eq!((body["status"].as_str(), body["fulfillment_status"].as_str()), (Some("fulfilled"), Some("fulfilled")));
}

#[tokio::test]
async fn an_admin_refunds_a_paid_order_once_per_key_restocking_what_is_named() {
    let shop = shop().await;
    let admin = shop.auth.admin();
    let order = shop.paid(None).await;
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (3, 0, 3));
    let path = format!("/orders/{}/refunds", order.id);
    let refund = |key: &str, body| TestRequest::post(&path).bearer(&admin).header("idempotency-key", key).json(&body);

    let keyless = TestRequest::post(&path).bearer(&admin).json(&json!({})).send(&shop.app).await;
    keyless.assert_problem(StatusCode::BAD_REQUEST, "idempotency_key_required");
    let too_much = refund("r0", json!({"amount": {"amount": 999_999, "currency": "EUR"}})).send(&shop.app).await;
    too_much.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount");

    let body = json!({"amount": {"amount": 1000, "currency": "EUR"}, "restock": [{"sku": "P0", "quantity": 1}]});
    let first = refund("r1", body.clone()).send(&shop.app).await;
    first.assert_status(StatusCode::CREATED);
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (4, 0, 4), "one unit restocked");
    let replay = refund("r1", body).send(&shop.app).await;
    assert_eq!((replay.status, replay.header("idempotent-replayed")), (StatusCode::CREATED, Some("true")));
    assert_eq!(replay.body, first.body);
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (4, 0, 4), "restocked once");
}
