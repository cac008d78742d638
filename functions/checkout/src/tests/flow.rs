//! A cart becomes an order: stock reserved, the cart closed, a PaymentIntent for the total; and
//! the `Idempotency-Key` that makes a retry safe.

use axum::http::StatusCode;
use chrono::Utc;
use nanoshop_api::testing::{TestRequest, seed};
use serde_json::json;

use super::{body, shop};

#[tokio::test]
async fn a_cart_becomes_an_order_waiting_for_payment_with_its_stock_reserved() {
    let shop = shop().await;
    let cart = shop.cart(None, &[("P0", 2), ("P1", 1)]).await;
    let reply = shop.checkout(&cart, "buy-1", &body(&cart)).await;
    let created = reply.assert_status(StatusCode::CREATED);
    let order = &created["order"];
    assert_eq!(
        (order["status"].as_str(), order["payment_status"].as_str()),
        (Some("pending_payment"), Some("pending"))
    );
    // 3 × 10.00 EUR + 4.90 shipping, VAT included.
    assert_eq!(order["totals"]["total"], json!({"amount": 3000 + seed::STANDARD_PRICE, "currency": "EUR"}));
    assert_eq!(order["email"], "ada@example.com");
    assert!(created["order_token"].as_str().is_some_and(|t| t.len() > 20), "{created}");
    assert!(created["payment"]["payment_intent_id"].as_str().is_some_and(|id| !id.is_empty()), "{created}");
    assert!(created["payment"]["client_secret"].as_str().is_some_and(|s| !s.is_empty()), "{created}");
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 2, 3));
    assert_eq!(seed::stock(shop.store.as_ref(), "P1").await, (5, 1, 4));

    let again = shop.checkout(&cart, "buy-2", &body(&cart)).await;
    again.assert_problem(StatusCode::CONFLICT, "cart_already_checked_out");
}

#[tokio::test]
async fn the_same_key_replays_the_first_answer_and_refuses_another_body() {
    let shop = shop().await;
    let cart = shop.cart(None, &[("P0", 1)]).await;
    let first = shop.checkout(&cart, "same", &body(&cart)).await;
    first.assert_status(StatusCode::CREATED);
    let replay = shop.checkout(&cart, "same", &body(&cart)).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body, first.body, "the first answer, as it was");

    let mut other = body(&cart);
    other["email"] = json!("someone@else.example");
    let reused = shop.checkout(&cart, "same", &other).await;
    reused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused");
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 1, 4), "one reservation only");
}

#[tokio::test]
async fn a_checkout_without_an_idempotency_key_is_400() {
    let shop = shop().await;
    let cart = shop.cart(None, &[("P0", 1)]).await;
    let reply =
        TestRequest::post("/checkout").header("x-cart-token", &cart.token).json(&body(&cart)).send(&shop.app).await;
    reply.assert_problem(StatusCode::BAD_REQUEST, "idempotency_key_required");
}

#[test]
fn order_numbers_are_ten_readable_characters_that_sort_by_the_second_placed() {
    use chrono::TimeZone;
    use nanoshop_domain::ids::OrderId;

    use crate::http::order_number;

    let at = |s: i64| Utc.timestamp_opt(1_735_689_600 + s, 0).single().unwrap();
    let id: OrderId = "ord_01JF8ZD4Q7RB2WZ9N3K5M6T8VX".parse().unwrap();
    assert_eq!(order_number(&id, at(0)), "000000T8VX", "the second since 2025, then the id's last four");
    assert_eq!(order_number(&id, at(33)), "000011T8VX");
    let now = order_number(&id, Utc::now());
    assert_eq!(now.len(), 10, "{now}");
    assert!(now.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase() && !"ILOU".contains(c)), "{now}");
    assert!(order_number(&id, at(86_400)) > order_number(&id, at(86_399)), "later orders sort later");
    // Two ids of one millisecond in one process differ in their last characters.
    let (a, b) = (OrderId::generate(), OrderId::generate());
    assert_ne!(order_number(&a, at(5)), order_number(&b, at(5)));
}

/// A refusal is final and kept under its key, though no transaction claimed the key: the same
/// request again is answered from the record, not run again.
#[tokio::test]
async fn a_refusal_is_kept_under_its_key_and_replayed() {
    let shop = shop().await;
    let empty = shop.cart(None, &[]).await;
    let first = shop.checkout(&empty, "refused", &body(&empty)).await;
    first.assert_problem(StatusCode::CONFLICT, "cart_empty");
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = shop.checkout(&empty, "refused", &body(&empty)).await;
    again.assert_problem(StatusCode::CONFLICT, "cart_empty");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
}
