//! Faults: the store failing a call, timing out after a write landed, or throttling, and the
//! payment provider failing or timing out after it acted, at every call position of checkout,
//! webhook delivery, refund, cancel, the expiry sweep and the outbox relay. The client retries as
//! docs/api.md tells it to (the same `Idempotency-Key`; Stripe redelivers the same signed event; the
//! sweep runs again), and afterwards the books must balance:
//!
//! - stock per SKU: `on_hand = initial − sold + restocked by settled refunds`, `reserved` = the
//!   units of the orders whose stock is `reserved`, `available = on_hand − reserved`;
//! - an order is `pending_payment` exactly when it holds a reservation, and no refund is left
//!   pending;
//! - the provider refunded exactly what each order records as refunded, never more than was paid;
//! - every state change relayed once: one `order.placed` per order, at most one of each status
//!   event, matching the order's state, one `order.refunded` per settled refund (the relay itself
//!   is at least once: after a failed delete it publishes the same event ids again);
//! - and the flow itself succeeded from the client's point of view.
//!
//! Beside the faults, each flow also runs as Lambda and Stripe retry it when an answer is lost on
//! the way back: every request, event delivery, sweep and relay that succeeded is sent twice more,
//! and the books must still balance (nothing counted twice).
//!
//! A flow's call positions are found by running it once without faults; every violation of every
//! scenario is collected, so a failure names each sequence that broke.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use nanoshop_domain::Money;
use nanoshop_domain::order::{Order, OrderEventType, OrderFlag, OrderStatus, RefundState, StockState};
use nanoshop_payments::simulator::{SignedEvent, Simulator};
use nanoshop_payments::{CreateIntent, Intent, PaymentError, PaymentGateway, Refund};
use nanoshop_schema::orders::IdempotencyRecord;
use nanoshop_schema::{DOC, decode, encode};
use nanoshop_store::embedded::EmbeddedStore;
use nanoshop_store::faults::{Fault, FaultyStore, Op};
use nanoshop_store::{Store, Table};
use serde_json::json;

use crate::cart::{GuestCart, guest_cart, shop};
use crate::checkout::checkout;
use crate::support::{Reply, TestApp};

/// How often a client tries one request before giving up.
const TRIES: usize = 8;
/// Calls of one kind a throttling burst refuses.
const BURST: u64 = 3;
/// How often a replaying client sends a request or event again after it succeeded.
const REPLAYS: usize = 2;

/// What the provider does at the scripted call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProviderFault {
    /// Unreachable: nothing happens at the provider.
    Down,
    /// The provider acts, then the answer is lost (a timeout): reported as unavailable.
    TimeoutAfterSuccess,
}

#[derive(Debug, Default)]
struct GatewayScript {
    /// The provider call to hit, counted from when it was armed, and how.
    fault: Option<(u64, ProviderFault)>,
    calls: u64,
    /// Every refund the provider made, by its id: the intent and the amount.
    refunds: BTreeMap<String, (String, i64)>,
}

/// The simulator, with a scripted fault at one call and a ledger of the refunds it made.
#[derive(Debug)]
struct FaultyGateway {
    sim: Arc<Simulator>,
    script: Mutex<GatewayScript>,
}

impl FaultyGateway {
    fn inject(&self, n: u64, fault: ProviderFault) {
        let mut script = self.script.lock().unwrap();
        script.calls = 0;
        script.fault = Some((n, fault));
    }

    fn clear(&self) {
        self.script.lock().unwrap().fault = None;
    }

    /// Counts provider calls from zero again.
    fn restart(&self) {
        let mut script = self.script.lock().unwrap();
        script.calls = 0;
        script.fault = None;
    }

    fn calls(&self) -> u64 {
        self.script.lock().unwrap().calls
    }

    /// What the provider refunded on `intent`, whatever it told us.
    fn refunded(&self, intent: &str) -> i64 {
        self.script.lock().unwrap().refunds.values().filter(|(i, _)| i == intent).map(|(_, a)| a).sum()
    }

    /// The fault due on this call, if any.
    fn due(&self) -> Option<ProviderFault> {
        let mut script = self.script.lock().unwrap();
        script.calls += 1;
        match script.fault {
            Some((n, fault)) if n == script.calls => {
                script.fault = None;
                Some(fault)
            }
            _ => None,
        }
    }

