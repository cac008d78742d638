//! The local payment processor of `nanoshop serve`: a [`PaymentGateway`] in memory that behaves
//! like Stripe's PaymentIntents for the few calls nanoshop makes, and produces the events Stripe
//! would send, as full Stripe-shaped JSON signed with the webhook secret exactly as Stripe signs.
//!
//! - [`Simulator::confirm`] plays the browser and the card network: it returns the events of the
//!   confirmation for the local server to deliver to `/webhooks/stripe`.
//! - Cancels and refunds (made through the port by the expirer and the orders function) queue
//!   their events; the local server collects them with [`Simulator::take_pending_events`].
//!
//! State lives in a `Mutex<HashMap>` and nowhere else: intents do not survive a restart of the
//! process. An order still `pending_payment` across a restart can then no longer be paid; the
//! expirer releases it as for any unpaid order. The lock is never held across an `.await`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use nanoshop_domain::Money;
use nanoshop_domain::ids::OrderId;
use rand::Rng;
use serde_json::{Value, json};

use crate::port::{CreateIntent, Intent, IntentStatus, ORDER_ID_METADATA, PaymentError, PaymentGateway, Refund};
// The API version the simulator's events claim: the one async-stripe is generated for.
use crate::webhook::STRIPE_API_VERSION as API_VERSION;
use crate::webhook::sign;
use crate::webhook::unix_now as now;

/// Cards that pay.
const SUCCEEDING_CARDS: &[&str] = &["4242424242424242", "5555555555554444", "4000056655665556"];

/// Cards that are declined: number, decline code, message (Stripe's test cards and texts).
const DECLINING_CARDS: &[(&str, &str, &str)] = &[
    ("4000000000000002", "generic_decline", "Your card was declined."),
    ("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
];

/// An event as the local server delivers it: the body and its `Stripe-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEvent {
    pub payload: String,
    pub signature: String,
}

/// The events of one simulated step, in the order Stripe would send them.
pub type SignedEvents = Vec<SignedEvent>;

/// Why [`Simulator::confirm`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulatorError {
    #[error("no such payment intent: {0}")]
    UnknownIntent(String),
    /// Succeeded and canceled intents cannot be confirmed again.
    #[error("payment intent {intent_id} is {status:?} and cannot be confirmed")]
    NotConfirmable { intent_id: String, status: IntentStatus },
    #[error("not a test card the simulator knows: 4242424242424242 pays, 4000000000000002 is declined")]
    UnknownCard,
}

/// The local payment processor. See the module documentation.
pub struct Simulator {
    webhook_secret: String,
    state: Mutex<State>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the webhook secret nor client secrets belong in a log.
        let state = self.lock();
        f.debug_struct("Simulator")
            .field("intents", &state.intents.len())
            .field("pending_events", &state.pending.len())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    intents: HashMap<String, SimIntent>,
    /// Idempotency key of a create → the intent it created.
    intent_keys: HashMap<String, String>,
    /// Idempotency key of a refund → what was asked and what was answered.
    refund_keys: HashMap<String, (String, Money, Refund)>,
    pending: Vec<SignedEvent>,
}

struct SimIntent {
    id: String,
    client_secret: String,
    order_id: OrderId,
    amount: Money,
    status: IntentStatus,
    created: i64,
    canceled_at: Option<i64>,
    payment_method: Option<PaymentMethod>,
    /// The last attempt's charge: the paid one once succeeded.
    charge: Option<SimCharge>,
    /// The decline of the last attempt, while the intent waits for another card.
    decline: Option<Decline>,
}

#[derive(Clone)]
struct PaymentMethod {
    id: String,
    last4: String,
    brand: &'static str,
}

struct SimCharge {
    id: String,
    created: i64,
    paid: bool,
    refunds: Vec<SimRefund>,
}

struct SimRefund {
    id: String,
    amount: i64,
    created: i64,
}

#[derive(Clone)]
struct Decline {
    code: &'static str,
    message: &'static str,
}

impl SimCharge {
    fn amount_refunded(&self) -> i64 {
        self.refunds.iter().map(|r| r.amount).sum()
    }
}

impl Simulator {
    /// A simulator that signs its events with `webhook_secret` (`STRIPE_WEBHOOK_SECRET`).
    pub fn new(webhook_secret: String) -> Self {
        Self { webhook_secret, state: Mutex::new(State::default()) }
    }

