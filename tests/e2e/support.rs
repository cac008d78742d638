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
            // The shop's e-mails as `nanoshop serve` writes them (tests/e2e/notifications.rs).
            mail: Some(nanoshop::events::LocalMail {
                dir: data_dir.join("mail"),
                storefront: "http://127.0.0.1:3000".into(),
                templates: data_dir.join("templates"),
            }),
            images: Arc::new(LocalImages::new(
                data_dir.join("images"),
                "http://127.0.0.1:3000",
                local::key_bytes(&secrets.upload_key),
            )),
            storefront: None,
            max_units_per_sku,
            dev_routes: true,
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
        let request_method = method.clone();
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
        contract::check(request_method.as_str(), path, status, &headers, &body);
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, &[], None).await
    }

    pub async fn json(&self, method: Method, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(method, path, token, &[], Some(Body::from(serde_json::to_vec(body).unwrap()))).await
    }

    /// A new cart of one `P0` (see `cart::shop`) for the signed-in customer, `self.customer`.
    pub async fn customer_cart(&self) -> Reply {
        let body = serde_json::json!({"currency": "EUR", "items": [{"sku": "P0", "quantity": 1}]});
        self.json(Method::POST, "/carts", Some(&self.customer), &body).await
    }

    /// The signed-in customer's checkout of `cart` (the body of a [`customer_cart`] reply) under
    /// the idempotency key `key`.
    ///
    /// [`customer_cart`]: Self::customer_cart
    pub async fn customer_checkout(&self, cart: &Value, key: &str) -> Reply {
        let body = serde_json::json!({"cart_id": cart["id"], "email": "c@shop.example", "shipping_method": "standard",
            "shipping_address": {"name": "C", "line1": "1 Rue", "city": "Paris", "postal_code": "75001", "country": "FR"}});
        let headers = [("idempotency-key", key)];
        self.send(Method::POST, "/checkout", Some(&self.customer), &headers, Some(body.to_string().into())).await
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

/// Every response the suite sees, checked against the OpenAPI document the server publishes: the
/// status must be one the operation documents, and a JSON body must match that status's schema
/// (`$ref`s resolved to the document's components). Routes outside the document (`/dev/...`,
/// `/openapi.json`, the storefront, unknown paths) are not checked.
pub mod contract {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, Mutex};

    use axum::http::{HeaderMap, StatusCode, header};
    use serde_json::{Value, json};

    static DOCUMENT: LazyLock<Value> = LazyLock::new(nanoshop::openapi::document);
    type Validators = HashMap<(String, String, u16), Arc<jsonschema::Validator>>;
    static VALIDATORS: LazyLock<Mutex<Validators>> = LazyLock::new(|| Mutex::new(HashMap::new()));

    /// The documented path template `path` falls under, preferring literal segments
    /// (`/me/cart` over `/{x}/cart`).
    fn template(path: &str) -> Option<&'static str> {
        let segments: Vec<&str> = path.split('/').collect();
        DOCUMENT["paths"]
            .as_object()?
            .keys()
            .filter_map(|t| {
                let parts: Vec<&str> = t.split('/').collect();
                let fits = parts.len() == segments.len()
                    && parts.iter().zip(&segments).all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty()));
                fits.then(|| (parts.iter().filter(|p| !p.starts_with('{')).count(), t.as_str()))
            })
            .max()
            .map(|(_, t)| t)
    }

    fn validator(key: (String, String, u16), schema: &Value) -> Arc<jsonschema::Validator> {
        let mut validators = VALIDATORS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        validators
            .entry(key)
            .or_insert_with(|| {
                let root = json!({"allOf": [schema], "components": DOCUMENT["components"]});
                Arc::new(jsonschema::draft202012::new(&root).expect("the document's schemas compile"))
            })
            .clone()
    }

    /// Panics, naming the operation and what is wrong, when the response breaks the document.
    pub fn check(method: &str, uri: &str, status: StatusCode, headers: &HeaderMap, body: &Value) {
        let path = uri.split('?').next().unwrap_or(uri);
        let Some(template) = template(path) else { return };
        let method = method.to_ascii_lowercase();
        let operation = &DOCUMENT["paths"][template][&method];
        // HEAD is GET without a body; an undocumented method is a 405 from the router.
        if !operation.is_object() {
            return;
        }
        let label = format!("{} {path} (OpenAPI {template})", method.to_uppercase());
        let Some(response) = operation["responses"].get(status.as_str()) else {
            panic!("{label} answered {status}, which the document does not list for it: {body}");
        };
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let media = content_type.split(';').next().unwrap_or("").trim();
        let Some(schema) = response["content"].get(media).map(|c| &c["schema"]) else {
            assert!(
                body.is_null() && response.get("content").is_none(),
                "{label} answered {status} as `{content_type}`, which the document does not list: {body}"
            );
            return;
        };
        let validator = validator((template.to_owned(), method.clone(), status.as_u16()), schema);
        let errors: Vec<String> =
            validator.iter_errors(body).map(|e| format!("at `{}`: {e}", e.instance_path())).collect();
        assert!(
            errors.is_empty(),
            "{label} {status} does not match its OpenAPI schema:\n{}\nbody: {body}",
            errors.join("\n")
        );
    }
}
