//! What checkout refuses, and that a refusal reserves nothing.

use std::sync::Arc;

use async_trait::async_trait;
use axum::http::StatusCode;
use nanoshop_api::testing::seed;
use nanoshop_domain::Money;
use nanoshop_payments::{CreateIntent, Intent, NotConfigured, PaymentError, PaymentGateway, Refund};
use serde_json::json;

use super::{body, shop, shop_paying_with};

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
