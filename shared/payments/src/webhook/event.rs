//! The event shapes nanoshop acts on, and the lenient parser that reads them from an authentic
//! payload (the [webhook module](super) says why not with async-stripe's typed objects).

use std::collections::HashMap;

use nanoshop_domain::ids::OrderId;
use nanoshop_domain::{Currency, Money};
use serde::Deserialize;

use super::WebhookError;
use crate::port::ORDER_ID_METADATA;

/// A verified Stripe event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// `evt_…`: what "each event takes effect at most once" is keyed on.
    pub id: String,
    /// When Stripe created the event, in seconds since the Unix epoch.
    pub created: i64,
    pub kind: EventKind,
}

/// The events nanoshop acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `payment_intent.succeeded`
    PaymentSucceeded(IntentEvent),
    /// `payment_intent.payment_failed`
    PaymentFailed(IntentEvent),
    /// `payment_intent.canceled`
    PaymentCanceled(IntentEvent),
    /// `payment_intent.processing`
    PaymentProcessing(IntentEvent),
    /// `charge.refunded`
    ChargeRefunded(ChargeEvent),
    /// `charge.dispute.created`
    DisputeCreated(DisputeEvent),
    /// Any other type, by name: acknowledged and ignored.
    Ignored(String),
}

/// The PaymentIntent an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentEvent {
    pub intent_id: String,
    /// From `metadata.nanoshop_order_id`; `None` when absent or not an order id, which makes the
    /// intent someone else's (the same Stripe account may serve other systems).
    pub order_id: Option<OrderId>,
    /// What the intent asks for.
    pub amount: Money,
    /// What was received, in the same currency; 0 until the payment succeeds. An emulator that
    /// omits the field (localstripe) is taken to have received the whole amount of a succeeded
    /// intent and nothing of any other.
    pub amount_received: i64,
    /// `last_payment_error.message`, for `payment_failed`.
    pub failure_message: Option<String>,
    /// `canceled_at` (Unix seconds), for `canceled`; `None` when the object leaves it out.
    pub canceled_at: Option<i64>,
}

/// The charge of a `charge.refunded` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeEvent {
    pub charge_id: String,
    /// `None` for a charge made without a PaymentIntent, which is never nanoshop's.
    pub intent_id: Option<String>,
    pub amount: Money,
    /// Everything refunded so far, in total (not only by this refund).
    pub amount_refunded: Money,
}

