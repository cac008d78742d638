//! `TestApp`: the whole backend on a fresh store, with tokens for an admin and a customer.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use nanoshop::local::{self, LocalConfig, LocalSecrets};
use nanoshop::local_images::LocalImages;
use nanoshop_domain::cart::MaxUnitsPerSku;
use nanoshop_payments::PaymentGateway;
use nanoshop_payments::simulator::Simulator;
use nanoshop_store::Store;
use nanoshop_store::counting::CountingStore;
use nanoshop_store::embedded::EmbeddedStore;
use serde_json::Value;
use tower::ServiceExt;

pub struct TestApp {
    pub app: Router,
    /// The background work of `nanoshop serve`: `tick()` runs one round.
    pub local: local::LocalApp,
    pub admin: String,
    pub customer: String,
    pub embedded: Option<Arc<EmbeddedStore>>,
    pub counting: Arc<CountingStore>,
    pub data_dir: std::path::PathBuf,
    pub webhook_secret: String,
    /// The HS256 secret the app's tokens are signed with, for tests that forge their own.
    pub jwt_secret: String,
    /// The key of the app's order tokens, for tests that issue their own.
    pub order_token_key: Vec<u8>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The problem's `code`, for error replies.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    pub fn etag(&self) -> String {
        self.headers.get(header::ETAG).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
    }
}

impl TestApp {
    /// The backend on a fresh in-memory embedded store.
    pub fn new() -> Self {
        let embedded = Arc::new(EmbeddedStore::in_memory());
        let mut app = Self::on(embedded.clone());
        app.embedded = Some(embedded);
        app
    }

    /// The backend on any store, paying through the simulator.
    pub fn on(store: Arc<dyn Store>) -> Self {
        Self::with(store, None)
    }

    /// The backend on any store, paying through `payments` when given (the simulator otherwise).
    pub fn with(store: Arc<dyn Store>, payments: Option<Arc<dyn PaymentGateway>>) -> Self {
        Self::build(store, |_| payments, chrono::TimeDelta::minutes(30))
    }

    /// The backend with the payment processor `payments` makes of the simulator (the simulator
    /// itself when it returns `None`), and unpaid orders held for `window`.
    pub fn build(
        store: Arc<dyn Store>,
        payments: impl FnOnce(Arc<Simulator>) -> Option<Arc<dyn PaymentGateway>>,
        window: chrono::TimeDelta,
    ) -> Self {
        Self::build_audited(store, payments, window, None)
    }

    /// As [`TestApp::build`], with each function's view of the store made by `store_of`.
    pub fn build_audited(
        store: Arc<dyn Store>,
        payments: impl FnOnce(Arc<Simulator>) -> Option<Arc<dyn PaymentGateway>>,
        window: chrono::TimeDelta,
        store_of: Option<local::StoreOf>,
    ) -> Self {
        Self::assemble(store, payments, window, store_of, MaxUnitsPerSku::DEFAULT)
    }

    /// The backend on `store` with the store's limit of units per SKU at `limit` (the default
    /// everywhere else, as in `nanoshop serve`).
    pub fn limited(store: Arc<dyn Store>, limit: MaxUnitsPerSku) -> Self {
        Self::assemble(store, |_| None, chrono::TimeDelta::minutes(30), None, limit)
    }

