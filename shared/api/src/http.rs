//! The layers every function wraps its router in, and the `/health` route every function serves.
//!
//! [`with_common_layers`] is what makes the cross-cutting parts of `docs/api.md` true for every route
//! at once: `X-Request-Id` on every response, problem+json for the errors axum and tower produce
//! themselves (404, 405, 413, panics), and the 64 KiB body limit.

use std::any::Any;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use serde::Serialize;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tracing::Instrument;

use crate::error::{ApiError, PROBLEM_JSON};
use crate::extract::{Json, MAX_BODY_BYTES, payload_too_large};
use crate::request_id::REQUEST_ID;

/// The longest client-supplied request id we adopt; longer ones are replaced, not truncated, so
/// a log search for what the client sent never finds a different request.
const MAX_REQUEST_ID_LEN: usize = 128;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps `router` in the layers every nanoshop function shares, outermost first:
///
/// 1. request id: adopts a client's `X-Request-Id` if it is 1–128 characters of
///    `[A-Za-z0-9._-]`, otherwise generates a ULID; sets [`request_id()`](crate::request_id()) for the rest of the
///    request, opens a tracing span with the id, method and path, and puts the id on every
///    response, errors included;
/// 2. panics become the opaque 500 `internal_error` (logged with the request id);
/// 3. bodies over [`MAX_BODY_BYTES`] are refused with 413 `payload_too_large`, whether the
///    client declared the size in `Content-Length` or streamed it chunked;
/// 4. unknown paths are 404 `not_found`, known paths with the wrong method 405
///    `method_not_allowed` (with `Allow`).
///
/// Call it last, on the fully assembled router: layers only wrap the routes that exist when
/// they are applied, and the 404 fallback set here replaces any earlier one. The panic catcher
/// only works where panics unwind; in a `panic = "abort"` build a panic ends the process.
pub fn with_common_layers(router: Router) -> Router {
    with_common_layers_and_fallback(router.fallback(not_found))
}

/// [`with_common_layers`] for a router that brings its own fallback (the local server's
/// storefront files), which then gets the same layers as every route.
pub fn with_common_layers_and_fallback(router: Router) -> Router {
    router.method_not_allowed_fallback(method_not_allowed).layer(
        ServiceBuilder::new()
            .layer(from_fn(request_context))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(from_fn(problem_for_payload_too_large))
            // Refuses by `Content-Length` before the handler runs, and caps streamed bodies.
            .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
            // axum's own extractor limit (2 MB by default) lowered to match, so `Json` fails
            // with its 413 rather than relying on the outer layer alone.
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
    )
}

/// A route a function serves: method, path (in API Gateway syntax, `{id}`), who may call it,
/// and what it does. Each function exports its table; the OpenAPI document, the infrastructure
/// template checks and the routing tests are all derived from it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub summary: &'static str,
    /// The JSON body the handler deserializes, if it reads one.
    pub body: Option<SchemaFn>,
    /// The structs the handler reads its query string into; each field is one parameter.
    pub query: &'static [SchemaFn],
    /// Each success status with the JSON body the handler serializes (`None`: no body).
    pub ok: &'static [(u16, Option<SchemaFn>)],
    /// The headers the route reads or answers with, beyond its credentials (see [`Access`]).
    pub headers: &'static [Header],
    /// The route's own errors: each status with its problem `code` values. Errors every route of
    /// a kind answers (a bad body, a bad JWT, a bad `If-Match`, paging, 5xx...) are added by the
    /// OpenAPI generator from the other fields, so this lists what is particular to the route.
    pub errors: &'static [(u16, &'static [&'static str])],
}

/// Writes a type's JSON Schema into the OpenAPI generator and answers a reference to it.
pub type SchemaFn = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;

/// The [`SchemaFn`] of `T`: `body: Some(schema::<ItemHttpBody>)`.
pub fn schema<T: schemars::JsonSchema>(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    generator.subschema_for::<T>()
}

/// The schema of a body that is one of several types (`GET /settings`: public or full).
pub fn one_of<A: schemars::JsonSchema, B: schemars::JsonSchema>(
    generator: &mut schemars::SchemaGenerator,
) -> schemars::Schema {
    let (a, b) = (generator.subschema_for::<A>(), generator.subschema_for::<B>());
    schemars::json_schema!({"anyOf": [a, b]})
}

/// A header a route reads or answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// `Idempotency-Key` is required (checkout, refunds).
    IdempotencyKey,
    /// `If-Match` is accepted (optional) with the resource's `ETag`.
    IfMatch,
    /// Success responses carry the resource's `ETag`.
    ETag,
    /// A 201 carries the new resource's `Location`.
    Location,
}

