//! The checkout function on its own: its router on the embedded store, with the catalog items and
//! the cart it reads seeded in their table layout, paying through the payment simulator, called
//! through `tower::ServiceExt::oneshot` as axum's testing example calls its app. Who may check a
//! cart out here; the flow, idempotency and the errors in their modules.
#![allow(clippy::unwrap_used)]

mod addresses;
mod errors;
mod flow;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use chrono::{TimeDelta, Utc};
use nanoshop_api::bodies::AddressHttpBody;
use nanoshop_api::capability::{OrderTokens, cart_token_hash, new_cart_token};
use nanoshop_api::testing::{CUSTOMER, Reply, TestAuth, TestRequest, assert_serves_every_route, seed};
use nanoshop_api::with_common_layers;
use nanoshop_domain::cart::{Cart, MaxUnitsPerSku, Quantity};
use nanoshop_domain::customer::SavedAddress;
use nanoshop_domain::ids::AddressId;
use nanoshop_domain::money::Currency;
use nanoshop_payments::PaymentGateway;
use nanoshop_payments::simulator::Simulator;
use nanoshop_schema::carts::{CART_ID, cart_key, customer_cart_key};
use nanoshop_schema::customers::address_key;
use nanoshop_schema::{DOC, encode};
use nanoshop_store::embedded::EmbeddedStore;
use nanoshop_store::port::{EXPIRES_AT, VERSION};
use nanoshop_store::{Item, Store, Table};
use serde_json::{Value, json};

use crate::{CheckoutDeps, ROUTES, router};

/// The checkout as its binary serves it, over a store that sells `P0` and `P1` at 10.00 EUR
/// (5 of each in stock) and ships to Germany.
struct Shop {
    /// With the common layers, as `main.rs` wraps it.
    app: Router,
    /// The function's own routes, without the layers' problem+json fallbacks.
    routes: Router,
    auth: TestAuth,
    store: Arc<EmbeddedStore>,
}

async fn shop() -> Shop {
    shop_paying_with(Arc::new(Simulator::new("whsec_unused".into()))).await
}

async fn shop_paying_with(payments: Arc<dyn PaymentGateway>) -> Shop {
    let store = Arc::new(EmbeddedStore::in_memory());
    seed::ship_to_germany(store.as_ref()).await;
    for sku in ["P0", "P1"] {
        seed::variant(store.as_ref(), sku, 1000, 5).await;
    }
    let auth = TestAuth::new();
    let routes = router(CheckoutDeps {
        store: store.clone(),
        payments,
        verifier: auth.verifier.clone(),
        order_tokens: OrderTokens::new(&[9; 32]),
        payment_window: TimeDelta::minutes(30),
        max_units_per_sku: MaxUnitsPerSku::DEFAULT,
    });
    Shop { app: with_common_layers(routes.clone()), routes, auth, store }
}

/// A cart as the cart function stores it: its id, and the guest token that opens it (a
/// customer's cart opens with its owner's JWT only).
struct SeededCart {
    id: String,
    token: String,
}

impl Shop {
    /// Stores an active EUR cart of `lines` (SKU, quantity), owned by `customer` if given (and
    /// then the customer's pointer to it).
    async fn cart(&self, customer: Option<&str>, lines: &[(&str, i64)]) -> SeededCart {
        let token = new_cart_token();
        let mut cart = Cart::new(Currency::EUR, customer.map(str::to_owned), cart_token_hash(&token), Utc::now());
        for (sku, quantity) in lines {
            let quantity = Quantity::try_from(*quantity).unwrap();
            cart.lines = cart.lines.add(sku.parse().unwrap(), quantity, MaxUnitsPerSku::NONE).unwrap();
        }
        let item = Item::new(&cart_key(&cart.id))
            .with(VERSION, 1)
            .with(EXPIRES_AT, cart.expires_at().timestamp())
            .with(DOC, encode(&cart).unwrap());
        self.store.put(Table::Carts, item, None).await.unwrap();
        if let Some(customer) = customer {
            let pointer = Item::new(&customer_cart_key(customer)).with(CART_ID, cart.id.as_str());
            self.store.put(Table::Carts, pointer, None).await.unwrap();
        }
        SeededCart { id: cart.id.to_string(), token }
    }

