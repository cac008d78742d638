//! What checkout refuses, and that a refusal reserves nothing.

use std::sync::Arc;

use async_trait::async_trait;
use axum::http::StatusCode;
use nanoshop_api::capability::OrderTokens;
use nanoshop_api::testing::{TestRequest, seed};
use nanoshop_api::with_common_layers;
use nanoshop_domain::Money;
use nanoshop_domain::cart::MaxUnitsPerSku;
use nanoshop_payments::simulator::Simulator;
use nanoshop_payments::{CreateIntent, Intent, NotConfigured, PaymentError, PaymentGateway, Refund};
use nanoshop_schema::orders::IdempotencyRecord;
use nanoshop_store::{Condition, Item, Key, Query, QueryPage, StoreResult, Table, Update, Write};
use serde_json::json;

use super::{body, shop, shop_paying_with};
use crate::{CheckoutDeps, router};

#[tokio::test]
async fn a_bad_email_or_address_is_422_naming_the_field() {
    let shop = shop().await;
    let cart = shop.cart(None, &[("P0", 1)]).await;
    let mut bad_email = body(&cart);
    bad_email["email"] = json!("not-an-address");
    shop.checkout(&cart, "k1", &bad_email).await.assert_field_error("validation_failed", "email");
    let mut no_city = body(&cart);
    no_city["shipping_address"]["city"] = json!("");
    shop.checkout(&cart, "k2", &no_city).await.assert_field_error("invalid_address", "shipping_address.city");
    let mut abroad = body(&cart);
    abroad["shipping_address"]["country"] = json!("FR");
    shop.checkout(&cart, "k3", &abroad).await.assert_field_error("invalid_address", "shipping_address.country");
    let mut express = body(&cart);
    express["shipping_method"] = json!("express");
    let reply = shop.checkout(&cart, "k4", &express).await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "shipping_method_unavailable");
    let mut unknown_field = body(&cart);
    unknown_field["coupon"] = json!("FREE");
    shop.checkout(&cart, "k5", &unknown_field).await.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 0, 5), "nothing reserved");
}

#[tokio::test]
async fn an_empty_unknown_or_oversized_cart_is_refused() {
    let shop = shop().await;
    let empty = shop.cart(None, &[]).await;
    shop.checkout(&empty, "k1", &body(&empty)).await.assert_problem(StatusCode::CONFLICT, "cart_empty");
    let mut unknown = body(&empty);
    unknown["cart_id"] = json!("cart_01M9730DAH83EZ1SZBA819VNSW");
    shop.checkout(&empty, "k2", &unknown).await.assert_problem(StatusCode::NOT_FOUND, "not_found");

    let over_limit = shop.cart(None, &[("P0", 11)]).await;
    shop.checkout(&over_limit, "k3", &body(&over_limit)).await.assert_field_error("quantity_limit", "P0");
    let short = shop.cart(None, &[("P0", 2), ("P1", 6)]).await;
    let reply = shop.checkout(&short, "k4", &body(&short)).await;
    reply.assert_problem(StatusCode::CONFLICT, "out_of_stock");
    assert_eq!(reply.fields(), ["P1"]);
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 0, 5), "all lines or none");
}

/// A payment processor that cannot be reached, or has no key yet.
#[derive(Debug)]
struct Down {
    configured: bool,
}

impl Down {
    fn error(&self) -> PaymentError {
        if self.configured {
            PaymentError::Unavailable("connection refused".into())
        } else {
            PaymentError::Unavailable(Box::new(NotConfigured("STRIPE_SECRET_KEY")))
        }
    }
}

#[async_trait]
impl PaymentGateway for Down {
    async fn create_intent(&self, _: &CreateIntent) -> Result<Intent, PaymentError> {
        Err(self.error())
    }

    async fn cancel_intent(&self, _: &str) -> Result<(), PaymentError> {
        Err(self.error())
    }

    async fn refund(&self, _: &str, _: Money, _: &str) -> Result<Refund, PaymentError> {
        Err(self.error())
    }

    async fn ready(&self) -> Result<(), PaymentError> {
        if self.configured { Ok(()) } else { Err(self.error()) }
    }

