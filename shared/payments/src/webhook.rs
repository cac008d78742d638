//! Stripe's signed webhook events: the `Stripe-Signature` check and the few event shapes nanoshop
//! acts on.
//!
//! [`verify`] gives the raw body and the header to `async-stripe-webhook`'s
//! `Webhook::construct_event`, which accepts an event when any `v1` signature in the header is the
//! HMAC-SHA256 of `"{t}.{body}"` under the secret (so secret rotation works while Stripe signs
//! with the old and the new secret) and `t` is within 300 s of now, in the past or the future.
//!
//! The event is then read by a lenient parser of our own that takes only the fields nanoshop uses,
//! not by async-stripe's typed objects. Those require every field of the API version async-stripe
//! is generated for (2026-09-30): an authentic event rendered for an endpoint pinned to another
//! API version, or sent by localstripe (whose PaymentIntents have no `amount_received` and whose
//! events have no `pending_webhooks`), fails that parse. `construct_event` reports such a parse
//! failure only after the signature and the timestamp have passed, and its other errors come
//! first; the tests below pin that order (an unreadable payload with a wrong signature is
//! [`WebhookError::BadSignature`], with an old one [`WebhookError::Stale`]), because accepting a
//! parse failure as "authentic" is sound only in that order.
//!
//! Two guards of our own, both found by the fuzz targets in `fuzz/`:
//! - `construct_event` computes `(now - t).abs()` unchecked: a `t` near `i64::MIN` panics where
//!   overflow checks are on and, in a release build, wraps so that `t = now + i64::MIN` passes as
//!   fresh. [`verify`] has the library check a signature with `|t| > 2^62` at `t` itself (so
//!   nothing can overflow, whatever the clock reads), and answers stale.
//! - serde's derived `Deserialize` reads a struct from a JSON array too, field by field; the parser
//!   takes the event, its `data` and its `data.object` only as JSON objects.

use std::collections::HashMap;

use nanoshop_domain::ids::OrderId;
use nanoshop_domain::{Currency, Money};
use serde::Deserialize;
use stripe_webhook::{Webhook, WebhookError as StripeError};

use crate::port::ORDER_ID_METADATA;

/// How far a signature's timestamp may be from now, either way (enforced by `async-stripe-webhook`).
pub const TOLERANCE_SECONDS: i64 = 300;

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

/// Why an event was refused. Every variant but [`WebhookError::Malformed`] means "not from
/// Stripe, or not now" and must change nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the Stripe-Signature header is missing")]
    MissingSignature,
    /// A malformed header, a wrong secret, or no `v1` signature that matches the body.
    #[error("the Stripe-Signature header is malformed or matches no signing secret")]
    BadSignature,
    /// The signature's timestamp is more than [`TOLERANCE_SECONDS`] from now, either way.
    #[error("the Stripe-Signature timestamp is outside the {TOLERANCE_SECONDS} s tolerance")]
    Stale,
    /// Signed with our secret, but not an event this version can read.
    #[error("signed event cannot be read: {0}")]
    Malformed(String),
}

/// The event types nanoshop acts on: the ones its webhook endpoint subscribes to
/// (`scripts/connect-stripe.py` registers exactly these; a test checks the two lists agree).
pub const HANDLED_EVENT_TYPES: &[&str] = &[
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.processing",
    "charge.refunded",
    "charge.dispute.created",
];

/// The Stripe API version async-stripe 1.0.0-rc.10 is generated for (`stripe_client_core::VERSION`):
/// `scripts/connect-stripe.py` pins the webhook endpoint to it (`api_version`), so that events
/// arrive in the shape this module's parser and the simulator's events follow. A unit test checks
/// it against async-stripe, and an e2e test checks the script sends it.
pub const STRIPE_API_VERSION: &str = "2026-09-30.endive";

/// Characters after `whsec_` that make a signing secret worth verifying with. Stripe's have 32
/// (the Stripe CLI's 64 hex digits); [`check_signing_secret`] asks for at least this many.
pub const MIN_SECRET_CHARS: usize = 24;

/// Why a webhook signing secret must not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnusableSecret {
    #[error("there is no webhook signing secret")]
    Missing,
    #[error("the webhook signing secret does not start with whsec_")]
    NotASigningSecret,
    /// Too short, a placeholder (`whsec_...`, `whsec_replace_me`), or characters a generated secret
    /// does not have.
    #[error("the webhook signing secret is a placeholder")]
    Placeholder,
    /// Long enough, but with too few different characters, or mostly a run (`whsec_aaaa…`,
    /// `whsec_abcdef…`): guessable.
    #[error("the webhook signing secret has too little entropy")]
    LowEntropy,
}

