//! The exactly-once rules on the embedded store, with a mailer whose answers are scripted.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use nanoshop_domain::money::Currency;
use nanoshop_store::embedded::EmbeddedStore;
use serde_json::json;

use super::*;
use crate::Mail;
use crate::render::tests::{order as order_of, sender};

/// Answers each send with the next scripted result (accepting once the script runs out) and keeps
/// every mail it accepted.
#[derive(Debug, Default)]
struct ScriptedMailer {
    script: Mutex<VecDeque<fn() -> SendError>>,
    attempts: Mutex<usize>,
    accepted: Mutex<Vec<Mail>>,
}

impl ScriptedMailer {
    fn failing(with: &[fn() -> SendError]) -> Self {
        Self { script: Mutex::new(with.iter().copied().collect()), ..Self::default() }
    }
    fn accepted(&self) -> Vec<Mail> {
        self.accepted.lock().expect("lock").clone()
    }
    fn attempts(&self) -> usize {
        *self.attempts.lock().expect("lock")
    }
}

#[async_trait]
impl Mailer for ScriptedMailer {
    async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        *self.attempts.lock().expect("lock") += 1;
        if let Some(failure) = self.script.lock().expect("lock").pop_front() {
            return Err(failure());
        }
        self.accepted.lock().expect("lock").push(mail.clone());
        Ok(())
    }
}

fn down() -> SendError {
    SendError::transient("connection refused")
}

fn no_such_mailbox() -> SendError {
    SendError::Refused("550 no such mailbox".into())
}

struct Fixture {
    notifier: Notifier,
    mailer: Arc<ScriptedMailer>,
    store: Arc<EmbeddedStore>,
    order: Order,
}

async fn fixture(mailer: ScriptedMailer) -> Fixture {
    let store = Arc::new(EmbeddedStore::in_memory());
    let order = order_of(Currency::EUR, "Ada Lovelace", "Linen shirt");
    store.transact(order_writes(None, &order).expect("writes")).await.expect("stored");
    let mailer = Arc::new(mailer);
    let notifier = Notifier {
        store: store.clone(),
        mailer: mailer.clone(),
        templates: Arc::new(Templates::builtin()),
        sender: sender(),
        links: Some(OrderLinks {
            storefront: "https://linen.example/".into(),
            tokens: Some(OrderTokens::new(&[7; 32])),
        }),
        instance: Default::default(),
    };
    Fixture { notifier, mailer, store, order }
}

/// An order event of `kind` about `order`, in its EventBridge envelope.
fn event(kind: &str, order: &str) -> serde_json::Value {
    json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": kind,
        "source": "nanoshop.orders",
        "detail": {"id": OrderEventId::generate().to_string(), "type": kind, "order_id": order, "order_number": "1042"},
    })
}

#[tokio::test]
async fn every_mail_event_delivered_three_times_sends_one_mail() {
    let f = fixture(ScriptedMailer::default()).await;
    let kinds = [
        ("order.placed", MailKind::Placed),
        ("order.payment_failed", MailKind::PaymentFailed),
        ("order.fulfilled", MailKind::Fulfilled),
        ("order.refunded", MailKind::Refunded),
        ("order.cancelled", MailKind::Cancelled),
        ("order.expired", MailKind::Expired),
    ];
    for (kind, mail) in kinds {
        let e = event(kind, f.order.id.as_str());
        let outcomes = [f.notifier.handle(&e).await, f.notifier.handle(&e).await, f.notifier.handle(&e).await];
        let outcomes: Vec<Outcome> = outcomes.into_iter().map(|o| o.expect("handled")).collect();
        assert_eq!(outcomes, [Outcome::Sent(mail), Outcome::AlreadyDone, Outcome::AlreadyDone], "{kind}");
    }
    let sent = f.mailer.accepted();
    assert_eq!(sent.iter().map(|m| m.kind).collect::<Vec<_>>(), kinds.map(|(_, m)| m), "one mail per event");
    assert!(sent.iter().all(|m| m.to == "ada@example.com"));
    let link = format!("https://linen.example/#/order/{}?token=0.", f.order.id);
    assert!(sent[0].text.contains(&link), "the confirmation links the order with a token:\n{}", sent[0].text);
}

