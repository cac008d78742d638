//! `GET/PATCH /me`: the empty profile, changes and clears, field errors, `If-Match`, a race that
//! must merge, and the e-mail index kept in step.

use axum::http::StatusCode;
use nanoshop_api::testing::TestRequest;
use nanoshop_domain::customer::Profile;
use nanoshop_schema::customers::profile_key;
use nanoshop_schema::{DOC, encode};
use nanoshop_store::port::VERSION;
use nanoshop_store::{Table, Update};
use serde_json::json;

use super::{Interloper, racing_shop, shop};

#[tokio::test]
async fn a_customer_without_a_profile_has_an_empty_one_at_version_0() {
    let shop = shop().await;
    let token = shop.customer("cust_new");
    let reply = TestRequest::get("/me").bearer(&token).send(&shop.app).await;
    assert_eq!(
        reply.assert_status(StatusCode::OK),
        &json!({
            "sub": "cust_new", "name": null, "email": null, "phone": null, "marketing_consent": false,
            "default_shipping_address_id": null, "default_billing_address_id": null,
        })
    );
    assert_eq!(reply.header("etag"), Some("\"0\""));
}

#[tokio::test]
async fn a_change_sets_the_fields_it_names_and_null_clears_one() {
    let shop = shop().await;
    let token = shop.customer("cust_1");
    let body = json!({"name": " Ada Lovelace ", "email": "Ada@Example.COM", "phone": "+49 30 1234567", "marketing_consent": true});
    let reply = TestRequest::patch("/me").bearer(&token).json(&body).send(&shop.app).await;
    let saved = reply.assert_status(StatusCode::OK);
    assert_eq!((saved["name"].as_str(), saved["email"].as_str()), (Some("Ada Lovelace"), Some("ada@example.com")));
    assert_eq!(reply.header("etag"), Some("\"1\""));

    let reply = TestRequest::patch("/me").bearer(&token).json(&json!({"phone": null})).send(&shop.app).await;
    let after = reply.assert_status(StatusCode::OK);
    assert_eq!(after["phone"], json!(null));
    assert_eq!((after["name"].as_str(), after["marketing_consent"].as_bool()), (Some("Ada Lovelace"), Some(true)));
    assert_eq!(shop.me(&token).await, *after, "what was answered is what is stored");
}

