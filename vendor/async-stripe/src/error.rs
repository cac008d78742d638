use std::fmt::Display;

use stripe_client_core::StripeClientErr;
use stripe_shared::{ApiErrorsCode, ApiErrorsType};
use thiserror::Error;

/// An error encountered when communicating with the Stripe API.
#[derive(Debug, Error)]
pub enum StripeError {
    /// Stripe returned a client error.
    #[error("error reported by stripe: {0:#?}, status code: {1}")]
    Stripe(Box<ApiErrorFields>, u16),
    /// An error occurred when parsing the Stripe response.
    #[error("error deserializing a request: {0}")]
    JSONDeserialize(String),
    /// An error occurred communicating with Stripe.
    #[error("error communicating with stripe: {0}")]
    ClientError(String),
    /// The client configuration was invalid.
    #[error("configuration error: {0}")]
    ConfigError(String),
    /// A blocking request timed out
    #[error("timeout communicating with stripe")]
    Timeout,
}

// nanoshop patch: an error answer is read into these fields of Stripe's `ApiErrors` alone.
// `ApiErrors` also holds the PaymentIntent, PaymentMethod, SetupIntent and payment source an
// error may carry, so reading it links the parsers of most of Stripe's generated objects (2.2 MiB
// of code in each function that calls Stripe). See vendor/async-stripe/README.md.

/// The fields of an error answer from Stripe (its `ApiErrors`) that this client reads; the
/// others, among them the objects the error concerns, are skipped.
#[derive(Clone)]
#[cfg_attr(not(feature = "redact-generated-debug"), derive(Debug))]
#[derive(miniserde::Deserialize)]
pub struct ApiErrorFields {
    /// For some errors that could be handled programmatically, a short string indicating the [error code](https://docs.stripe.com/error-codes) reported.
    pub code: Option<ApiErrorsCode>,
    /// For card errors resulting from a card issuer decline, a short string indicating the [card issuer's reason for the decline](https://docs.stripe.com/declines#issuer-declines) if they provide one.
    pub decline_code: Option<String>,
    /// A human-readable message providing more details about the error.
    /// For card errors, these messages can be shown to your users.
    pub message: Option<String>,
    /// If the error is parameter-specific, the parameter related to the error.
    /// For example, you can use this to display a message near the correct form field.
    pub param: Option<String>,
    /// The type of error returned.
    /// One of `api_error`, `card_error`, `idempotency_error`, or `invalid_request_error`.
    #[serde(rename = "type")]
    pub type_: ApiErrorsType,
}

#[cfg(feature = "redact-generated-debug")]
impl std::fmt::Debug for ApiErrorFields {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("ApiErrorFields").finish_non_exhaustive()
    }
}

/// An error answer's body, `{"error": {...}}`.
#[derive(miniserde::Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) error: Box<ApiErrorFields>,
}

impl StripeClientErr for StripeError {
    fn deserialize_err(msg: impl Display) -> Self {
        Self::JSONDeserialize(msg.to_string())
    }
}

#[cfg(feature = "__hyper")]
impl From<hyper::Error> for StripeError {
    fn from(err: hyper::Error) -> StripeError {
        StripeError::ClientError(err.to_string())
    }
}

#[cfg(feature = "__hyper")]
impl From<hyper_util::client::legacy::Error> for StripeError {
    fn from(err: hyper_util::client::legacy::Error) -> StripeError {
        StripeError::ClientError(err.to_string())
    }
}

#[cfg(feature = "__hyper")]
impl From<hyper::http::Error> for StripeError {
    fn from(err: hyper::http::Error) -> StripeError {
        StripeError::ClientError(err.to_string())
    }
}

#[cfg(feature = "async-std-surf")]
impl From<http_types::Error> for StripeError {
    fn from(err: http_types::Error) -> StripeError {
        StripeError::ClientError(err.to_string())
    }
}
