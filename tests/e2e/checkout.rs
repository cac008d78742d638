//! Checkout and payment end to end: atomic reservations under contention, idempotency, the
//! provider failing, and the webhook applying signed events once in any order.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use nanoshop_payments::stripe::StripeGateway;
use nanoshop_payments::webhook;
use serde_json::{Value, json};

use crate::cart::{GuestCart, guest_cart, shop};
use crate::support::{Reply, TestApp};

fn address() -> Value {
    json!({"name": "Ada Lovelace", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "DE"})
}

pub fn checkout_body(cart: &GuestCart) -> Value {
    json!({"cart_id": cart.id, "email": "ada@example.com", "shipping_address": address(), "shipping_method": "standard"})
}

pub async fn checkout(t: &TestApp, cart: &GuestCart, key: &str) -> Reply {
    let headers = [("x-cart-token", cart.token.as_str()), ("idempotency-key", key)];
    t.send(Method::POST, "/checkout", None, &headers, Some(checkout_body(cart).to_string().into())).await
}

pub async fn confirm(t: &TestApp, intent: &str, card: &str) -> Reply {
    t.json(Method::POST, &format!("/dev/payments/{intent}/confirm"), None, &json!({"card": card})).await
}

/// Cart → checkout → simulated card → order paid, with every stock number along the way.
pub async fn purchase_scenario(t: &TestApp) {
    shop(t, 2).await;
    let cart = guest_cart(t, json!([{"sku": "P0", "quantity": 2}, {"sku": "P1", "quantity": 1}])).await;
    let reply = checkout(t, &cart, "buy-1").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let order = &reply.body["order"];
    assert_eq!(
        (order["status"].as_str(), order["payment_status"].as_str()),
        (Some("pending_payment"), Some("pending"))
    );
    // 3 × 10.00 EUR + 4.90 shipping, VAT included.
    assert_eq!(order["totals"]["total"], json!({"amount": 3490, "currency": "EUR"}));
    assert!(reply.body["order_token"].as_str().is_some_and(|t| t.len() > 20));
    let intent = reply.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned();
    assert_eq!(reply.body["payment"]["publishable_key"], "pk_local");
    assert_eq!(t.stock("P0").await, (5, 2, 3), "two units of P0 reserved");
    let cart_now =
        t.send(Method::GET, &format!("/carts/{}", cart.id), None, &[("x-cart-token", cart.token.as_str())], None).await;
    assert_eq!(cart_now.body["status"], "checked_out");
    let again = checkout(t, &cart, "buy-2").await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "cart_already_checked_out"));

    let paid = confirm(t, &intent, "4242 4242 4242 4242").await;
    assert_eq!((paid.status, paid.body["status"].as_str()), (StatusCode::OK, Some("succeeded")), "{}", paid.body);
    let order = t.order(order["id"].as_str().unwrap()).await;
    assert_eq!((order.status.as_str(), order.payment.payment_intent_id.as_deref()), ("paid", Some(intent.as_str())));
    assert_eq!(t.stock("P0").await, (3, 0, 3), "paid units leave on_hand and reserved");
    assert_eq!(t.stock("P1").await, (4, 0, 4));
}

#[tokio::test]
async fn a_cart_becomes_a_paid_order_on_the_embedded_store() {
    purchase_scenario(&TestApp::new()).await;
}

#[tokio::test]
async fn a_declined_card_leaves_the_order_payable() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    let reply = checkout(&t, &cart, "k").await;
    let (id, intent) = (
        reply.body["order"]["id"].as_str().unwrap().to_owned(),
        reply.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned(),
    );
    let declined = confirm(&t, &intent, "4000000000000002").await;
    assert_eq!(declined.body["status"], "failed");
    assert!(declined.body["message"].as_str().is_some_and(|m| m.contains("declined")), "{}", declined.body);
    let order = t.order(&id).await;
    assert_eq!(
        (order.status.as_str(), format!("{:?}", order.payment_status)),
        ("pending_payment", "Failed".to_owned())
    );
    assert_eq!(t.stock("P0").await, (5, 1, 4), "the unit stays reserved while the order is payable");
    let paid = confirm(&t, &intent, "4242424242424242").await;
    assert_eq!(paid.body["status"], "succeeded");
    assert_eq!(t.order(&id).await.status.as_str(), "paid");
}