    /// Saves a German address in `city` in `customer`'s address book, as the account routes
    /// store it, and returns its id.
    async fn saved_address(&self, customer: &str, city: &str) -> String {
        let id = AddressId::generate();
        let mut fields = address();
        fields["city"] = json!(city);
        let body: AddressHttpBody = serde_json::from_value(fields).unwrap();
        let saved = SavedAddress { id: id.clone(), label: Some(city.into()), address: body.parse("address").unwrap() };
        let item = Item::new(&address_key(customer, &id)).with(DOC, encode(&saved).unwrap());
        self.store.put(Table::Carts, item, None).await.unwrap();
        id.to_string()
    }

    /// `POST /checkout` of `body` as the signed-in `customer`, under the `Idempotency-Key` `key`.
    async fn checkout_as(&self, customer: &str, key: &str, body: &Value) -> Reply {
        TestRequest::post("/checkout")
            .bearer(&self.auth.customer(customer))
            .header("idempotency-key", key)
            .json(body)
            .send(&self.app)
            .await
    }

    /// `POST /checkout` of `body` with the `Idempotency-Key` `key` and the cart's token.
    async fn checkout(&self, cart: &SeededCart, key: &str, body: &Value) -> Reply {
        TestRequest::post("/checkout")
            .header("x-cart-token", &cart.token)
            .header("idempotency-key", key)
            .json(body)
            .send(&self.app)
            .await
    }
}

fn address() -> Value {
    json!({"name": "Ada Lovelace", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "DE"})
}

/// A checkout of `cart` to Germany by the standard method.
fn body(cart: &SeededCart) -> Value {
    json!({"cart_id": cart.id, "email": "ada@example.com", "shipping_address": address(), "shipping_method": seed::STANDARD})
}

#[tokio::test]
async fn every_route_in_the_table_is_served() {
    let shop = shop().await;
    assert_serves_every_route(&shop.routes, ROUTES).await;
}

/// `docs/api.md`: the cart's token or its owner's JWT; neither is 401 whether or not the cart
/// exists, one that does not open the cart is 404, and nothing is reserved for either.
#[tokio::test]
async fn a_cart_is_checked_out_with_its_token_or_its_owners_jwt_only() {
    let shop = shop().await;
    let guest = shop.cart(None, &[("P0", 1)]).await;
    let anonymous =
        TestRequest::post("/checkout").header("idempotency-key", "k").json(&body(&guest)).send(&shop.app).await;
    anonymous.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let other = shop.cart(None, &[]).await;
    let wrong = shop.checkout(&SeededCart { id: guest.id.clone(), token: other.token }, "k1", &body(&guest)).await;
    wrong.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let stranger = shop.auth.customer("cust_2");
    let by_jwt = TestRequest::post("/checkout")
        .bearer(&stranger)
        .header("idempotency-key", "k2")
        .json(&body(&guest))
        .send(&shop.app)
        .await;
    by_jwt.assert_problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 0, 5), "nothing reserved");

    let owned = shop.cart(Some(CUSTOMER), &[("P0", 1)]).await;
    let by_token = shop.checkout(&owned, "k3", &body(&owned)).await;
    by_token.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let by_stranger = TestRequest::post("/checkout")
        .bearer(&stranger)
        .header("idempotency-key", "k4")
        .json(&body(&owned))
        .send(&shop.app)
        .await;
    by_stranger.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let by_owner = TestRequest::post("/checkout")
        .bearer(&shop.auth.customer(CUSTOMER))
        .header("idempotency-key", "k5")
        .json(&body(&owned))
        .send(&shop.app)
        .await;
    assert_eq!(by_owner.assert_status(StatusCode::CREATED)["order"]["customer_id"], CUSTOMER);
}