/// Whether `secret` is a signing secret worth verifying events with. A placeholder that some
/// document shows (or any guessable value) would let anyone sign `payment_intent.succeeded` and
/// have an order marked paid: the webhook answers 503 `not_configured` instead, and Stripe
/// redelivers for three days while the real secret is put in place.
///
/// `scripts/connect-stripe.py` ports these rules (`signing_secret_problem`), so that the deploy
/// never stores or keeps a secret the webhook refuses; an e2e test gives both the same table.
///
/// # Errors
/// [`UnusableSecret`], saying why without showing the secret.
pub fn check_signing_secret(secret: &str) -> Result<(), UnusableSecret> {
    let secret = secret.trim();
    if secret.is_empty() {
        return Err(UnusableSecret::Missing);
    }
    let rest = secret.strip_prefix("whsec_").ok_or(UnusableSecret::NotASigningSecret)?;
    let lower = rest.to_ascii_lowercase();
    if rest.len() < MIN_SECRET_CHARS
        || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'))
        || ["replace", "example", "placeholder", "changeme", "secret"].iter().any(|p| lower.contains(p))
    {
        return Err(UnusableSecret::Placeholder);
    }
    // Each test is one a generated secret fails with negligible probability (a random hex string
    // of 24 characters has at least 8 distinct ones but for odds of about 1e-12; ascending steps
    // are 1 in 16 of its neighbours, not half; a repeating block, never), while what people type
    // as a stand-in fails at least one: "aaaa…", "abab…", "abcdef…", "0123…", "qwerty" repeated.
    let bytes = rest.as_bytes();
    let distinct = bytes.iter().collect::<std::collections::BTreeSet<_>>().len();
    let ascending = bytes.windows(2).filter(|w| w[1] == w[0].wrapping_add(1)).count();
    let repeats = (1..=bytes.len() / 2).any(|p| bytes.iter().zip(&bytes[p..]).all(|(a, b)| a == b));
    if distinct < 8 || ascending * 2 > bytes.len() || repeats {
        return Err(UnusableSecret::LowEntropy);
    }
    Ok(())
}

/// Verifies `payload` (the raw request body, byte for byte) against the `Stripe-Signature`
/// header, then reads it.
///
/// # Errors
/// [`WebhookError::MissingSignature`] without a header (or an empty one);
/// [`WebhookError::BadSignature`] for a malformed header, an empty secret or no matching `v1`;
/// [`WebhookError::Stale`] for a timestamp outside the tolerance; [`WebhookError::Malformed`]
/// for an authentic payload that is not an event, or an event of a type nanoshop acts on
/// without the fields it needs (or with a currency nanoshop does not know).
pub fn verify(payload: &str, signature_header: Option<&str>, secret: &str) -> Result<WebhookEvent, WebhookError> {
    let header = signature_header.filter(|h| !h.trim().is_empty()).ok_or(WebhookError::MissingSignature)?;
    // HMAC accepts an empty key, with which anyone could sign: a missing secret must not verify.
    if secret.is_empty() {
        return Err(WebhookError::BadSignature);
    }
    if let Some(t) = signed_timestamp(header).filter(|t| t.unsigned_abs() > FAR_TIMESTAMP) {
        // The library might overflow on this `t` (module doc). Checked "at" `t` itself it cannot,
        // and it still answers a wrong signature first; a right one is stale.
        return match Webhook::construct_event_with_timestamp(payload, header, secret, t) {
            Ok(_) | Err(StripeError::BadParse(_) | StripeError::BadTimestamp(_)) => Err(WebhookError::Stale),
            Err(StripeError::BadSignature | StripeError::BadHeader(_) | StripeError::BadKey) => {
                Err(WebhookError::BadSignature)
            }
        };
    }
    match Webhook::construct_event(payload, header, secret) {
        // A parse failure is reported only once signature and timestamp have passed (module doc).
        Ok(_) | Err(StripeError::BadParse(_)) => parse(payload),
        Err(StripeError::BadTimestamp(_)) => Err(WebhookError::Stale),
        Err(StripeError::BadSignature | StripeError::BadHeader(_) | StripeError::BadKey) => {
            Err(WebhookError::BadSignature)
        }
    }
}

