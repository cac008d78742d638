//! What a function crate's own tests share (feature `testing`): a function's router is called
//! with [`tower::ServiceExt::oneshot`] on the embedded store, as axum's testing example calls
//! its app, with tokens this module mints and replies read as JSON.
//!
//! - [`TestAuth`]: a local HS256 [`Verifier`] and the admin and customer tokens it accepts.
//! - [`TestRequest`] and [`Reply`]: a request built in one expression, its answer read once,
//!   with the problem+json checks every error test makes ([`Reply::assert_problem`]).
//! - [`assert_serves_every_route`]: each route of a function's `ROUTES` table reaches a handler;
//!   [`assert_admin_only`]: each admin route refuses guests and customers.
//! - [`seed`]: catalog and order items written straight into a store, in their table layout, for
//!   a function whose tests need another function's data (the cart prices from the catalog).
//!
//! Every helper panics with what went wrong instead of returning errors: they run only in tests.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

pub mod seed;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use secrecy::SecretString;
use serde_json::Value;
use tower::ServiceExt;

use crate::error::PROBLEM_JSON;
use crate::http::{Access, Route};
use crate::{AuthConfig, Verifier};

/// The customer [`TestAuth::customer`] signs in as, unless a test names another.
pub const CUSTOMER: &str = "cust_1";

/// A verifier for tests and the tokens it accepts.
#[derive(Debug, Clone)]
pub struct TestAuth {
    pub verifier: Arc<Verifier>,
}

impl Default for TestAuth {
    fn default() -> Self {
        Self::new()
    }
}

impl TestAuth {
    /// A local HS256 verifier with a fixed test secret, as `nanoshop serve` builds with its own.
    pub fn new() -> Self {
        let config = AuthConfig::LocalHs256 {
            secret: SecretString::from("function-tests-secret-of-at-least-32-bytes"),
            issuer: "nanoshop-tests".into(),
            audience: "nanoshop".into(),
        };
        Self { verifier: Arc::new(Verifier::new(config, crate::auth::DEFAULT_ADMIN_CLAIM).unwrap()) }
    }

    fn mint(&self, sub: &str, admin: bool) -> String {
        let email = format!("{sub}@shop.example");
        self.verifier.mint_local(sub, Some(&email), admin, Duration::from_secs(600)).unwrap()
    }

    /// An administrator's bearer token.
    pub fn admin(&self) -> String {
        self.mint("admin_1", true)
    }

    /// The bearer token of the customer `sub` (e-mail `{sub}@shop.example`).
    pub fn customer(&self, sub: &str) -> String {
        self.mint(sub, false)
    }
}

/// A request to a router, built in one expression and sent with [`TestRequest::send`].
#[derive(Debug)]
pub struct TestRequest {
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<(String, &'static str)>,
}

impl TestRequest {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self { method, path: path.into(), headers: Vec::new(), body: None }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }

    pub fn patch(path: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path)
    }

    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// `Authorization: Bearer <token>`.
    #[must_use]
    pub fn bearer(self, token: &str) -> Self {
        self.header(header::AUTHORIZATION.as_str(), &format!("Bearer {token}"))
    }

    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `body` as `application/json`.
    #[must_use]
    pub fn json(self, body: &Value) -> Self {
        self.raw(body.to_string(), "application/json")
    }

    /// Exactly these bytes, of `content_type`: for bodies that are not valid JSON, or are signed.
    #[must_use]
    pub fn raw(mut self, body: impl Into<String>, content_type: &'static str) -> Self {
        self.body = Some((body.into(), content_type));
        self
    }

    /// The router's answer to this request.
    pub async fn send(self, app: &Router) -> Reply {
        let mut request = Request::builder().method(self.method).uri(&self.path);
        if let Some((_, content_type)) = &self.body {
            request = request.header(header::CONTENT_TYPE, *content_type);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let body = self.body.map_or_else(Body::empty, |(bytes, _)| Body::from(bytes));
        let response = app.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply { status: parts.status, headers: parts.headers, body }
    }
}

/// A response, its body read as JSON (`null` when empty, a string when not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The problem's `code` (empty for a body without one).
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// The `field` of each entry of a problem's `errors`, in order.
    pub fn fields(&self) -> Vec<&str> {
        self.body["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a success of `status` and answers its body.
    #[track_caller]
    pub fn assert_status(&self, status: StatusCode) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        &self.body
    }

    /// Asserts an RFC 9457 problem as `docs/api.md` describes it: `status`, served as
    /// `application/problem+json`, its `type` naming `code` and its `status` repeating the status.
    #[track_caller]
    pub fn assert_problem(&self, status: StatusCode, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.body);
        assert_eq!(self.header(header::CONTENT_TYPE.as_str()), Some(PROBLEM_JSON), "{}", self.body);
        assert_eq!(self.body["type"], format!("urn:nanoshop:problem:{code}"), "{}", self.body);
        assert_eq!(self.body["status"], status.as_u16(), "{}", self.body);
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(self.header(header::WWW_AUTHENTICATE.as_str()), Some("Bearer"));
        }
    }

    /// [`Reply::assert_problem`] for a 422 of `code` (`validation_failed`, `invalid_address`...),
    /// and that `field` is among the fields its `errors` name.
    #[track_caller]
    pub fn assert_field_error(&self, code: &str, field: &str) {
        self.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, code);
        assert!(self.fields().contains(&field), "expected an error on `{field}`: {}", self.body);
    }
}

/// Asserts that `router` (a function's routes, before the common layers, whose fallback would
/// answer problem+json) hands every route of `routes` to a handler: each is sent with its path
/// parameters filled with a placeholder, no credentials and no body, and must not get axum's
/// bare 404 or 405, which have no body. What the handler answers is for the other tests.
pub async fn assert_serves_every_route(router: &Router, routes: &[Route]) {
    for route in routes {
        let path = fill_placeholders(route.path);
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let reply = TestRequest::new(method, &path).send(router).await;
        let unrouted =
            matches!(reply.status, StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED) && reply.body.is_null();
        assert!(!unrouted, "{} {} is not routed: {}", route.method, route.path, reply.status);
    }
}

/// Asserts `docs/api.md`'s rule for every [`Access::Admin`] route of `routes`: 401
/// `unauthorized` without a token, and 403 `forbidden` with a customer's, before anything else
/// about the request (its path's ids, its body) is looked at.
pub async fn assert_admin_only(app: &Router, routes: &[Route], auth: &TestAuth) {
    let customer = auth.customer(CUSTOMER);
    for route in routes.iter().filter(|r| r.access == Access::Admin) {
        let path = fill_placeholders(route.path);
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let label = format!("{} {}", route.method, route.path);
        let guest = TestRequest::new(method.clone(), &path).json(&serde_json::json!({})).send(app).await;
        assert_eq!((guest.status, guest.code()), (StatusCode::UNAUTHORIZED, "unauthorized"), "{label}: {}", guest.body);
        let customer = TestRequest::new(method, &path).bearer(&customer).json(&serde_json::json!({})).send(app).await;
        assert_eq!(
            (customer.status, customer.code()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{label}: {}",
            customer.body
        );
    }
}

/// `path` with each `{parameter}` replaced by a value no resource has.
fn fill_placeholders(path: &str) -> String {
    path.split('/')
        .map(|segment| if segment.starts_with('{') { "placeholder" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}
