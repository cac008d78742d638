//! Abuse limits of the cart and the checkout: the store's limit of units per SKU (so one
//! anonymous cart cannot hold a SKU's whole stock through the payment window), and the limit on
//! failed discount-code attempts per cart (so private codes cannot be guessed).

use std::sync::Arc;

use axum::http::{Method, StatusCode, header};
use nanoshop_domain::cart::MaxUnitsPerSku;
use nanoshop_domain::discount::{CODE_ATTEMPT_WINDOW, MAX_FAILED_CODE_ATTEMPTS};
use nanoshop_store::embedded::EmbeddedStore;
use nanoshop_store::{Store, Table};
use serde_json::{Value, json};

use crate::cart::{GuestCart, guest_cart, shop};
use crate::checkout::checkout;
use crate::support::{Reply, TestApp};

fn limit(n: &str) -> MaxUnitsPerSku {
    n.parse().unwrap()
}

fn assert_quantity_limit(reply: &Reply, field: &str) {
    assert_eq!((reply.status, reply.code()), (StatusCode::UNPROCESSABLE_ENTITY, "quantity_limit"), "{}", reply.body);
    assert_eq!(reply.body["errors"][0]["field"], field, "{}", reply.body);
    assert_eq!(reply.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("application/problem+json"));
}