#[tokio::test]
async fn the_same_key_replays_and_another_body_is_refused() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    let first = checkout(&t, &cart, "same").await;
    let replay = checkout(&t, &cart, "same").await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!(replay.body, first.body, "the first response, byte for byte");
    let mut other = checkout_body(&cart);
    other["email"] = json!("someone@else.example");
    let headers = [("x-cart-token", cart.token.as_str()), ("idempotency-key", "same")];
    let reused = t.send(Method::POST, "/checkout", None, &headers, Some(other.to_string().into())).await;
    assert_eq!((reused.status, reused.code()), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
    assert_eq!(t.stock("P0").await, (5, 1, 4), "one reservation only");
}

/// Ten requests with one key at once: one order, one PaymentIntent; the rest wait or replay.
pub async fn concurrent_same_key(t: Arc<TestApp>) {
    shop(&t, 1).await;
    let cart = Arc::new(guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (t, cart) = (t.clone(), cart.clone());
            tokio::spawn(async move { checkout(&t, &cart, "one-key").await })
        })
        .collect();
    let mut intents = std::collections::BTreeSet::new();
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            StatusCode::CREATED => {
                intents.insert(reply.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned());
            }
            StatusCode::CONFLICT => assert_eq!(reply.code(), "request_in_progress", "{}", reply.body),
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(intents.len(), 1, "every success names the same PaymentIntent");
    assert_eq!(t.stock("P0").await, (5, 1, 4), "one order reserved one unit");
    let replay = checkout(&t, &cart, "one-key").await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert!(intents.contains(replay.body["payment"]["payment_intent_id"].as_str().unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_requests_with_one_key_make_one_order() {
    concurrent_same_key(Arc::new(TestApp::new())).await;
}

/// 100 buyers at once for 10 units: exactly 10 orders. With `skus = 3` each cart also wants one
/// unit of two more SKUs with 10 and 5 in stock, so a partial reservation would show.
pub async fn no_oversell(t: Arc<TestApp>, skus: usize) {
    shop(&t, 3).await;
    for (sku, units) in [("P0", 10), ("P1", 10), ("P2", 5)] {
        t.json(Method::PUT, &format!("/inventory/{sku}"), Some(&t.admin), &json!({"on_hand": units})).await;
    }
    let items: Vec<Value> = (0..skus).map(|i| json!({"sku": format!("P{i}"), "quantity": 1})).collect();
    let mut carts = Vec::new();
    for _ in 0..100 {
        carts.push(Arc::new(guest_cart(&t, json!(items)).await));
    }
    let tasks: Vec<_> = carts
        .into_iter()
        .enumerate()
        .map(|(i, cart)| {
            let t = t.clone();
            tokio::spawn(async move { checkout(&t, &cart, &format!("buyer-{i}")).await })
        })
        .collect();
    let (mut created, mut sold_out) = (0, 0);
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT if reply.code() == "out_of_stock" => sold_out += 1,
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    let winners = if skus == 3 { 5 } else { 10 };
    assert_eq!((created, sold_out), (winners, 100 - winners));
    assert_eq!(t.stock("P0").await, (10, winners, 10 - winners));
    if skus == 3 {
        assert_eq!(t.stock("P1").await, (10, 5, 5), "no partial reservation of P1");
        assert_eq!(t.stock("P2").await, (5, 5, 0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_buyers_for_ten_units_make_ten_orders() {
    no_oversell(Arc::new(TestApp::new()), 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn carts_of_several_skus_never_reserve_partially() {
    no_oversell(Arc::new(TestApp::new()), 3).await;
}

#[tokio::test]
async fn stripe_down_answers_502_and_gives_everything_back() {
    let store = Arc::new(nanoshop_store::embedded::EmbeddedStore::in_memory());
    let down = StripeGateway::new("sk_test_down", "pk_test_down".into(), Some("http://127.0.0.1:9")).unwrap();
    let t = TestApp::with(store.clone(), Some(Arc::new(down)));
    shop(&t, 1).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 2}])).await;
    let reply = checkout(&t, &cart, "while-down").await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::BAD_GATEWAY, "payment_provider_unavailable"),
        "{}",
        reply.body
    );
    assert_eq!(t.stock("P0").await, (5, 0, 5), "nothing stays reserved");
    let orders: Vec<_> = store
        .snapshot()
        .into_iter()
        .filter(|(table, item)| {
            *table == nanoshop_store::Table::Orders && item.s("pk").is_some_and(|pk| pk.starts_with("ORDER#"))
        })
        .collect();
    assert_eq!(orders.len(), 1);
    let order: nanoshop_domain::order::Order = nanoshop_schema::decode(&orders[0].1).unwrap();
    assert_eq!(order.status.as_str(), "cancelled", "no order is left pending");
    let cart_now =
        t.send(Method::GET, &format!("/carts/{}", cart.id), None, &[("x-cart-token", cart.token.as_str())], None).await;
    assert_eq!(cart_now.body["status"], "active", "the shopper can try again");
    // The same key may be retried once the provider is back: the failure was not recorded.
    let retry = checkout(&t, &cart, "while-down").await;
    assert_eq!(retry.status, StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn bad_checkouts_get_problems() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    let empty = guest_cart(&t, json!([])).await;
    let send = |body: Value, key: Option<&'static str>, token: String| {
        let t = &t;
        async move {
            let mut headers = vec![("x-cart-token", token.clone())];
            if let Some(k) = key {
                headers.push(("idempotency-key", k.to_owned()));
            }
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            t.send(Method::POST, "/checkout", None, &headers, Some(body.to_string().into())).await
        }
    };
    let body = checkout_body(&cart);
    let mut bad_address = body.clone();
    bad_address["shipping_address"]["postal_code"] = json!("");
    let mut far = body.clone();
    far["shipping_address"]["country"] = json!("US");
    let mut teleport = body.clone();
    teleport["shipping_method"] = json!("teleport");
    let mut no_email = body.clone();
    no_email["email"] = json!("not-an-address");
    let mut bad_billing = body.clone();
    bad_billing["billing_address"] = json!({"name": "", "line1": "1 Strand", "city": "London",
        "postal_code": "WC2N 5HR", "country": "GB"});
    let mut saved = body.clone();
    saved.as_object_mut().unwrap().remove("shipping_address");
    saved["shipping_address_id"] = json!(nanoshop_domain::ids::AddressId::generate().to_string());
    let mut both = body.clone();
    both["shipping_address_id"] = saved["shipping_address_id"].clone();
    let cases = [
        ("no key", body.clone(), None, cart.token.clone(), 400, "idempotency_key_required"),
        ("empty cart", checkout_body(&empty), Some("e"), empty.token.clone(), 409, "cart_empty"),
        ("bad address", bad_address, Some("a"), cart.token.clone(), 422, "invalid_address"),
        ("country not shipped", far, Some("f"), cart.token.clone(), 422, "invalid_address"),
        ("unknown method", teleport, Some("m"), cart.token.clone(), 422, "shipping_method_unavailable"),
        ("bad email", no_email, Some("n"), cart.token.clone(), 422, "validation_failed"),
        ("wrong token", body.clone(), Some("w"), empty.token.clone(), 404, "not_found"),
        ("bad billing address", bad_billing, Some("b"), cart.token.clone(), 422, "invalid_address"),
        ("a guest's saved address", saved, Some("s"), cart.token.clone(), 422, "validation_failed"),
        ("an address and its id", both, Some("d"), cart.token.clone(), 422, "validation_failed"),
    ];
    for (name, body, key, token, status, code) in cases {
        let reply = send(body, key, token).await;
        assert_eq!((reply.status.as_u16(), reply.code()), (status, code), "{name}: {}", reply.body);
    }
    assert_eq!(t.stock("P0").await, (5, 0, 5), "nothing was reserved");
}

/// Signs `event` (a Stripe event JSON) as Stripe would, `age` seconds ago.
fn signed(t: &TestApp, event: &Value, age: i64) -> (String, String) {
    let payload = event.to_string();
    let signature = webhook::sign(&payload, &t.webhook_secret, chrono::Utc::now().timestamp() - age);
    (payload, signature)
}

async fn deliver(t: &TestApp, payload: &str, signature: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = signature.map(|s| vec![("stripe-signature", s)]).unwrap_or_default();
    t.send(Method::POST, "/webhooks/stripe", None, &headers, Some(payload.to_owned().into())).await
}

/// A pending order for 14.90 EUR and the Stripe-shaped `payment_intent.succeeded` event that pays
/// it, built by a simulator of its own and pointed at the order's intent.
async fn order_with_success_event(t: &TestApp) -> (String, Value) {
    use nanoshop_payments::PaymentGateway;
    shop(t, 1).await;
    let cart = guest_cart(t, json!([{"sku": "P0", "quantity": 1}])).await;
    let reply = checkout(t, &cart, "w").await;
    let id = reply.body["order"]["id"].as_str().unwrap().to_owned();
    let intent = reply.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned();
    let sim = nanoshop_payments::simulator::Simulator::new(t.webhook_secret.clone());
    let request = nanoshop_payments::CreateIntent {
        order_id: id.parse().unwrap(),
        amount: nanoshop_domain::Money::new(1490, nanoshop_domain::Currency::EUR),
        email: "ada@example.com".into(),
    };
    let made = sim.create_intent(&request).await.unwrap();
    let events = sim.confirm(&made.id, "4242424242424242").unwrap();
    let mut event: Value = serde_json::from_str(&events[0].payload).unwrap();
    event["data"]["object"]["id"] = json!(intent);
    (id, event)
}

fn variant(event: &Value, id: &str, change: impl FnOnce(&mut Value)) -> Value {
    let mut e = event.clone();
    e["id"] = json!(id);
    change(&mut e);
    e
}

#[tokio::test]
async fn unsigned_stale_and_forged_events_are_refused_and_change_nothing() {
    let t = TestApp::new();
    let (id, event) = order_with_success_event(&t).await;
    let payload = event.to_string();
    let now = chrono::Utc::now().timestamp();
    let cases = [
        ("missing", None, "missing_signature"),
        ("malformed", Some("garbage".to_owned()), "invalid_signature"),
        ("wrong secret", Some(webhook::sign(&payload, "whsec_wrong", now)), "invalid_signature"),
        ("stale", Some(webhook::sign(&payload, &t.webhook_secret, now - 301)), "stale_signature"),
        ("future", Some(webhook::sign(&payload, &t.webhook_secret, now + 301)), "stale_signature"),
        (
            "tampered",
            Some(webhook::sign(&payload.replace("1490", "1491"), &t.webhook_secret, now)),
            "invalid_signature",
        ),
    ];
    for (name, signature, code) in cases {
        let reply = deliver(&t, &payload, signature.as_deref()).await;
        assert_eq!((reply.status, reply.code()), (StatusCode::BAD_REQUEST, code), "{name}: {}", reply.body);
    }
    assert_eq!(t.order(&id).await.status.as_str(), "pending_payment");
    assert_eq!(t.stock("P0").await, (5, 1, 4));
}

#[tokio::test]
async fn each_event_takes_effect_once_in_any_order() {
    let t = TestApp::new();
    let (id, succeeded) = order_with_success_event(&t).await;
    let failed = variant(&succeeded, "evt_failed", |e| {
        e["type"] = json!("payment_intent.payment_failed");
        e["data"]["object"]["status"] = json!("requires_payment_method");
    });
    let (payload, signature) = signed(&t, &failed, 0);
    assert_eq!(deliver(&t, &payload, Some(&signature)).await.body["outcome"], "applied");
    assert_eq!(format!("{:?}", t.order(&id).await.payment_status), "Failed");

    // The success, delivered five times: applied once, then duplicates.
    let (payload, signature) = signed(&t, &succeeded, 0);
    let outcomes: Vec<Value> = futures_outcomes(&t, &payload, &signature, 5).await;
    assert_eq!(outcomes.iter().filter(|o| **o == "applied").count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| **o == "duplicate").count(), 4, "{outcomes:?}");
    assert_eq!(t.order(&id).await.status.as_str(), "paid");
    assert_eq!(t.stock("P0").await, (4, 0, 4), "stock committed exactly once");

    // Late events change nothing: processing after success, the failure again.
    let processing = variant(&succeeded, "evt_processing", |e| e["type"] = json!("payment_intent.processing"));
    let (payload, signature) = signed(&t, &processing, 0);
    assert_eq!(deliver(&t, &payload, Some(&signature)).await.body["outcome"], "no_effect");
    let (payload, signature) = signed(&t, &variant(&failed, "evt_failed_again", |_| {}), 0);
    assert_eq!(deliver(&t, &payload, Some(&signature)).await.body["outcome"], "no_effect");
    let order = t.order(&id).await;
    assert_eq!((order.status.as_str(), format!("{:?}", order.payment_status)), ("paid", "Succeeded".to_owned()));
}

async fn futures_outcomes(t: &TestApp, payload: &str, signature: &str, times: usize) -> Vec<Value> {
    let mut outcomes = Vec::new();
    for _ in 0..times {
        let reply = deliver(t, payload, Some(signature)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        outcomes.push(reply.body["outcome"].clone());
    }
    outcomes
}

#[tokio::test]
async fn wrong_amounts_foreign_intents_and_unknown_types_do_not_pay() {
    let t = TestApp::new();
    let (id, succeeded) = order_with_success_event(&t).await;
    let cheaper = variant(&succeeded, "evt_cheap", |e| {
        e["data"]["object"]["amount"] = json!(1);
        e["data"]["object"]["amount_received"] = json!(1);
    });
    let (payload, signature) = signed(&t, &cheaper, 0);
    assert_eq!(deliver(&t, &payload, Some(&signature)).await.status, StatusCode::OK);
    let order = t.order(&id).await;
    assert_eq!(order.status.as_str(), "pending_payment", "a payment of another amount does not pay");
    assert!(order.flags.contains(&nanoshop_domain::order::OrderFlag::PaymentMismatch));

    let foreign = variant(&succeeded, "evt_foreign", |e| e["data"]["object"]["metadata"] = json!({}));
    let (payload, signature) = signed(&t, &foreign, 0);
    assert_eq!(deliver(&t, &payload, Some(&signature)).await.body["outcome"], "not_ours");
    let unknown = variant(&succeeded, "evt_unknown", |e| e["type"] = json!("customer.created"));
    let (payload, signature) = signed(&t, &unknown, 0);
    let reply = deliver(&t, &payload, Some(&signature)).await;
    assert_eq!((reply.status, reply.body["outcome"].clone()), (StatusCode::OK, json!("ignored")));
    assert_eq!(t.order(&id).await.status.as_str(), "pending_payment");
    assert_eq!(t.stock("P0").await, (5, 1, 4));
}

/// Saves `address` in customer `sub`'s address book as the account routes store it; its id.
pub async fn save_address(t: &TestApp, sub: &str, address: Value) -> String {
    use nanoshop_store::Store;
    let id = nanoshop_domain::ids::AddressId::generate();
    let body: nanoshop_api::bodies::AddressHttpBody = serde_json::from_value(address).unwrap();
    let saved = nanoshop_domain::customer::SavedAddress {
        id: id.clone(),
        label: None,
        address: body.parse("address").unwrap(),
    };
    let item = nanoshop_store::Item::new(&nanoshop_schema::customers::address_key(sub, &id))
        .with(nanoshop_schema::DOC, nanoshop_schema::encode(&saved).unwrap());
    t.counting.put(nanoshop_store::Table::Carts, item, None).await.unwrap();
    id.to_string()
}

/// The DynamoDB round trips of one request, printed for `make bench`'s readers.
fn counted(what: &str, c: nanoshop_store::counting::Counts) -> nanoshop_store::counting::Counts {
    eprintln!(
        "\nDynamoDB round trips per {what}: {} (get {}, batch_get {}, put {}, update {}, delete {}, transact {})",
        c.total(),
        c.get,
        c.batch_get,
        c.put,
        c.update,
        c.delete,
        c.transact
    );
    c
}

/// Issue 19: one read of the idempotency record, the cart and any saved addresses (one batch
/// across tables); one read of what pricing needs; one transaction that claims the key and
/// reserves; one write after the PaymentIntent. The same with the address written out and with
/// saved addresses.
#[tokio::test]
async fn a_checkout_makes_four_round_trips_and_one_provider_call() {
    let t = TestApp::new();
    shop(&t, 2).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}, {"sku": "P1", "quantity": 1}])).await;
    t.counting.take();
    let reply = checkout(&t, &cart, "counted").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let c = counted("checkout", t.counting.take());
    assert_eq!((c.batch_get, c.transact, c.total()), (2, 2, 4), "{c:?}");

    let home = save_address(&t, "cust_1", address()).await;
    let mut office = address();
    office["city"] = json!("Hamburg");
    let office = save_address(&t, "cust_1", office).await;
    let cart = t.customer_cart().await;
    let body = json!({"cart_id": cart.body["id"], "email": "c@shop.example", "shipping_method": "standard",
        "shipping_address_id": home, "billing_address_id": office});
    t.counting.take();
    let headers = [("idempotency-key", "counted-saved")];
    let reply = t.send(Method::POST, "/checkout", Some(&t.customer), &headers, Some(body.to_string().into())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let c = counted("checkout with saved addresses", t.counting.take());
    assert_eq!((c.batch_get, c.transact, c.total()), (2, 2, 4), "{c:?}");
    assert_eq!(reply.body["order"]["billing_address"]["city"], "Hamburg");
    assert_eq!(reply.body["order"]["shipping_address"]["city"], "Berlin");

    // A replay is the one read.
    let replay = t.send(Method::POST, "/checkout", Some(&t.customer), &headers, Some(body.to_string().into())).await;
    assert_eq!((replay.status, &replay.body), (StatusCode::CREATED, &reply.body));
    let c = counted("replayed checkout", t.counting.take());
    assert_eq!((c.batch_get, c.total()), (1, 1), "{c:?}");
}

