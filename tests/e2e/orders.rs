//! The orders function end to end: who sees what, fulfilment, refunds, cancels, and the expiry
//! sweep racing a late payment.

use std::sync::Arc;

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use nanoshop_domain::Money;
use nanoshop_payments::simulator::Simulator;
use nanoshop_payments::{CreateIntent, Intent, PaymentError, PaymentGateway, Refund};
use serde_json::{Value, json};

use crate::cart::{GuestCart, guest_cart, shop};
use crate::checkout::{checkout, confirm};
use crate::support::{Reply, TestApp};

/// A guest order of `quantity` × P0 (10.00 EUR each, 4.90 shipping); paid when `pay`.
async fn order(t: &TestApp, quantity: u32, pay: bool) -> (String, String, GuestCart) {
    let cart = guest_cart(t, json!([{"sku": "P0", "quantity": quantity}])).await;
    let reply = checkout(t, &cart, &format!("order-{}", cart.id)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["order"]["id"].as_str().unwrap().to_owned();
    let token = reply.body["order_token"].as_str().unwrap().to_owned();
    if pay {
        let intent = reply.body["payment"]["payment_intent_id"].as_str().unwrap();
        assert_eq!(confirm(t, intent, "4242424242424242").await.body["status"], "succeeded");
    }
    (id, token, cart)
}

async fn post(t: &TestApp, path: &str, token: &str, headers: &[(&str, &str)], body: Value) -> Reply {
    t.send(Method::POST, path, Some(token), headers, Some(body.to_string().into())).await
}

/// A signed-in customer's order of one `P0`: their cart, their JWT, checkout under `key`.
async fn customer_checkout(t: &TestApp, key: &str) -> Reply {
    let cart = t.customer_cart().await;
    t.customer_checkout(&cart.body, key).await
}

#[tokio::test]
async fn customers_see_their_orders_guests_theirs_by_token_and_no_one_else_anything() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let (guest_order, token, _) = order(&t, 1, true).await;
    // A customer's order: their cart, their JWT.
    let mine = customer_checkout(&t, "mine").await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
    let mine_id = mine.body["order"]["id"].as_str().unwrap();

    let history = t.get("/orders", Some(&t.customer)).await;
    let ids: Vec<&str> = history.body["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [mine_id], "a customer sees their own orders only");
    assert_eq!(t.get(&format!("/orders/{mine_id}"), Some(&t.customer)).await.status, StatusCode::OK);
    assert_eq!(t.get(&format!("/orders/{guest_order}"), Some(&t.customer)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/orders/{guest_order}"), None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(t.get("/orders/ord_01M9730DAH83EZ1SZBA819VNSW", None).await.status, StatusCode::UNAUTHORIZED);
    let by_token =
        t.send(Method::GET, &format!("/orders/{guest_order}"), None, &[("x-order-token", token.as_str())], None).await;
    assert_eq!((by_token.status, by_token.body["status"].as_str()), (StatusCode::OK, Some("paid")));
    let forged =
        t.send(Method::GET, &format!("/orders/{mine_id}"), None, &[("x-order-token", token.as_str())], None).await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND, "a token opens its own order only");
    assert_eq!(t.get("/orders", None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(t.get("/orders?status=paid", Some(&t.customer)).await.status, StatusCode::FORBIDDEN);

    let all = t.get("/orders", Some(&t.admin)).await;
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(2));
    let paid = t.get("/orders?status=paid", Some(&t.admin)).await;
    assert_eq!(paid.body["items"].as_array().map(Vec::len), Some(1), "{}", paid.body);
    let pending = t.get("/orders?status=pending_payment", Some(&t.admin)).await;
    assert_eq!(pending.body["items"][0]["id"].as_str(), Some(mine_id));
    let by_email = t.get("/orders?email=ADA@example.com", Some(&t.admin)).await;
    assert_eq!(by_email.body["items"][0]["id"].as_str(), Some(guest_order.as_str()));
    assert_eq!(t.get("/orders?status=lost", Some(&t.admin)).await.code(), "invalid_status");
}

#[tokio::test]
async fn fulfilments_ship_what_is_left_and_never_more() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let (unpaid, _, _) = order(&t, 1, false).await;
    let early = post(&t, &format!("/orders/{unpaid}/fulfillments"), &t.admin, &[], json!({})).await;
    assert_eq!((early.status, early.code()), (StatusCode::CONFLICT, "invalid_transition"));
    let (id, _, _) = order(&t, 3, true).await;
    let path = format!("/orders/{id}/fulfillments");
    let too_many = post(&t, &path, &t.admin, &[], json!({"lines": [{"sku": "P0", "quantity": 4}]})).await;
    assert_eq!((too_many.status, too_many.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_lines"));
    let part = post(
        &t,
        &path,
        &t.admin,
        &[],
        json!({"lines": [{"sku": "P0", "quantity": 2}], "carrier": "DHL", "tracking_number": "123"}),
    )
    .await;
    assert_eq!(
        (part.status, part.body["fulfillment_status"].as_str()),
        (StatusCode::CREATED, Some("partial")),
        "{}",
        part.body
    );
    let rest = post(&t, &path, &t.admin, &[], json!({})).await;
    assert_eq!(
        (rest.body["status"].as_str(), rest.body["fulfillment_status"].as_str()),
        (Some("fulfilled"), Some("fulfilled"))
    );
    assert_eq!(rest.body["fulfillments"][1]["lines"], json!([["P0", 1]]));
    let none_left = post(&t, &path, &t.admin, &[], json!({})).await;
    assert_eq!(none_left.status, StatusCode::CONFLICT);
    let by_customer = post(&t, &path, &t.customer, &[], json!({})).await;
    assert_eq!(by_customer.status, StatusCode::FORBIDDEN);
    let cancel = post(&t, &format!("/orders/{id}/cancel"), &t.admin, &[], json!({})).await;
    assert_eq!(
        (cancel.status, cancel.code()),
        (StatusCode::CONFLICT, "invalid_transition"),
        "a fulfilled order is not cancelled"
    );
}

#[tokio::test]
async fn refunds_never_exceed_what_was_paid_and_restock_once() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let (unpaid, _, _) = order(&t, 1, false).await;
    let not_paid =
        post(&t, &format!("/orders/{unpaid}/refunds"), &t.admin, &[("idempotency-key", "u")], json!({})).await;
    assert_eq!((not_paid.status, not_paid.code()), (StatusCode::CONFLICT, "invalid_transition"));
    let (id, _, _) = order(&t, 2, true).await; // 24.90 EUR
    assert_eq!(t.stock("P0").await, (3, 1, 2));
    let path = format!("/orders/{id}/refunds");
    let no_key = post(&t, &path, &t.admin, &[], json!({"amount": {"amount": 100, "currency": "EUR"}})).await;
    assert_eq!(no_key.code(), "idempotency_key_required");
    for (amount, code) in [
        (json!(-5), "invalid_amount"),
        (json!(0), "invalid_amount"),
        (json!(2491), "invalid_amount"),
        (json!(1.5), "invalid_body"),
    ] {
        let reply = post(
            &t,
            &path,
            &t.admin,
            &[("idempotency-key", &format!("bad-{amount}"))],
            json!({"amount": {"amount": amount, "currency": "EUR"}}),
        )
        .await;
        assert_eq!((reply.status.as_u16() / 100, reply.code()), (4, code), "{amount}: {}", reply.body);
    }
    // The same request twice: the second is a replay of the first.
    let refund_ten_and_restock_one = || {
        let body = json!({"amount": {"amount": 1000, "currency": "EUR"}, "restock": [{"sku": "P0", "quantity": 1}]});
        post(&t, &path, &t.admin, &[("idempotency-key", "r1")], body)
    };
    let first = refund_ten_and_restock_one().await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(
        (first.body["order"]["payment_status"].as_str(), first.body["refund"]["state"].as_str()),
        (Some("partially_refunded"), Some("succeeded"))
    );
    assert_eq!(t.stock("P0").await, (4, 1, 3), "one unit back on hand and available");
    let replay = refund_ten_and_restock_one().await;
    assert_eq!(replay.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!(t.stock("P0").await, (4, 1, 3), "a replay restocks nothing");
    let too_much =
        post(&t, &path, &t.admin, &[("idempotency-key", "r2")], json!({"amount": {"amount": 1491, "currency": "EUR"}}))
            .await;
    assert_eq!(too_much.code(), "invalid_amount");
    // An amount is money: in the order's currency, and whole.
    for (key, amount) in [("r2-usd", json!({"amount": 100, "currency": "USD"})), ("r2-bare", json!(100))] {
        let refused = post(&t, &path, &t.admin, &[("idempotency-key", key)], json!({"amount": amount})).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{amount}: {}", refused.body);
        let expected = if amount.is_object() { "validation_failed" } else { "invalid_body" };
        assert_eq!(refused.code(), expected, "{}", refused.body);
        if amount.is_object() {
            assert_eq!(refused.body["errors"][0]["field"], "amount.currency", "{}", refused.body);
        }
    }
    assert_eq!(t.order(&id).await.totals.refunded.amount, 1000, "a refused refund refunds nothing");
    let over_restock = post(
        &t,
        &path,
        &t.admin,
        &[("idempotency-key", "r3")],
        json!({"amount": {"amount": 1, "currency": "EUR"}, "restock": [{"sku": "P0", "quantity": 2}]}),
    )
    .await;
    assert_eq!(over_restock.code(), "invalid_lines");
    let rest = post(&t, &path, &t.admin, &[("idempotency-key", "r4")], json!({})).await;
    assert_eq!(
        (rest.body["order"]["payment_status"].as_str(), rest.body["refund"]["amount"]["amount"].as_i64()),
        (Some("refunded"), Some(1490))
    );
    // The provider's own refund events reconcile without counting twice.
    t.local.tick().await;
    let order = t.order(&id).await;
    assert_eq!(
        (order.totals.refunded, order.totals.total),
        (Money::new(2490, order.currency), Money::new(2490, order.currency))
    );
}

/// Two refunds racing for more than half each: the total never exceeds what was paid.
pub async fn racing_refunds(t: Arc<TestApp>) {
    shop(&t, 1).await;
    let (id, _, _) = order(&t, 1, true).await; // 14.90 EUR
    let tasks: Vec<_> = (0..2)
        .map(|i| {
            let (t, id) = (t.clone(), id.clone());
            tokio::spawn(async move {
                post(
                    &t,
                    &format!("/orders/{id}/refunds"),
                    &t.admin,
                    &[("idempotency-key", &format!("race-{i}"))],
                    json!({"amount": {"amount": 1000, "currency": "EUR"}}),
                )
                .await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            StatusCode::CREATED => created += 1,
            _ => assert!(
                ["invalid_amount", "invalid_transition", "order_changed"].contains(&reply.code()),
                "{}",
                reply.body
            ),
        }
    }
    assert_eq!(created, 1);
    let order = t.order(&id).await;
    assert_eq!(order.totals.refunded.amount, 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_racing_refunds_never_exceed_the_payment() {
    racing_refunds(Arc::new(TestApp::new())).await;
}

#[tokio::test]
async fn cancelling_releases_or_refunds_and_restocks() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let (unpaid, token, _) = order(&t, 2, false).await;
    assert_eq!(t.stock("P0").await, (5, 2, 3));
    let by_guest = t
        .send(Method::POST, &format!("/orders/{unpaid}/cancel"), None, &[("x-order-token", token.as_str())], None)
        .await;
    assert_eq!(by_guest.status, StatusCode::FORBIDDEN, "a guest token reads, it does not cancel");
    let cancelled = post(&t, &format!("/orders/{unpaid}/cancel"), &t.admin, &[], json!({})).await;
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.body);
    assert_eq!(t.stock("P0").await, (5, 0, 5), "the reservation is released");
    t.local.tick().await; // the intent's cancel event arrives and changes nothing
    let again = post(&t, &format!("/orders/{unpaid}/cancel"), &t.admin, &[], json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let (paid, _, _) = order(&t, 2, true).await;
    assert_eq!(t.stock("P0").await, (3, 0, 3));
    let cancelled = post(&t, &format!("/orders/{paid}/cancel"), &t.admin, &[], json!({})).await;
    assert_eq!(
        (cancelled.body["status"].as_str(), cancelled.body["payment_status"].as_str()),
        (Some("cancelled"), Some("refunded")),
        "{}",
        cancelled.body
    );
    assert_eq!(t.stock("P0").await, (5, 0, 5), "the sold units come back");
}

/// The simulator, except that cancelling an intent does nothing: the cancel and a payment
/// crossed in flight, so the payment still goes through after the order expired.
#[derive(Debug)]
struct CancelLost(Arc<Simulator>);

#[async_trait]
impl PaymentGateway for CancelLost {
    async fn create_intent(&self, request: &CreateIntent) -> Result<Intent, PaymentError> {
        self.0.create_intent(request).await
    }
    async fn cancel_intent(&self, _: &str) -> Result<(), PaymentError> {
        Ok(())
    }
    async fn refund(&self, intent: &str, amount: Money, key: &str) -> Result<Refund, PaymentError> {
        self.0.refund(intent, amount, key).await
    }
    fn publishable_key(&self) -> String {
        self.0.publishable_key()
    }
}

#[tokio::test]
async fn unpaid_orders_expire_and_a_late_payment_is_refunded_not_kept() {
    let store = Arc::new(nanoshop_store::embedded::EmbeddedStore::in_memory());
    let t = TestApp::build(store, |sim| Some(Arc::new(CancelLost(sim))), chrono::TimeDelta::minutes(-1));
    shop(&t, 1).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 2}])).await;
    let reply = checkout(&t, &cart, "late").await;
    let (id, intent) = (
        reply.body["order"]["id"].as_str().unwrap().to_owned(),
        reply.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned(),
    );
    t.local.tick().await;
    t.local.tick().await; // a second sweep changes nothing
    assert_eq!(t.order(&id).await.status.as_str(), "expired");
    assert_eq!(t.stock("P0").await, (5, 0, 5), "released exactly once");
    let late = confirm(&t, &intent, "4242424242424242").await;
    assert_eq!(late.status, StatusCode::OK, "{}", late.body);
    let order = t.order(&id).await;
    assert_eq!((order.status.as_str(), format!("{:?}", order.payment_status)), ("expired", "Refunded".to_owned()));
    assert!(order.flags.contains(&nanoshop_domain::order::OrderFlag::PaidAfterClose));
    assert_eq!(t.stock("P0").await, (5, 0, 5), "a refunded late payment takes no stock");
}

/// The sweep and a payment racing for 20 orders: each ends paid with its stock sold, or expired
/// with its payment refunded; never paid with stock released, never both.
pub async fn expiry_races_payment(t: Arc<TestApp>) {
    shop(&t, 1).await;
    t.json(Method::PUT, "/inventory/P0", Some(&t.admin), &json!({"on_hand": 100})).await;
    let mut orders = Vec::new();
    for i in 0..20 {
        let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
        let reply = checkout(&t, &cart, &format!("race-{i}")).await;
        orders.push((
            reply.body["order"]["id"].as_str().unwrap().to_owned(),
            reply.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned(),
        ));
    }
    let sweep = {
        let t = t.clone();
        tokio::spawn(async move { t.local.tick().await })
    };
    let payments: Vec<_> = orders
        .iter()
        .map(|(_, intent)| {
            let (t, intent) = (t.clone(), intent.clone());
            tokio::spawn(async move { confirm(&t, &intent, "4242424242424242").await })
        })
        .collect();
    sweep.await.unwrap();
    for p in payments {
        p.await.unwrap();
    }
    t.local.tick().await;
    let (mut paid, mut expired) = (0, 0);
    for (id, _) in &orders {
        let o = t.order(id).await;
        match o.status.as_str() {
            "paid" => {
                assert_eq!(format!("{:?}", o.stock), "Committed");
                paid += 1;
            }
            "expired" => {
                assert_eq!(format!("{:?}", o.payment_status), "Refunded", "an expired order keeps no money");
                expired += 1;
            }
            other => panic!("order {id} ended {other}"),
        }
    }
    assert_eq!(paid + expired, 20);
    assert_eq!(t.stock("P0").await, (100 - paid, 0, 100 - paid), "stock = initial − paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sweep_racing_payments_never_loses_stock_or_money() {
    let store = Arc::new(nanoshop_store::embedded::EmbeddedStore::in_memory());
    let t = TestApp::build(store, |sim| Some(Arc::new(CancelLost(sim))), chrono::TimeDelta::minutes(-1));
    expiry_races_payment(Arc::new(t)).await;
}

#[tokio::test]
async fn every_state_change_emits_its_event_exactly_once() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let (paid, _, _) = order(&t, 2, true).await;
    let (unpaid, _, _) = order(&t, 1, false).await;
    post(&t, &format!("/orders/{unpaid}/cancel"), &t.admin, &[], json!({})).await;
    post(
        &t,
        &format!("/orders/{paid}/refunds"),
        &t.admin,
        &[("idempotency-key", "e1")],
        json!({"amount": {"amount": 500, "currency": "EUR"}}),
    )
    .await;
    post(&t, &format!("/orders/{paid}/fulfillments"), &t.admin, &[], json!({})).await;
    t.local.tick().await;
    t.local.tick().await; // relaying again publishes nothing twice
    let events = t.local.events();
    let of =
        |id: &str| events.iter().filter(|e| e.order_id.as_str() == id).map(|e| e.kind.as_str()).collect::<Vec<_>>();
    assert_eq!(of(&paid), ["order.placed", "order.paid", "order.refunded", "order.fulfilled"]);
    assert_eq!(of(&unpaid), ["order.placed", "order.cancelled"]);
    let ids: std::collections::BTreeSet<_> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), events.len(), "unique ids");
}

#[tokio::test]
async fn a_pending_order_can_be_paid_from_its_page_and_forgets_the_secret_once_paid() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    let reply = checkout(&t, &cart, "resume").await;
    let (id, token) = (
        reply.body["order"]["id"].as_str().unwrap().to_owned(),
        reply.body["order_token"].as_str().unwrap().to_owned(),
    );
    let secret = reply.body["payment"]["client_secret"].as_str().unwrap().to_owned();
    let read = t.send(Method::GET, &format!("/orders/{id}"), None, &[("x-order-token", token.as_str())], None).await;
    assert_eq!(read.body["payment"]["client_secret"].as_str(), Some(secret.as_str()), "another tab can resume paying");
    assert_eq!(
        read.body["payment"]["publishable_key"], reply.body["payment"]["publishable_key"],
        "with the key the secret goes with"
    );
    let intent = read.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned();
    confirm(&t, &intent, "4242424242424242").await;
    let paid = t.send(Method::GET, &format!("/orders/{id}"), None, &[("x-order-token", token.as_str())], None).await;
    assert_eq!(paid.body["status"], "paid");
    assert!(paid.body["payment"].get("client_secret").is_none(), "{}", paid.body["payment"]);
    assert!(paid.body["payment"].get("publishable_key").is_none(), "{}", paid.body["payment"]);
}

