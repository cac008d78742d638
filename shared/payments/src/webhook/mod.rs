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
//! first; the tests (`tests.rs`) pin that order (an unreadable payload with a wrong signature is
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
//!
//! One concern a file: this one verifies (and, for the simulator and tests, signs); `event`
//! holds the event shapes and their lenient parser; `secret` decides which signing secrets are
//! worth verifying with.

mod event;
mod secret;
#[cfg(test)]
mod tests;

use stripe_webhook::{Webhook, WebhookError as StripeError};

use self::event::parse;
pub use self::event::{ChargeEvent, DisputeEvent, EventKind, IntentEvent, WebhookEvent};
pub use self::secret::{MIN_SECRET_CHARS, UnusableSecret, check_signing_secret};

/// How far a signature's timestamp may be from now, either way (enforced by `async-stripe-webhook`).
pub const TOLERANCE_SECONDS: i64 = 300;

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
