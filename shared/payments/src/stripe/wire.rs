//! What Stripe answers, read into the port's types: small lenient response types, and the port's
//! error for each failure with whether sending again may help.

use ::stripe::{IdempotencyKey, StripeError};
use nanoshop_domain::{Currency, Money};

use crate::port::{Intent, IntentStatus, PaymentError};

/// Stripe answered something the adapter cannot read.
#[derive(Debug, thiserror::Error)]
#[error("unexpected answer from Stripe: {0}")]
struct UnexpectedResponse(String);

/// A Stripe error that may pass (a server error, a rate limit, a conflict on a key in use).
#[derive(Debug, thiserror::Error)]
#[error("Stripe answered {status}: {message}")]
struct TransientStripeError {
    status: u16,
    message: String,
}
/// The fields of a PaymentIntent nanoshop reads.
#[derive(miniserde::Deserialize)]
pub(super) struct IntentResponse {
    pub(super) id: String,
    pub(super) amount: i64,
    pub(super) currency: String,
    pub(super) status: String,
    pub(super) client_secret: Option<String>,
    pub(super) amount_received: Option<i64>,
}

/// The fields of a Refund nanoshop reads.
#[derive(miniserde::Deserialize)]
pub(super) struct RefundResponse {
    pub(super) id: String,
    pub(super) amount: i64,
    pub(super) currency: String,
    pub(super) status: Option<String>,
}

pub(super) fn to_intent(pi: IntentResponse) -> Result<Intent, PaymentError> {
    let client_secret =
        pi.client_secret.ok_or_else(|| unexpected(format!("payment intent {} without client_secret", pi.id)))?;
    Ok(Intent { amount: money(pi.amount, &pi.currency)?, status: status(&pi.status), id: pi.id, client_secret })
}

fn status(status: &str) -> IntentStatus {
    match status {
        "requires_payment_method" => IntentStatus::RequiresPaymentMethod,
        "requires_confirmation" => IntentStatus::RequiresConfirmation,
        "requires_action" => IntentStatus::RequiresAction,
        "processing" => IntentStatus::Processing,
        "succeeded" => IntentStatus::Succeeded,
        "canceled" => IntentStatus::Canceled,
        _ => IntentStatus::Other,
    }
}

pub(super) fn money(amount: i64, currency: &str) -> Result<Money, PaymentError> {
    let currency: Currency = currency.to_ascii_uppercase().parse().map_err(|e| unexpected(format!("{e}")))?;
    Ok(Money::new(amount, currency))
}

pub(super) fn idempotency_key(key: &str) -> Result<IdempotencyKey, PaymentError> {
    IdempotencyKey::new(key).map_err(|e| PaymentError::Refused(e.to_string()))
}

fn unexpected(what: String) -> PaymentError {
    PaymentError::Unavailable(Box::new(UnexpectedResponse(what)))
}

/// The port's error for what async-stripe reports, and whether the same call may succeed if
/// sent again.
pub(super) fn classify(error: StripeError) -> (PaymentError, bool) {
    match error {
        StripeError::Stripe(api, status) => {
            let message = api
                .message
                .clone()
                .or_else(|| api.code.as_ref().map(|c| c.as_str().to_owned()))
                .unwrap_or_else(|| api.type_.as_str().to_owned());
            if matches!(status, 409 | 424 | 429 | 500..=599) {
                (PaymentError::Unavailable(Box::new(TransientStripeError { status, message })), true)
            } else {
                (PaymentError::Refused(message), false)
            }
        }
        StripeError::ClientError(_) | StripeError::Timeout => (PaymentError::Unavailable(Box::new(error)), true),
        // An error status whose body is not a Stripe error (a proxy's page, a crashed emulator):
        // async-stripe drops the status, so it is taken as a server error.
        StripeError::JSONDeserialize(ref why) if why == "error deserializing Stripe error" => {
            (PaymentError::Unavailable(Box::new(error)), true)
        }
        // A success we cannot read would read no better the second time.
        StripeError::JSONDeserialize(_) | StripeError::ConfigError(_) => {
            (PaymentError::Unavailable(Box::new(error)), false)
        }
    }
}