#[tokio::test]
async fn a_cart_holds_at_most_the_stores_limit_of_one_sku_and_a_refusal_changes_nothing() {
    let t = TestApp::new();
    shop(&t, 2).await;
    t.json(Method::PUT, "/inventory/P0", Some(&t.admin), &json!({"on_hand": 500})).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 6}])).await;
    let store = t.embedded.clone().unwrap();
    let before = store.snapshot();

    let add = cart.send(&t, Method::POST, "/items", Some(json!({"sku": "P0", "quantity": 5}))).await;
    assert_quantity_limit(&add, "quantity");
    assert_eq!(add.body["errors"][0]["message"], "the store sells at most 10 units of `P0` per order");
    assert_quantity_limit(&cart.send(&t, Method::PATCH, "/items/P0", Some(json!({"quantity": 11}))).await, "quantity");
    assert_quantity_limit(
        &cart.send(&t, Method::POST, "/items", Some(json!({"sku": "P1", "quantity": 11}))).await,
        "quantity",
    );
    let create = t
        .json(
            Method::POST,
            "/carts",
            None,
            &json!({"currency": "EUR", "items": [{"sku": "P1", "quantity": 1}, {"sku": "P0", "quantity": 6}, {"sku": "P0", "quantity": 5}]}),
        )
        .await;
    assert_quantity_limit(&create, "items[2].quantity");
    // Malformed quantities are still plain validation errors, whatever the store's limit.
    let hundred = cart.send(&t, Method::PATCH, "/items/P0", Some(json!({"quantity": 100}))).await;
    assert_eq!((hundred.status, hundred.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
    assert!(store.snapshot() == before, "a refused change wrote to the store");

    // Up to the limit is fine, by adding or by setting.
    let add = cart.send(&t, Method::POST, "/items", Some(json!({"sku": "P0", "quantity": 4}))).await;
    assert_eq!((add.status, add.body["items"][0]["quantity"].clone()), (StatusCode::OK, json!(10)), "{}", add.body);
    let set = cart.send(&t, Method::PATCH, "/items/P0", Some(json!({"quantity": 7}))).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
}

#[tokio::test]
async fn checkout_refuses_a_cart_filled_before_the_limit_was_lowered_and_reserves_nothing() {
    let store = Arc::new(EmbeddedStore::in_memory());
    // The same tables served first with a limit of 20, then, after a redeploy, with 10.
    let before = TestApp::limited(store.clone(), limit("20"));
    shop(&before, 2).await;
    before.json(Method::PUT, "/inventory/P0", Some(&before.admin), &json!({"on_hand": 50})).await;
    let cart = guest_cart(&before, json!([{"sku": "P0", "quantity": 15}, {"sku": "P1", "quantity": 2}])).await;

    let after = TestApp::limited(store.clone(), limit("10"));
    let refused = checkout(&after, &cart, "over-the-limit").await;
    assert_quantity_limit(&refused, "P0");
    assert_eq!(
        refused.body["errors"].as_array().map(Vec::len),
        Some(1),
        "only the line over the limit: {}",
        refused.body
    );
    assert_eq!(after.stock("P0").await, (50, 0, 50), "nothing reserved");
    assert_eq!(after.get("/orders", Some(&after.admin)).await.body["items"], json!([]), "no order");

    // The cart still opens, and comes down to the limit; then it checks out.
    let read = cart.send(&after, Method::GET, "", None).await;
    assert_eq!((read.status, read.body["items"][0]["quantity"].clone()), (StatusCode::OK, json!(15)));
    let lowered = cart.send(&after, Method::PATCH, "/items/P0", Some(json!({"quantity": 10}))).await;
    assert_eq!(lowered.status, StatusCode::OK, "{}", lowered.body);
    let placed = checkout(&after, &cart, "within-the-limit").await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(after.stock("P0").await, (50, 10, 40));
}

/// A shop with `TEN` (10 % off anything) and `BIG` (only from 1000.00 EUR), and a guest cart of
/// one P0 (10.00 EUR).
async fn codes_and_cart(t: &TestApp) -> GuestCart {
    shop(t, 1).await;
    for body in [
        json!({"code": "TEN", "kind": "percentage", "percentage": "0.10"}),
        json!({"code": "BIG", "kind": "percentage", "percentage": "0.20", "min_subtotal": [{"amount": 100000, "currency": "EUR"}]}),
    ] {
        let created = t.json(Method::POST, "/discounts", Some(&t.admin), &body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    guest_cart(t, json!([{"sku": "P0", "quantity": 1}])).await
}

async fn try_code(t: &TestApp, cart: &GuestCart, code: &str) -> Reply {
    cart.send(t, Method::PUT, "/discount", Some(json!({"code": code}))).await
}

fn assert_too_many_attempts(reply: &Reply) -> u64 {
    assert_eq!((reply.status, reply.code()), (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"), "{}", reply.body);
    let retry_after: u64 = reply.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    let window = u64::try_from(CODE_ATTEMPT_WINDOW.num_seconds()).unwrap();
    assert!((1..=window).contains(&retry_after), "Retry-After {retry_after}");
    retry_after
}

#[tokio::test]
async fn after_five_failed_codes_a_cart_gets_429_for_any_code_until_the_window_ends() {
    let t = TestApp::new();
    let cart = codes_and_cart(&t).await;

    // Within the limit a shopper learns why: an unknown code and one that does not apply differ.
    let unknown = try_code(&t, &cart, "GUESS1").await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_discount"));
    assert_eq!(unknown.body["detail"], "there is no discount code `GUESS1`");
    let not_applicable = try_code(&t, &cart, "big").await;
    assert_eq!((not_applicable.status, not_applicable.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_discount"));
    assert_eq!(
        not_applicable.body["detail"],
        "the code `BIG` does not apply: this code needs a subtotal of at least 1000.00 EUR"
    );
    for guess in ["GUESS2", "GUESS3", "GUESS4"] {
        assert_eq!(try_code(&t, &cart, guess).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    // The sixth attempt is refused whatever the code, a valid one too, and changes nothing.
    let store = t.embedded.clone().unwrap();
    let before = store.snapshot();
    for code in ["TEN", "GUESS6", "BIG"] {
        let locked = try_code(&t, &cart, code).await;
        assert_too_many_attempts(&locked);
        assert!(locked.body["detail"].as_str().unwrap().contains("try again in 15 minutes"), "{}", locked.body);
    }
    assert!(store.snapshot() == before, "a 429 wrote to the store");
    // A malformed code reveals nothing and is not an attempt: it is refused as before.
    assert_eq!(try_code(&t, &cart, "?").await.code(), "invalid_discount");
    // The rest of the cart works as ever.
    let add = cart.send(&t, Method::POST, "/items", Some(json!({"sku": "P0", "quantity": 1}))).await;
    assert_eq!(add.status, StatusCode::OK, "{}", add.body);
    assert_eq!(add.body["discount"], Value::Null);

    // Once the window has ended, codes work again (the window is moved back rather than waited).
    let window_start = age_attempts(&t, &cart, CODE_ATTEMPT_WINDOW).await;
    assert!(!window_start.is_empty());
    let applied = try_code(&t, &cart, "TEN").await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.body);
    assert_eq!(applied.body["discount"]["code"], "TEN");
    // And a fresh window of five failures opens with the next one.
    for n in 1..=MAX_FAILED_CODE_ATTEMPTS {
        let reply = try_code(&t, &cart, &format!("AGAIN{n}")).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {n}: {}", reply.body);
    }
    assert_too_many_attempts(&try_code(&t, &cart, "TEN").await);
}

/// Moves the cart's window of failed code attempts `by` into the past, as the clock would;
/// returns the window start as stored before.
async fn age_attempts(t: &TestApp, cart: &GuestCart, by: chrono::TimeDelta) -> String {
    let store = t.embedded.clone().unwrap();
    let key = nanoshop_schema::carts::cart_key(&cart.id.parse().unwrap());
    let item = store.get(Table::Carts, &key).await.unwrap().unwrap();
    let mut doc: Value = serde_json::from_str(item.s(nanoshop_schema::DOC).unwrap()).unwrap();
    let start = doc["code_attempts"]["window_start"].as_str().unwrap().to_owned();
    let aged = start.parse::<chrono::DateTime<chrono::Utc>>().unwrap() - by;
    doc["code_attempts"]["window_start"] = json!(aged);
    store.put(Table::Carts, item.with(nanoshop_schema::DOC, doc.to_string()), None).await.unwrap();
    start
}

/// Five failing codes tried at once on each of 20 carts, on 4 threads: each is counted, because
/// the count is written on condition of the cart's version like any change, and retried when it
/// lost. (A count written without that condition loses one of five racing updates often, but not
/// always; twenty carts make a lost one all but certain to show.)
pub async fn concurrent_failed_codes(t: Arc<TestApp>) {
    let first = codes_and_cart(&t).await;
    let mut carts = vec![Arc::new(first)];
    for _ in 1..20 {
        carts.push(Arc::new(guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await));
    }
    let racers: Vec<_> =
        carts.iter().flat_map(|cart| (0..MAX_FAILED_CODE_ATTEMPTS).map(move |i| (cart.clone(), i))).collect();
    // Released together, so the attempts on one cart overlap rather than run one after another.
    let start = Arc::new(tokio::sync::Barrier::new(racers.len()));
    let attempts: Vec<_> = racers
        .into_iter()
        .map(|(cart, i)| {
            let (t, start) = (t.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                try_code(&t, &cart, &format!("RACE{i}")).await
            })
        })
        .collect();
    for attempt in attempts {
        let reply = attempt.await.unwrap();
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_discount"),
            "{}",
            reply.body
        );
    }
    // Had one of a cart's five been lost to a race, this valid code would apply to it.
    for cart in &carts {
        assert_too_many_attempts(&try_code(&t, cart, "TEN").await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_failed_codes_all_count() {
    concurrent_failed_codes(Arc::new(TestApp::new())).await;
}