    fn assemble(
        store: Arc<dyn Store>,
        payments: impl FnOnce(Arc<Simulator>) -> Option<Arc<dyn PaymentGateway>>,
        window: chrono::TimeDelta,
        store_of: Option<local::StoreOf>,
        max_units_per_sku: MaxUnitsPerSku,
    ) -> Self {
        let secrets = LocalSecrets::generate();
        let data_dir = std::env::temp_dir().join(format!("nanoshop-e2e-{}", ulid_like()));
        let counting = Arc::new(CountingStore::new(store));
        let verifier = Arc::new(secrets.verifier().unwrap());
        let simulator = Arc::new(Simulator::new(secrets.stripe_webhook_secret.clone()));
        let config = LocalConfig {
            store: counting.clone(),
            store_of,
            verifier: verifier.clone(),
            cursor_key: local::key_bytes(&secrets.cursor_key),
            order_token_key: local::key_bytes(&secrets.order_token_key),
            webhook_secret: secrets.stripe_webhook_secret.clone(),
            payments: payments(simulator.clone()).unwrap_or_else(|| simulator.clone()),
            simulator: Some(simulator.clone()),
            payment_window: window,
            events_log: None,
            images: Arc::new(LocalImages::new(
                data_dir.join("images"),
                "http://127.0.0.1:3000",
                local::key_bytes(&secrets.upload_key),
            )),
            storefront: None,
            max_units_per_sku,
            dev_token: true,
        };
        let ttl = std::time::Duration::from_secs(600);
        let local_app = local::LocalApp::new(config);
        Self {
            app: local_app.router.clone(),
            local: local_app,
            admin: verifier.mint_local("admin_1", Some("admin@shop.example"), true, ttl).unwrap(),
            customer: verifier.mint_local("cust_1", Some("c@shop.example"), false, ttl).unwrap(),
            embedded: None,
            counting,
            data_dir,
            webhook_secret: secrets.stripe_webhook_secret.clone(),
            jwt_secret: secrets.jwt_secret.clone(),
            order_token_key: local::key_bytes(&secrets.order_token_key),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Body>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let has_body = body.is_some();
        if has_body && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = self.app.clone().oneshot(request.body(body.unwrap_or_else(Body::empty)).unwrap()).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, &[], None).await
    }

    pub async fn json(&self, method: Method, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(method, path, token, &[], Some(Body::from(serde_json::to_vec(body).unwrap()))).await
    }

    /// Creates a product as admin and returns its body; panics unless 201.
    pub async fn create_product(&self, body: &Value) -> Value {
        let reply = self.json(Method::POST, "/products", Some(&self.admin), body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }
}

/// A product body with one variant per size.
pub fn product(slug: &str, sku_prefix: &str, status: &str) -> Value {
    serde_json::json!({
        "slug": slug, "title": format!("Product {slug}"), "status": status, "tags": ["demo"],
        "options": [{"name": "Size", "values": ["S", "M"]}],
        "variants": [
            {"sku": format!("{sku_prefix}-S"), "options": {"Size": "S"}, "prices": [{"amount": 4900, "currency": "EUR"}]},
            {"sku": format!("{sku_prefix}-M"), "options": {"Size": "M"}, "prices": [{"amount": 5400, "currency": "EUR"}, {"amount": 6000, "currency": "USD"}]}
        ]
    })
}

fn ulid_like() -> String {
    nanoshop_domain::ids::ProductId::generate().as_str().trim_start_matches("prod_").to_lowercase()
}

impl TestApp {
    /// The store under the app (counted).
    pub fn store(&self) -> &dyn Store {
        self.counting.as_ref()
    }

    /// Stock of a SKU as stored: (on_hand, reserved, available).
    pub async fn stock(&self, sku: &str) -> (i64, i64, i64) {
        let key = nanoshop_schema::catalog::stock_key(&sku.parse().unwrap());
        let item = self.store().get(nanoshop_store::Table::Catalog, &key).await.unwrap().unwrap_or_default();
        (item.n("on_hand").unwrap_or(0), item.n("reserved").unwrap_or(0), item.n("available").unwrap_or(0))
    }

    /// An order as stored.
    pub async fn order(&self, id: &str) -> nanoshop_domain::order::Order {
        let key = nanoshop_schema::orders::order_key(&id.parse().unwrap());
        let item = self.store().get(nanoshop_store::Table::Orders, &key).await.unwrap().expect("order exists");
        nanoshop_schema::decode(&item).unwrap()
    }
}

/// A binary of the workspace, built beside this test binary (`make test` builds them all with
/// `cargo build --workspace --bins`).
pub fn workspace_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/e2e-… → target/<profile>/<name>
    let path = exe.parent().and_then(std::path::Path::parent).map(|dir| dir.join(name)).unwrap_or_default();
    assert!(path.exists(), "{} is missing: run `cargo build --workspace --bins` (make test does)", path.display());
    path
}