    fn publishable_key(&self) -> String {
        "pk_test".into()
    }
}

#[tokio::test]
async fn a_provider_that_fails_is_502_and_gives_the_stock_back() {
    let shop = shop_paying_with(Arc::new(Down { configured: true })).await;
    let cart = shop.cart(None, &[("P0", 1)]).await;
    let reply = shop.checkout(&cart, "k", &body(&cart)).await;
    reply.assert_problem(StatusCode::BAD_GATEWAY, "payment_provider_unavailable");
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 0, 5));
}

#[tokio::test]
async fn payments_without_a_key_are_503_not_configured_before_anything_is_reserved() {
    let shop = shop_paying_with(Arc::new(Down { configured: false })).await;
    let cart = shop.cart(None, &[("P0", 1)]).await;
    let reply = shop.checkout(&cart, "k", &body(&cart)).await;
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "not_configured");
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 0, 5));
}

/// The embedded store, but right after checkout's first read another request under the same key
/// claims it: what two concurrent requests look like to the one whose transaction comes second.
#[derive(Debug)]
struct ClaimedMeanwhile {
    inner: Arc<nanoshop_store::embedded::EmbeddedStore>,
    key: nanoshop_store::Key,
}

#[async_trait]
impl nanoshop_store::Store for ClaimedMeanwhile {
    async fn get(&self, t: Table, k: &Key) -> StoreResult<Option<Item>> {
        self.inner.get(t, k).await
    }
    async fn batch_get(&self, t: Table, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.inner.batch_get(t, keys).await
    }
    async fn batch_get_across(&self, keys: &[(Table, Key)]) -> StoreResult<Vec<(Table, Item)>> {
        let read = self.inner.batch_get_across(keys).await;
        let record = IdempotencyRecord {
            request_hash: "the same request".into(),
            owner: "the other request".into(),
            lease_until: nanoshop_store::port::now_unix() + 30,
            order_id: None,
            response: None,
        };
        let item = Item::new(&self.key).with(nanoshop_schema::DOC, nanoshop_schema::encode(&record).unwrap());
        self.inner.put(Table::Idempotency, item, None).await?;
        read
    }
    async fn query(&self, q: &Query) -> StoreResult<QueryPage> {
        self.inner.query(q).await
    }
    async fn put(&self, t: Table, item: Item, c: Option<Condition>) -> StoreResult<()> {
        self.inner.put(t, item, c).await
    }
    async fn update(&self, t: Table, u: Update) -> StoreResult<Item> {
        self.inner.update(t, u).await
    }
    async fn delete(&self, t: Table, k: &Key, c: Option<Condition>) -> StoreResult<()> {
        self.inner.delete(t, k, c).await
    }
    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        self.inner.transact(writes).await
    }
}

/// The claim of a fresh key rides in the reservation's transaction, on condition that no record
/// exists: a request that lost the key between its read and its transaction reserves nothing,
/// creates no intent, and is told the key is in use.
#[tokio::test]
async fn a_key_claimed_by_another_request_after_the_first_read_reserves_nothing() {
    let shop = shop().await;
    let key = nanoshop_schema::orders::idempotency_key("POST /checkout", "contended");
    let contended = with_common_layers(router(CheckoutDeps {
        store: Arc::new(ClaimedMeanwhile { inner: shop.store.clone(), key }),
        payments: Arc::new(Simulator::new("whsec_unused".into())),
        verifier: shop.auth.verifier.clone(),
        order_tokens: OrderTokens::new(&[9; 32]),
        payment_window: chrono::TimeDelta::minutes(30),
        max_units_per_sku: MaxUnitsPerSku::DEFAULT,
    }));
    let cart = shop.cart(None, &[("P0", 1)]).await;
    let reply = TestRequest::post("/checkout")
        .header("x-cart-token", &cart.token)
        .header("idempotency-key", "contended")
        .json(&body(&cart))
        .send(&contended)
        .await;
    reply.assert_problem(StatusCode::CONFLICT, "request_in_progress");
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 0, 5), "nothing reserved");
}