/// Who may call a route, as `docs/api.md` ("Who may call what") states it. A closed set: each
/// consumer (the OpenAPI security, the template's JWT-authorizer check, the hostile-input probes)
/// interprets it with one exhaustive `match`, so a new kind of caller cannot be added without each
/// of them deciding what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// Anyone, guest or signed in; a JWT, when sent, is verified and may show more (admins see
    /// every setting and product status; a customer's new cart is theirs).
    Anyone,
    /// A signed-in customer (any valid JWT).
    Customer,
    /// A JWT whose groups claim holds `admin`.
    Admin,
    /// The cart's `X-Cart-Token` (a guest cart) or its owner's JWT.
    CartTokenOrOwner,
    /// A signed-in customer who also holds the cart's `X-Cart-Token`: both, as a claim needs.
    CustomerAndCartToken,
    /// The order's `X-Order-Token`, its owner's JWT, or an admin.
    OrderOwnerTokenOrAdmin,
    /// A signed-in customer, who sees their own, or an admin, who sees all.
    CustomerOrAdmin,
    /// The order's owner (JWT) or an admin; no token.
    OwnerOrAdmin,
    /// Stripe, proven by the `Stripe-Signature` header over the raw body.
    StripeSignature,
}

impl Access {
    /// Every kind of caller, for tests that must cover them all.
    pub const ALL: [Access; 9] = [
        Access::Anyone,
        Access::Customer,
        Access::Admin,
        Access::CartTokenOrOwner,
        Access::CustomerAndCartToken,
        Access::OrderOwnerTokenOrAdmin,
        Access::CustomerOrAdmin,
        Access::OwnerOrAdmin,
        Access::StripeSignature,
    ];

    /// What a caller may present to be let in: alternatives, each the proofs needed together (an
    /// empty alternative: none, the anonymous caller). The one reading of which credentials each
    /// kind of caller carries: the OpenAPI security and the template's JWT-authorizer check both
    /// derive from it. (Whether the proof is then accepted, e.g. a JWT of a non-admin on an admin
    /// route, is the handler's business.)
    pub fn credentials(self) -> &'static [&'static [Credential]] {
        use Credential::{Bearer, CartToken, OrderToken, StripeSignature};
        match self {
            Access::Anyone => &[&[], &[Bearer]],
            Access::Customer | Access::Admin | Access::CustomerOrAdmin | Access::OwnerOrAdmin => &[&[Bearer]],
            Access::CartTokenOrOwner => &[&[CartToken], &[Bearer]],
            Access::CustomerAndCartToken => &[&[Bearer, CartToken]],
            Access::OrderOwnerTokenOrAdmin => &[&[OrderToken], &[Bearer]],
            Access::StripeSignature => &[&[StripeSignature]],
        }
    }

    /// Whether every caller it admits carries a JWT, so that a gateway may refuse the rest.
    pub fn requires_bearer(self) -> bool {
        self.credentials().iter().all(|proofs| proofs.contains(&Credential::Bearer))
    }
}

/// A proof a caller presents with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Credential {
    /// `Authorization: Bearer <JWT>`.
    Bearer,
    /// `X-Cart-Token`.
    CartToken,
    /// `X-Order-Token`.
    OrderToken,
    /// `Stripe-Signature` over the raw body.
    StripeSignature,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Health {
    status: &'static str,
    function: &'static str,
    version: &'static str,
}

/// `GET /health` → `{"status": "ok", "function": <function>, "version": <version>}`.
pub fn health_router(function: &'static str, version: &'static str) -> Router {
    Router::new().route("/health", get(move || async move { Json(Health { status: "ok", function, version }) }))
}

fn adopted_request_id(headers: &HeaderMap) -> Option<&str> {
    let id = headers.get(&X_REQUEST_ID)?.to_str().ok()?;
    let valid = (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    valid.then_some(id)
}

async fn request_context(request: Request, next: Next) -> Response {
    let id: Arc<str> = match adopted_request_id(request.headers()) {
        Some(id) => id.into(),
        None => ulid::Ulid::new().to_string().into(),
    };
    let header_value = HeaderValue::from_str(&id).expect("request ids are checked or generated as ASCII");
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let started = Instant::now();

    let mut response = REQUEST_ID.scope(id, next.run(request)).instrument(span.clone()).await;

    response.headers_mut().insert(X_REQUEST_ID.clone(), header_value);
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            latency = ?started.elapsed(),
            "request handled"
        );
    });
    response
}

/// tower-http answers an oversized `Content-Length` with a plain-text 413, and axum's byte
/// extractors do the same for streamed bodies; clients are promised problem+json.
async fn problem_for_payload_too_large(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_problem = response.headers().get(header::CONTENT_TYPE).is_some_and(|ct| ct == PROBLEM_JSON);
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_problem {
        return payload_too_large().into_response();
    }
    response
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic with a non-string payload");
    ApiError::internal(anyhow::anyhow!("handler panicked: {message}")).into_response()
}

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no route matches `{}`", uri.path()))
}

