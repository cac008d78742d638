//! `POST /webhooks/stripe`: Stripe's answer codes matter. 400 for anything not signed by Stripe
//! (nothing changes), 200 for every event processed, seen before, or not ours, and 503 when the
//! store or the provider failed, so Stripe delivers the event again later. 503 `not_configured`
//! too while the signing secret is missing, a placeholder or guessable
//! ([`webhook::check_signing_secret`]): verifying with a secret anyone can know would let anyone
//! mark an order paid, and Stripe keeps redelivering for three days while the real one is set.
//!
//! The secret is read at run time (`nanoshop_api::secrets`): a signature that fails with the
//! cached secret makes the handler read it again (at most once a minute) and verify once more, so
//! a rotated secret takes effect without a restart.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use nanoshop_api::{ApiError, Json, Metric, Result, metrics};
use nanoshop_domain::order::PaymentEvent;
use nanoshop_payments::webhook::{self, EventKind, WebhookError};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::WebhookDeps;
use crate::apply::{self, Applied, ApplyError};

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ReceivedHttpResponse {
    received: bool,
    outcome: &'static str,
}

/// What Stripe sends: an event, read from the raw body only after its signature checks out. The
/// schema names what the webhook reads; Stripe sends more, which is ignored.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[schemars(extend("additionalProperties" = true))]
pub struct StripeEventHttpBody {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: serde_json::Map<String, serde_json::Value>,
}

fn answer(outcome: &'static str) -> Response {
    let applied = outcome == "applied";
    metrics::count(if applied { Metric::WebhookEventsApplied } else { Metric::WebhookEventsIgnored });
    (StatusCode::OK, Json(ReceivedHttpResponse { received: true, outcome })).into_response()
}

impl From<ApplyError> for ApiError {
    fn from(e: ApplyError) -> Self {
        // Every failure here is worth a redelivery: Stripe retries 5xx answers for days.
        ApiError::unavailable(e)
    }
}

/// The signing secret, if it is one worth verifying with; a missing or unusable one is read again
/// (at most once a minute), since `scripts/connect-stripe.py` may just have stored the real one.
async fn signing_secret(deps: &WebhookDeps) -> Result<SecretString> {
    let usable = |s: &Option<SecretString>| match s {
        Some(s) => webhook::check_signing_secret(s.expose_secret()),
        None => Err(webhook::UnusableSecret::Missing),
    };
    let mut secret = deps.secret.get().await;
    if usable(&secret).is_err() && deps.secret.reread().await {
        secret = deps.secret.cached();
    }
    match (usable(&secret), secret) {
        (Ok(()), Some(secret)) => Ok(secret),
        (why, _) => {
            let why = why.err().unwrap_or(webhook::UnusableSecret::Missing);
            tracing::error!(reason = %why, "refusing webhook events: no usable signing secret");
            Err(ApiError::not_configured("the webhook signing secret is not configured"))
        }
    }
}

/// The answer to a delivery that is not a signed event, counted: signature failures are what
/// Stripe signing with another secret looks like (an alarm watches them), malformed events a bug
/// on one side.
fn refused(e: WebhookError) -> ApiError {
    let malformed = matches!(e, WebhookError::Malformed(_));
    metrics::count(if malformed { Metric::WebhookEventsMalformed } else { Metric::WebhookSignatureFailures });
    match e {
        WebhookError::MissingSignature => {
            ApiError::bad_request("missing_signature", "the Stripe-Signature header is missing")
        }
        WebhookError::BadSignature => ApiError::bad_request("invalid_signature", "no signature matches this payload"),
        WebhookError::Stale => {
            ApiError::bad_request("stale_signature", "the signature is older or newer than five minutes")
        }
        WebhookError::Malformed(why) => {
            ApiError::bad_request("malformed_event", format!("the event cannot be read: {why}"))
        }
    }
}

/// `POST /webhooks/stripe`.
pub async fn receive(State(deps): State<WebhookDeps>, headers: HeaderMap, body: Bytes) -> Result<Response> {
    let payload = std::str::from_utf8(&body).map_err(|_| {
        metrics::count(Metric::WebhookEventsMalformed);
        ApiError::bad_request("malformed_event", "the body is not UTF-8")
    })?;
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    let secret = signing_secret(&deps).await?;
    let verified = match webhook::verify(payload, signature, secret.expose_secret()) {
        // Perhaps the secret was rotated: read it again (the source limits how often) and retry.
        Err(WebhookError::BadSignature) if deps.secret.reread().await => {
            tracing::info!("the webhook signing secret changed");
            webhook::verify(payload, signature, signing_secret(&deps).await?.expose_secret())
        }
        other => other,
    };
    let event = verified.map_err(refused)?;
    let (intent_id, order_id, payment_event) = match event.kind {
        EventKind::PaymentSucceeded(e) => {
            let received = nanoshop_domain::Money::new(e.amount_received, e.amount.currency);
            (e.intent_id, e.order_id, PaymentEvent::Succeeded { amount: received })
        }
        EventKind::PaymentFailed(e) => (e.intent_id, e.order_id, PaymentEvent::Failed { message: e.failure_message }),
        EventKind::PaymentCanceled(e) => {
            // When the intent was canceled decides cancelled or expired (`Order::on_payment`);
            // without `canceled_at`, the event's own creation is the closest record of it.
            let at = chrono::DateTime::from_timestamp(e.canceled_at.unwrap_or(event.created), 0)
                .unwrap_or_else(chrono::Utc::now);
            (e.intent_id, e.order_id, PaymentEvent::Canceled { at })
        }
        EventKind::PaymentProcessing(e) => (e.intent_id, e.order_id, PaymentEvent::Processing),
        EventKind::ChargeRefunded(c) => {
            let Some(intent) = c.intent_id else { return Ok(answer("not_ours")) };
            let order = apply::order_of_intent(deps.store.as_ref(), &intent).await?;
            (intent, order, PaymentEvent::Refunded { total_refunded: c.amount_refunded })
        }
        EventKind::DisputeCreated(d) => {
            let Some(intent) = d.intent_id else { return Ok(answer("not_ours")) };
            let order = apply::order_of_intent(deps.store.as_ref(), &intent).await?;
            (intent, order, PaymentEvent::Disputed)
        }
        EventKind::Ignored(kind) => {
            tracing::debug!(event = %event.id, kind, "event type ignored");
            return Ok(answer("ignored"));
        }
    };
    let Some(order_id) = order_id else { return Ok(answer("not_ours")) };
    let applied = apply::apply(&deps, &event.id, &order_id, &intent_id, &payment_event).await?;
    tracing::info!(event = %event.id, order = %order_id, ?applied, "payment event");
    Ok(answer(match applied {
        Applied::Changed => "applied",
        Applied::Duplicate => "duplicate",
        Applied::NoEffect => "no_effect",
        Applied::NotOurs => "not_ours",
    }))
}