#[tokio::test]
async fn a_transient_failure_gives_the_claim_back_so_the_retry_sends_once() {
    let f = fixture(ScriptedMailer::failing(&[down, down])).await;
    let e = event("order.placed", f.order.id.as_str());
    for _ in 0..2 {
        assert!(matches!(f.notifier.handle(&e).await, Err(NotifyError::Send(SendError::Transient(_)))));
    }
    assert_eq!(f.notifier.handle(&e).await.expect("sent"), Outcome::Sent(MailKind::Placed));
    assert_eq!(f.notifier.handle(&e).await.expect("done"), Outcome::AlreadyDone);
    assert_eq!((f.mailer.attempts(), f.mailer.accepted().len()), (3, 1));
}

#[tokio::test]
async fn a_refused_address_is_flagged_on_the_order_and_not_tried_again() {
    let f = fixture(ScriptedMailer::failing(&[no_such_mailbox])).await;
    let e = event("order.placed", f.order.id.as_str());
    assert_eq!(f.notifier.handle(&e).await.expect("acknowledged"), Outcome::Refused(MailKind::Placed));
    assert_eq!(f.notifier.handle(&e).await.expect("acknowledged"), Outcome::AlreadyDone);
    assert_eq!(f.mailer.attempts(), 1, "a refusal is not retried");
    let stored = f.notifier.order(&f.order.id).await.expect("read").expect("order");
    assert_eq!(stored.flags, [OrderFlag::EmailRefused]);
    assert_eq!(stored.version, f.order.version + 1);
    // The next event of the same order is tried (the address may have been a typo since fixed).
    let next = event("order.fulfilled", f.order.id.as_str());
    assert_eq!(f.notifier.handle(&next).await.expect("sent"), Outcome::Sent(MailKind::Fulfilled));
}

#[tokio::test]
async fn unknown_types_mailless_types_and_gone_orders_are_acknowledged_without_mail() {
    let f = fixture(ScriptedMailer::default()).await;
    let id = f.order.id.as_str();
    assert_eq!(f.notifier.handle(&event("order.paid", id)).await.expect("ack"), Outcome::NoMail);
    assert_eq!(f.notifier.handle(&event("order.teleported", id)).await.expect("ack"), Outcome::NoMail);
    let gone = OrderId::generate();
    assert_eq!(f.notifier.handle(&event("order.placed", gone.as_str())).await.expect("ack"), Outcome::OrderGone);
    assert_eq!(f.mailer.attempts(), 0);
    assert!(
        f.store.snapshot().iter().all(|(table, _)| *table != Table::Idempotency),
        "nothing is claimed for an event that sends no mail"
    );
}

#[tokio::test]
async fn an_order_whose_customer_erased_their_account_sends_nothing_and_flags_nothing() {
    let store = Arc::new(EmbeddedStore::in_memory());
    let mut erased = order_of(Currency::EUR, "Ada Lovelace", "Linen shirt");
    // What the customers function's erasure leaves of a pending order that is paid afterwards.
    erased.email = String::new();
    store.transact(order_writes(None, &erased).expect("writes")).await.expect("stored");
    let f = fixture(ScriptedMailer::default()).await;
    let notifier = Notifier { store: store.clone(), ..f.notifier };
    let outcome = notifier.handle(&event("order.placed", erased.id.as_str())).await.expect("ack");
    assert_eq!(outcome, Outcome::Erased);
    assert_eq!(f.mailer.attempts(), 0, "no mail is tried without an address");
    let stored = notifier.order(&erased.id).await.expect("read").expect("order");
    assert!(stored.flags.is_empty(), "no refusal is flagged: {:?}", stored.flags);
}

#[tokio::test]
async fn a_malformed_event_is_an_error_for_the_dead_letter_queue() {
    let f = fixture(ScriptedMailer::default()).await;
    let id = f.order.id.to_string();
    let cases = [
        json!("not an object"),
        json!({"detail": {"type": "order.placed", "order_id": id}}),
        json!({"detail": {"id": "oevt_nope", "type": "order.placed", "order_id": id}}),
        json!({"detail": {"id": OrderEventId::generate().to_string(), "type": "order.placed", "order_id": "ORDER#x"}}),
        json!({"detail": {"id": OrderEventId::generate().to_string(), "type": 7, "order_id": id}}),
    ];
    for case in cases {
        assert!(matches!(f.notifier.handle(&case).await, Err(NotifyError::Malformed(_))), "{case}");
    }
    assert_eq!(f.mailer.attempts(), 0);
}