    /// Confirms `intent_id` with `card` (spaces and dashes ignored), as a browser would with
    /// Stripe.js, and returns the events Stripe would send: `payment_intent.succeeded` for a
    /// paying card; `payment_intent.payment_failed` with the decline message for a declining one,
    /// after which the intent waits for another card (`requires_payment_method`), as at Stripe.
    ///
    /// # Errors
    /// [`SimulatorError::UnknownIntent`]; [`SimulatorError::NotConfirmable`] for a succeeded or
    /// canceled intent; [`SimulatorError::UnknownCard`] for a number that is not a test card here.
    pub fn confirm(&self, intent_id: &str, card: &str) -> Result<SignedEvents, SimulatorError> {
        let card: String = card.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let decline = match (SUCCEEDING_CARDS.contains(&card.as_str()), DECLINING_CARDS.iter().find(|d| d.0 == card)) {
            (true, _) => None,
            (false, Some(&(_, code, message))) => Some(Decline { code, message }),
            (false, None) => return Err(SimulatorError::UnknownCard),
        };
        let now = now();
        let mut state = self.lock();
        let intent =
            state.intents.get_mut(intent_id).ok_or_else(|| SimulatorError::UnknownIntent(intent_id.to_owned()))?;
        if matches!(intent.status, IntentStatus::Succeeded | IntentStatus::Canceled) {
            return Err(SimulatorError::NotConfirmable { intent_id: intent.id.clone(), status: intent.status });
        }
        let brand = if card.starts_with('5') { "mastercard" } else { "visa" };
        intent.payment_method =
            Some(PaymentMethod { id: random_id("pm_sim_"), last4: card[card.len() - 4..].into(), brand });
        intent.charge =
            Some(SimCharge { id: random_id("ch_sim_"), created: now, paid: decline.is_none(), refunds: vec![] });
        let kind = if let Some(decline) = decline {
            intent.status = IntentStatus::RequiresPaymentMethod;
            intent.decline = Some(decline);
            "payment_intent.payment_failed"
        } else {
            intent.status = IntentStatus::Succeeded;
            intent.decline = None;
            "payment_intent.succeeded"
        };
        let object = intent_object(intent);
        Ok(vec![self.event(kind, object, now)])
    }

    /// Events produced by cancels (`payment_intent.canceled`) and refunds (`charge.refunded`)
    /// since the last call, oldest first; each is handed out once.
    pub fn take_pending_events(&self) -> Vec<SignedEvent> {
        std::mem::take(&mut self.lock().pending)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave an intent half-updated in a way that
        // matters more than losing the simulator; keep serving.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn event(&self, kind: &str, object: Value, now: i64) -> SignedEvent {
        let payload = json!({
            "id": random_id("evt_sim_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": now,
            "data": { "object": object },
            "livemode": false,
            "pending_webhooks": 1,
            "request": { "id": null, "idempotency_key": null },
            "type": kind,
        })
        .to_string();
        let signature = sign(&payload, &self.webhook_secret, now);
        SignedEvent { payload, signature }
    }
}

#[async_trait]
impl PaymentGateway for Simulator {
    async fn create_intent(&self, request: &CreateIntent) -> Result<Intent, PaymentError> {
        if request.amount.amount < 1 {
            return Err(PaymentError::Refused("Amount must be at least 1 minor unit".into()));
        }
        let key = request.idempotency_key();
        let mut state = self.lock();
        if let Some(existing) = state.intent_keys.get(&key).and_then(|id| state.intents.get(id)) {
            // As Stripe: a key replays its first answer, and refuses to mean another request.
            if existing.amount != request.amount || existing.order_id != request.order_id {
                return Err(PaymentError::Refused(format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with (key {key})"
                )));
            }
            return Ok(to_intent(existing));
        }
        let id = random_id("pi_sim_");
        let intent = SimIntent {
            client_secret: format!("{id}_secret_{}", random_chars(24)),
            id: id.clone(),
            order_id: request.order_id.clone(),
            amount: request.amount,
            status: IntentStatus::RequiresPaymentMethod,
            created: now(),
            canceled_at: None,
            payment_method: None,
            charge: None,
            decline: None,
        };
        let answer = to_intent(&intent);
        state.intents.insert(id.clone(), intent);
        state.intent_keys.insert(key, id);
        Ok(answer)
    }