pub(crate) async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on this resource; see the `Allow` header"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::tests::{Logs, parts, problem};
    use crate::request_id::request_id;
    use axum::body::{Body, Bytes};
    use axum::routing::post;
    use serde_json::{Value, json};
    use tower::ServiceExt;

    fn app() -> Router {
        with_common_layers(
            Router::new()
                .route("/ok", get(|| async { "ok" }))
                .route("/panic", get(boom))
                .route("/json", post(|Json(v): Json<Value>| async move { Json(v) }))
                .route("/bytes", post(|b: Bytes| async move { b.len().to_string() }))
                .route("/id", get(|| async { request_id() }))
                .merge(health_router("catalog", "1.2.3")),
        )
    }

    async fn boom() -> &'static str {
        panic!("secret-db-password leaked into a panic")
    }

    fn get_req(uri: &str) -> Request {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    fn response_id(response: &Response) -> String {
        response.headers()[&X_REQUEST_ID].to_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn every_response_carries_a_generated_request_id_that_handlers_see() {
        let response = app().oneshot(get_req("/id")).await.unwrap();
        let id = response_id(&response);
        assert!(ulid::Ulid::from_string(&id).is_ok(), "{id}");
        let body = response.into_body().collect_string().await;
        assert_eq!(body, id);
    }

    #[tokio::test]
    async fn a_well_formed_client_request_id_is_adopted_and_others_are_replaced() {
        for (sent, adopted) in [
            ("abc-123_X.9", true),
            (&"a".repeat(128), true),
            (&"a".repeat(129), false),
            ("has space", false),
            ("semi;colon", false),
            ("", false),
        ] {
            let request = Request::get("/ok").header(&X_REQUEST_ID, sent).body(Body::empty()).unwrap();
            let id = response_id(&app().oneshot(request).await.unwrap());
            assert_eq!(id == sent, adopted, "sent {sent:?}, got {id:?}");
            if !adopted {
                assert!(ulid::Ulid::from_string(&id).is_ok(), "{id}");
            }
        }
    }

    #[tokio::test]
    async fn unknown_paths_are_a_problem_json_404_with_the_request_id() {
        let request = Request::get("/nope").header(&X_REQUEST_ID, "req-1").body(Body::empty()).unwrap();
        let response = app().oneshot(request).await.unwrap();
        assert_eq!(response_id(&response), "req-1");
        let body = problem(response, StatusCode::NOT_FOUND, "not_found").await;
        assert_eq!(body["request_id"], "req-1");
    }

    #[tokio::test]
    async fn a_wrong_method_is_a_problem_json_405_listing_the_allowed_ones() {
        let response = app().oneshot(Request::delete("/ok").body(Body::empty()).unwrap()).await.unwrap();
        assert!(response.headers().contains_key(&X_REQUEST_ID));
        let allow = response.headers()[header::ALLOW].to_str().unwrap().to_owned();
        assert!(allow.contains("GET"), "{allow}");
        problem(response, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    }

    #[tokio::test]
    async fn a_panic_is_an_opaque_500_logged_with_its_message() {
        let (logs, _guard) = Logs::capture();
        let response = app().oneshot(get_req("/panic")).await.unwrap();
        let id = response_id(&response);
        let body = problem(response, StatusCode::INTERNAL_SERVER_ERROR, "internal_error").await;
        assert!(!body.to_string().contains("secret"), "{body}");
        assert_eq!(body["request_id"], id.as_str());
        let logs = logs.text();
        assert!(logs.contains("secret-db-password leaked"), "{logs}");
        assert!(logs.contains(&id), "{logs}");
    }

    #[tokio::test]
    async fn oversized_bodies_are_a_problem_json_413_however_they_arrive() {
        let big = vec![b'x'; MAX_BODY_BYTES + 1];
        let cases = [
            // Declared up front: refused before the handler runs.
            ("/bytes", Some(MAX_BODY_BYTES + 1), Body::from(big.clone())),
            // A lying Content-Length: refused by the declaration, body unread.
            ("/json", Some(10 * MAX_BODY_BYTES), Body::from("{}")),
            // No length (as with chunked transfer): cut off while streaming.
            ("/bytes", None, Body::from(big.clone())),
            ("/json", None, Body::from(big.clone())),
        ];
        for (path, length, body) in cases {
            let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
            if let Some(length) = length {
                request = request.header(header::CONTENT_LENGTH, length);
            }
            let response = app().oneshot(request.body(body).unwrap()).await.unwrap();
            assert!(response.headers().contains_key(&X_REQUEST_ID));
            problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
        }
    }

    #[tokio::test]
    async fn bodies_at_the_limit_are_accepted() {
        let body = vec![b'x'; MAX_BODY_BYTES];
        let response = app().oneshot(Request::post("/bytes").body(Body::from(body)).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.into_body().collect_string().await, MAX_BODY_BYTES.to_string());
    }

    #[tokio::test]
    async fn health_names_the_function_and_its_version() {
        let (status, headers, body) = parts(app().oneshot(get_req("/health")).await.unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(body, json!({"status": "ok", "function": "catalog", "version": "1.2.3"}));
    }

    trait CollectString {
        async fn collect_string(self) -> String;
    }

    impl CollectString for Body {
        async fn collect_string(self) -> String {
            use http_body_util::BodyExt;
            String::from_utf8(self.collect().await.unwrap().to_bytes().to_vec()).unwrap()
        }
    }
}
