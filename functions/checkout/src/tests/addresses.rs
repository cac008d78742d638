//! Where an order goes and who is billed: an address in full or a saved one by its id, the
//! billing address defaulting to the shipping one, and the refusals of ids that are not the
//! caller's to use.

use axum::http::StatusCode;
use nanoshop_api::testing::{CUSTOMER, seed};
use serde_json::{Value, json};

use super::{address, body, shop};

/// A checkout body of `cart` without any address: each test adds the ones it means.
fn bare(cart: &super::SeededCart) -> Value {
    json!({"cart_id": cart.id, "email": "ada@example.com", "shipping_method": seed::STANDARD})
}

#[tokio::test]
async fn without_a_billing_address_the_order_is_billed_to_the_shipping_address() {
    let shop = shop().await;
    let cart = shop.cart(None, &[("P0", 1)]).await;
    let reply = shop.checkout(&cart, "k", &body(&cart)).await;
    let created = reply.assert_status(StatusCode::CREATED);
    assert_eq!(created["order"]["billing_address"], created["order"]["shipping_address"]);
    assert_eq!(created["order"]["billing_address"]["city"], "Berlin");
}

#[tokio::test]
async fn a_billing_address_given_in_full_is_checked_and_kept_on_the_order() {
    let shop = shop().await;
    let cart = shop.cart(None, &[("P0", 1)]).await;
    let mut billed = body(&cart);
    billed["billing_address"] = json!({"name": "Ada Ltd", "line1": "1 Strand", "city": "London",
        "postal_code": "WC2N 5HR", "country": "GB"});
    let mut bad = billed.clone();
    bad["billing_address"]["postal_code"] = json!("");
    shop.checkout(&cart, "k1", &bad).await.assert_field_error("invalid_address", "billing_address.postal_code");
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 0, 5), "nothing reserved");

    // Billed abroad is fine: only the shipping address must be in a zone the store ships to.
    let reply = shop.checkout(&cart, "k2", &billed).await;
    let created = reply.assert_status(StatusCode::CREATED);
    assert_eq!(created["order"]["billing_address"]["city"], "London");
    assert_eq!(created["order"]["shipping_address"]["city"], "Berlin");
}

#[tokio::test]
async fn a_customer_ships_to_and_bills_saved_addresses_by_their_ids() {
    let shop = shop().await;
    let home = shop.saved_address(CUSTOMER, "Berlin").await;
    let office = shop.saved_address(CUSTOMER, "Hamburg").await;
    let cart = shop.cart(Some(CUSTOMER), &[("P0", 1)]).await;
    let mut saved = bare(&cart);
    saved["shipping_address_id"] = json!(home);
    saved["billing_address_id"] = json!(office);
    let reply = shop.checkout_as(CUSTOMER, "k", &saved).await;
    let created = reply.assert_status(StatusCode::CREATED);
    let order = &created["order"];
    assert_eq!(
        (order["shipping_address"]["city"].as_str(), order["billing_address"]["city"].as_str()),
        (Some("Berlin"), Some("Hamburg"))
    );
    // The order keeps a copy: the address book may change, the order does not.
    assert_eq!(order["shipping_address"]["line1"], address()["line1"]);
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 1, 4));
}

#[tokio::test]
async fn a_saved_shipping_address_defaults_the_billing_address_and_mixes_with_a_typed_one() {
    let shop = shop().await;
    let home = shop.saved_address(CUSTOMER, "Munich").await;
    let cart = shop.cart(Some(CUSTOMER), &[("P0", 1)]).await;
    let mut saved = bare(&cart);
    saved["shipping_address_id"] = json!(home);
    let reply = shop.checkout_as(CUSTOMER, "k1", &saved).await;
    let created = reply.assert_status(StatusCode::CREATED);
    assert_eq!(created["order"]["billing_address"]["city"], "Munich");

    let second = shop.cart(Some(CUSTOMER), &[("P1", 1)]).await;
    let mut mixed = body(&second);
    mixed["billing_address_id"] = json!(home);
    let reply = shop.checkout_as(CUSTOMER, "k2", &mixed).await;
    let created = reply.assert_status(StatusCode::CREATED);
    assert_eq!(
        (created["order"]["shipping_address"]["city"].as_str(), created["order"]["billing_address"]["city"].as_str()),
        (Some("Berlin"), Some("Munich"))
    );
}

#[tokio::test]
async fn a_guest_naming_a_saved_address_is_422_on_that_field() {
    let shop = shop().await;
    let someones = shop.saved_address(CUSTOMER, "Berlin").await;
    let cart = shop.cart(None, &[("P0", 1)]).await;
    let mut ship = bare(&cart);
    ship["shipping_address_id"] = json!(someones);
    shop.checkout(&cart, "k1", &ship).await.assert_field_error("validation_failed", "shipping_address_id");
    let mut bill = body(&cart);
    bill["billing_address_id"] = json!(someones);
    shop.checkout(&cart, "k2", &bill).await.assert_field_error("validation_failed", "billing_address_id");
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 0, 5), "nothing reserved");
}

#[tokio::test]
async fn another_customers_unknown_or_malformed_address_id_is_404_on_that_field() {
    let shop = shop().await;
    let theirs = shop.saved_address("cust_2", "Berlin").await;
    let mine = shop.saved_address(CUSTOMER, "Berlin").await;
    let unknown = nanoshop_domain::ids::AddressId::generate().to_string();
    let cart = shop.cart(Some(CUSTOMER), &[("P0", 1)]).await;
    for (n, (field, id)) in [
        ("shipping_address_id", theirs.as_str()),
        ("shipping_address_id", unknown.as_str()),
        ("shipping_address_id", "addr_not-an-id"),
        ("billing_address_id", theirs.as_str()),
        ("billing_address_id", "../PROFILE"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut request = bare(&cart);
        request[field] = json!(id);
        if field == "billing_address_id" {
            request["shipping_address_id"] = json!(mine);
        }
        let reply = shop.checkout_as(CUSTOMER, &format!("k{n}"), &request).await;
        reply.assert_problem(StatusCode::NOT_FOUND, "not_found");
        assert!(reply.fields().contains(&field), "{field} = {id}: {}", reply.body);
    }
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 0, 5), "nothing reserved");
}

#[tokio::test]
async fn an_address_and_an_id_for_one_role_or_no_shipping_address_at_all_is_422() {
    let shop = shop().await;
    let home = shop.saved_address(CUSTOMER, "Berlin").await;
    let cart = shop.cart(Some(CUSTOMER), &[("P0", 1)]).await;
    let mut both = body(&cart);
    both["shipping_address_id"] = json!(home);
    shop.checkout_as(CUSTOMER, "k1", &both).await.assert_field_error("validation_failed", "shipping_address_id");
    let mut both = body(&cart);
    both["billing_address"] = address();
    both["billing_address_id"] = json!(home);
    shop.checkout_as(CUSTOMER, "k2", &both).await.assert_field_error("validation_failed", "billing_address_id");
    shop.checkout_as(CUSTOMER, "k3", &bare(&cart)).await.assert_field_error("validation_failed", "shipping_address");
    assert_eq!(seed::stock(shop.store.as_ref(), "P0").await, (5, 0, 5), "nothing reserved");
}