    async fn cancel_intent(&self, intent_id: &str) -> Result<(), PaymentError> {
        let now = now();
        let mut state = self.lock();
        let intent = state.intents.get_mut(intent_id).ok_or_else(|| no_such_intent(intent_id))?;
        match intent.status {
            IntentStatus::Canceled => return Ok(()),
            IntentStatus::Succeeded => {
                return Err(PaymentError::Refused(
                    "You cannot cancel this PaymentIntent because it has a status of succeeded.".into(),
                ));
            }
            _ => {}
        }
        intent.status = IntentStatus::Canceled;
        intent.canceled_at = Some(now);
        let object = intent_object(intent);
        let event = self.event("payment_intent.canceled", object, now);
        state.pending.push(event);
        Ok(())
    }

    async fn refund(&self, intent_id: &str, amount: Money, idempotency_key: &str) -> Result<Refund, PaymentError> {
        let now = now();
        let mut state = self.lock();
        if let Some((key_intent, key_amount, refund)) = state.refund_keys.get(idempotency_key) {
            if key_intent != intent_id || *key_amount != amount {
                return Err(PaymentError::Refused(format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with (key {idempotency_key})"
                )));
            }
            return Ok(refund.clone());
        }
        let intent = state.intents.get_mut(intent_id).ok_or_else(|| no_such_intent(intent_id))?;
        let charge = match (&mut intent.charge, intent.status) {
            (Some(charge), IntentStatus::Succeeded) => charge,
            _ => {
                return Err(PaymentError::Refused(format!(
                    "PaymentIntent {intent_id} has not succeeded; nothing to refund"
                )));
            }
        };
        if amount.currency != intent.amount.currency {
            return Err(PaymentError::Refused(format!(
                "Refund currency {} differs from the payment's {}",
                amount.currency, intent.amount.currency
            )));
        }
        let left = intent.amount.amount - charge.amount_refunded();
        if amount.amount < 1 {
            return Err(PaymentError::Refused("Refund amount must be at least 1 minor unit".into()));
        }
        if amount.amount > left {
            return Err(PaymentError::Refused(format!(
                "Refund amount ({amount}) is greater than unrefunded amount on charge ({})",
                Money::new(left, amount.currency)
            )));
        }
        let refund = SimRefund { id: random_id("re_sim_"), amount: amount.amount, created: now };
        let answer = Refund { id: refund.id.clone(), amount, status: "succeeded".into() };
        charge.refunds.push(refund);
        let object = charge_object(intent);
        let event = self.event("charge.refunded", object, now);
        state.pending.push(event);
        state.refund_keys.insert(idempotency_key.to_owned(), (intent_id.to_owned(), amount, answer.clone()));
        Ok(answer)
    }

    fn publishable_key(&self) -> String {
        "pk_local".into()
    }
}

fn no_such_intent(intent_id: &str) -> PaymentError {
    PaymentError::Refused(format!("No such payment_intent: '{intent_id}'"))
}

fn to_intent(intent: &SimIntent) -> Intent {
    Intent {
        id: intent.id.clone(),
        client_secret: intent.client_secret.clone(),
        amount: intent.amount,
        status: intent.status,
    }
}

fn status_name(status: IntentStatus) -> &'static str {
    match status {
        IntentStatus::RequiresPaymentMethod => "requires_payment_method",
        IntentStatus::RequiresConfirmation => "requires_confirmation",
        IntentStatus::RequiresAction => "requires_action",
        IntentStatus::Processing => "processing",
        IntentStatus::Succeeded => "succeeded",
        IntentStatus::Canceled => "canceled",
        // The simulator never puts an intent in another state.
        IntentStatus::Other => "requires_capture",
    }
}

