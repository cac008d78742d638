//! [`ApiError`]: the single error type at the HTTP boundary, rendered as RFC 9457
//! `application/problem+json`.
//!
//! Handlers map their domain errors into it (business cases to a 4xx with a stable `code`,
//! everything else through [`ApiError::internal`]) and return [`Result<T>`]. The body shape is
//! the one `docs/api.md` promises; a 5xx never carries internal details.

use std::fmt;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use nanoshop_domain::{FieldError, ValidationErrors};
use serde::Serialize;

use crate::request_id::request_id;

/// `Result` for handlers and everything they call at the HTTP edge.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// The content type of every error response.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What a client sees instead of the cause of a 500: the cause stays in the logs, keyed by the
/// request id the client can quote.
const INTERNAL_DETAIL: &str =
    "an unexpected error occurred; it has been logged, quote the request id when reporting it";

/// An HTTP error response in the making.
///
/// `code` is the stable, machine-readable part of the contract (clients branch on it, so it never
/// changes once shipped); `title` and `detail` are for humans and may be reworded.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    /// Short, the same for every problem of one status (the status' reason phrase by default).
    pub title: &'static str,
    /// What went wrong with this request, safe to show to the caller.
    pub detail: String,
    /// One entry per rejected field; omitted from the body when empty.
    pub errors: Vec<FieldError>,
    /// Seconds for a `Retry-After` header (a 503 without one says 1).
    pub retry_after: Option<u64>,
    /// The cause of an internal error: logged when the response is built, never serialised.
    cause: Option<anyhow::Error>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            title: status.canonical_reason().unwrap_or("Error"),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            cause: None,
        }
    }

    #[must_use]
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 401 `unauthorized`; the response also carries `WWW-Authenticate: Bearer` as RFC 9110
    /// requires of every 401.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 403 `forbidden`. Only for callers who may know the resource exists: other people's carts
    /// and orders are a [`not_found`](Self::not_found) instead, so ids cannot be probed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404 `not_found`; `what` names the resource, e.g. ``"product `linen-shirt`"``.
    pub fn not_found(what: impl fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} was not found"))
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// 412 `version_conflict`: the `If-Match` version is not the current one.
    pub fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "version_conflict",
            "the resource has changed since it was read; fetch it again and retry with its new ETag",
        )
    }

    /// 422 `validation_failed`, listing every rejected field so a client can fix all at once.
    pub fn validation(errors: ValidationErrors) -> Self {
        let n = errors.0.len();
        let detail = if n == 1 {
            "1 field is invalid; see `errors`".to_owned()
        } else {
            format!("{n} fields are invalid; see `errors`")
        };
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", detail).with_errors(errors.0)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    /// 429 with `Retry-After: retry_after_secs` (at least 1): the caller has used up an allowance
    /// and may try again after that long.
    pub fn too_many_requests(code: &'static str, detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Self { retry_after: Some(retry_after_secs.max(1)), ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, detail) }
    }

    /// 503 `service_unavailable` with `Retry-After: 1`: the storage or a provider is throttling
    /// or unreachable, and the same request may succeed shortly. The cause is logged like a 500's.
    pub fn unavailable(err: impl Into<anyhow::Error>) -> Self {
        Self {
            cause: Some(err.into()),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "the service is busy; retry in a moment",
            )
        }
    }

    /// 503 `not_configured`: a secret or key this request needs is missing, a placeholder, or
    /// cannot be read yet (`secrets`). Logged as an error, since only an operator can fix it;
    /// clients (and Stripe, which redelivers events for three days) retry later.
    pub fn not_configured(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "not_configured", detail)
    }

    /// 500 `internal_error` with a generic detail. `err` and its cause chain are logged once,
    /// with the request id, when the response is built; they never reach the body.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self {
            cause: Some(err.into()),
            ..Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", INTERNAL_DETAIL)
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_ref().map(|c| c.as_ref() as _)
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::validation(errors)
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ProblemField<'a>>,
    request_id: &'a str,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ProblemField<'a> {
    field: &'a str,
    message: &'a str,
}