/// Intent ids of orders the sweep cannot close.
pub const STUCK: &str = "pi_stuck_";

/// The simulator, except that intents named [`STUCK`] are mid-payment: Stripe refuses to cancel
/// them, after `delay` (Stripe's latency), so the sweep must leave their orders for the webhook
/// (or a later run). Counts the cancels it refused.
#[derive(Debug)]
pub struct StuckIntents {
    pub simulator: Arc<Simulator>,
    pub delay: std::time::Duration,
    pub refused: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl PaymentGateway for StuckIntents {
    async fn create_intent(&self, request: &CreateIntent) -> Result<Intent, PaymentError> {
        self.simulator.create_intent(request).await
    }
    async fn cancel_intent(&self, intent: &str) -> Result<(), PaymentError> {
        if intent.starts_with(STUCK) {
            tokio::time::sleep(self.delay).await;
            self.refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Err(PaymentError::Refused("this PaymentIntent's status is processing".into()));
        }
        self.simulator.cancel_intent(intent).await
    }
    async fn refund(&self, intent: &str, amount: Money, key: &str) -> Result<Refund, PaymentError> {
        self.simulator.refund(intent, amount, key).await
    }
    fn publishable_key(&self) -> String {
        self.simulator.publishable_key()
    }
}

impl StuckIntents {
    fn refused(&self) -> usize {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The backend on `store` paying through [`StuckIntents`] that refuse at once, unpaid orders due
/// at once; and that gateway, for sweeps run by hand.
pub fn with_stuck_intents(store: Arc<dyn nanoshop_store::Store>) -> (TestApp, Arc<StuckIntents>) {
    with_slow_stuck_intents(store, std::time::Duration::ZERO)
}

/// [`with_stuck_intents`], each refusal taking `delay`.
fn with_slow_stuck_intents(
    store: Arc<dyn nanoshop_store::Store>,
    delay: std::time::Duration,
) -> (TestApp, Arc<StuckIntents>) {
    let mut gateway = None;
    let t = TestApp::build(
        store,
        |simulator| {
            let stuck = Arc::new(StuckIntents { simulator, delay, refused: 0.into() });
            gateway = Some(stuck.clone());
            Some(stuck)
        },
        chrono::TimeDelta::minutes(-1),
    );
    (t, gateway.unwrap())
}

/// A shop with one unpaid order of 2 × P0 the sweep can close, and `n` due orders before it
/// whose intents are stuck: their ids, oldest first, and the closable order's id.
async fn behind_stuck_orders(t: &TestApp, n: i64) -> (Vec<String>, String) {
    shop(t, 1).await;
    let cart = guest_cart(t, json!([{"sku": "P0", "quantity": 2}])).await;
    let reply = checkout(t, &cart, "behind-the-stuck").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(t.stock("P0").await, (5, 2, 3));
    // Orders whose payment is processing, due before it: copies with their own ids and intents
    // (they hold no stock of their own, so the stock figures are the last order's alone).
    let last = t.order(&id).await;
    let mut stuck = Vec::new();
    for i in 0..n {
        let order = nanoshop_domain::order::Order {
            id: nanoshop_domain::ids::OrderId::generate(),
            number: format!("stuck-{i}"),
            expires_at: last.expires_at - chrono::TimeDelta::seconds(1000 - i),
            payment: nanoshop_domain::order::Payment {
                payment_intent_id: Some(format!("{STUCK}{i}")),
                ..last.payment.clone()
            },
            ..last.clone()
        };
        t.store().transact(nanoshop_schema::orders::order_writes(None, &order).unwrap()).await.unwrap();
        stuck.push(order.id.to_string());
    }
    (stuck, id)
}

/// 150 due orders the sweep cannot close, all older than one it can: one sweep still expires
/// that one and releases its stock; the stuck ones wait out their backoff (a minute, then two)
/// before the sweep asks the provider about them again.
pub async fn the_sweep_pages_past_what_it_cannot_close(t: &TestApp, gateway: &StuckIntents) {
    let (stuck, id) = behind_stuck_orders(t, 150).await;
    let before = chrono::Utc::now();
    t.local.tick().await; // one sweep (and the relay)
    let after = chrono::Utc::now();
    assert_eq!(t.order(&id).await.status.as_str(), "expired", "the order behind 150 stuck ones expires");
    assert_eq!(t.stock("P0").await, (5, 0, 5), "and its stock is released");
    for s in [&stuck[0], &stuck[99], &stuck[149]] {
        assert_eq!(t.order(s).await.status.as_str(), "pending_payment", "the stuck ones wait for their payment");
    }
    assert_eq!(gateway.refused(), 150);

    // Each refusal put its order off for a minute from when it came (between `before` and
    // `after`): the sweeps within that minute leave them alone, the next asks again and puts
    // them off for two minutes. Nothing expires twice.
    let repo = nanoshop_orders::repo::OrdersRepository::new(t.counting.clone());
    let s = chrono::TimeDelta::seconds;
    let sweeps = [(before + s(59), 0), (after + s(61), 150), (after + s(61 + 119), 0), (after + s(61 + 180), 150)];
    for (at, tried) in sweeps {
        let sweep = nanoshop_orders::expiry::sweep(&repo, gateway, at).await.unwrap();
        assert_eq!((sweep.expired, sweep.skipped, sweep.stopped_early), (0, tried, false), "sweep at {at}");
    }
    assert_eq!(gateway.refused(), 450);
    assert_eq!(t.order(&stuck[0]).await.status.as_str(), "pending_payment");
    assert_eq!(t.stock("P0").await, (5, 0, 5));
}

#[tokio::test]
async fn the_sweep_pages_past_150_orders_it_cannot_close() {
    let (t, gateway) = with_stuck_intents(Arc::new(nanoshop_store::embedded::EmbeddedStore::in_memory()));
    the_sweep_pages_past_what_it_cannot_close(&t, &gateway).await;
}

/// With Stripe's latency (300 ms a refused cancel), 150 stuck orders take more than one run's
/// budget: the order behind them still expires by the second run, because the first run's
/// refusals wait out their backoff instead of being asked again at the head of the next run.
#[tokio::test]
async fn behind_150_slow_refusals_the_closable_order_expires_by_the_second_run() {
    let store = Arc::new(nanoshop_store::embedded::EmbeddedStore::in_memory());
    let (t, gateway) = with_slow_stuck_intents(store, std::time::Duration::from_millis(300));
    let (stuck, id) = behind_stuck_orders(&t, 150).await;
    let repo = nanoshop_orders::repo::OrdersRepository::new(t.counting.clone());
    let now = chrono::Utc::now();

    let first = nanoshop_orders::expiry::sweep(&repo, gateway.as_ref(), now).await.unwrap();
    assert!(first.stopped_early && first.skipped < 150, "one run cannot ask about all 150: {first:?}");
    assert_eq!(t.order(&id).await.status.as_str(), "pending_payment");
    // The schedule's next run, a minute later.
    let second =
        nanoshop_orders::expiry::sweep(&repo, gateway.as_ref(), now + chrono::TimeDelta::minutes(1)).await.unwrap();
    assert_eq!(t.order(&id).await.status.as_str(), "expired", "after {first:?} and {second:?}");
    assert_eq!(t.stock("P0").await, (5, 0, 5), "its stock is released");
    assert_eq!(
        (second.expired, second.skipped),
        (1, 150 - first.skipped),
        "the second run asks only about the stuck orders the first did not reach"
    );
    assert_eq!(gateway.refused(), 150, "each stuck order cost one refused cancel over both runs");
    assert_eq!(t.order(&stuck[0]).await.status.as_str(), "pending_payment");
}

/// A run stops starting orders when its page budget is spent; the next continues with the
/// orders it did not reach.
#[tokio::test]
async fn a_sweep_stops_at_its_budget_and_the_next_continues() {
    let (t, gateway) = with_stuck_intents(Arc::new(nanoshop_store::embedded::EmbeddedStore::in_memory()));
    shop(&t, 1).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    let reply = checkout(&t, &cart, "budget").await;
    let id = reply.body["order"]["id"].as_str().unwrap().to_owned();
    let last = t.order(&id).await;
    for i in 0..100_i64 {
        let order = nanoshop_domain::order::Order {
            id: nanoshop_domain::ids::OrderId::generate(),
            expires_at: last.expires_at - chrono::TimeDelta::seconds(1000 - i),
            payment: nanoshop_domain::order::Payment {
                payment_intent_id: Some(format!("{STUCK}{i}")),
                ..last.payment.clone()
            },
            ..last.clone()
        };
        t.store().transact(nanoshop_schema::orders::order_writes(None, &order).unwrap()).await.unwrap();
    }
    let repo = nanoshop_orders::repo::OrdersRepository::new(t.counting.clone());
    let one_page = nanoshop_orders::expiry::Budget { pages: 1, ..Default::default() };
    let first = nanoshop_orders::expiry::sweep_within(&repo, gateway.as_ref(), chrono::Utc::now(), one_page);
    let first = first.await.unwrap();
    assert_eq!((first.expired, first.skipped, first.stopped_early), (0, 100, true));
    assert_eq!(t.order(&id).await.status.as_str(), "pending_payment", "not reached within one page");
    let no_time = nanoshop_orders::expiry::Budget { time: std::time::Duration::ZERO, ..Default::default() };
    let idle = nanoshop_orders::expiry::sweep_within(&repo, gateway.as_ref(), chrono::Utc::now(), no_time);
    let idle = idle.await.unwrap();
    assert_eq!(idle, nanoshop_orders::expiry::Sweep { stopped_early: true, ..Default::default() });
    let next = nanoshop_orders::expiry::sweep(&repo, gateway.as_ref(), chrono::Utc::now()).await.unwrap();
    assert_eq!((next.expired, next.skipped), (1, 0), "the stuck ones wait out their backoff");
    assert_eq!(t.order(&id).await.status.as_str(), "expired");
}

/// A provider with no usable key: none at all (`ready` says so), or one Stripe refuses (401)
/// when the sweep cancels.
#[derive(Debug)]
struct Unconfigured {
    simulator: Arc<Simulator>,
    key_missing: bool,
}

#[async_trait]
impl PaymentGateway for Unconfigured {
    async fn create_intent(&self, request: &CreateIntent) -> Result<Intent, PaymentError> {
        self.simulator.create_intent(request).await
    }
    async fn cancel_intent(&self, _: &str) -> Result<(), PaymentError> {
        Err(PaymentError::Unavailable(Box::new(nanoshop_payments::NotConfigured("Stripe refused the secret key"))))
    }
    async fn refund(&self, intent: &str, amount: Money, key: &str) -> Result<Refund, PaymentError> {
        self.simulator.refund(intent, amount, key).await
    }
    async fn ready(&self) -> Result<(), PaymentError> {
        if self.key_missing {
            return Err(PaymentError::Unavailable(Box::new(nanoshop_payments::NotConfigured("no Stripe secret key"))));
        }
        Ok(())
    }
    fn publishable_key(&self) -> String {
        self.simulator.publishable_key()
    }
}

/// Without a usable key the sweep closes nothing and says it was not configured (so the
/// expirer counts no heartbeat and the alarm fires); it puts no order off, so once the key works
/// the next run expires what is due.
#[tokio::test]
async fn without_a_usable_key_the_sweep_says_so_and_puts_nothing_off() {
    for key_missing in [true, false] {
        let mut simulator = None;
        let store = Arc::new(nanoshop_store::embedded::EmbeddedStore::in_memory());
        let t = TestApp::build(
            store,
            |sim| {
                simulator = Some(sim);
                None
            },
            chrono::TimeDelta::minutes(30),
        );
        let simulator = simulator.unwrap();
        shop(&t, 1).await;
        let (id, _, _) = order(&t, 1, false).await;
        let unconfigured = Unconfigured { simulator: simulator.clone(), key_missing };
        let repo = nanoshop_orders::repo::OrdersRepository::new(t.counting.clone());
        let later = chrono::Utc::now() + chrono::TimeDelta::hours(1);
        let sweep = nanoshop_orders::expiry::sweep(&repo, &unconfigured, later).await.unwrap();
        assert!(sweep.not_configured && sweep.expired == 0, "key missing {key_missing}: {sweep:?}");
        assert_eq!(t.order(&id).await.status.as_str(), "pending_payment");
        assert_eq!(t.stock("P0").await, (5, 1, 4), "its stock stays held");
        let fixed = nanoshop_orders::expiry::sweep(&repo, simulator.as_ref(), later).await.unwrap();
        assert_eq!((fixed.expired, fixed.not_configured), (1, false), "key missing {key_missing}");
        assert_eq!(t.stock("P0").await, (5, 0, 5));
    }
}

async fn read_with(t: &TestApp, id: &str, token: &str) -> Reply {
    t.send(Method::GET, &format!("/orders/{id}"), None, &[("x-order-token", token)], None).await
}

/// A token as issued before tokens had generations: the HMAC of the order id alone.
fn legacy_token(t: &TestApp, id: &str) -> String {
    use base64::Engine;
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&t.order_token_key).unwrap();
    mac.update(b"nanoshop-order-token\0");
    mac.update(id.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn a_fresh_order_token_revokes_every_earlier_one() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let (id, token, _) = order(&t, 1, true).await;
    let legacy = legacy_token(&t, &id);
    assert_eq!(read_with(&t, &id, &token).await.status, StatusCode::OK);
    assert_eq!(read_with(&t, &id, &legacy).await.status, StatusCode::OK, "links issued before generations still open");

    // Only an admin or the owner replaces a token: not the guest holding it, not a stranger.
    let path = format!("/orders/{id}/token");
    let by_guest = t.send(Method::POST, &path, None, &[("x-order-token", token.as_str())], None).await;
    assert_eq!(by_guest.status, StatusCode::FORBIDDEN, "{}", by_guest.body);
    assert_eq!(t.send(Method::POST, &path, None, &[], None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(t.send(Method::POST, &path, Some(&t.customer), &[], None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(read_with(&t, &id, &token).await.status, StatusCode::OK, "refusals revoke nothing");

    let fresh = t.send(Method::POST, &path, Some(&t.admin), &[], None).await;
    assert_eq!(fresh.status, StatusCode::CREATED, "{}", fresh.body);
    let fresh = fresh.body["order_token"].as_str().unwrap().to_owned();
    for revoked in [&token, &legacy] {
        let read = read_with(&t, &id, revoked).await;
        assert_eq!((read.status, read.code()), (StatusCode::NOT_FOUND, "not_found"), "{}", read.body);
    }
    let read = read_with(&t, &id, &fresh).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["email"], "ada@example.com");
    let again = t.send(Method::POST, &path, Some(&t.admin), &[], None).await;
    let newest = again.body["order_token"].as_str().unwrap();
    assert_eq!(read_with(&t, &id, &fresh).await.status, StatusCode::NOT_FOUND, "each fresh token revokes the last");
    assert_eq!(read_with(&t, &id, newest).await.status, StatusCode::OK);
    assert_eq!(t.order(&id).await.status.as_str(), "paid", "nothing else about the order changes");
    // Guests cannot cancel with a token, revoked or not.
    let cancel_path = format!("/orders/{id}/cancel");
    let cancel = t.send(Method::POST, &cancel_path, None, &[("x-order-token", token.as_str())], None).await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_owner_replaces_the_token_of_their_own_order() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let mine = customer_checkout(&t, "own-token").await;
    let (id, token) = (mine.body["order"]["id"].as_str().unwrap(), mine.body["order_token"].as_str().unwrap());
    let fresh = t.send(Method::POST, &format!("/orders/{id}/token"), Some(&t.customer), &[], None).await;
    assert_eq!(fresh.status, StatusCode::CREATED, "{}", fresh.body);
    assert_eq!(fresh.body["order_id"], id);
    assert_eq!(read_with(&t, id, token).await.status, StatusCode::NOT_FOUND);
    assert_eq!(read_with(&t, id, fresh.body["order_token"].as_str().unwrap()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_order_token_past_its_personal_data_window_shows_the_order_but_not_who_or_where() {
    let t = TestApp::new();
    shop(&t, 1).await;
    // Billed to an address of its own, so hiding it is seen apart from the shipping address.
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    let mut body = crate::checkout::checkout_body(&cart);
    body["billing_address"] = json!({"name": "Lovelace Ltd", "line1": "12 Strand", "city": "London", "postal_code": "WC2N 5HR", "country": "GB"});
    let headers = [("x-cart-token", cart.token.as_str()), ("idempotency-key", "billed")];
    let placed = t.send(Method::POST, "/checkout", None, &headers, Some(body.to_string().into())).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    let token = placed.body["order_token"].as_str().unwrap().to_owned();
    let tokens = nanoshop_api::capability::OrderTokens::new(&t.order_token_key);
    let order_id: nanoshop_domain::ids::OrderId = id.parse().unwrap();
    let window = nanoshop_orders::DEFAULT_PERSONAL_DATA_WINDOW;
    let issued = async |ago: chrono::TimeDelta| {
        tokens.issue(&order_id, 0, (chrono::Utc::now() - ago).timestamp()).await.unwrap()
    };

    let recent = read_with(&t, &id, &token).await;
    assert_eq!(recent.body["email"], "ada@example.com");
    assert_eq!(recent.body["shipping_address"]["line1"], "Unter den Linden 1");
    assert_eq!(recent.body["billing_address"]["line1"], "12 Strand");
    let inside = read_with(&t, &id, &issued(window - chrono::TimeDelta::hours(1)).await).await;
    assert_eq!(inside.body, recent.body, "everything within the window");

    let old = read_with(&t, &id, &issued(window + chrono::TimeDelta::hours(1)).await).await;
    assert_eq!(old.status, StatusCode::OK, "{}", old.body);
    let text = old.body.to_string();
    for personal in
        ["ada@example.com", "Ada Lovelace", "Unter den Linden", "Berlin", "10117", "Lovelace Ltd", "Strand", "London"]
    {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
    for hidden in ["email", "shipping_address", "billing_address"] {
        assert_eq!(old.body[hidden], Value::Null, "{hidden}");
    }
    for shown in ["id", "status", "payment_status", "fulfillment_status", "lines", "totals", "fulfillments"] {
        assert_eq!(old.body[shown], recent.body[shown], "{shown} is still shown");
    }
    // The owner and admins are not limited by a token's age.
    let admin = t.get(&format!("/orders/{id}"), Some(&t.admin)).await;
    assert_eq!(admin.body["email"], "ada@example.com");
}