/// The PaymentIntent as Stripe renders it in an event: every field of the object, so that
/// async-stripe's typed parser accepts it too (the tests check).
fn intent_object(intent: &SimIntent) -> Value {
    let succeeded = intent.status == IntentStatus::Succeeded;
    let last_payment_error = intent.decline.as_ref().map(|d| {
        json!({
            "charge": intent.charge.as_ref().map(|c| c.id.clone()),
            "code": "card_declined",
            "decline_code": d.code,
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "message": d.message,
            "type": "card_error",
        })
    });
    json!({
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount.amount,
        "amount_capturable": 0,
        "amount_details": { "tip": {} },
        "amount_received": if succeeded { intent.amount.amount } else { 0 },
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": { "allow_redirects": "never", "enabled": true },
        "canceled_at": intent.canceled_at,
        "cancellation_reason": null,
        "capture_method": "automatic_async",
        "client_secret": intent.client_secret,
        "confirmation_method": "automatic",
        "created": intent.created,
        "currency": intent.amount.currency.code().to_ascii_lowercase(),
        "customer": null,
        "description": null,
        "last_payment_error": last_payment_error,
        "latest_charge": intent.charge.as_ref().map(|c| c.id.clone()),
        "livemode": false,
        "metadata": { ORDER_ID_METADATA: intent.order_id.as_str() },
        "next_action": null,
        "on_behalf_of": null,
        // Stripe detaches a declined payment method from the intent.
        "payment_method": if intent.decline.is_some() { None } else { intent.payment_method.as_ref().map(|p| p.id.clone()) },
        "payment_method_options": { "card": { "installments": null, "mandate_options": null, "network": null, "request_three_d_secure": "automatic" } },
        "payment_method_types": ["card"],
        "processing": null,
        "receipt_email": null,
        "review": null,
        "setup_future_usage": null,
        "shipping": null,
        "source": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": status_name(intent.status),
        "transfer_data": null,
        "transfer_group": null,
    })
}

/// The paid charge of `intent` with its refunds, as in a `charge.refunded` event.
fn charge_object(intent: &SimIntent) -> Value {
    let Some(charge) = &intent.charge else { return Value::Null };
    let currency = intent.amount.currency.code().to_ascii_lowercase();
    let amount_refunded = charge.amount_refunded();
    let (pm_id, last4, brand) = intent
        .payment_method
        .as_ref()
        .map_or((None, "0000".to_owned(), "visa"), |p| (Some(p.id.clone()), p.last4.clone(), p.brand));
    let refunds: Vec<Value> = charge
        .refunds
        .iter()
        .rev()
        .map(|r| {
            json!({
                "id": r.id,
                "object": "refund",
                "amount": r.amount,
                "balance_transaction": null,
                "charge": charge.id,
                "created": r.created,
                "currency": currency,
                "metadata": {},
                "payment_intent": intent.id,
                "reason": null,
                "receipt_number": null,
                "source_transfer_reversal": null,
                "status": "succeeded",
                "transfer_reversal": null,
            })
        })
        .collect();
    let billing_details = json!({ "address": null, "email": null, "name": null, "phone": null, "tax_id": null });
    let outcome = json!({
        "network_status": "approved_by_network", "reason": null, "risk_level": "normal", "risk_score": 20,
        "seller_message": "Payment complete.", "type": "authorized",
    });
    let card = json!({
        "brand": brand, "country": "US", "exp_month": 12, "exp_year": 2034, "funding": "credit", "last4": last4,
        "network": brand,
    });
    let refund_list = json!({
        "object": "list", "data": refunds, "has_more": false, "total_count": charge.refunds.len(),
        "url": format!("/v1/charges/{}/refunds", charge.id),
    });
    let mut object = json!({
        "id": charge.id,
        "object": "charge",
        "amount": intent.amount.amount,
        "amount_captured": if charge.paid { intent.amount.amount } else { 0 },
        "amount_refunded": amount_refunded,
        "application": null,
        "application_fee": null,
        "application_fee_amount": null,
        "balance_transaction": null,
        "billing_details": billing_details,
        "calculated_statement_descriptor": "NANOSHOP",
        "captured": charge.paid,
        "created": charge.created,
        "currency": currency,
        "customer": null,
        "description": null,
        "disputed": false,
        "failure_balance_transaction": null,
        "failure_code": null,
        "failure_message": null,
        "fraud_details": {},
        "livemode": false,
        "metadata": {},
        "on_behalf_of": null,
    });
    // Two literals: one would exceed serde_json's macro recursion limit.
    let rest = json!({
        "outcome": outcome,
        "paid": charge.paid,
        "payment_intent": intent.id,
        "payment_method": pm_id,
        "payment_method_details": { "card": card, "type": "card" },
        "receipt_email": null,
        "receipt_number": null,
        "receipt_url": null,
        "refunded": amount_refunded >= intent.amount.amount,
        "refunds": refund_list,
        "review": null,
        "shipping": null,
        "source": null,
        "source_transfer": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": if charge.paid { "succeeded" } else { "failed" },
        "transfer_data": null,
        "transfer_group": null,
    });
    if let (Some(object), Value::Object(rest)) = (object.as_object_mut(), rest) {
        object.extend(rest);
    }
    object
}