    async fn call<T>(&self, act: impl Future<Output = Result<T, PaymentError>>) -> Result<T, PaymentError> {
        let lost = || PaymentError::Unavailable("injected provider fault".into());
        match self.due() {
            None => act.await,
            Some(ProviderFault::Down) => Err(lost()),
            Some(ProviderFault::TimeoutAfterSuccess) => {
                let _answer = act.await;
                Err(lost())
            }
        }
    }
}

#[async_trait]
impl PaymentGateway for FaultyGateway {
    async fn create_intent(&self, request: &CreateIntent) -> Result<Intent, PaymentError> {
        self.call(self.sim.create_intent(request)).await
    }
    async fn cancel_intent(&self, intent: &str) -> Result<(), PaymentError> {
        self.call(self.sim.cancel_intent(intent)).await
    }
    async fn refund(&self, intent: &str, amount: Money, key: &str) -> Result<Refund, PaymentError> {
        self.call(async {
            let refund = self.sim.refund(intent, amount, key).await?;
            self.script.lock().unwrap().refunds.insert(refund.id.clone(), (intent.to_owned(), refund.amount.amount));
            Ok(refund)
        })
        .await
    }
    fn publishable_key(&self) -> String {
        self.sim.publishable_key()
    }
}

/// The whole backend over a fault-injecting store and provider.
struct Rig {
    t: TestApp,
    inner: Arc<EmbeddedStore>,
    faults: Arc<FaultyStore>,
    gateway: Arc<FaultyGateway>,
    /// Units on hand of each SKU before any order.
    initial: BTreeMap<String, i64>,
    /// What each paid intent was paid.
    paid: Mutex<BTreeMap<String, i64>>,
    /// Whether every request and event that succeeded is delivered [`REPLAYS`] more times, as a
    /// Lambda retry or a Stripe redelivery does when the answer is lost on the way back.
    replaying: AtomicBool,
    /// What the replays were told that a replay must never be told.
    replay_problems: Mutex<Vec<String>>,
}

/// An order placed without faults.
struct Placed {
    id: String,
    intent: String,
}

impl Rig {
    /// A shop with P0 and P1, 5 units each; unpaid orders held for `window`.
    async fn new(window: chrono::TimeDelta) -> Self {
        let inner = Arc::new(EmbeddedStore::in_memory());
        let faults = Arc::new(FaultyStore::new(inner.clone()));
        let mut gateway = None;
        let t = TestApp::build(
            faults.clone(),
            |sim| {
                let g = Arc::new(FaultyGateway { sim, script: Mutex::default() });
                gateway = Some(g.clone());
                Some(g as Arc<dyn PaymentGateway>)
            },
            window,
        );
        shop(&t, 2).await;
        let initial = [("P0".to_owned(), 5), ("P1".to_owned(), 5)].into();
        Self {
            t,
            inner,
            faults,
            gateway: gateway.unwrap(),
            initial,
            paid: Mutex::default(),
            replaying: AtomicBool::new(false),
            replay_problems: Mutex::default(),
        }
    }

    /// How often a step that succeeded runs: once, or again [`REPLAYS`] times when replaying.
    fn runs(&self) -> usize {
        if self.replaying.load(Ordering::Relaxed) { 1 + REPLAYS } else { 1 }
    }

    fn sim(&self) -> &Simulator {
        &self.gateway.sim
    }

    async fn cart(&self) -> GuestCart {
        guest_cart(&self.t, json!([{"sku": "P0", "quantity": 2}, {"sku": "P1", "quantity": 1}])).await
    }

    /// An order for 2 × P0 and 1 × P1 (34.90 EUR), paid when `pay`.
    async fn place(&self, pay: bool) -> Placed {
        let cart = self.cart().await;
        let reply = checkout(&self.t, &cart, "place").await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let placed = Placed {
            id: reply.body["order"]["id"].as_str().unwrap().to_owned(),
            intent: reply.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned(),
        };
        if pay {
            let problems =
                self.pay(&placed.intent, reply.body["order"]["totals"]["total"]["amount"].as_i64().unwrap()).await;
            assert!(problems.is_empty(), "{problems:?}");
        }
        placed
    }

