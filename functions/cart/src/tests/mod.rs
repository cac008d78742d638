//! The cart function on its own: its router on the embedded store, with the catalog items it
//! prices from seeded in their table layout, called through `tower::ServiceExt::oneshot` as
//! axum's testing example calls its app. Routes and who may open a cart here; lines, pricing
//! and claims in their modules.
#![allow(clippy::unwrap_used)]

mod access;
mod lines;
mod pricing;

use std::sync::Arc;

use axum::Router;
use axum::http::{Method, StatusCode};
use nanoshop_api::testing::{TestAuth, TestRequest, assert_serves_every_route, seed};
use nanoshop_api::with_common_layers;
use nanoshop_domain::cart::{Cart, MaxUnitsPerSku};
use nanoshop_schema::carts::cart_key;
use nanoshop_schema::{DOC, decode, encode};
use nanoshop_store::embedded::EmbeddedStore;
use nanoshop_store::{Store, Table};
use serde_json::{Value, json};

use crate::{CartDeps, ROUTES, router};

/// The cart function as its binary serves it, over a store that sells `P0` and `P1` at
/// 10.00 EUR (5 of each in stock) and ships to Germany.
struct Shop {
    /// With the common layers, as `main.rs` wraps it.
    app: Router,
    /// The function's own routes, without the layers' problem+json fallbacks.
    routes: Router,
    auth: TestAuth,
    store: Arc<EmbeddedStore>,
}

async fn shop() -> Shop {
    let store = Arc::new(EmbeddedStore::in_memory());
    seed::ship_to_germany(store.as_ref()).await;
    for sku in ["P0", "P1"] {
        seed::variant(store.as_ref(), sku, 1000, 5).await;
    }
    let auth = TestAuth::new();
    let routes = router(CartDeps {
        store: store.clone(),
        verifier: auth.verifier.clone(),
        image_base: "https://images.test".into(),
        max_units_per_sku: MaxUnitsPerSku::DEFAULT,
    });
    Shop { app: with_common_layers(routes.clone()), routes, auth, store }
}

/// A guest cart: its id and the token that opens it.
struct GuestCart {
    id: String,
    token: String,
}

impl GuestCart {
    /// A request to `/carts/{id}{suffix}` with the cart's token.
    fn request(&self, method: Method, suffix: &str) -> TestRequest {
        TestRequest::new(method, format!("/carts/{}{suffix}", self.id)).header("x-cart-token", &self.token)
    }
}

impl Shop {
    async fn guest_cart(&self, items: Value) -> GuestCart {
        let reply = TestRequest::post("/carts").json(&json!({"currency": "EUR", "items": items})).send(&self.app).await;
        let body = reply.assert_status(StatusCode::CREATED);
        GuestCart { id: body["id"].as_str().unwrap().to_owned(), token: body["token"].as_str().unwrap().to_owned() }
    }

    /// Changes the stored cart `id` as checkout or time would.
    async fn alter_cart(&self, id: &str, change: impl FnOnce(&mut Cart)) {
        let key = cart_key(&id.parse().unwrap());
        let item = self.store.get(Table::Carts, &key).await.unwrap().unwrap();
        let mut cart: Cart = decode(&item).unwrap();
        change(&mut cart);
        self.store.put(Table::Carts, item.with(DOC, encode(&cart).unwrap()), None).await.unwrap();
    }
}

#[tokio::test]
async fn every_route_in_the_table_is_served() {
    let shop = shop().await;
    assert_serves_every_route(&shop.routes, ROUTES).await;
}