fn random_chars(n: usize) -> String {
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(n).map(char::from).collect()
}

fn random_id(prefix: &str) -> String {
    format!("{prefix}{}", random_chars(24))
}

#[cfg(test)]
mod tests {
    use nanoshop_domain::Currency;
    use stripe_webhook::Webhook;

    use super::*;
    use crate::webhook::{EventKind, IntentEvent, verify};

    const SECRET: &str = "whsec_local_test";

    fn eur(amount: i64) -> Money {
        Money::new(amount, Currency::EUR)
    }

    fn request(amount: Money) -> CreateIntent {
        CreateIntent { order_id: OrderId::generate(), amount, email: "a@b.example".into() }
    }

    /// Every event the simulator emits must pass our verification and async-stripe's typed
    /// parser (which is what a real Stripe event passes).
    fn check(event: &SignedEvent) -> EventKind {
        Webhook::construct_event(&event.payload, &event.signature, SECRET)
            .unwrap_or_else(|e| panic!("async-stripe refuses {}: {e}", event.payload));
        verify(&event.payload, Some(&event.signature), SECRET).expect("verifies").kind
    }

    fn single(events: SignedEvents) -> SignedEvent {
        assert_eq!(events.len(), 1, "one event expected");
        events.into_iter().next().expect("one event")
    }

    #[tokio::test]
    async fn an_intent_looks_like_stripes_and_a_key_replays_it() {
        let sim = Simulator::new(SECRET.into());
        let req = request(eur(5880));
        let intent = sim.create_intent(&req).await.expect("created");
        assert!(intent.id.starts_with("pi_sim_"), "{}", intent.id);
        assert!(intent.client_secret.starts_with(&format!("{}_secret_", intent.id)));
        assert_eq!((intent.amount, intent.status), (eur(5880), IntentStatus::RequiresPaymentMethod));
        assert_eq!(sim.publishable_key(), "pk_local");

        assert_eq!(sim.create_intent(&req).await.expect("replayed"), intent);
        let other_amount = CreateIntent { amount: eur(1), ..req.clone() };
        assert!(matches!(sim.create_intent(&other_amount).await, Err(PaymentError::Refused(_))));
        assert!(matches!(sim.create_intent(&request(eur(0))).await, Err(PaymentError::Refused(_))));
        assert_ne!(sim.create_intent(&request(eur(5880))).await.expect("another order").id, intent.id);
    }

    #[tokio::test]
    async fn a_paying_card_emits_payment_intent_succeeded_for_the_order() {
        let sim = Simulator::new(SECRET.into());
        let req = request(eur(5880));
        let intent = sim.create_intent(&req).await.expect("created");
        let event = single(sim.confirm(&intent.id, "4242 4242 4242 4242").expect("confirmed"));
        assert_eq!(
            check(&event),
            EventKind::PaymentSucceeded(IntentEvent {
                intent_id: intent.id.clone(),
                order_id: Some(req.order_id.clone()),
                amount: eur(5880),
                amount_received: 5880,
                failure_message: None,
                canceled_at: None,
            })
        );
        assert!(sim.take_pending_events().is_empty(), "confirm returns its events; it does not queue them");
        assert_eq!(
            sim.confirm(&intent.id, "4242424242424242"),
            Err(SimulatorError::NotConfirmable { intent_id: intent.id.clone(), status: IntentStatus::Succeeded })
        );
        assert_eq!(sim.create_intent(&req).await.expect("replayed").status, IntentStatus::Succeeded);
    }

    #[tokio::test]
    async fn a_declined_card_emits_payment_failed_and_the_intent_can_be_confirmed_again() {
        let sim = Simulator::new(SECRET.into());
        let req = request(eur(2500));
        let intent = sim.create_intent(&req).await.expect("created");
        let failed = single(sim.confirm(&intent.id, "4000000000000002").expect("confirmed"));
        let EventKind::PaymentFailed(failure) = check(&failed) else { panic!("not a failure: {}", failed.payload) };
        assert_eq!(failure.failure_message.as_deref(), Some("Your card was declined."));
        assert_eq!((failure.order_id, failure.amount_received), (Some(req.order_id.clone()), 0));
        assert_eq!(sim.create_intent(&req).await.expect("replayed").status, IntentStatus::RequiresPaymentMethod);

        let paid = single(sim.confirm(&intent.id, "4242424242424242").expect("confirmed"));
        assert!(matches!(check(&paid), EventKind::PaymentSucceeded(_)));
        assert_ne!(failed.payload, paid.payload);
    }

