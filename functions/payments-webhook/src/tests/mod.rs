//! The payments webhook on its own: its router on the embedded store, with an order seeded as
//! checkout leaves it and events signed by the payment simulator exactly as Stripe signs them,
//! called through `tower::ServiceExt::oneshot` as axum's testing example calls its app. Events
//! applied here; what is refused before anything is read in `refusals`.
#![allow(clippy::unwrap_used)]

mod refusals;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use nanoshop_api::testing::{Reply, TestRequest, assert_serves_every_route, seed};
use nanoshop_api::{Secret, with_common_layers};
use nanoshop_domain::ids::OrderId;
use nanoshop_domain::order::{OrderStatus, PaymentStatus};
use nanoshop_payments::simulator::{SignedEvent, Simulator};
use nanoshop_payments::{CreateIntent, PaymentGateway};
use nanoshop_store::embedded::EmbeddedStore;

use crate::{ROUTES, WebhookDeps, router};

/// The endpoint's signing secret: one the webhook accepts (not a placeholder, not guessable).
const SECRET: &str = "whsec_Zq8vR2mX7kLp4Tn9Wc3Hy6Bd1Fs5Gj0E";
const PAYING_CARD: &str = "4242424242424242";
const DECLINED_CARD: &str = "4000000000000002";

/// The webhook as its binary serves it, with an order of 2 × `P0` waiting for its payment.
struct Shop {
    /// With the common layers, as `main.rs` wraps it.
    app: Router,
    /// The function's own routes, without the layers' problem+json fallbacks.
    routes: Router,
    store: Arc<EmbeddedStore>,
    simulator: Arc<Simulator>,
    order: OrderId,
    intent: String,
}

async fn shop() -> Shop {
    shop_with_secret(SECRET).await
}

async fn shop_with_secret(secret: &str) -> Shop {
    let store = Arc::new(EmbeddedStore::in_memory());
    let simulator = Arc::new(Simulator::new(SECRET.into()));
    seed::variant(store.as_ref(), "P0", 1000, 5).await;
    let pending = seed::PendingOrder {
        id: OrderId::generate(),
        customer: None,
        email: "ada@example.com",
        sku: "P0",
        quantity: 2,
    };
    let request = CreateIntent { order_id: pending.id.clone(), amount: pending.total(), email: pending.email.into() };
    let intent = simulator.create_intent(&request).await.unwrap().id;
    let order = pending.store(store.as_ref(), &intent).await.id;
    let routes =
        router(WebhookDeps { store: store.clone(), payments: simulator.clone(), secret: Secret::fixed(secret) });
    Shop { app: with_common_layers(routes.clone()), routes, store, simulator, order, intent }
}

impl Shop {
    /// The event the simulator signs when the order's intent is confirmed with `card`.
    fn confirm(&self, card: &str) -> SignedEvent {
        self.simulator.confirm(&self.intent, card).unwrap().remove(0)
    }

    async fn deliver(&self, event: &SignedEvent) -> Reply {
        TestRequest::post("/webhooks/stripe")
            .header("stripe-signature", &event.signature)
            .raw(event.payload.clone(), "application/json")
            .send(&self.app)
            .await
    }
}

#[tokio::test]
async fn every_route_in_the_table_is_served() {
    let shop = shop().await;
    assert_serves_every_route(&shop.routes, ROUTES).await;
}

#[tokio::test]
async fn a_payment_marks_the_order_paid_and_sells_its_stock_once() {
    let shop = shop().await;
    let paid = shop.confirm(PAYING_CARD);
    let reply = shop.deliver(&paid).await;
    assert_eq!(*reply.assert_status(StatusCode::OK), serde_json::json!({"received": true, "outcome": "applied"}));
    let order = seed::order(shop.store.as_ref(), &shop.order).await;
    assert_eq!((order.status, order.payment_status), (OrderStatus::Paid, PaymentStatus::Succeeded));
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (3, 0, 3), "reserved units are sold");

    let again = shop.deliver(&paid).await;
    assert_eq!(again.assert_status(StatusCode::OK)["outcome"], "duplicate");
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (3, 0, 3), "sold once");
}

#[tokio::test]
async fn a_declined_card_leaves_the_order_payable_with_its_stock_held() {
    let shop = shop().await;
    let reply = shop.deliver(&shop.confirm(DECLINED_CARD)).await;
    assert_eq!(reply.assert_status(StatusCode::OK)["outcome"], "applied");
    let order = seed::order(shop.store.as_ref(), &shop.order).await;
    assert_eq!((order.status, order.payment_status), (OrderStatus::PendingPayment, PaymentStatus::Failed));
    assert!(order.payment_error.is_some_and(|e| e.contains("declined")));
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 2, 3));
}

#[tokio::test]
async fn an_event_type_nanoshop_does_not_act_on_is_received_and_ignored() {
    let shop = shop().await;
    let paid = shop.confirm(PAYING_CARD);
    let payload = paid.payload.replace("payment_intent.succeeded", "customer.created");
    let signature = nanoshop_payments::webhook::sign(&payload, SECRET, chrono::Utc::now().timestamp());
    let reply = shop.deliver(&SignedEvent { payload, signature }).await;
    assert_eq!(reply.assert_status(StatusCode::OK)["outcome"], "ignored");
    let order = seed::order(shop.store.as_ref(), &shop.order).await;
    assert_eq!(order.status, OrderStatus::PendingPayment);
}