    /// Pays `intent` with a good card and delivers the provider's event until it is taken.
    async fn pay(&self, intent: &str, amount: i64) -> Vec<String> {
        let events = self.sim().confirm(intent, "4242424242424242").unwrap();
        self.paid.lock().unwrap().insert(intent.to_owned(), amount);
        let mut problems = Vec::new();
        for event in &events {
            problems.extend(self.deliver(event).await.err());
        }
        problems
    }

    /// Delivers `event` as Stripe does: the same signed payload again after every non-2xx answer
    /// (and, when replaying, again after it was taken).
    async fn deliver(&self, event: &SignedEvent) -> Result<Reply, String> {
        let headers = [("stripe-signature", event.signature.as_str())];
        let send = || self.t.send(Method::POST, "/webhooks/stripe", None, &headers, Some(event.payload.clone().into()));
        let mut answers = Vec::new();
        for _ in 0..TRIES {
            let reply = send().await;
            if !reply.status.is_success() {
                answers.push(reply.status.as_u16());
                continue;
            }
            for _ in 1..self.runs() {
                let again = send().await;
                if !again.status.is_success() {
                    return Err(format!("a redelivered event answers {}: {}", again.status, again.body));
                }
            }
            return Ok(reply);
        }
        Err(format!("webhook never took an event: answers {answers:?}"))
    }

    /// Delivers the events cancels and refunds queued at the provider.
    async fn deliver_pending(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for event in self.sim().take_pending_events() {
            problems.extend(self.deliver(&event).await.err());
        }
        problems
    }

    /// Lets every in-flight idempotency lease run out, as waiting 30 seconds would: the records
    /// are rewritten in the store under the faults, so no fault is spent on it.
    async fn let_leases_lapse(&self) {
        for (table, mut item) in self.inner.snapshot() {
            if table != Table::Idempotency || item.s(DOC).is_none() {
                continue;
            }
            let Ok(mut record) = decode::<IdempotencyRecord>(&item) else { continue };
            if record.response.is_none() {
                record.lease_until = 0;
                item.set(DOC, encode(&record).unwrap());
                self.inner.put(table, item, None).await.unwrap();
            }
        }
    }

    /// Sends a request as a careful client does: again after a 5xx, and after 409
    /// `request_in_progress` once the lease has lapsed; the provider's events arrive meanwhile.
    /// When replaying, a final answer is followed by the same request [`REPLAYS`] more times.
    /// Returns the first final answer and every status seen.
    async fn retried<F, Fut>(&self, mut send: F) -> (Reply, Vec<u16>)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Reply>,
    {
        let mut statuses = Vec::new();
        loop {
            let reply = send().await;
            statuses.push(reply.status.as_u16());
            let in_progress = reply.status == StatusCode::CONFLICT && reply.code() == "request_in_progress";
            if !(reply.status.is_server_error() || in_progress) || statuses.len() == TRIES {
                for _ in 1..self.runs() {
                    let again = send().await;
                    statuses.push(again.status.as_u16());
                    // A replayed success answers the same (an idempotent replay) or, where the
                    // request has no key, a 4xx saying it already happened: never a 5xx.
                    let same = again.status == reply.status && again.body == reply.body;
                    if again.status.is_server_error()
                        || (reply.status.is_success() && !same && !again.status.is_client_error())
                    {
                        self.replay_problems.lock().unwrap().push(format!(
                            "a replay answers {} {} after {} {}",
                            again.status, again.body, reply.status, reply.body
                        ));
                    }
                }
                return (reply, statuses);
            }
            if in_progress {
                self.let_leases_lapse().await;
            }
            // Pending provider events go out between tries; their own failures are retried there.
            self.deliver_pending().await;
        }
    }

    fn orders(&self) -> Vec<Order> {
        self.inner
            .snapshot()
            .into_iter()
            .filter(|(table, item)| *table == Table::Orders && item.s("sk") == Some("ORDER"))
            .map(|(_, item)| decode(&item).unwrap())
            .collect()
    }