/// Seconds since the Unix epoch, as Stripe's `t` and `created` count them.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Timestamps further from the epoch than this (about 146 billion years) are refused before the
/// library sees them: then `now - t` cannot overflow, whatever its own clock reads by then.
const FAR_TIMESTAMP: u64 = 1 << 62;

/// The timestamp `construct_event` takes from `header`: the last `t=`, when every `t=` is a
/// number (otherwise it refuses the header before looking at the time).
fn signed_timestamp(header: &str) -> Option<i64> {
    let mut t = None;
    for pair in header.split(',') {
        if let Some(("t", value)) = pair.split_once('=') {
            t = Some(value.parse().ok()?);
        }
    }
    t
}

/// The `Stripe-Signature` header Stripe would send for `payload` at `timestamp`
/// (`t={timestamp},v1={hex HMAC-SHA256 of "{timestamp}.{payload}"}`).
pub fn sign(payload: &str, secret: &str, timestamp: i64) -> String {
    Webhook::generate_test_header(payload, secret, Some(timestamp))
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

fn parse(payload: &str) -> Result<WebhookEvent, WebhookError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_api_version_is_the_one_async_stripe_is_generated_for() {
        assert_eq!(STRIPE_API_VERSION, stripe_client_core::VERSION.as_str());
    }

    #[test]
    fn generated_signing_secrets_are_usable_however_the_dice_fall() {
        // As Stripe makes them (32 alphanumerics), as the Stripe CLI does (64 hex digits), and as
        // `nanoshop serve` does (48 hex digits): a refusal here would take a shop offline.
        const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        const HEX: &[u8] = b"0123456789abcdef";
        for _ in 0..5_000 {
            for (alphabet, len) in [(ALPHANUMERIC, 32), (HEX, 64), (HEX, 48), (HEX, 24)] {
                let rest: String =
                    (0..len).map(|_| char::from(alphabet[rand::random_range(0..alphabet.len())])).collect();
                let secret = format!("whsec_{rest}");
                assert_eq!(check_signing_secret(&secret), Ok(()), "{secret}");
            }
        }
    }

    #[test]
    fn only_generated_looking_signing_secrets_are_usable() {
        use UnusableSecret::*;
        let check = |secret: &str, expected: Result<(), UnusableSecret>| {
            assert_eq!(check_signing_secret(secret), expected, "{secret}");
        };
        check("whsec_4eC39HqLyjWDarjtT1zdp7dcGqvR8Jx2", Ok(()));
        check("whsec_0b4f1e4c8f2a9d3e7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29180f7e6d5c4b3a29", Ok(()));
        check("", Err(Missing));
        check("   ", Err(Missing));
        check("4eC39HqLyjWDarjtT1zdp7dcGqvR8Jx2", Err(NotASigningSecret));
        check("sk_test_4eC39HqLyjWDarjtT1zdp7dcGqvR8Jx2", Err(NotASigningSecret));
        check("whsec_...", Err(Placeholder));
        check("whsec_…", Err(Placeholder));
        check("whsec_replace_after_step_4", Err(Placeholder));
        check("whsec_REPLACE_ME_WITH_THE_REAL_ONE_123", Err(Placeholder));
        check("whsec_test", Err(Placeholder));
        check("whsec_4eC39HqLyjWDarjtT1zdp7", Err(Placeholder));
        check("whsec_4eC39HqLyjWDarjtT1zd p7dcGqvR8Jx2", Err(Placeholder));
        check("whsec_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Err(LowEntropy));
        check("whsec_abababababababababababababababab", Err(LowEntropy));
        check("whsec_abcdefghijklmnopqrstuvwxyz012345", Err(LowEntropy));
        check("whsec_0123456789abcdef0123456789abcdef", Err(LowEntropy));
        check("whsec_qwertyuiqwertyuiqwertyuiqwertyui", Err(LowEntropy));
        check("whsec_abc123abc123abc123abc123abc123ab", Err(LowEntropy));
    }

    const SECRET: &str = "whsec_test_secret";
    /// The event types nanoshop reads a PaymentIntent from, and those it reads a charge from.
    const INTENT_TYPES: [&str; 4] = [
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.processing",
    ];
    const CHARGE_TYPES: [&str; 2] = ["charge.refunded", "charge.dispute.created"];
    const ORDER: &str = "ord_01JGZ3M5K8Q2W7X4V9N6B1C3D5";

    fn fixture(name: &str) -> &'static str {
        match name {
            "payment_intent.succeeded" => include_str!("../tests/fixtures/payment_intent.succeeded.json"),
            "payment_intent.payment_failed" => include_str!("../tests/fixtures/payment_intent.payment_failed.json"),
            "payment_intent.canceled" => include_str!("../tests/fixtures/payment_intent.canceled.json"),
            "payment_intent.processing" => include_str!("../tests/fixtures/payment_intent.processing.json"),
            "charge.refunded" => include_str!("../tests/fixtures/charge.refunded.json"),
            "charge.dispute.created" => include_str!("../tests/fixtures/charge.dispute.created.json"),
            "customer.created" => include_str!("../tests/fixtures/customer.created.json"),
            "localstripe.payment_intent.succeeded" => {
                include_str!("../tests/fixtures/localstripe.payment_intent.succeeded.json")
            }
            other => panic!("no fixture {other}"),
        }
    }

    use super::unix_now as now;

    fn signed(payload: &str) -> Result<WebhookEvent, WebhookError> {
        verify(payload, Some(&sign(payload, SECRET, now())), SECRET)
    }

    fn eur(amount: i64) -> Money {
        Money::new(amount, Currency::EUR)
    }

    #[test]
    fn a_timestamp_too_far_to_subtract_is_stale_not_a_panic() {
        // fuzz/corpus/webhook_signature/signed-t-i64-min: correctly signed, so only our guard
        // stands between it and async-stripe-webhook's unchecked `(now - t).abs()`.
        let payload = fixture("payment_intent.succeeded");
        for t in [i64::MIN, now() + i64::MIN, i64::MIN + 1, -i64::MAX] {
            let header = sign(payload, SECRET, t);
            assert_eq!(verify(payload, Some(&header), SECRET), Err(WebhookError::Stale), "t = {t}");
        }
        // A wrong signature is still answered as one first, whatever the time.
        let forged = format!("t={},v1={}", i64::MIN, "ab".repeat(32));
        assert_eq!(verify(payload, Some(&forged), SECRET), Err(WebhookError::BadSignature));
        // Far, but subtractable: the library's own tolerance check answers.
        let header = sign(payload, SECRET, i64::MIN / 2);
        assert_eq!(verify(payload, Some(&header), SECRET), Err(WebhookError::Stale));
    }

    #[test]
    fn json_arrays_are_not_events_nor_their_objects() {
        // fuzz/corpus/webhook_event/event-as-json-array and intent-as-json-array: serde's derived
        // structs read arrays field by field, so these were taken as an event and a payment.
        let intent = r#"["pi_1",100,"eur",null,"succeeded",null,null]"#;
        for payload in [
            r#"["evt_1",1,"payout.paid",null]"#.to_owned(),
            format!(r#"{{"id":"evt_1","created":1,"type":"payment_intent.succeeded","data":{{"object":{intent}}}}}"#),
            format!(r#"{{"id":"evt_1","created":1,"type":"payment_intent.succeeded","data":[{intent}]}}"#),
            r#"{"id":"evt_1","created":1,"type":"charge.refunded","data":{"object":{"id":"ch_1","amount":100,"amount_refunded":100,"currency":"eur","payment_intent":["pi_1"]}}}"#.to_owned(),
        ] {
            assert!(matches!(signed(&payload), Err(WebhookError::Malformed(_))), "{payload}: {:?}", signed(&payload));
        }
        // The same charge with the intent as an id, or expanded, is read.
        for reference in [r#""pi_1""#, r#"{"id":"pi_1","object":"payment_intent"}"#] {
            let payload = format!(
                r#"{{"id":"evt_1","created":1,"type":"charge.refunded","data":{{"object":{{"id":"ch_1","amount":100,"amount_refunded":100,"currency":"eur","payment_intent":{reference}}}}}}}"#
            );
            let EventKind::ChargeRefunded(charge) = signed(&payload).expect("a charge").kind else { panic!() };
            assert_eq!(charge.intent_id.as_deref(), Some("pi_1"));
        }
    }

    fn order() -> Option<OrderId> {
        Some(ORDER.parse().expect("valid order id"))
    }

    #[test]
    fn every_fixture_is_stripe_shaped_enough_for_async_stripes_typed_parser() {
        // The fixtures stand for real Stripe events: async-stripe's typed objects accept them.
        for name in INTENT_TYPES.into_iter().chain(CHARGE_TYPES).chain(["customer.created"]) {
            let payload = fixture(name);
            let header = sign(payload, SECRET, now());
            if let Err(e) = Webhook::construct_event(payload, &header, SECRET) {
                panic!("{name}: {e}");
            }
        }
    }

    #[test]
    fn a_succeeded_payment_is_read_with_its_order_and_amounts() {
        let event = signed(fixture("payment_intent.succeeded")).expect("verifies");
        assert_eq!(event.id, "evt_3QkXyZLkdIwHu7ix1aBcDeFg");
        assert_eq!(event.created, 1_767_225_612);
        assert_eq!(
            event.kind,
            EventKind::PaymentSucceeded(IntentEvent {
                intent_id: "pi_3QkXyZLkdIwHu7ix0XyZ1234".into(),
                order_id: order(),
                amount: eur(5880),
                amount_received: 5880,
                failure_message: None,
                canceled_at: None,
            })
        );
    }

    #[test]
    fn a_failed_payment_carries_the_decline_message() {
        let event = signed(fixture("payment_intent.payment_failed")).expect("verifies");
        assert_eq!(
            event.kind,
            EventKind::PaymentFailed(IntentEvent {
                intent_id: "pi_3QkXyZLkdIwHu7ix0XyZ1234".into(),
                order_id: order(),
                amount: eur(5880),
                amount_received: 0,
                failure_message: Some("Your card was declined.".into()),
                canceled_at: None,
            })
        );
    }

    #[test]
    fn canceled_and_processing_payments_are_read() {
        let canceled = signed(fixture("payment_intent.canceled")).expect("verifies");
        let EventKind::PaymentCanceled(intent) = canceled.kind else { panic!("{canceled:?}") };
        assert_eq!((intent.order_id, intent.amount, intent.amount_received), (order(), eur(5880), 0));
        assert_eq!(intent.canceled_at, Some(1_767_227_400));

        let processing = signed(fixture("payment_intent.processing")).expect("verifies");
        let EventKind::PaymentProcessing(intent) = processing.kind else { panic!("{processing:?}") };
        assert_eq!((intent.order_id, intent.amount, intent.amount_received), (order(), eur(5880), 0));
    }

    #[test]
    fn a_refunded_charge_carries_the_total_refunded() {
        let event = signed(fixture("charge.refunded")).expect("verifies");
        assert_eq!(
            event.kind,
            EventKind::ChargeRefunded(ChargeEvent {
                charge_id: "ch_3QkXyZLkdIwHu7ix0Ch12345".into(),
                intent_id: Some("pi_3QkXyZLkdIwHu7ix0XyZ1234".into()),
                amount: eur(5880),
                amount_refunded: eur(2000),
            })
        );
    }

    #[test]
    fn a_dispute_is_read_with_its_reason() {
        let event = signed(fixture("charge.dispute.created")).expect("verifies");
        assert_eq!(
            event.kind,
            EventKind::DisputeCreated(DisputeEvent {
                dispute_id: "du_1QkZaBLkdIwHu7ixDsp12345".into(),
                intent_id: Some("pi_3QkXyZLkdIwHu7ix0XyZ1234".into()),
                amount: eur(5880),
                reason: "fraudulent".into(),
            })
        );
    }

    #[test]
    fn an_intent_without_our_metadata_is_foreign() {
        let mut event: serde_json::Value = serde_json::from_str(fixture("payment_intent.succeeded")).expect("json");
        event["data"]["object"]["metadata"] = serde_json::json!({});
        let foreign = signed(&event.to_string()).expect("verifies");
        let EventKind::PaymentSucceeded(intent) = foreign.kind else { panic!("{foreign:?}") };
        assert_eq!(intent.order_id, None);

        event["data"]["object"]["metadata"] = serde_json::json!({ ORDER_ID_METADATA: "order-42" });
        let not_ours = signed(&event.to_string()).expect("verifies");
        let EventKind::PaymentSucceeded(intent) = not_ours.kind else { panic!("{not_ours:?}") };
        assert_eq!(intent.order_id, None, "a value that is not an order id is someone else's too");
    }

    #[test]
    fn an_unknown_type_is_ignored_by_name() {
        let event = signed(fixture("customer.created")).expect("verifies");
        assert_eq!(event.kind, EventKind::Ignored("customer.created".into()));
    }

    #[test]
    fn localstripes_sparser_objects_are_read() {
        // localstripe's PaymentIntents have no amount_received and its events no
        // pending_webhooks: async-stripe's typed parser refuses them, ours reads what it needs.
        let payload = fixture("localstripe.payment_intent.succeeded");
        let header = sign(payload, "whsec_test", now());
        assert!(matches!(Webhook::construct_event(payload, &header, "whsec_test"), Err(StripeError::BadParse(_))));
        let event = verify(payload, Some(&header), "whsec_test").expect("verifies");
        let EventKind::PaymentSucceeded(intent) = event.kind else { panic!("{event:?}") };
        assert_eq!(intent.amount, eur(1999));
        assert_eq!(intent.amount_received, 1999, "a succeeded intent without amount_received received it all");
    }

    #[test]
    fn a_missing_or_empty_header_is_missing() {
        let payload = fixture("payment_intent.succeeded");
        assert_eq!(verify(payload, None, SECRET), Err(WebhookError::MissingSignature));
        assert_eq!(verify(payload, Some(""), SECRET), Err(WebhookError::MissingSignature));
    }

    #[test]
    fn a_malformed_header_is_a_bad_signature() {
        let payload = fixture("payment_intent.succeeded");
        let t = now();
        let good = sign(payload, SECRET, t);
        let v1 = good.split_once(",v1=").map(|(_, v)| v.to_owned()).expect("v1");
        for header in [
            "garbage".to_owned(),
            format!("t={t}"),
            format!("v1={v1}"),
            format!("t=yesterday,v1={v1}"),
            format!("t={t},v1=not-hex"),
            format!("t={t},v0={v1}"),
            format!("t={t};v1={v1}"),
        ] {
            assert_eq!(verify(payload, Some(&header), SECRET), Err(WebhookError::BadSignature), "{header}");
        }
    }

    #[test]
    fn a_wrong_or_empty_secret_is_a_bad_signature() {
        let payload = fixture("payment_intent.succeeded");
        let header = sign(payload, "whsec_someone_else", now());
        assert_eq!(verify(payload, Some(&header), SECRET), Err(WebhookError::BadSignature));
        let header = sign(payload, "", now());
        assert_eq!(verify(payload, Some(&header), ""), Err(WebhookError::BadSignature));
    }

    #[test]
    fn a_tampered_payload_is_a_bad_signature() {
        let payload = fixture("payment_intent.succeeded");
        let header = sign(payload, SECRET, now());
        let tampered = payload.replace("5880", "1");
        assert_ne!(tampered, payload);
        assert_eq!(verify(&tampered, Some(&header), SECRET), Err(WebhookError::BadSignature));
    }

    #[test]
    fn signatures_older_or_newer_than_five_minutes_are_stale() {
        let payload = fixture("payment_intent.succeeded");
        let t = now();
        for (offset, expected) in
            [(-301, Err(WebhookError::Stale)), (301, Err(WebhookError::Stale)), (-3600, Err(WebhookError::Stale))]
        {
            assert_eq!(verify(payload, Some(&sign(payload, SECRET, t + offset)), SECRET).map(|_| ()), expected);
        }
        // Within the tolerance either way (a few seconds short of it, so a slow test cannot flake).
        for offset in [-290, 290] {
            assert!(verify(payload, Some(&sign(payload, SECRET, t + offset)), SECRET).is_ok(), "{offset}");
        }
    }

    #[test]
    fn any_matching_v1_signature_is_enough_so_secrets_can_rotate() {
        let payload = fixture("payment_intent.succeeded");
        let t = now();
        let v1 = |secret: &str| sign(payload, secret, t).split_once(",v1=").map(|(_, v)| v.to_owned()).expect("v1");
        let both = format!("t={t},v1={},v1={}", v1("whsec_old"), v1("whsec_new"));
        assert!(verify(payload, Some(&both), "whsec_old").is_ok());
        assert!(verify(payload, Some(&both), "whsec_new").is_ok());
        assert_eq!(verify(payload, Some(&both), "whsec_other"), Err(WebhookError::BadSignature));
        // Stripe also sends a v0 (test-mode) signature and may add schemes: they are skipped.
        let with_v0 = format!("t={t},v1={},v0={}", v1("whsec_new"), v1("whsec_old"));
        assert!(verify(payload, Some(&with_v0), "whsec_new").is_ok());
    }

    #[test]
    fn an_unreadable_payload_is_only_malformed_once_authentic() {
        // Pins the order the module relies on: the parse failure comes after both checks.
        let payload = r#"{"hello": "world"}"#;
        assert!(matches!(signed(payload), Err(WebhookError::Malformed(_))));
        let wrong = sign(payload, "whsec_someone_else", now());
        assert_eq!(verify(payload, Some(&wrong), SECRET), Err(WebhookError::BadSignature));
        let old = sign(payload, SECRET, now() - 301);
        assert_eq!(verify(payload, Some(&old), SECRET), Err(WebhookError::Stale));
    }

    #[test]
    fn an_event_we_act_on_without_its_fields_or_with_an_unknown_currency_is_malformed() {
        let mut event: serde_json::Value = serde_json::from_str(fixture("payment_intent.succeeded")).expect("json");
        event["data"]["object"]["currency"] = "xyz".into();
        let Err(WebhookError::Malformed(why)) = signed(&event.to_string()) else { panic!("accepted xyz") };
        assert!(why.contains("XYZ"), "{why}");

        event["data"]["object"]["currency"] = "eur".into();
        event["data"]["object"].as_object_mut().expect("object").remove("amount");
        let Err(WebhookError::Malformed(why)) = signed(&event.to_string()) else { panic!("accepted no amount") };
        assert!(why.contains("amount"), "{why}");

        let no_data = r#"{"id": "evt_1", "object": "event", "created": 1, "type": "charge.refunded"}"#;
        assert!(matches!(signed(no_data), Err(WebhookError::Malformed(_))));
        // An unknown type needs nothing but its name.
        let unknown = r#"{"id": "evt_2", "object": "event", "created": 1, "type": "payout.paid"}"#;
        assert_eq!(signed(unknown).map(|e| e.kind), Ok(EventKind::Ignored("payout.paid".into())));
    }

    #[test]
    fn currencies_keep_their_exponent() {
        let mut event: serde_json::Value = serde_json::from_str(fixture("payment_intent.succeeded")).expect("json");
        event["data"]["object"]["currency"] = "jpy".into();
        let EventKind::PaymentSucceeded(intent) = signed(&event.to_string()).expect("verifies").kind else {
            panic!("kind")
        };
        assert_eq!(intent.amount, Money::new(5880, Currency::JPY));
    }

    /// What a PaymentIntent event built from the strategy below must be read as.
    #[derive(Debug, Clone)]
    struct IntentCase {
        kind: &'static str,
        intent_id: String,
        amount: i64,
        currency: Currency,
        status: &'static str,
        amount_received: Option<i64>,
        /// An order id, something else under the metadata key, or no key.
        metadata: Option<String>,
        failure_message: Option<String>,
        canceled_at: Option<i64>,
    }

    fn intent_cases() -> impl proptest::strategy::Strategy<Value = IntentCase> {
        use proptest::prelude::*;
        let kinds = prop::sample::select(INTENT_TYPES.to_vec());
        let statuses = prop::sample::select(vec!["succeeded", "requires_payment_method", "canceled", "processing"]);
        let metadata =
            prop_oneof![Just(None), Just(Some(OrderId::generate().to_string())), "[a-z_0-9]{0,30}".prop_map(Some),];
        (
            (
                kinds,
                "pi_[A-Za-z0-9]{1,24}",
                0i64..1_000_000_000_000,
                prop::sample::select(Currency::all().collect::<Vec<_>>()),
            ),
            (statuses, prop::option::of(0i64..1_000_000_000_000), metadata),
            (prop::option::of(".{0,40}"), prop::option::of(0i64..4_000_000_000)),
        )
            .prop_map(
                |(
                    (kind, intent_id, amount, currency),
                    (status, amount_received, metadata),
                    (failure_message, canceled_at),
                )| {
                    IntentCase {
                        kind,
                        intent_id,
                        amount,
                        currency,
                        status,
                        amount_received,
                        metadata,
                        failure_message,
                        canceled_at,
                    }
                },
            )
    }

    /// Bodies that look like events, half of them not quite: `id` and `created` of any JSON
    /// type, a known or made-up `type`, and `data.object` empty, absent or not an object. Random
    /// text alone is almost never an event, so this is what reaches the accepting branch.
    fn event_shaped() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let scalar = || {
            prop_oneof![
                "[a-z_0-9]{0,12}".prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                Just(serde_json::Value::Null),
            ]
        };
        let kind = prop_oneof![
            prop::sample::select(
                INTENT_TYPES.into_iter().chain(CHARGE_TYPES).chain(["payout.paid"]).collect::<Vec<_>>()
            )
            .prop_map(str::to_owned),
            "[a-z._]{1,24}",
        ];
        let data = prop_oneof![
            Just(Some(serde_json::json!({ "object": {} }))),
            Just(Some(serde_json::json!({ "object": [] }))),
            Just(None),
        ];
        (scalar(), scalar(), kind, data).prop_map(|(id, created, kind, data)| {
            let mut event = serde_json::json!({ "id": id, "object": "event", "created": created, "type": kind });
            if let Some(data) = data {
                event["data"] = data;
            }
            event.to_string()
        })
    }

    proptest::proptest! {
        /// Any body with any `Stripe-Signature` header: verified or refused, never a panic, and a
        /// body signed with another secret is never accepted. Signed with ours, a body is
        /// `Malformed`, or read as exactly the event its own JSON says: a string `id`, an integer
        /// `created`, and a type nanoshop ignores unless its object has what nanoshop reads.
        #[test]
        fn arbitrary_payloads_and_headers_never_panic_or_pass(
            payload in proptest::prop_oneof![".{0,400}", event_shaped()],
            header in ".{0,200}",
            t in 0i64..4_000_000_000,
        ) {
            proptest::prop_assert!(verify(&payload, Some(&header), SECRET).is_err());
            let forged = sign(&payload, "whsec_other", t);
            proptest::prop_assert_eq!(verify(&payload, Some(&forged), SECRET), Err(WebhookError::BadSignature));
            match signed(&payload) {
                Err(WebhookError::Malformed(_)) => {}
                Err(other) => proptest::prop_assert!(false, "correctly signed, refused as {other:?}"),
                Ok(event) => {
                    let json: serde_json::Value = serde_json::from_str(&payload).expect("an accepted event is JSON");
                    proptest::prop_assert_eq!(json["id"].as_str(), Some(event.id.as_str()));
                    proptest::prop_assert_eq!(json["created"].as_i64(), Some(event.created));
                    // None of these bodies carries what an event nanoshop acts on needs.
                    let ignored = json["type"].as_str().map(|t| EventKind::Ignored(t.into()));
                    proptest::prop_assert_eq!(Some(event.kind), ignored);
                }
            }
        }

        /// A PaymentIntent event with any ids, amounts, currency, status and optional fields is
        /// read field for field, with `amount_received` defaulted from the status when absent.
        #[test]
        fn intent_events_are_read_field_for_field(case in intent_cases(), created in 0i64..4_000_000_000) {
            let mut object = serde_json::json!({
                "id": case.intent_id,
                "object": "payment_intent",
                "amount": case.amount,
                "currency": case.currency.code().to_ascii_lowercase(),
                "status": case.status,
            });
            if let Some(received) = case.amount_received {
                object["amount_received"] = received.into();
            }
            if let Some(value) = &case.metadata {
                object["metadata"] = serde_json::json!({ crate::port::ORDER_ID_METADATA: value });
            }
            if let Some(message) = &case.failure_message {
                object["last_payment_error"] = serde_json::json!({ "message": message });
            }
            if let Some(at) = case.canceled_at {
                object["canceled_at"] = at.into();
            }
            let payload = serde_json::json!({
                "id": "evt_prop", "object": "event", "created": created, "type": case.kind,
                "data": { "object": object },
            })
            .to_string();

            let event = signed(&payload).expect("a well-formed intent event verifies");
            let expected = IntentEvent {
                intent_id: case.intent_id.clone(),
                order_id: case.metadata.as_deref().and_then(|m| m.parse().ok()),
                amount: Money::new(case.amount, case.currency),
                amount_received: case.amount_received.unwrap_or(if case.status == "succeeded" { case.amount } else { 0 }),
                failure_message: case.failure_message.clone(),
                canceled_at: case.canceled_at,
            };
            let kind = match case.kind {
                "payment_intent.succeeded" => EventKind::PaymentSucceeded(expected),
                "payment_intent.payment_failed" => EventKind::PaymentFailed(expected),
                "payment_intent.canceled" => EventKind::PaymentCanceled(expected),
                _ => EventKind::PaymentProcessing(expected),
            };
            proptest::prop_assert_eq!(event, WebhookEvent { id: "evt_prop".into(), created, kind });
        }
    }
}