/// The dispute of a `charge.dispute.created` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeEvent {
    pub dispute_id: String,
    pub intent_id: Option<String>,
    pub amount: Money,
    /// Stripe's reason code (`fraudulent`, `product_not_received`, …).
    pub reason: String,
}
#[derive(Deserialize)]
struct Envelope {
    id: String,
    created: i64,
    #[serde(rename = "type")]
    kind: String,
    /// Read through [`object_as`] like every nested object: serde would take an array for it.
    data: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct EnvelopeData {
    object: serde_json::Value,
}

#[derive(Deserialize)]
struct IntentObject {
    id: String,
    amount: i64,
    currency: String,
    amount_received: Option<i64>,
    status: Option<String>,
    metadata: Option<HashMap<String, serde_json::Value>>,
    /// An object with an optional `message`; read by hand so an array is not taken for one.
    last_payment_error: Option<serde_json::Value>,
    canceled_at: Option<i64>,
}

#[derive(Deserialize)]
struct ChargeObject {
    id: String,
    amount: i64,
    amount_refunded: i64,
    currency: String,
    payment_intent: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct DisputeObject {
    id: String,
    amount: i64,
    currency: String,
    reason: String,
    payment_intent: Option<serde_json::Value>,
}

/// The id of a reference Stripe sends as an id, or as the object when expanded; `null` is none.
fn expandable_id(what: &str, reference: Option<serde_json::Value>) -> Result<Option<String>, WebhookError> {
    match reference {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(id)) => Ok(Some(id)),
        Some(serde_json::Value::Object(object)) => match object.get("id") {
            Some(serde_json::Value::String(id)) => Ok(Some(id.clone())),
            _ => Err(WebhookError::Malformed(format!("{what}: an expanded object without an id"))),
        },
        Some(_) => Err(WebhookError::Malformed(format!("{what}: neither an id nor an object"))),
    }
}

/// `value` as `T`, when it is a JSON object: serde's derived structs would read an array too.
fn object_as<T: serde::de::DeserializeOwned>(what: &str, value: serde_json::Value) -> Result<T, WebhookError> {
    if !value.is_object() {
        return Err(WebhookError::Malformed(format!("{what} is not a JSON object")));
    }
    serde_json::from_value(value).map_err(|e| WebhookError::Malformed(format!("{what}: {e}")))
}

pub(super) fn parse(payload: &str) -> Result<WebhookEvent, WebhookError> {
    let value: serde_json::Value =
        serde_json::from_str(payload).map_err(|e| WebhookError::Malformed(format!("not a Stripe event: {e}")))?;
    let envelope: Envelope = object_as("the event", value)?;
    let data: Option<EnvelopeData> = match envelope.data {
        None | Some(serde_json::Value::Null) => None,
        Some(data) => Some(object_as("the event's data", data)?),
    };
    let name = envelope.kind;
    let object = data.map(|d| d.object);
    let object = || object.ok_or_else(|| WebhookError::Malformed(format!("{name} without data.object")));
    let kind = match name.as_str() {
        "payment_intent.succeeded" => EventKind::PaymentSucceeded(intent(object()?)?),
        "payment_intent.payment_failed" => EventKind::PaymentFailed(intent(object()?)?),
        "payment_intent.canceled" => EventKind::PaymentCanceled(intent(object()?)?),
        "payment_intent.processing" => EventKind::PaymentProcessing(intent(object()?)?),
        "charge.refunded" => EventKind::ChargeRefunded(charge(object()?)?),
        "charge.dispute.created" => EventKind::DisputeCreated(dispute(object()?)?),
        _ => EventKind::Ignored(name.clone()),
    };
    Ok(WebhookEvent { id: envelope.id, created: envelope.created, kind })
}

fn intent(object: serde_json::Value) -> Result<IntentEvent, WebhookError> {
    let pi: IntentObject = object_as("payment_intent", object)?;
    let amount = money(pi.amount, &pi.currency)?;
    let order_id = pi
        .metadata
        .as_ref()
        .and_then(|m| m.get(ORDER_ID_METADATA))
        .and_then(serde_json::Value::as_str)
        .and_then(|s| s.parse::<OrderId>().ok());
    let succeeded = pi.status.as_deref() == Some("succeeded");
    let amount_received = pi.amount_received.unwrap_or(if succeeded { pi.amount } else { 0 });
    Ok(IntentEvent {
        intent_id: pi.id,
        order_id,
        amount,
        amount_received,
        failure_message: pi
            .last_payment_error
            .as_ref()
            .and_then(|e| e.get("message"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        canceled_at: pi.canceled_at,
    })
}

fn charge(object: serde_json::Value) -> Result<ChargeEvent, WebhookError> {
    let ch: ChargeObject = object_as("charge", object)?;
    Ok(ChargeEvent {
        amount: money(ch.amount, &ch.currency)?,
        amount_refunded: money(ch.amount_refunded, &ch.currency)?,
        charge_id: ch.id,
        intent_id: expandable_id("charge.payment_intent", ch.payment_intent)?,
    })
}

fn dispute(object: serde_json::Value) -> Result<DisputeEvent, WebhookError> {
    let dp: DisputeObject = object_as("dispute", object)?;
    Ok(DisputeEvent {
        amount: money(dp.amount, &dp.currency)?,
        dispute_id: dp.id,
        intent_id: expandable_id("dispute.payment_intent", dp.payment_intent)?,
        reason: dp.reason,
    })
}

/// Stripe's lower-case currency and non-negative minor units as [`Money`].
fn money(amount: i64, currency: &str) -> Result<Money, WebhookError> {
    let currency: Currency =
        currency.to_ascii_uppercase().parse().map_err(|e| WebhookError::Malformed(format!("{e}")))?;
    Money::price(amount, currency).map_err(|e| WebhookError::Malformed(format!("amount {amount}: {e}")))
}