    #[tokio::test]
    async fn unknown_intents_and_cards_are_refused() {
        let sim = Simulator::new(SECRET.into());
        assert_eq!(
            sim.confirm("pi_sim_nope", "4242424242424242"),
            Err(SimulatorError::UnknownIntent("pi_sim_nope".into()))
        );
        let intent = sim.create_intent(&request(eur(100))).await.expect("created");
        assert_eq!(sim.confirm(&intent.id, "1234123412341234"), Err(SimulatorError::UnknownCard));
    }

    #[tokio::test]
    async fn cancel_queues_payment_intent_canceled_once_and_refuses_paid_intents() {
        let sim = Simulator::new(SECRET.into());
        let intent = sim.create_intent(&request(eur(700))).await.expect("created");
        sim.cancel_intent(&intent.id).await.expect("canceled");
        sim.cancel_intent(&intent.id).await.expect("canceling again is fine");
        let event = single(sim.take_pending_events());
        let EventKind::PaymentCanceled(canceled) = check(&event) else { panic!("{}", event.payload) };
        assert_eq!(canceled.intent_id, intent.id);
        assert!(sim.take_pending_events().is_empty(), "handed out once");
        assert_eq!(
            sim.confirm(&intent.id, "4242424242424242"),
            Err(SimulatorError::NotConfirmable { intent_id: intent.id.clone(), status: IntentStatus::Canceled })
        );

        let paid = sim.create_intent(&request(eur(700))).await.expect("created");
        sim.confirm(&paid.id, "4242424242424242").expect("confirmed");
        assert!(matches!(sim.cancel_intent(&paid.id).await, Err(PaymentError::Refused(_))));
        assert!(matches!(sim.cancel_intent("pi_sim_nope").await, Err(PaymentError::Refused(_))));
        assert!(sim.take_pending_events().is_empty());
    }

    #[tokio::test]
    async fn refunds_emit_charge_refunded_with_the_running_total_and_stop_at_what_was_paid() {
        let sim = Simulator::new(SECRET.into());
        let intent = sim.create_intent(&request(eur(5880))).await.expect("created");
        assert!(matches!(sim.refund(&intent.id, eur(100), "r0").await, Err(PaymentError::Refused(_))), "unpaid");
        sim.confirm(&intent.id, "4242424242424242").expect("confirmed");

        let first = sim.refund(&intent.id, eur(2000), "r1").await.expect("refunded");
        assert!(first.id.starts_with("re_sim_"));
        assert_eq!((first.amount, first.status.as_str()), (eur(2000), "succeeded"));
        assert_eq!(sim.refund(&intent.id, eur(2000), "r1").await.expect("replayed"), first);
        assert!(matches!(sim.refund(&intent.id, eur(1), "r1").await, Err(PaymentError::Refused(_))), "key reused");
        assert!(matches!(sim.refund(&intent.id, eur(3881), "r2").await, Err(PaymentError::Refused(_))), "over");
        let usd = Money::new(100, Currency::USD);
        assert!(matches!(sim.refund(&intent.id, usd, "r3").await, Err(PaymentError::Refused(_))), "currency");
        sim.refund(&intent.id, eur(3880), "r4").await.expect("the rest");
        assert!(matches!(sim.refund(&intent.id, eur(1), "r5").await, Err(PaymentError::Refused(_))), "all refunded");

        let events = sim.take_pending_events();
        let totals: Vec<_> = events
            .iter()
            .map(|e| match check(e) {
                EventKind::ChargeRefunded(c) => {
                    assert_eq!((c.intent_id.as_deref(), c.amount), (Some(intent.id.as_str()), eur(5880)));
                    c.amount_refunded
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(totals, [eur(2000), eur(5880)], "one event per refund, not per replay");
    }

    #[tokio::test]
    async fn events_are_signed_with_the_configured_secret_only() {
        let sim = Simulator::new(SECRET.into());
        let intent = sim.create_intent(&request(eur(100))).await.expect("created");
        let event = single(sim.confirm(&intent.id, "4242424242424242").expect("confirmed"));
        assert!(verify(&event.payload, Some(&event.signature), "whsec_other").is_err());
    }

    #[test]
    fn debug_shows_no_secret() {
        let sim = Simulator::new("whsec_do_not_print".into());
        assert!(!format!("{sim:?}").contains("whsec_do_not_print"));
    }
}
