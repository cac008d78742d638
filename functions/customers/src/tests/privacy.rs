//! `DELETE /me` and `GET /me/export`.

use axum::http::StatusCode;
use nanoshop_api::testing::{TestRequest, seed};
use nanoshop_schema::orders::{customer_listing, email_listing};
use nanoshop_store::{Query, Store, Table};
use serde_json::json;

use super::{berlin, shop};

#[tokio::test]
async fn the_export_holds_the_profile_the_addresses_and_the_orders() {
    let shop = shop().await;
    let token = shop.customer("cust_1");
    TestRequest::patch("/me")
        .bearer(&token)
        .json(&json!({"name": "Ada", "email": "ada@example.com"}))
        .send(&shop.app)
        .await;
    let saved = shop.add_address(&token, json!({"label": "Home", "address": berlin()})).await;
    let order = shop.order("cust_1", "ada@example.com").await;
    shop.order("cust_2", "bob@example.com").await;

    let reply = TestRequest::get("/me/export").bearer(&token).send(&shop.app).await;
    let export = reply.assert_status(StatusCode::OK);
    assert_eq!(export["profile"], shop.me(&token).await);
    assert_eq!(export["addresses"], json!([saved]));
    let orders = export["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "only the caller's: {export}");
    assert_eq!(orders[0]["id"], order.id.as_str());
    assert_eq!(orders[0]["shipping_address"]["city"], "Berlin");
    assert_eq!(export["cart"], json!(null));
}

#[tokio::test]
async fn an_erasure_deletes_the_account_and_anonymises_the_orders_once() {
    let shop = shop().await;
    let token = shop.customer("cust_1");
    TestRequest::patch("/me")
        .bearer(&token)
        .json(&json!({"name": "Ada", "email": "ada@example.com", "phone": "+49 1"}))
        .send(&shop.app)
        .await;
    shop.add_address(&token, json!({"address": berlin()})).await;
    let order = shop.order("cust_1", "ada@example.com").await;
    let others = shop.order("cust_2", "bob@example.com").await;
    let others = seed::order(shop.store.as_ref(), &others.id).await;

    let reply = TestRequest::delete("/me").bearer(&token).send(&shop.app).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);

    let after = seed::order(shop.store.as_ref(), &order.id).await;
    // The books keep what was sold, for how much and when.
    assert_eq!(
        (&after.lines, &after.totals, after.created_at, after.status),
        (&order.lines, &order.totals, order.created_at, order.status)
    );
    // Nothing says who bought it or where it went.
    assert_eq!((after.email.as_str(), after.customer_id.as_deref(), after.billing_address.as_ref()), ("", None, None));
    let to = &after.shipping_address;
    assert_eq!(
        (to.name.as_str(), to.line1.as_str(), to.city.as_str(), to.postal_code.as_str(), to.phone.as_deref()),
        ("", "", "", "", None)
    );
    assert_eq!(to.country, order.shipping_address.country);
    assert_eq!(after.version, order.version + 1);
    for listing in [customer_listing("cust_1"), email_listing("ada@example.com")] {
        let page = shop.store.query(&Query::new(Table::Orders, listing.clone())).await.unwrap();
        assert!(page.items.is_empty(), "{listing} still lists it");
    }
    assert_eq!(seed::order(shop.store.as_ref(), &others.id).await, others, "another customer's order is untouched");

    let me = shop.me(&token).await;
    assert_eq!((me["name"].clone(), me["email"].clone()), (json!(null), json!(null)));
    assert!(shop.book(&token).await.is_empty());
    let export = TestRequest::get("/me/export").bearer(&token).send(&shop.app).await;
    assert_eq!(export.assert_status(StatusCode::OK)["orders"], json!([]));
    let admin = shop.auth.admin();
    let found = TestRequest::get("/customers?email=ada@example.com").bearer(&admin).send(&shop.app).await;
    assert_eq!(found.assert_status(StatusCode::OK)["items"], json!([]));
    TestRequest::get("/customers/cust_1")
        .bearer(&admin)
        .send(&shop.app)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");

    // Again: nothing left to do, the same answer, and the order is not rewritten.
    let again = TestRequest::delete("/me").bearer(&token).send(&shop.app).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    assert_eq!(seed::order(shop.store.as_ref(), &order.id).await, after);
}

/// An address saved between the erasure's read of the account and its deletes is erased too
/// (the erasure reads again), not left behind without its profile.
#[tokio::test]
async fn an_address_saved_while_the_account_is_erased_goes_with_it() {
    use super::{another_device_saves_an_address, racing_shop};

    let (shop, racing) = racing_shop();
    let token = shop.customer("cust_1");
    shop.add_address(&token, json!({"address": berlin()})).await;
    racing.before_next(another_device_saves_an_address("cust_1"));
    let reply = TestRequest::delete("/me").bearer(&token).send(&shop.app).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert!(shop.book(&token).await.is_empty());
    assert!(shop.store.snapshot().iter().all(|(table, _)| *table != Table::Carts), "nothing of the account is left");
}
