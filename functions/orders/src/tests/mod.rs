//! The orders function on its own: its router on the embedded store, with orders seeded as
//! checkout and the payments webhook leave them and the payment simulator as the processor,
//! called through `tower::ServiceExt::oneshot` as axum's testing example calls its app. Who may
//! read and act on an order here; the actions and their errors in their modules.
#![allow(clippy::unwrap_used)]

mod actions;
mod reading;

use std::sync::Arc;

use axum::Router;
use chrono::Utc;
use nanoshop_api::capability::OrderTokens;
use nanoshop_api::testing::{TestAuth, assert_admin_only, assert_serves_every_route, seed};
use nanoshop_api::{CursorCodec, with_common_layers};
use nanoshop_domain::ids::OrderId;
use nanoshop_domain::order::Order;
use nanoshop_payments::simulator::Simulator;
use nanoshop_payments::{CreateIntent, PaymentGateway};
use nanoshop_store::embedded::EmbeddedStore;

use crate::{DEFAULT_PERSONAL_DATA_WINDOW, OrdersDeps, ROUTES, router};

const ORDER_TOKEN_KEY: [u8; 32] = [5; 32];

/// The orders function as its binary serves it, over a store that sells `P0` (5 in stock).
struct Shop {
    /// With the common layers, as `main.rs` wraps it.
    app: Router,
    /// The function's own routes, without the layers' problem+json fallbacks.
    routes: Router,
    auth: TestAuth,
    store: Arc<EmbeddedStore>,
    simulator: Arc<Simulator>,
}

async fn shop() -> Shop {
    let store = Arc::new(EmbeddedStore::in_memory());
    seed::variant(store.as_ref(), "P0", 1000, 5).await;
    let simulator = Arc::new(Simulator::new("whsec_unused".into()));
    let auth = TestAuth::new();
    let routes = router(OrdersDeps {
        store: store.clone(),
        payments: simulator.clone(),
        verifier: auth.verifier.clone(),
        order_tokens: OrderTokens::new(&ORDER_TOKEN_KEY),
        cursors: CursorCodec::new(&[3; 32]),
        personal_data_window: DEFAULT_PERSONAL_DATA_WINDOW,
    });
    Shop { app: with_common_layers(routes.clone()), routes, auth, store, simulator }
}

impl Shop {
    /// An order of 2 × `P0` as checkout leaves it, placed by `customer` (a guest without), with
    /// its PaymentIntent at the simulator.
    async fn pending(&self, customer: Option<&str>) -> Order {
        let pending =
            seed::PendingOrder { id: OrderId::generate(), customer, email: "ada@example.com", sku: "P0", quantity: 2 };
        let request =
            CreateIntent { order_id: pending.id.clone(), amount: pending.total(), email: pending.email.into() };
        let intent = self.simulator.create_intent(&request).await.unwrap().id;
        pending.store(self.store.as_ref(), &intent).await
    }

    /// [`Shop::pending`], paid by card, as the payments webhook leaves it.
    async fn paid(&self, customer: Option<&str>) -> Order {
        let order = self.pending(customer).await;
        let intent = order.payment.payment_intent_id.as_deref().unwrap();
        self.simulator.confirm(intent, "4242424242424242").unwrap();
        seed::paid(self.store.as_ref(), &order).await
    }

    /// A guest's `X-Order-Token` for `order`, as checkout hands it out.
    async fn order_token(&self, order: &Order) -> String {
        let tokens = OrderTokens::new(&ORDER_TOKEN_KEY);
        tokens.issue(&order.id, order.token_version, Utc::now().timestamp()).await.unwrap()
    }
}

#[tokio::test]
async fn every_route_in_the_table_is_served() {
    let shop = shop().await;
    assert_serves_every_route(&shop.routes, ROUTES).await;
}

#[tokio::test]
async fn admin_routes_refuse_guests_with_401_and_customers_with_403() {
    let shop = shop().await;
    assert_admin_only(&shop.app, ROUTES, &shop.auth).await;
}