    /// Events waiting in the outbox.
    fn outbox(&self) -> usize {
        let outbox = nanoshop_schema::orders::OUTBOX;
        self.inner.snapshot().iter().filter(|(t, i)| *t == Table::Orders && i.s("pk") == Some(outbox)).count()
    }

    /// An order as stored, read past the faults (checking spends none).
    async fn order(&self, id: &str) -> Order {
        let key = nanoshop_schema::orders::order_key(&id.parse().unwrap());
        decode(&self.inner.get(Table::Orders, &key).await.unwrap().expect("order exists")).unwrap()
    }

    /// Disarms every fault, lets background work finish, and checks the books. Returns every
    /// invariant that does not hold.
    async fn books(&self, flow: Flow) -> Vec<String> {
        self.faults.clear();
        self.gateway.clear();
        let mut problems = self.deliver_pending().await;
        problems.append(&mut self.replay_problems.lock().unwrap());
        self.t.local.tick().await;
        self.t.local.tick().await;
        let orders = self.orders();
        let mut reserved: BTreeMap<String, i64> = BTreeMap::new();
        let mut on_hand = self.initial.clone();
        for o in &orders {
            let id = o.id.as_str();
            let pending = o.status == OrderStatus::PendingPayment;
            if pending != (o.stock == StockState::Reserved) {
                problems.push(format!("order {id} is {} with its stock {:?}", o.status.as_str(), o.stock));
            }
            for line in &o.lines {
                let q = i64::from(line.quantity);
                match o.stock {
                    StockState::Reserved => *reserved.entry(line.sku.to_string()).or_default() += q,
                    StockState::Committed => *on_hand.entry(line.sku.to_string()).or_default() -= q,
                    StockState::Released => {}
                }
            }
            let settled: Vec<_> = o.refunds.iter().filter(|r| r.state == RefundState::Succeeded).collect();
            for r in &settled {
                for (sku, q) in &r.restock {
                    *on_hand.entry(sku.to_string()).or_default() += i64::from(*q);
                }
            }
            if o.refunds.iter().any(|r| r.state == RefundState::Pending) {
                problems.push(format!("order {id} is left with a pending refund: {:?}", o.refunds));
            }
            let intent = o.payment.payment_intent_id.clone().unwrap_or_default();
            let paid = self.paid.lock().unwrap().get(&intent).copied().unwrap_or(0);
            let at_provider = self.gateway.refunded(&intent);
            if o.totals.refunded.amount > o.totals.total.amount || at_provider > paid {
                problems.push(format!(
                    "order {id}: refunded {} (provider: {at_provider}) of {} paid",
                    o.totals.refunded.amount, paid
                ));
            }
            if at_provider != o.totals.refunded.amount {
                problems.push(format!(
                    "order {id}: the provider refunded {at_provider}, the order records {}",
                    o.totals.refunded.amount
                ));
            }
            let restocked_refunds = settled.len() + usize::from(o.flags.contains(&OrderFlag::PaidAfterClose));
            problems.extend(self.events_of(o, restocked_refunds));
        }
        for (sku, initial) in &self.initial {
            let (have, held, free) = self.t.stock(sku).await;
            let (want, want_held) = (on_hand[sku], reserved.get(sku).copied().unwrap_or(0));
            if (have, held, free) != (want, want_held, want - want_held) {
                problems.push(format!(
                    "stock of {sku} is (on_hand {have}, reserved {held}, available {free}); the orders say \
                     ({want}, {want_held}, {}) from {initial}",
                    want - want_held
                ));
            }
        }
        let events = self.t.local.events();
        let ids: BTreeSet<_> = events.iter().map(|e| e.id.clone()).collect();
        // The relay publishes, then deletes: a failed delete publishes the same events again,
        // which consumers drop by id (docs/events.md). Anywhere else a repeat is a bug.
        if ids.len() != events.len() && flow != Flow::Relay {
            problems.push(format!("{} events relayed, {} distinct", events.len(), ids.len()));
        }
        problems
    }

