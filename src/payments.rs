//! Payments in local mode: the built-in simulator (or real Stripe in test mode when
//! `STRIPE_SECRET_KEY` is set), `POST /dev/payments/{id}/confirm`, and the delivery of the
//! simulator's signed events to `/webhooks/stripe`, as Stripe would deliver them.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use nanoshop_api::{ApiError, Json, Result};
use nanoshop_payments::simulator::{SignedEvent, Simulator, SimulatorError};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;

/// The simulator and the webhook route its events go to.
#[derive(Clone)]
pub struct LocalPayments {
    pub simulator: Arc<Simulator>,
    /// The webhook function's router, called in-process with each signed event.
    pub webhook: Router,
}

impl std::fmt::Debug for LocalPayments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalPayments").finish_non_exhaustive()
    }
}

impl LocalPayments {
    /// Delivers one signed event to the webhook and says whether it was accepted.
    async fn deliver(&self, event: SignedEvent) -> bool {
        let request = Request::post("/webhooks/stripe")
            .header("content-type", "application/json")
            .header("stripe-signature", event.signature)
            .body(Body::from(event.payload));
        match request {
            Ok(request) => match self.webhook.clone().oneshot(request).await {
                Ok(response) if response.status().is_success() => true,
                Ok(response) => {
                    tracing::warn!(status = %response.status(), "the webhook refused a simulator event");
                    false
                }
                Err(infallible) => match infallible {},
            },
            Err(e) => {
                tracing::error!(error = %e, "could not build a webhook request");
                false
            }
        }
    }

    /// Delivers the events that cancels and refunds produced since the last call.
    pub async fn deliver_pending(&self) {
        for event in self.simulator.take_pending_events() {
            self.deliver(event).await;
        }
    }

    /// `POST /dev/payments/{id}/confirm`.
    pub fn router(&self) -> Router {
        Router::new().route("/dev/payments/{id}/confirm", post(confirm)).with_state(self.clone())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmHttpRequest {
    card: String,
}

#[derive(Debug, Serialize)]
struct ConfirmHttpResponse {
    payment_intent_id: String,
    /// `succeeded` or `failed`.
    status: &'static str,
    /// Why the card was declined, for the shopper.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

async fn confirm(
    State(payments): State<LocalPayments>,
    Path(id): Path<String>,
    Json(body): Json<ConfirmHttpRequest>,
) -> Result<Response> {
    let events = payments.simulator.confirm(&id, &body.card).map_err(|e| match e {
        SimulatorError::UnknownIntent(_) => ApiError::not_found("payment intent"),
        SimulatorError::NotConfirmable { .. } => ApiError::conflict("payment_not_confirmable", e.to_string()),
        SimulatorError::UnknownCard => ApiError::unprocessable("unknown_test_card", e.to_string()),
    })?;
    let mut outcome = ConfirmHttpResponse { payment_intent_id: id, status: "succeeded", message: None };
    for event in events {
        let declined = event.payload.contains("\"payment_intent.payment_failed\"");
        if declined {
            outcome.status = "failed";
            outcome.message = serde_json::from_str::<serde_json::Value>(&event.payload)
                .ok()
                .and_then(|v| v["data"]["object"]["last_payment_error"]["message"].as_str().map(str::to_owned));
        }
        if !payments.deliver(event).await {
            return Err(ApiError::internal(anyhow::anyhow!("the webhook did not accept a simulator event")));
        }
    }
    Ok((StatusCode::OK, Json(outcome)).into_response())
}