impl ApiError {
    /// The problem+json body this error answers with, for the current request id. Idempotent
    /// requests store it to replay a final answer.
    pub fn to_problem_json(&self) -> String {
        let request_id = request_id();
        let problem = Problem {
            kind: format!("urn:nanoshop:problem:{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
            code: self.code,
            errors: self.errors.iter().map(|e| ProblemField { field: &e.field, message: &e.message }).collect(),
            request_id: &request_id,
        };
        // Serialising strings and integers cannot fail; the fallback only keeps this panic-free.
        serde_json::to_string(&problem).unwrap_or_else(|_| {
            r#"{"type":"urn:nanoshop:problem:internal_error","status":500,"code":"internal_error"}"#.to_owned()
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = request_id();
        // The one place a failure is logged: handlers just return the error, so a cause is never
        // logged twice or lost.
        if let Some(cause) = &self.cause {
            tracing::error!(
                request_id = %request_id,
                code = self.code,
                error = format!("{cause:#}"),
                "request failed"
            );
        } else if self.status.is_server_error() {
            tracing::error!(request_id = %request_id, code = self.code, detail = %self.detail, "request failed");
        }

        let body = self.to_problem_json();

        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        match self.retry_after {
            Some(secs) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            None if self.status == StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            None => {}
        }
        response
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::request_id::REQUEST_ID;
    use http_body_util::BodyExt;
    use serde_json::{Value, json};
    use std::sync::{Arc, Mutex};

    /// Status, headers and the JSON body of a response.
    pub(crate) async fn parts(response: Response) -> (StatusCode, http::HeaderMap, Value) {
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (parts.status, parts.headers, value)
    }

    /// Asserts `response` is a problem+json with `status` and `code`, and returns its body.
    pub(crate) async fn problem(response: Response, status: StatusCode, code: &str) -> Value {
        let (got, headers, body) = parts(response).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(headers[header::CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status.as_u16());
        assert_eq!(body["type"], format!("urn:nanoshop:problem:{code}"));
        body
    }

    /// Everything logged on this thread while the guard lives.
    #[derive(Clone, Default)]
    pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

    impl Logs {
        pub(crate) fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
            let logs = Self::default();
            let subscriber = tracing_subscriber::fmt().with_writer(logs.clone()).with_ansi(false).finish();
            (logs, tracing::subscriber::set_default(subscriber))
        }

        pub(crate) fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    impl std::io::Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
        type Writer = Self;
        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    #[tokio::test]
    async fn a_validation_error_lists_every_field_as_problem_json() {
        let mut errors = ValidationErrors::default();
        errors.add("title", "must not be empty");
        errors.add("variants[0].sku", "is taken");

        let body =
            problem(ApiError::from(errors).into_response(), StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
                .await;

        assert_eq!(body["title"], "Unprocessable Entity");
        assert_eq!(body["detail"], "2 fields are invalid; see `errors`");
        assert_eq!(
            body["errors"],
            json!([
                {"field": "title", "message": "must not be empty"},
                {"field": "variants[0].sku", "message": "is taken"},
            ])
        );
    }

    #[tokio::test]
    async fn errors_are_omitted_when_empty_and_request_id_is_unknown_outside_a_request() {
        let body = problem(
            ApiError::conflict("out_of_stock", "only 2 left").into_response(),
            StatusCode::CONFLICT,
            "out_of_stock",
        )
        .await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(body["detail"], "only 2 left");
        assert_eq!(body["request_id"], "unknown");
    }

    #[tokio::test]
    async fn the_body_carries_the_request_id_of_the_current_request() {
        let response =
            REQUEST_ID.scope("req-42".into(), async { ApiError::not_found("product `x`").into_response() }).await;
        let body = problem(response, StatusCode::NOT_FOUND, "not_found").await;
        assert_eq!(body["request_id"], "req-42");
        assert_eq!(body["detail"], "product `x` was not found");
    }

    #[tokio::test]
    async fn too_many_requests_says_when_to_retry() {
        let response = ApiError::too_many_requests("too_many_attempts", "wait", 754).into_response();
        let (_, headers, _) = parts(response).await;
        assert_eq!(headers[header::RETRY_AFTER], "754");
        let body = problem(
            ApiError::too_many_requests("too_many_attempts", "wait", 0).into_response(),
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
        )
        .await;
        assert_eq!(body["detail"], "wait");
        let (_, headers, _) = parts(ApiError::too_many_requests("x", "y", 0).into_response()).await;
        assert_eq!(headers[header::RETRY_AFTER], "1", "never `Retry-After: 0`, which invites a busy loop");
        let (_, headers, _) = parts(ApiError::unavailable(anyhow::anyhow!("busy")).into_response()).await;
        assert_eq!(headers[header::RETRY_AFTER], "1");
    }

    #[tokio::test]
    async fn unauthorized_asks_for_a_bearer_token() {
        let (status, headers, _) = parts(ApiError::unauthorized("no").into_response()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
        let (_, headers, _) = parts(ApiError::forbidden("no").into_response()).await;
        assert!(headers.get(header::WWW_AUTHENTICATE).is_none());
    }

    #[tokio::test]
    async fn an_internal_error_hides_its_cause_from_the_client_and_logs_it_once() {
        let (logs, _guard) = Logs::capture();
        let cause = anyhow::anyhow!("password=hunter2 rejected by db").context("loading cart");

        let response = REQUEST_ID.scope("req-7".into(), async { ApiError::internal(cause).into_response() }).await;
        let body = problem(response, StatusCode::INTERNAL_SERVER_ERROR, "internal_error").await;

        assert_eq!(body["detail"], INTERNAL_DETAIL);
        assert!(!body.to_string().contains("hunter2"), "{body}");
        let logs = logs.text();
        assert_eq!(logs.matches("request failed").count(), 1, "{logs}");
        assert!(logs.contains("req-7"), "{logs}");
        assert!(logs.contains("loading cart: password=hunter2 rejected by db"), "{logs}");
    }
}
