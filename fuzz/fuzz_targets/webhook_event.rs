//! The webhook event parser behind `nanoshop_payments::webhook::verify`: any body, correctly signed
//! (by `sign`, now, with our secret), so every input gets past the signature to async-stripe's
//! and our own JSON parsing.
//!
//! What this proves, for every body (the input, lossily UTF-8):
//!
//! - `verify` never panics, and never answers `MissingSignature`, `BadSignature` or `Stale` for a
//!   correctly signed body: the only refusal is `Malformed`; the same header under another secret
//!   is `BadSignature`;
//! - an accepted body is a JSON object whose `id` (string), `created` (integer) and `type` (string)
//!   are the event's, and whose kind follows `type`: the six types nanoshop acts on are read from
//!   `data.object` field for field (ids, amounts with the upper-cased currency, never negative;
//!   `amount_received` defaulted from `status`; the order id from `metadata.nanoshop_order_id`;
//!   the decline message; the PaymentIntent of a charge or dispute as an id or an expanded
//!   object), and every other type is `Ignored` under its own name.
#![no_main]

use std::time::{SystemTime, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use nanoshop_domain::ids::OrderId;
use nanoshop_domain::{Currency, Money};
use nanoshop_payments::webhook::{EventKind, WebhookError, sign, verify};
use serde_json::Value;

const SECRET: &str = "whsec_fuzz_ours";
/// `nanoshop_payments::port::ORDER_ID_METADATA`, spelled out so a rename is noticed here.
const ORDER_ID_METADATA: &str = "nanoshop_order_id";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `object[field]` as a string, if it is one.
fn str_field<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object.get(field).and_then(Value::as_str)
}

/// The money `object[amount_field]` in `object.currency`, as Stripe sends it (lower case).
fn money(object: &Value, amount_field: &str) -> Money {
    let amount = object[amount_field].as_i64().expect("an accepted amount is an integer");
    let currency = str_field(object, "currency").expect("an accepted currency is a string");
    let currency: Currency = currency.to_ascii_uppercase().parse().expect("an accepted currency is known");
    assert!(amount >= 0, "a negative amount {amount} was accepted");
    Money::new(amount, currency)
}

/// `object.payment_intent`: an id, or an expanded object's id.
fn intent_ref(object: &Value) -> Option<String> {
    match object.get("payment_intent") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(expanded) => Some(str_field(expanded, "id").expect("an expanded intent has an id").to_owned()),
    }
}

fuzz_target!(|data: &[u8]| {
    let payload = String::from_utf8_lossy(data);
    let header = sign(&payload, SECRET, now());
    let result = verify(&payload, Some(&header), SECRET);

    assert_eq!(verify(&payload, Some(&header), "whsec_fuzz_other"), Err(WebhookError::BadSignature));
    let event = match result {
        Ok(event) => event,
        Err(WebhookError::Malformed(_)) => return,
        Err(e) => panic!("a correctly signed body was refused as {e:?}"),
    };

    let json: Value = serde_json::from_str(&payload).expect("an accepted event is JSON");
    assert!(json.is_object(), "an accepted event is a JSON object: {json}");
    assert_eq!(str_field(&json, "id"), Some(event.id.as_str()));
    assert_eq!(json["created"].as_i64(), Some(event.created));
    let name = str_field(&json, "type").expect("an accepted event has a string type");
    let object = &json["data"]["object"];

    match &event.kind {
        EventKind::PaymentSucceeded(intent)
        | EventKind::PaymentFailed(intent)
        | EventKind::PaymentCanceled(intent)
        | EventKind::PaymentProcessing(intent) => {
            let expected_name = match &event.kind {
                EventKind::PaymentSucceeded(_) => "payment_intent.succeeded",
                EventKind::PaymentFailed(_) => "payment_intent.payment_failed",
                EventKind::PaymentCanceled(_) => "payment_intent.canceled",
                _ => "payment_intent.processing",
            };
            assert_eq!(name, expected_name);
            assert_eq!(str_field(object, "id"), Some(intent.intent_id.as_str()));
            assert_eq!(intent.amount, money(object, "amount"));
            let received = match object.get("amount_received") {
                None | Some(Value::Null) if str_field(object, "status") == Some("succeeded") => intent.amount.amount,
                None | Some(Value::Null) => 0,
                Some(n) => n.as_i64().expect("an accepted amount_received is an integer"),
            };
            assert_eq!(intent.amount_received, received);
            let order: Option<OrderId> = object
                .get("metadata")
                .and_then(|m| m.get(ORDER_ID_METADATA))
                .and_then(Value::as_str)
                .and_then(|s| s.parse().ok());
            assert_eq!(intent.order_id, order);
            let message = object.get("last_payment_error").and_then(|e| e.get("message")).and_then(Value::as_str);
            assert_eq!(intent.failure_message.as_deref(), message);
        }
        EventKind::ChargeRefunded(charge) => {
            assert_eq!(name, "charge.refunded");
            assert_eq!(str_field(object, "id"), Some(charge.charge_id.as_str()));
            assert_eq!(charge.amount, money(object, "amount"));
            assert_eq!(charge.amount_refunded, money(object, "amount_refunded"));
            assert_eq!(charge.intent_id, intent_ref(object));
        }
        EventKind::DisputeCreated(dispute) => {
            assert_eq!(name, "charge.dispute.created");
            assert_eq!(str_field(object, "id"), Some(dispute.dispute_id.as_str()));
            assert_eq!(dispute.amount, money(object, "amount"));
            assert_eq!(str_field(object, "reason"), Some(dispute.reason.as_str()));
            assert_eq!(dispute.intent_id, intent_ref(object));
        }
        EventKind::Ignored(ignored) => {
            assert_eq!(ignored, name);
            assert!(
                !matches!(
                    name,
                    "payment_intent.succeeded"
                        | "payment_intent.payment_failed"
                        | "payment_intent.canceled"
                        | "payment_intent.processing"
                        | "charge.refunded"
                        | "charge.dispute.created"
                ),
                "an event nanoshop acts on was ignored: {name}"
            );
        }
    }
});