#[tokio::test]
async fn a_delivery_in_flight_holds_off_another_and_a_dead_ones_claim_is_taken_over() {
    let f = fixture(ScriptedMailer::default()).await;
    let e = event("order.placed", f.order.id.as_str());
    let event_id = e["detail"]["id"].as_str().expect("id").to_owned();
    let claim = |lease_until: i64| {
        Item::new(&mail_key(&event_id))
            .with(STATE, SENDING)
            .with(OWNER, "another delivery")
            .with(LEASE_UNTIL, lease_until)
            .with(EXPIRES_AT, now_unix() + MAIL_TTL_SECS)
    };
    f.store.put(Table::Idempotency, claim(now_unix() + 60), None).await.expect("claimed");
    assert!(matches!(f.notifier.handle(&e).await, Err(NotifyError::InFlight(_))));
    assert_eq!(f.mailer.attempts(), 0, "nothing sent while another delivery holds the claim");

    f.store.put(Table::Idempotency, claim(now_unix() - 1), None).await.expect("lapsed");
    assert_eq!(f.notifier.handle(&e).await.expect("taken over"), Outcome::Sent(MailKind::Placed));
    assert_eq!(f.notifier.handle(&e).await.expect("done"), Outcome::AlreadyDone);
    assert_eq!(f.mailer.accepted().len(), 1);
}

/// Stores `settings` as `PUT /settings` does.
async fn store_settings(store: &EmbeddedStore, settings: &StoreSettings) {
    let item = Item::new(&settings_key()).with(nanoshop_schema::DOC, nanoshop_schema::encode(settings).expect("doc"));
    store.put(Table::Catalog, item, None).await.expect("settings stored");
}

#[tokio::test]
async fn the_store_name_address_and_reply_to_come_from_settings_when_set_there() {
    let f = fixture(ScriptedMailer::default()).await;
    let settings = StoreSettings {
        store_name: Some("Kaffeehaus Mitte".into()),
        store_address: Some("Torstraße 9\n10119 Berlin".into()),
        reply_to: Some("hilfe@kaffeehaus.example".parse().expect("email")),
        locale: nanoshop_domain::locale::Locale::DeDe,
        ..StoreSettings::default()
    };
    store_settings(&f.store, &settings).await;
    f.notifier.handle(&event("order.placed", f.order.id.as_str())).await.expect("sent");
    // Only the name set: address and reply-to fall back to the function's variables.
    let name_only = StoreSettings { store_name: Some("Kaffeehaus Mitte".into()), ..StoreSettings::default() };
    store_settings(&f.store, &name_only).await;
    f.notifier.handle(&event("order.cancelled", f.order.id.as_str())).await.expect("sent");

    let sent = f.mailer.accepted();
    let (all, name) = (&sent[0], &sent[1]);
    assert_eq!(
        (all.from_name.as_str(), all.reply_to.as_deref()),
        ("Kaffeehaus Mitte", Some("hilfe@kaffeehaus.example"))
    );
    assert_eq!(all.from, "orders@linen.example", "the sending identity is the deployment's, never the settings'");
    for part in [&all.text, &all.html] {
        assert!(part.contains("Torstraße 9") && part.contains("10119 Berlin"), "{part}");
        assert!(!part.contains("Hauptstraße 5") && !part.contains("Linen &"), "{part}");
        assert!(part.contains("39,80\u{a0}€") && part.contains("26. November 2026"), "a German store's mail:\n{part}");
    }
    assert!(all.subject.starts_with("Kaffeehaus Mitte:"), "{}", all.subject);
    assert_eq!((name.from_name.as_str(), name.reply_to.as_deref()), ("Kaffeehaus Mitte", Some("help@linen.example")));
    assert!(name.text.contains("Hauptstraße 5"), "{}", name.text);
}
