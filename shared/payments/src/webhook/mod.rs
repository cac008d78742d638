//! Stripe's signed webhook events: the `Stripe-Signature` check and the few event shapes nanoshop
//! acts on.
//!
//! [`verify`] checks the header as Stripe documents it, and as `async-stripe-webhook`'s
//! `Webhook::construct_event` does: the event is accepted when any `v1` signature in the header is
//! the HMAC-SHA256 of `"{t}.{body}"` under the secret (so secret rotation works while Stripe signs
//! with the old and the new secret) and `t` is within 300 s of now, in the past or the future. A
//! wrong signature is answered as one before the time is looked at.
//!
//! The check is ours (HMAC by aws-lc-rs, which the functions already link, compared in constant
//! time), not `construct_event`, for the package's size: `construct_event` goes on to read the
//! event into async-stripe's generated types for every event Stripe has, whose parsers were a
//! large part of the payments-webhook binary (docs/benchmarks.md), and nanoshop reads none of
//! them. Those types require every field of the API version async-stripe is generated for
//! (2026-09-30): an authentic event rendered for an endpoint pinned to another API version, or
//! sent by localstripe (whose PaymentIntents have no `amount_received` and whose events have no
//! `pending_webhooks`), fails that parse anyway. The event is read by a lenient parser of our own
//! that takes only the fields nanoshop uses. The signing side stays async-stripe's
//! (`Webhook::generate_test_header`, in [`sign`]), so the tests check this verifier against the
//! library's signatures, and check that the library's `construct_event` accepts every fixture.
//!
//! Two guards, both found by the fuzz targets in `fuzz/` when `construct_event` did the check:
//! - `construct_event` computes `(now - t).abs()` unchecked: a `t` near `i64::MIN` panics where
//!   overflow checks are on and, in a release build, wraps so that `t = now + i64::MIN` passes as
//!   fresh. [`verify`] subtracts with a check, and a difference that does not fit is stale.
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

use aws_lc_rs::{constant_time, hmac};
use stripe_webhook::Webhook;

use self::event::parse;
pub use self::event::{ChargeEvent, DisputeEvent, EventKind, IntentEvent, WebhookEvent};
pub use self::secret::{MIN_SECRET_CHARS, UnusableSecret, check_signing_secret};

/// How far a signature's timestamp may be from now, either way (as `async-stripe-webhook` allows).
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
    let signature = Signature::parse(header).ok_or(WebhookError::BadSignature)?;
    // Signed as `"{t}.{body}"` with `t` written back from the number, as the library does.
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let expected = hmac::sign(&key, format!("{}.{payload}", signature.t).as_bytes());
    let matches = signature.v1.iter().any(|candidate| {
        hex::decode(candidate).is_ok_and(|v1| constant_time::verify_slices_are_equal(expected.as_ref(), &v1).is_ok())
    });
    if !matches {
        return Err(WebhookError::BadSignature);
    }
    // A difference that does not fit an `i64` is as stale as one that does and is too large.
    if unix_now().checked_sub(signature.t).is_none_or(|d| d.unsigned_abs() > TOLERANCE_SECONDS.unsigned_abs()) {
        return Err(WebhookError::Stale);
    }
    parse(payload)
}

/// A `Stripe-Signature` header: `t=<unix seconds>` and one or more `v1=<hex HMAC>`, comma-separated,
/// other elements (`v0=`, Stripe's test-mode scheme) ignored.
#[derive(Debug)]
struct Signature<'h> {
    t: i64,
    v1: Vec<&'h str>,
}

impl<'h> Signature<'h> {
    /// `None` for what async-stripe-webhook refuses too: an element without `=`, a `t` that is not
    /// an `i64` (the last `t` counts), no `t`, or no `v1`.
    fn parse(header: &'h str) -> Option<Self> {
        let (mut t, mut v1) = (None, Vec::new());
        for element in header.split(',') {
            match element.split_once('=')? {
                ("t", value) => t = Some(value.parse().ok()?),
                ("v1", value) => v1.push(value),
                _ => {}
            }
        }
        if v1.is_empty() {
            return None;
        }
        Some(Self { t: t?, v1 })
    }
}

/// Seconds since the Unix epoch, as Stripe's `t` and `created` count them.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The `Stripe-Signature` header Stripe would send for `payload` at `timestamp`
/// (`t={timestamp},v1={hex HMAC-SHA256 of "{timestamp}.{payload}"}`).
pub fn sign(payload: &str, secret: &str, timestamp: i64) -> String {
    Webhook::generate_test_header(payload, secret, Some(timestamp))
}
