//! The address book: defaults, the limit of 20, addresses checked as at checkout, and ids that
//! are not the caller's.

use axum::http::StatusCode;
use nanoshop_api::testing::TestRequest;
use serde_json::json;

use super::{another_device_saves_an_address, berlin, hamburg, racing_shop, shop};

#[tokio::test]
async fn the_first_address_takes_both_defaults_and_another_can_take_one() {
    let shop = shop().await;
    let token = shop.customer("cust_1");
    let reply = TestRequest::post("/me/addresses")
        .bearer(&token)
        .json(&json!({"label": "Home", "address": berlin()}))
        .send(&shop.app)
        .await;
    let home = reply.assert_status(StatusCode::CREATED).clone();
    let home_id = home["id"].as_str().unwrap();
    assert!(home_id.starts_with("addr_"), "{home}");
    assert_eq!(reply.header("location"), Some(format!("/me/addresses/{home_id}").as_str()));
    assert_eq!((home["default_shipping"].as_bool(), home["default_billing"].as_bool()), (Some(true), Some(true)));

    let office =
        shop.add_address(&token, json!({"label": "Office", "address": hamburg(), "default_billing": true})).await;
    let office_id = office["id"].as_str().unwrap();
    let book = shop.book(&token).await;
    let flags: Vec<_> = book
        .iter()
        .map(|a| {
            (
                a["label"].as_str().unwrap(),
                a["default_shipping"].as_bool().unwrap(),
                a["default_billing"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(flags, [("Home", true, false), ("Office", false, true)]);
    let me = shop.me(&token).await;
    assert_eq!(
        (me["default_shipping_address_id"].as_str(), me["default_billing_address_id"].as_str()),
        (Some(home_id), Some(office_id))
    );

    // Shipping moves to the office in one change; the home address keeps neither.
    let reply = TestRequest::patch(format!("/me/addresses/{office_id}"))
        .bearer(&token)
        .json(&json!({"default_shipping": true, "label": "Work"}))
        .send(&shop.app)
        .await;
    let changed = reply.assert_status(StatusCode::OK);
    assert_eq!((changed["label"].as_str(), changed["default_shipping"].as_bool()), (Some("Work"), Some(true)));
    let book = shop.book(&token).await;
    assert_eq!(book[0]["default_shipping"], false);
    assert_eq!(shop.me(&token).await["default_shipping_address_id"].as_str(), Some(office_id));

    // Deleting the default leaves it unset; no other address is picked behind the customer's back.
    let gone = TestRequest::delete(format!("/me/addresses/{office_id}")).bearer(&token).send(&shop.app).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let me = shop.me(&token).await;
    assert_eq!(
        (me["default_shipping_address_id"].clone(), me["default_billing_address_id"].clone()),
        (json!(null), json!(null))
    );
    assert_eq!(shop.book(&token).await.len(), 1);
    let again = TestRequest::delete(format!("/me/addresses/{office_id}")).bearer(&token).send(&shop.app).await;
    again.assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn an_address_is_checked_as_at_checkout_with_its_fields_named() {
    let shop = shop().await;
    let token = shop.customer("cust_1");
    let mut bad = berlin();
    bad["postal_code"] = json!("   ");
    bad["country"] = json!("Germany");
    let reply = TestRequest::post("/me/addresses")
        .bearer(&token)
        .json(&json!({"label": "x".repeat(51), "address": bad}))
        .send(&shop.app)
        .await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(reply.fields(), ["label", "address.postal_code", "address.country"]);
    let missing =
        TestRequest::post("/me/addresses").bearer(&token).json(&json!({"label": "Home"})).send(&shop.app).await;
    missing.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert!(shop.book(&token).await.is_empty());

    let saved = shop.add_address(&token, json!({"address": berlin()})).await;
    let mut phone = berlin();
    phone["phone"] = json!("call me");
    let path = format!("/me/addresses/{}", saved["id"].as_str().unwrap());
    let reply = TestRequest::patch(&path).bearer(&token).json(&json!({"address": phone})).send(&shop.app).await;
    reply.assert_field_error("validation_failed", "address.phone");
    assert_eq!(shop.book(&token).await[0]["address"], saved["address"], "nothing changed");
}

#[tokio::test]
async fn the_21st_address_is_refused_with_its_own_code() {
    let shop = shop().await;
    let token = shop.customer("cust_1");
    for _ in 0..20 {
        shop.add_address(&token, json!({"address": berlin()})).await;
    }
    let reply =
        TestRequest::post("/me/addresses").bearer(&token).json(&json!({"address": hamburg()})).send(&shop.app).await;
    reply.assert_problem(StatusCode::CONFLICT, "address_book_full");
    assert_eq!(shop.book(&token).await.len(), 20);
}

/// Two additions at once when one place is left: the one that read the count before the other
/// wrote reads again, and finds the book full.
#[tokio::test]
async fn an_addition_racing_another_for_the_last_place_is_refused() {
    let (shop, racing) = racing_shop();
    let token = shop.customer("cust_1");
    for _ in 0..19 {
        shop.add_address(&token, json!({"address": berlin()})).await;
    }
    racing.before_next(another_device_saves_an_address("cust_1"));
    let reply =
        TestRequest::post("/me/addresses").bearer(&token).json(&json!({"address": hamburg()})).send(&shop.app).await;
    reply.assert_problem(StatusCode::CONFLICT, "address_book_full");
    assert_eq!(shop.book(&token).await.len(), 20);
}

#[tokio::test]
async fn another_customers_address_or_an_unknown_id_is_404() {
    let shop = shop().await;
    let (ada, bob) = (shop.customer("cust_ada"), shop.customer("cust_bob"));
    let saved = shop.add_address(&ada, json!({"address": berlin()})).await;
    let path = format!("/me/addresses/{}", saved["id"].as_str().unwrap());
    for path in [path.as_str(), "/me/addresses/addr_01M9730DAH83EZ1SZBA819VNSW", "/me/addresses/nonsense"] {
        let patch = TestRequest::patch(path).bearer(&bob).json(&json!({"label": "Mine"})).send(&shop.app).await;
        patch.assert_problem(StatusCode::NOT_FOUND, "not_found");
        let delete = TestRequest::delete(path).bearer(&bob).send(&shop.app).await;
        delete.assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
    assert!(shop.book(&bob).await.is_empty());
    assert_eq!(shop.book(&ada).await[0]["label"], json!(null), "untouched");
}