    /// The relayed events of `o` against its state; `refunds` settled refunds expected.
    fn events_of(&self, o: &Order, refunds: usize) -> Vec<String> {
        let ids: BTreeSet<_> = self
            .t
            .local
            .events()
            .into_iter()
            .filter(|e| e.order_id == o.id)
            .map(|e| (e.kind.as_str(), e.id.as_str().to_owned()))
            .collect();
        let count = |kind: OrderEventType| ids.iter().filter(|(k, _)| *k == kind.as_str()).count();
        let was_paid = o.stock == StockState::Committed;
        let expected = [
            (OrderEventType::Placed, 1),
            (OrderEventType::Paid, usize::from(was_paid)),
            (OrderEventType::Cancelled, usize::from(o.status == OrderStatus::Cancelled)),
            (OrderEventType::Expired, usize::from(o.status == OrderStatus::Expired)),
            (OrderEventType::Fulfilled, usize::from(o.status == OrderStatus::Fulfilled)),
            (OrderEventType::Refunded, refunds),
        ];
        let wrong: Vec<String> = expected
            .iter()
            .filter(|(kind, n)| count(*kind) != *n)
            .map(|(kind, n)| format!("{} × {} (expected {n})", count(*kind), kind.as_str()))
            .collect();
        if wrong.is_empty() {
            Vec::new()
        } else {
            vec![format!("order {} ({}) events: {}", o.id, o.status.as_str(), wrong.join(", "))]
        }
    }
}

/// The flows under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// `POST /checkout` of a two-SKU cart, then paying the order.
    Checkout,
    /// Delivering `payment_intent.succeeded` for a pending order.
    Webhook,
    /// A partial refund of a paid order, restocking one unit.
    Refund,
    /// Cancelling a paid order: refunded in full, restocked.
    CancelPaid,
    /// Cancelling an unpaid order: intent cancelled, reservation released.
    CancelUnpaid,
    /// The expiry sweep over an overdue unpaid order.
    Expirer,
    /// Relaying a paid order's two outbox events (`nanoshop serve`'s relay: publish, then delete).
    Relay,
}

/// What a flow needs once its setup ran.
struct Ready {
    cart: Option<GuestCart>,
    placed: Option<Placed>,
}

impl Flow {
    fn window(self) -> chrono::TimeDelta {
        if self == Flow::Expirer { chrono::TimeDelta::minutes(-1) } else { chrono::TimeDelta::minutes(30) }
    }

    async fn prepare(self, rig: &Rig) -> Ready {
        match self {
            Flow::Checkout => Ready { cart: Some(rig.cart().await), placed: None },
            Flow::Webhook | Flow::CancelUnpaid | Flow::Expirer => {
                Ready { cart: None, placed: Some(rig.place(false).await) }
            }
            Flow::Refund | Flow::CancelPaid | Flow::Relay => Ready { cart: None, placed: Some(rig.place(true).await) },
        }
    }

