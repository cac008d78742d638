//! The customers function through the whole backend (`nanoshop serve`'s router, every response
//! checked against the OpenAPI document): a signed-in customer who bought something keeps a
//! profile and an address book, the admin looks them up, and they export and then erase it all.
//! The same walk is the customers function's part of the access audit (`access.rs`).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::cart::shop;
use crate::support::TestApp;

fn address(city: &str) -> Value {
    json!({"name": "C", "line1": "1 Rue", "city": city, "postal_code": "75001", "country": "FR"})
}

/// Every customers route, in a customer's life, as `t.customer` (`cust_1`) who has placed at
/// least one order. Leaves the customer erased.
pub async fn customers_scenario(t: &TestApp) {
    let me = Some(t.customer.as_str());
    let admin = Some(t.admin.as_str());
    let empty = t.get("/me", me).await;
    assert_eq!((empty.status, empty.body["sub"].as_str()), (StatusCode::OK, Some("cust_1")), "{}", empty.body);
    let patched = t.json(Method::PATCH, "/me", me, &json!({"name": "C", "email": "C@Shop.example"})).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);

    let home = t.json(Method::POST, "/me/addresses", me, &json!({"label": "Home", "address": address("Paris")})).await;
    assert_eq!(home.status, StatusCode::CREATED, "{}", home.body);
    let work = json!({"label": "Work", "address": address("Lyon"), "default_billing": true});
    let work = t.json(Method::POST, "/me/addresses", me, &work).await;
    assert_eq!(work.status, StatusCode::CREATED, "{}", work.body);
    let home = format!("/me/addresses/{}", home.body["id"].as_str().unwrap());
    let work = format!("/me/addresses/{}", work.body["id"].as_str().unwrap());
    let relabelled = t.json(Method::PATCH, &home, me, &json!({"label": "Flat"})).await;
    assert_eq!(relabelled.status, StatusCode::OK, "{}", relabelled.body);
    let shipping = t.json(Method::PATCH, &work, me, &json!({"default_shipping": true})).await;
    assert_eq!(shipping.body["default_shipping"], true, "{}", shipping.body);
    let book = t.get("/me/addresses", me).await;
    let labels: Vec<&str> =
        book.body["items"].as_array().unwrap().iter().map(|a| a["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["Flat", "Work"]);
    assert_eq!(t.send(Method::DELETE, &home, me, &[], None).await.status, StatusCode::NO_CONTENT);

    let found = t.get("/customers?email=c@shop.EXAMPLE", admin).await;
    assert_eq!(found.body["items"][0]["sub"], "cust_1", "{}", found.body);
    let customer = t.get("/customers/cust_1", admin).await;
    assert_eq!(customer.status, StatusCode::OK, "{}", customer.body);
    let orders = customer.body["orders"].as_array().unwrap().len();
    assert!(orders >= 1, "{}", customer.body);
    let export = t.get("/me/export", me).await;
    assert_eq!(
        (export.body["orders"].as_array().unwrap().len(), export.body["profile"]["name"].as_str()),
        (orders, Some("C"))
    );

    assert_eq!(t.send(Method::DELETE, "/me", me, &[], None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get("/me", me).await.body["name"], Value::Null);
    assert_eq!(t.get("/customers/cust_1", admin).await.status, StatusCode::NOT_FOUND);
    let order_id = export.body["orders"][0]["id"].as_str().unwrap();
    let order = t.order(order_id).await;
    assert_eq!((order.email.as_str(), order.customer_id), ("", None), "the order is anonymised");
    // Their order history is gone with the link to them; the merchant still has the order.
    assert_eq!(t.get("/orders", me).await.body["items"], json!([]));
    assert_eq!(t.get(&format!("/orders/{order_id}"), admin).await.body["totals"], export.body["orders"][0]["totals"]);
}

#[tokio::test]
async fn a_customer_keeps_a_profile_and_an_address_book_exports_and_erases_them() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let cart = t.customer_cart().await;
    let bought = t.customer_checkout(&cart.body, "customers-1").await;
    assert_eq!(bought.status, StatusCode::CREATED, "{}", bought.body);
    customers_scenario(&t).await;
}

/// Four changes of the profile at once, each of another field, and 22 additions to the address
/// book at once: every field lands, and the book never holds more than 20. (On DynamoDB Local,
/// where the requests really interleave between their reads and writes.)
pub async fn concurrent_account_changes(t: std::sync::Arc<TestApp>) {
    let changes = [
        json!({"name": "Ada"}),
        json!({"email": "ada@example.com"}),
        json!({"phone": "+49 30 1"}),
        json!({"marketing_consent": true}),
    ];
    let patches: Vec<_> = changes
        .into_iter()
        .map(|change| {
            let t = t.clone();
            tokio::spawn(async move { t.json(Method::PATCH, "/me", Some(&t.customer), &change).await.status })
        })
        .collect();
    for patch in patches {
        assert_eq!(patch.await.unwrap(), StatusCode::OK);
    }
    let me = t.get("/me", Some(&t.customer)).await;
    let fields = (&me.body["name"], &me.body["email"], &me.body["phone"], &me.body["marketing_consent"]);
    assert_eq!(fields, (&json!("Ada"), &json!("ada@example.com"), &json!("+49 30 1"), &json!(true)), "{}", me.body);

    let adds: Vec<_> = (0..22)
        .map(|i| {
            let t = t.clone();
            let body = json!({"label": format!("A{i}"), "address": address("Paris")});
            tokio::spawn(async move {
                let reply = t.json(Method::POST, "/me/addresses", Some(&t.customer), &body).await;
                (reply.status, reply.code().to_owned())
            })
        })
        .collect();
    let mut created = 0;
    for add in adds {
        match add.await.unwrap() {
            (StatusCode::CREATED, _) => created += 1,
            (StatusCode::CONFLICT, code) if code == "address_book_full" || code == "account_changed" => {}
            other => panic!("an addition answered {other:?}"),
        }
    }
    let book = t.get("/me/addresses", Some(&t.customer)).await;
    let stored = book.body["items"].as_array().unwrap().len();
    assert!(created <= 20 && stored == created, "{created} created, {stored} stored");
    // The first addition took both defaults, and they name a stored address.
    let me = t.get("/me", Some(&t.customer)).await;
    let ids: Vec<&Value> = book.body["items"].as_array().unwrap().iter().map(|a| &a["id"]).collect();
    assert!(ids.contains(&&me.body["default_shipping_address_id"]), "{}", me.body);
}
