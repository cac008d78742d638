//! What the webhook refuses before it reads an event: anything Stripe did not sign with the
//! endpoint's secret (400, nothing changes), and every event while no usable secret is set (503,
//! so Stripe delivers it again).

use axum::http::StatusCode;
use nanoshop_api::testing::{TestRequest, seed};
use nanoshop_domain::order::OrderStatus;
use nanoshop_payments::simulator::SignedEvent;
use nanoshop_payments::webhook::sign;

use super::{PAYING_CARD, SECRET, shop, shop_with_secret};

#[tokio::test]
async fn an_event_without_a_signature_is_400() {
    let shop = shop().await;
    let paid = shop.confirm(PAYING_CARD);
    let reply = TestRequest::post("/webhooks/stripe").raw(paid.payload, "application/json").send(&shop.app).await;
    reply.assert_problem(StatusCode::BAD_REQUEST, "missing_signature");
    assert_eq!(seed::order(shop.store.as_ref(), &shop.order).await.status, OrderStatus::PendingPayment);
}

#[tokio::test]
async fn a_tampered_event_or_one_signed_with_another_secret_is_400() {
    let shop = shop().await;
    let paid = shop.confirm(PAYING_CARD);
    let tampered =
        SignedEvent { payload: paid.payload.replace("\"livemode\":false", "\"livemode\":true"), ..paid.clone() };
    shop.deliver(&tampered).await.assert_problem(StatusCode::BAD_REQUEST, "invalid_signature");
    let now = chrono::Utc::now().timestamp();
    let forged = SignedEvent { signature: sign(&paid.payload, "whsec_Pk3Jw9Xc2Vb7Nm4Lq8Rt1Yz6Hg5Fd0Sa", now), ..paid };
    shop.deliver(&forged).await.assert_problem(StatusCode::BAD_REQUEST, "invalid_signature");
    assert_eq!(seed::order(shop.store.as_ref(), &shop.order).await.status, OrderStatus::PendingPayment);
}

#[tokio::test]
async fn a_replayed_old_signature_is_400_stale() {
    let shop = shop().await;
    let paid = shop.confirm(PAYING_CARD);
    let an_hour_ago = chrono::Utc::now().timestamp() - 3600;
    let stale = SignedEvent { signature: sign(&paid.payload, SECRET, an_hour_ago), ..paid };
    shop.deliver(&stale).await.assert_problem(StatusCode::BAD_REQUEST, "stale_signature");
}

#[tokio::test]
async fn a_signed_body_that_is_not_an_event_is_400_malformed() {
    let shop = shop().await;
    let payload = "{\"hello\": \"stripe\"}".to_owned();
    let signature = sign(&payload, SECRET, chrono::Utc::now().timestamp());
    shop.deliver(&SignedEvent { payload, signature }).await.assert_problem(StatusCode::BAD_REQUEST, "malformed_event");
}

#[tokio::test]
async fn every_event_is_503_while_the_secret_is_a_placeholder() {
    let shop = shop_with_secret("whsec_replace_me_with_the_real_one").await;
    let reply = shop.deliver(&shop.confirm(PAYING_CARD)).await;
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "not_configured");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(seed::order(shop.store.as_ref(), &shop.order).await.status, OrderStatus::PendingPayment);
}