    /// Runs the flow with the client's retries; returns what went wrong for the client.
    async fn act(self, rig: &Rig, ready: &Ready) -> Vec<String> {
        let t = &rig.t;
        let placed = ready.placed.as_ref();
        let order_id = placed.map(|p| p.id.clone()).unwrap_or_default();
        match self {
            Flow::Checkout => {
                let cart = ready.cart.as_ref().unwrap();
                let (reply, statuses) = rig.retried(|| checkout(t, cart, "buy")).await;
                if reply.status != StatusCode::CREATED {
                    return vec![format!("checkout answers {statuses:?}, last {}", reply.body)];
                }
                let id = reply.body["order"]["id"].as_str().unwrap();
                let intent = reply.body["payment"]["payment_intent_id"].as_str().unwrap();
                let mut problems = rig.pay(intent, 3490).await;
                let order = rig.order(id).await;
                if order.status != OrderStatus::Paid {
                    problems.push(format!("the order checkout answered is {} after paying", order.status.as_str()));
                }
                let live = rig.orders().iter().filter(|o| o.status != OrderStatus::Cancelled).count();
                if live != 1 {
                    problems.push(format!("one key made {live} live orders"));
                }
                problems
            }
            Flow::Webhook => {
                let mut problems = rig.pay(&placed.unwrap().intent, 3490).await;
                if rig.order(&order_id).await.status != OrderStatus::Paid {
                    problems.push("the delivered payment did not pay the order".into());
                }
                problems
            }
            Flow::Refund => {
                let path = format!("/orders/{order_id}/refunds");
                let body =
                    json!({"amount": {"amount": 1000, "currency": "EUR"}, "restock": [{"sku": "P0", "quantity": 1}]});
                let (reply, statuses) = rig
                    .retried(|| {
                        t.send(
                            Method::POST,
                            &path,
                            Some(&t.admin),
                            &[("idempotency-key", "r")],
                            Some(body.to_string().into()),
                        )
                    })
                    .await;
                let mut problems = Vec::new();
                if reply.status != StatusCode::CREATED {
                    problems.push(format!("refund answers {statuses:?}, last {}", reply.body));
                }
                let order = rig.order(&order_id).await;
                if order.totals.refunded.amount != 1000 {
                    problems.push(format!("the order records {} refunded, not 1000", order.totals.refunded.amount));
                }
                problems
            }
            Flow::CancelPaid | Flow::CancelUnpaid => {
                let path = format!("/orders/{order_id}/cancel");
                let (reply, statuses) =
                    rig.retried(|| t.send(Method::POST, &path, Some(&t.admin), &[], Some("{}".into()))).await;
                let mut problems = Vec::new();
                // A retry of a cancel that landed is told the order cannot be cancelled (again).
                let landed = reply.status == StatusCode::CONFLICT && reply.code() == "invalid_transition";
                if reply.status != StatusCode::OK && !landed {
                    problems.push(format!("cancel answers {statuses:?}, last {}", reply.body));
                }
                let order = rig.order(&order_id).await;
                if order.status != OrderStatus::Cancelled {
                    problems.push(format!("the order is {} after cancel answered {statuses:?}", order.status.as_str()));
                }
                if self == Flow::CancelPaid && order.totals.refunded != order.totals.total {
                    problems.push(format!(
                        "a cancelled paid order refunded {} of {}",
                        order.totals.refunded, order.totals.total
                    ));
                }
                problems
            }
            Flow::Expirer => {
                let repo = nanoshop_orders::repo::OrdersRepository::new(rig.faults.clone());
                let mut done = 0;
                let start = chrono::Utc::now();
                for minute in 0..TRIES {
                    // The schedule runs the sweep again a minute later, whatever happened (an
                    // order whose cancel failed waits out its backoff: the run after next).
                    let at = start + chrono::TimeDelta::minutes(i64::try_from(minute).unwrap());
                    let _ = nanoshop_orders::expiry::sweep(&repo, rig.gateway.as_ref(), at).await;
                    rig.deliver_pending().await;
                    if rig.order(&order_id).await.status != OrderStatus::PendingPayment {
                        done += 1;
                        if done == rig.runs() {
                            break;
                        }
                    }
                }
                // Also when the sweep's own write fails after the provider canceled the intent:
                // the intent's `payment_intent.canceled` event then expires the overdue order.
                let status = rig.order(&order_id).await.status;
                if status == OrderStatus::Expired {
                    Vec::new()
                } else {
                    vec![format!("the overdue order is {} after {TRIES} sweeps", status.as_str())]
                }
            }
            Flow::Relay => {
                let mut done = 0;
                for _ in 0..TRIES {
                    rig.t.local.tick().await;
                    if rig.outbox() == 0 {
                        done += 1;
                        if done == rig.runs() {
                            return Vec::new();
                        }
                    }
                }
                vec![format!("{} events still in the outbox after {TRIES} relays", rig.outbox())]
            }
        }
    }
}

/// How a scenario injects its fault.
#[derive(Debug, Clone, Copy)]
enum Injection {
    Store(u64, Fault),
    Throttle(Op),
    Provider(u64, ProviderFault),
    /// No fault: every step that succeeded is sent [`REPLAYS`] more times.
    Replay,
}

impl std::fmt::Display for Injection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Injection::Store(n, fault) => write!(f, "store {} at call {n}", fault.as_str()),
            Injection::Throttle(op) => write!(f, "store throttling the next {BURST} {} calls", op.as_str()),
            Injection::Provider(n, fault) => write!(f, "provider {fault:?} at call {n}"),
            Injection::Replay => write!(f, "every successful request and event replayed {REPLAYS} times"),
        }
    }
}

