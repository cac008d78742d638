//! How the transfer reaches a store: one request at a time, either to the in-process router (the
//! local store, `nanoshop import` without `--api`) or over HTTP to a deployed one. Both speak
//! the same public API with the same admin token, so import and export have one code path.

use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use tracing::instrument::WithSubscriber;

/// One API request.
#[derive(Debug, Clone, Copy)]
pub struct ApiRequest<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    /// The `ETag` the write is conditional on.
    pub if_match: Option<&'a str>,
    pub body: Option<&'a Value>,
}

/// The answer to one request, whatever its status.
#[derive(Debug, Clone)]
pub struct ApiReply {
    pub status: StatusCode,
    pub etag: Option<String>,
    /// How long a throttled answer (429, 503) asks to wait.
    pub retry_after: Option<Duration>,
    /// The JSON body, `Null` when empty or not JSON.
    pub body: Value,
}

impl ApiReply {
    fn new(status: StatusCode, headers: &HeaderMap, bytes: &[u8]) -> Self {
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Self {
            status,
            etag: text(header::ETAG),
            retry_after: text(header::RETRY_AFTER).and_then(|s| s.trim().parse().ok()).map(Duration::from_secs),
            body: serde_json::from_slice(bytes).unwrap_or(Value::Null),
        }
    }
}

/// Sends API requests as an admin.
///
/// # Errors
/// Only when no answer came at all (the connection failed); an answer of any status is `Ok`.
#[async_trait]
pub trait ApiClient: Send + Sync + std::fmt::Debug {
    async fn send(&self, request: ApiRequest<'_>) -> anyhow::Result<ApiReply>;
}

/// The local store: requests go straight to the router `nanoshop serve` serves.
#[derive(Debug, Clone)]
pub struct InProcess {
    router: Router,
    token: String,
    /// Where the router's own logs go: warnings and errors only. A line per request would bury
    /// the progress and the summary, as a remote server's logs stay on the server.
    logs: tracing::Dispatch,
}

impl InProcess {
    pub fn new(router: Router, admin_token: String) -> Self {
        let logs = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .finish();
        Self { router, token: admin_token, logs: tracing::Dispatch::new(logs) }
    }
}

#[async_trait]
impl ApiClient for InProcess {
    async fn send(&self, request: ApiRequest<'_>) -> anyhow::Result<ApiReply> {
        let mut builder = Request::builder()
            .method(request.method.clone())
            .uri(request.path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        if let Some(etag) = request.if_match {
            builder = builder.header(header::IF_MATCH, etag);
        }
        let body = match request.body {
            Some(body) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(body)?)
            }
            None => Body::empty(),
        };
        let response = self.router.clone().oneshot(builder.body(body)?).with_subscriber(self.logs.clone()).await?;
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await?.to_bytes();
        Ok(ApiReply::new(parts.status, &parts.headers, &bytes))
    }
}

/// A store reached over HTTP(S): a deployed API, or another `nanoshop serve`.
#[derive(Debug, Clone)]
pub struct Http {
    client: HttpsClient,
    base: String,
    token: String,
}

type HttpsClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Full<Bytes>,
>;

/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

impl Http {
    /// # Errors
    /// `base` is not an http(s) URL.
    pub fn new(base: &str, admin_token: String) -> anyhow::Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        anyhow::ensure!(
            base.starts_with("https://") || base.starts_with("http://"),
            "--api must be an http(s) URL, such as https://api.example.com"
        );
        // Plain http too, for a `nanoshop serve` on this machine.
        Ok(Self { client: nanoshop_api::https_client(None)?, base, token: admin_token })
    }
}

#[async_trait]
impl ApiClient for Http {
    async fn send(&self, request: ApiRequest<'_>) -> anyhow::Result<ApiReply> {
        let url = format!("{}{}", self.base, request.path);
        let mut builder = Request::builder()
            .method(request.method.clone())
            .uri(&url)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        if let Some(etag) = request.if_match {
            builder = builder.header(header::IF_MATCH, etag);
        }
        let body = match request.body {
            Some(body) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Bytes::from(serde_json::to_vec(body)?)
            }
            None => Bytes::new(),
        };
        let exchange = async {
            let response = self.client.request(builder.body(http_body_util::Full::new(body))?).await?;
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await?.to_bytes();
            anyhow::Ok(ApiReply::new(parts.status, &parts.headers, &bytes))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| anyhow::anyhow!("{} {url}: no answer within {REQUEST_TIMEOUT:?}", request.method))?
            .map_err(|e| e.context(format!("{} {url}", request.method)))
    }
}
