//! What a cart costs: discount codes, the shipping address and method, and tax.

use axum::http::{Method, StatusCode};
use nanoshop_api::testing::seed;
use serde_json::{Value, json};

use super::shop;

fn address(country: &str) -> Value {
    json!({"name": "Ada Lovelace", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": country})
}

#[tokio::test]
async fn a_code_that_applies_takes_its_share_off_and_can_be_removed() {
    let shop = shop().await;
    seed::discount(shop.store.as_ref(), "SPRING10", "0.10").await;
    let cart = shop.guest_cart(json!([{"sku": "P0", "quantity": 3}])).await;
    let applied = cart.request(Method::PUT, "/discount").json(&json!({"code": "spring10"})).send(&shop.app).await;
    let body = applied.assert_status(StatusCode::OK);
    assert_eq!(
        (body["discount"]["code"].as_str(), body["discount"]["amount"]["amount"].as_i64()),
        (Some("SPRING10"), Some(300))
    );

    let unknown = cart.request(Method::PUT, "/discount").json(&json!({"code": "WINTER99"})).send(&shop.app).await;
    unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_discount");
    let malformed = cart.request(Method::PUT, "/discount").json(&json!({"code": "x"})).send(&shop.app).await;
    malformed.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_discount");

    let removed = cart.request(Method::DELETE, "/discount").send(&shop.app).await;
    assert!(removed.assert_status(StatusCode::OK)["discount"].is_null(), "{}", removed.body);
}

#[tokio::test]
async fn an_address_in_a_shipped_country_prices_shipping_and_tax() {
    let shop = shop().await;
    let cart = shop.guest_cart(json!([{"sku": "P0", "quantity": 1}])).await;
    let shipping = cart
        .request(Method::PUT, "/shipping")
        .json(&json!({"address": address("DE"), "method": seed::STANDARD}))
        .send(&shop.app)
        .await;
    let body = shipping.assert_status(StatusCode::OK);
    assert_eq!(body["totals"]["shipping"]["amount"], seed::STANDARD_PRICE, "{body}");
    assert_eq!(body["totals"]["total"]["amount"], 1000 + seed::STANDARD_PRICE, "tax is included in prices");
    assert!(body["totals"]["tax"]["amount"].as_i64().is_some_and(|tax| tax > 0), "{body}");
}

#[tokio::test]
async fn an_address_the_store_does_not_ship_to_or_an_unknown_method_is_422() {
    let shop = shop().await;
    let cart = shop.guest_cart(json!([{"sku": "P0", "quantity": 1}])).await;
    let put = |body| cart.request(Method::PUT, "/shipping").json(&body).send(&shop.app);
    put(json!({"address": address("FR")}))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "country_not_shipped");
    put(json!({"address": address("DE"), "method": "express"}))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "shipping_method_unavailable");
    let mut no_city = address("DE");
    no_city["city"] = json!("");
    put(json!({"address": no_city})).await.assert_field_error("validation_failed", "address.city");
}