/// Runs `flow` once per injection, each on a fresh backend, and returns every broken invariant.
async fn run(flow: Flow, injections: &[Injection]) -> Vec<String> {
    let mut broken = Vec::new();
    for injection in injections {
        let rig = Rig::new(flow.window()).await;
        let ready = flow.prepare(&rig).await;
        rig.faults.clear();
        match *injection {
            Injection::Store(n, fault) => rig.faults.inject(n, None, fault),
            Injection::Throttle(op) => rig.faults.throttle(Some(op), BURST),
            Injection::Provider(n, fault) => rig.gateway.inject(n, fault),
            Injection::Replay => rig.replaying.store(true, Ordering::Relaxed),
        }
        let mut problems = flow.act(&rig, &ready).await;
        let hit: Vec<String> = rig.faults.injected().iter().map(ToString::to_string).collect();
        problems.extend(rig.books(flow).await);
        if !problems.is_empty() {
            broken.push(format!("{flow:?} with {injection} (hit: {hit:?}):\n    {}", problems.join("\n    ")));
        }
    }
    broken
}

/// The store calls (by kind) and provider calls `flow` makes without faults.
async fn calls_of(flow: Flow) -> (u64, BTreeSet<Op>, u64) {
    let rig = Rig::new(flow.window()).await;
    let ready = flow.prepare(&rig).await;
    rig.faults.clear();
    rig.t.counting.take();
    rig.gateway.restart();
    let problems = flow.act(&rig, &ready).await;
    assert!(problems.is_empty(), "{flow:?} fails without faults: {problems:?}");
    let c = rig.t.counting.take();
    let counts = [
        (Op::Get, c.get),
        (Op::BatchGet, c.batch_get),
        (Op::Query, c.query),
        (Op::Put, c.put),
        (Op::Update, c.update),
        (Op::Delete, c.delete),
        (Op::Transact, c.transact),
    ];
    let ops = counts.iter().filter(|(_, n)| *n > 0).map(|(op, _)| *op).collect();
    (rig.faults.calls(), ops, rig.gateway.calls())
}

/// Every store fault at every call position, throttling of every kind of call, the provider
/// failing or timing out at each of its calls, and every successful step replayed.
async fn every_fault(flow: Flow) {
    let (calls, ops, provider_calls) = calls_of(flow).await;
    let mut injections = Vec::new();
    for n in 1..=calls {
        injections.push(Injection::Store(n, Fault::Fail));
        injections.push(Injection::Store(n, Fault::TimeoutAfterWrite));
    }
    injections.extend(ops.iter().map(|op| Injection::Throttle(*op)));
    for n in 1..=provider_calls {
        injections.push(Injection::Provider(n, ProviderFault::Down));
        injections.push(Injection::Provider(n, ProviderFault::TimeoutAfterSuccess));
    }
    injections.push(Injection::Replay);
    let broken = run(flow, &injections).await;
    eprintln!(
        "{flow:?}: {calls} store calls, {provider_calls} provider calls, {} scenarios, {} broken",
        injections.len(),
        broken.len()
    );
    assert!(broken.is_empty(), "{} of {} scenarios broke:\n{}", broken.len(), injections.len(), broken.join("\n"));
}

#[tokio::test]
async fn checkout_survives_every_fault() {
    every_fault(Flow::Checkout).await;
}

#[tokio::test]
async fn webhook_delivery_survives_every_fault() {
    every_fault(Flow::Webhook).await;
}

#[tokio::test]
async fn refunds_survive_every_fault() {
    every_fault(Flow::Refund).await;
}

#[tokio::test]
async fn cancelling_a_paid_order_survives_every_fault() {
    every_fault(Flow::CancelPaid).await;
}

#[tokio::test]
async fn cancelling_an_unpaid_order_survives_every_fault() {
    every_fault(Flow::CancelUnpaid).await;
}

#[tokio::test]
async fn the_expirer_survives_every_fault() {
    every_fault(Flow::Expirer).await;
}

#[tokio::test]
async fn the_event_relay_survives_every_fault() {
    every_fault(Flow::Relay).await;
}