#[tokio::test]
async fn each_bad_field_is_named_and_nothing_is_written() {
    let shop = shop().await;
    let token = shop.customer("cust_1");
    let body = json!({"name": "x".repeat(201), "email": "not-an-email", "phone": "call me"});
    let reply = TestRequest::patch("/me").bearer(&token).json(&body).send(&shop.app).await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(reply.fields(), ["name", "email", "phone"]);
    let unknown = TestRequest::patch("/me").bearer(&token).json(&json!({"sub": "cust_2"})).send(&shop.app).await;
    unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let defaults = TestRequest::patch("/me")
        .bearer(&token)
        .json(&json!({"default_shipping_address_id": "addr_x"}))
        .send(&shop.app)
        .await;
    defaults.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert!(shop.store.snapshot().iter().all(|(table, _)| *table != Table::Carts), "nothing written");
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_a_current_one_applies() {
    let shop = shop().await;
    let token = shop.customer("cust_1");
    let first = TestRequest::patch("/me").bearer(&token).json(&json!({"name": "Ada"})).send(&shop.app).await;
    assert_eq!(first.header("etag"), Some("\"1\""));
    let stale = TestRequest::patch("/me")
        .bearer(&token)
        .header("if-match", "\"0\"")
        .json(&json!({"name": "Bob"}))
        .send(&shop.app)
        .await;
    stale.assert_problem(StatusCode::PRECONDITION_FAILED, "version_conflict");
    let current = TestRequest::patch("/me")
        .bearer(&token)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Ada L."}))
        .send(&shop.app)
        .await;
    assert_eq!(current.assert_status(StatusCode::OK)["name"], "Ada L.");
    assert_eq!(current.header("etag"), Some("\"2\""));
    assert_eq!(shop.me(&token).await["name"], "Ada L.");
}

#[tokio::test]
async fn a_change_that_races_another_merges_and_loses_neither_field() {
    let (shop, racing) = racing_shop();
    let token = shop.customer("cust_1");
    TestRequest::patch("/me")
        .bearer(&token)
        .json(&json!({"name": "Ada"}))
        .send(&shop.app)
        .await
        .assert_status(StatusCode::OK);
    // Between this request's read and its write, another device sets the phone.
    let theirs = Profile { name: Some("Ada".into()), phone: Some("+49 30 1".into()), ..Profile::default() };
    let other = Update::new(profile_key("cust_1")).set(DOC, encode(&theirs).unwrap()).add(VERSION, 1);
    racing.before_next(Interloper::Update(other));

    let reply =
        TestRequest::patch("/me").bearer(&token).json(&json!({"marketing_consent": true})).send(&shop.app).await;
    let body = reply.assert_status(StatusCode::OK);
    assert_eq!((body["phone"].as_str(), body["marketing_consent"].as_bool()), (Some("+49 30 1"), Some(true)), "{body}");
    let stored = shop.me(&token).await;
    assert_eq!(
        (stored["name"].as_str(), stored["phone"].as_str(), stored["marketing_consent"].as_bool()),
        (Some("Ada"), Some("+49 30 1"), Some(true))
    );
    assert_eq!(reply.header("etag"), Some("\"3\""), "after the other writer's version 2");

    // With `If-Match`, the same race is the client's to resolve: 412, and theirs stands.
    let again = Profile { phone: Some("+49 30 2".into()), ..theirs };
    let other = Update::new(profile_key("cust_1")).set(DOC, encode(&again).unwrap()).add(VERSION, 1);
    racing.before_next(Interloper::Update(other));
    let reply = TestRequest::patch("/me")
        .bearer(&token)
        .header("if-match", "\"3\"")
        .json(&json!({"name": "Bob"}))
        .send(&shop.app)
        .await;
    reply.assert_problem(StatusCode::PRECONDITION_FAILED, "version_conflict");
    assert_eq!(shop.me(&token).await["name"], "Ada");
}

#[tokio::test]
async fn the_email_index_follows_the_profile() {
    let shop = shop().await;
    let (token, admin) = (shop.customer("cust_1"), shop.auth.admin());
    let find = |email: &'static str| {
        let admin = admin.clone();
        let app = shop.app.clone();
        async move {
            let reply = TestRequest::get(format!("/customers?email={email}")).bearer(&admin).send(&app).await;
            let items = reply.assert_status(StatusCode::OK)["items"].as_array().unwrap().clone();
            items.iter().map(|p| p["sub"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    TestRequest::patch("/me").bearer(&token).json(&json!({"email": "ada@example.com"})).send(&shop.app).await;
    assert_eq!(find("ADA@example.com").await, ["cust_1"]);
    TestRequest::patch("/me").bearer(&token).json(&json!({"email": "lovelace@example.com"})).send(&shop.app).await;
    assert!(find("ada@example.com").await.is_empty(), "the old e-mail finds no one");
    assert_eq!(find("lovelace@example.com").await, ["cust_1"]);
    // Saving an address rewrites the profile's defaults: the index entry stays.
    shop.add_address(&token, json!({"address": super::berlin()})).await;
    assert_eq!(find("lovelace@example.com").await, ["cust_1"]);
    TestRequest::patch("/me").bearer(&token).json(&json!({"email": null})).send(&shop.app).await;
    assert!(find("lovelace@example.com").await.is_empty());
}

/// serde reads a struct from an array by position: a change body must be an object, or
/// `[null, null]` would clear the name and the e-mail.
#[tokio::test]
async fn a_body_that_is_not_an_object_changes_nothing() {
    let shop = shop().await;
    let token = shop.customer("cust_1");
    TestRequest::patch("/me")
        .bearer(&token)
        .json(&json!({"name": "Ada", "email": "ada@example.com"}))
        .send(&shop.app)
        .await;
    for body in [json!([null, null]), json!([]), json!("Ada"), json!(null)] {
        for (method, path) in [("PATCH", "/me"), ("POST", "/me/addresses")] {
            let method = axum::http::Method::from_bytes(method.as_bytes()).unwrap();
            let reply = TestRequest::new(method, path).bearer(&token).json(&body).send(&shop.app).await;
            reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        }
    }
    let me = shop.me(&token).await;
    assert_eq!((me["name"].as_str(), me["email"].as_str()), (Some("Ada"), Some("ada@example.com")));
    let nested =
        TestRequest::post("/me/addresses").bearer(&token).json(&json!({"address": {"name": 5}})).send(&shop.app).await;
    nested.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert!(nested.body["detail"].as_str().unwrap().starts_with("address.name"), "{}", nested.body);
}
