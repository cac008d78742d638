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
//!
//! The Stripe-shaped JSON of an intent and its charge is built in `objects`.

mod objects;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use nanoshop_domain::Money;
use nanoshop_domain::ids::OrderId;
use rand::Rng;
use serde_json::{Value, json};

use self::objects::{charge_object, intent_object};
use crate::port::{CreateIntent, Intent, IntentStatus, PaymentError, PaymentGateway, Refund};
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

fn random_chars(n: usize) -> String {
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(n).map(char::from).collect()
}

fn random_id(prefix: &str) -> String {
    format!("{prefix}{}", random_chars(24))
}