#[tokio::test]
async fn a_key_and_body_without_the_cart_token_replay_nothing() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    let first = checkout(&t, &cart, "guessable").await;
    assert_eq!(first.status, StatusCode::CREATED);
    let other = guest_cart(&t, json!([])).await;
    let headers = [("x-cart-token", other.token.as_str()), ("idempotency-key", "guessable")];
    let stranger =
        t.send(Method::POST, "/checkout", None, &headers, Some(checkout_body(&cart).to_string().into())).await;
    assert_eq!((stranger.status, stranger.code()), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
    assert!(stranger.body.get("payment").is_none(), "no client secret for a stranger");
}

#[tokio::test]
async fn the_idempotency_record_holds_no_secret_or_address_in_clear_and_still_replays_the_same() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    let first = checkout(&t, &cart, "sealed").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let secret = first.body["payment"]["client_secret"].as_str().unwrap().to_owned();
    let token = first.body["order_token"].as_str().unwrap().to_owned();
    let key = nanoshop_schema::orders::idempotency_key("POST /checkout", "sealed");
    let record = t.store().get(nanoshop_store::Table::Idempotency, &key).await.unwrap().expect("a record");
    let stored = format!("{record:?}");
    for clear in [secret.as_str(), token.as_str(), "Ada Lovelace", "Unter den Linden", "10117", "ada@example.com"] {
        assert!(!stored.contains(clear), "{clear} in the stored record: {stored}");
    }

    let replay = checkout(&t, &cart, "sealed").await;
    assert_eq!(replay.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!((replay.status, &replay.body), (first.status, &first.body), "the first response, byte for byte");
    // Once paid, the order forgets its client secret; the replay still answers as the first time.
    let intent = first.body["payment"]["payment_intent_id"].as_str().unwrap();
    assert_eq!(confirm(&t, intent, "4242424242424242").await.body["status"], "succeeded");
    assert_eq!(checkout(&t, &cart, "sealed").await.body, first.body);
}
