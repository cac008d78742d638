//! `nanoshop serve`'s world: the data directory, its generated secrets, the store (the data
//! dir's embedded file, or DynamoDB tables), and the one router that mounts every function on it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use nanoshop_api::{ApiError, AuthConfig, CursorCodec, Json, Verifier, health_router, with_common_layers_and_fallback};
use nanoshop_catalog::CatalogDeps;
use nanoshop_catalog::images::ImageStorage;
use nanoshop_domain::cart::MaxUnitsPerSku;
use nanoshop_store::Store;
use nanoshop_store::dynamo::{DynamoStore, TableNames, local_client};
use nanoshop_store::embedded::EmbeddedStore;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::local_images::LocalImages;

pub const LOCAL_ISSUER: &str = "nanoshop-local";
pub const LOCAL_AUDIENCE: &str = "nanoshop";
/// Tokens minted by `/dev/token` and `nanoshop token` live this long.
pub const LOCAL_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// Refuses an address `nanoshop serve` must not listen on as asked. Without `public`, only a
/// loopback address: the local server mounts `POST /dev/token`, which mints any token, admin ones
/// too, for whoever asks, so it must not be reachable from the network by accident. With `public`
/// any address goes, and [`LocalConfig::dev_routes`] is off.
///
/// # Errors
/// A non-loopback `addr` without `public`, with a message naming `--public`.
pub fn check_serve_address(addr: SocketAddr, public: bool) -> anyhow::Result<()> {
    if public || addr.ip().to_canonical().is_loopback() {
        return Ok(());
    }
    anyhow::bail!(
        "refusing to serve on {addr}: it is reachable from other machines, and nanoshop serve mounts POST /dev/token, \
         which mints admin tokens for anyone who asks. Serve on a loopback address (127.0.0.1, [::1]), or pass --public \
         to serve on {addr} without /dev/token or /dev/payments (mint tokens with `nanoshop token` on this machine instead)"
    )
}

/// Refuses a live Stripe key: `nanoshop serve` is for development, with an embedded store, local
/// secrets and dev routes, and must never take real money.
///
/// # Errors
/// `key` is a live secret or restricted key (`sk_live_…`, `rk_live_…`).
pub fn refuse_live_stripe_key(key: &str) -> anyhow::Result<()> {
    match ["sk_live_", "rk_live_"].into_iter().find(|live| key.trim().starts_with(live)) {
        Some(live) => anyhow::bail!(
            "refusing a live Stripe key (STRIPE_SECRET_KEY starts with `{live}`): nanoshop serve is for development and \
             takes test keys only (sk_test_…, rk_test_…); a real store is deployed (docs/deploy.md)"
        ),
        None => Ok(()),
    }
}

/// Where the local server keeps the shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// `store.redb` in the data dir: one process's file, nothing to run beside it.
    Embedded,
    /// DynamoDB tables at `endpoint` (DynamoDB Local or moto, with dummy credentials), the
    /// store the functions use when deployed; `create` makes missing tables first.
    Dynamo { endpoint: String, tables: TableNames, create: bool },
}

impl StoreLocation {
    /// Opens the store.
    ///
    /// # Errors
    /// The embedded file cannot be opened, or the tables cannot be created.
    pub async fn open(&self, data_dir: &Path) -> anyhow::Result<Arc<dyn Store>> {
        match self {
            StoreLocation::Embedded => {
                let store = EmbeddedStore::open(&data_dir.join("store.redb"))
                    .with_context(|| format!("opening the store in {}", data_dir.display()))?;
                Ok(Arc::new(store))
            }
            StoreLocation::Dynamo { endpoint, tables, create } => {
                let store = DynamoStore::new(local_client(endpoint).await, tables.clone());
                if *create {
                    store.create_tables().await.with_context(|| format!("creating the tables at {endpoint}"))?;
                }
                Ok(Arc::new(store))
            }
        }
    }
}

/// Secrets generated on first start and kept in the data dir, so tokens and cursors stay valid
/// across restarts.
#[derive(Serialize, Deserialize)]
pub struct LocalSecrets {
    pub jwt_secret: String,
    pub cursor_key: String,
    pub upload_key: String,
    pub stripe_webhook_secret: String,
    /// Added after the first release of the data dir format: filled in when missing.
    #[serde(default)]
    pub order_token_key: String,
}

impl std::fmt::Debug for LocalSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalSecrets { .. }")
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(buf.as_mut_slice());
    hex::encode(buf)
}

impl LocalSecrets {
    pub fn generate() -> Self {
        Self {
            jwt_secret: random_hex(32),
            cursor_key: random_hex(32),
            upload_key: random_hex(32),
            stripe_webhook_secret: format!("whsec_{}", random_hex(24)),
            order_token_key: random_hex(32),
        }
    }

    /// The secrets in `dir`, created (readable by the owner only) on first use.
    ///
    /// # Errors
    /// The data dir cannot be read or written.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("secrets.json");
        if path.exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            return serde_json::from_str(&text)
                .with_context(|| format!("{} is damaged; delete it to regenerate", path.display()));
        }
        let secrets = Self::generate();
        std::fs::write(&path, serde_json::to_vec_pretty(&secrets)?)
            .with_context(|| format!("writing {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(secrets)
    }

    /// The verifier that accepts the tokens this local server mints.
    ///
    /// # Errors
    /// Never in practice: the secret is long enough by construction.
    pub fn verifier(&self) -> anyhow::Result<Verifier> {
        let config = AuthConfig::LocalHs256 {
            secret: SecretString::from(self.jwt_secret.clone()),
            issuer: LOCAL_ISSUER.into(),
            audience: LOCAL_AUDIENCE.into(),
        };
        Verifier::new(config, nanoshop_api::auth::DEFAULT_ADMIN_CLAIM)
    }
}

/// A verifier that accepts the ID tokens of the OpenID provider at `issuer` (its keys found by
/// discovery and kept up to date, as a deployed function's are) instead of the local server's own:
/// how the storefront's OpenID sign-in is tried against a real provider before a deploy.
/// `audience` is the `aud` its tokens carry (the storefront's client id); `admin_claim` the claim
/// whose `admin` group makes an administrator.
///
/// # Errors
/// The issuer is not an https URL (plain http only on a loopback address, for tests).
pub fn issuer_verifier(issuer: String, audience: String, admin_claim: &str) -> anyhow::Result<Verifier> {
    Verifier::new(AuthConfig::jwks_from(issuer, audience, None, None)?, admin_claim)
}

/// Gives each function (by binary name) its view of the shared store.
pub type StoreOf = Arc<dyn Fn(&'static str, Arc<dyn Store>) -> Arc<dyn Store> + Send + Sync>;

/// Everything the local app is built from.
#[derive(Clone)]
pub struct LocalConfig {
    pub store: Arc<dyn Store>,
    /// What each function sees of the store: by default `store` itself. Tests wrap it per
    /// function to audit which tables and actions each function really uses.
    pub store_of: Option<StoreOf>,
    pub verifier: Arc<Verifier>,
    pub cursor_key: Vec<u8>,
    /// Signs order tokens; the checkout and orders functions share it.
    pub order_token_key: Vec<u8>,
    /// Verifies webhook events (and signs the simulator's).
    pub webhook_secret: String,
    /// The payment processor: the simulator unless real Stripe is configured.
    pub payments: Arc<dyn nanoshop_payments::PaymentGateway>,
    /// The simulator, when it is the processor: `/dev/payments/{id}/confirm` drives it.
    pub simulator: Option<Arc<nanoshop_payments::simulator::Simulator>>,
    /// How long an unpaid order holds its stock.
    pub payment_window: chrono::TimeDelta,
    /// Where relayed order events are appended (`<data dir>/events.jsonl`); none in tests.
    pub events_log: Option<PathBuf>,
    /// Where the shop's e-mails are written (`<data dir>/mail`); none: no mail.
    pub mail: Option<crate::events::LocalMail>,
    pub images: Arc<LocalImages>,
    /// Where `storefront-example/` is, served at `/` when it exists.
    pub storefront: Option<PathBuf>,
    /// The most units of one SKU a cart may hold and an order reserve (`nanoshop serve`: the
    /// default, as a deployment has unless it sets `MAX_UNITS_PER_SKU`).
    pub max_units_per_sku: MaxUnitsPerSku,
    /// Whether the local-only routes are mounted: `POST /dev/token`, which mints any token, admin
    /// ones too, and `POST /dev/payments/{id}/confirm`, which pays any order through the
    /// simulator, for anyone who asks. Only for a server on a loopback address (see
    /// [`check_serve_address`]). `/dev/token` needs a `verifier` that mints too: a server that
    /// trusts an OpenID issuer instead ([`issuer_verifier`]) has no tokens of its own.
    pub dev_routes: bool,
}

impl std::fmt::Debug for LocalConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalConfig")
            .field("store", &self.store)
            .field("storefront", &self.storefront)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DevTokenHttpRequest {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    admin: bool,
}

#[derive(Debug, Serialize)]
struct DevTokenHttpResponse {
    token: String,
}

/// `POST /dev/token`: a JWT this local server accepts. Local mode only.
async fn dev_token(
    State(verifier): State<Arc<Verifier>>,
    Json(body): Json<DevTokenHttpRequest>,
) -> nanoshop_api::Result<Response> {
    let sub = body.sub.trim();
    if sub.is_empty() || sub.len() > 128 {
        return Err(ApiError::unprocessable("invalid_body", "`sub` must be 1–128 characters"));
    }
    let token =
        verifier.mint_local(sub, body.email.as_deref(), body.admin, LOCAL_TOKEN_TTL).map_err(ApiError::internal)?;
    Ok(Json(DevTokenHttpResponse { token }).into_response())
}

async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}

/// Every function on one router, with the local-only routes, the common layers and the
/// storefront. This is what `nanoshop serve` serves and what the end-to-end tests call.
pub fn app(config: LocalConfig) -> Router {
    LocalApp::new(config).router
}

/// The local app and the background work `nanoshop serve` does that AWS does on schedules and
/// webhooks: the expiry sweep, and delivering the simulator's events from cancels and refunds.
#[derive(Debug, Clone)]
pub struct LocalApp {
    pub router: Router,
    payments: Option<crate::payments::LocalPayments>,
    orders: nanoshop_orders::repo::OrdersRepository,
    gateway: Arc<dyn nanoshop_payments::PaymentGateway>,
    store: Arc<dyn Store>,
    events: Arc<crate::events::LocalEvents>,
}

impl LocalApp {
    /// One round of background work: events first (so a cancel's event lands before the sweep
    /// looks again), then the expiry sweep.
    pub async fn tick(&self) {
        if let Some(payments) = &self.payments {
            payments.deliver_pending().await;
        }
        match nanoshop_orders::expiry::sweep(&self.orders, self.gateway.as_ref(), chrono::Utc::now()).await {
            Ok(sweep) if sweep.expired > 0 => tracing::info!(expired = sweep.expired, "expired unpaid orders"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "expiry sweep failed; retrying next tick"),
        }
        if let Some(payments) = &self.payments {
            payments.deliver_pending().await;
        }
        // Relay the outbox until it is empty (each round takes a page).
        loop {
            match nanoshop_orders::events::relay_outbox(self.store.as_ref(), self.events.as_ref(), 100).await {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "event relay failed; retrying next tick");
                    break;
                }
            }
        }
    }

    /// The order events relayed so far.
    pub fn events(&self) -> Vec<nanoshop_domain::order::OrderEvent> {
        self.events.published()
    }

    pub fn new(config: LocalConfig) -> Self {
        let store = |function: &'static str| match &config.store_of {
            Some(wrap) => wrap(function, config.store.clone()),
            None => config.store.clone(),
        };
        let catalog = nanoshop_catalog::router(CatalogDeps {
            store: store("catalog"),
            images: config.images.clone(),
            verifier: config.verifier.clone(),
            cursors: CursorCodec::new(&config.cursor_key),
        });
        let cart = nanoshop_cart::router(nanoshop_cart::CartDeps {
            store: store("cart"),
            verifier: config.verifier.clone(),
            image_base: config.images.public_url("").trim_end_matches('/').to_owned(),
            max_units_per_sku: config.max_units_per_sku,
        });
        let checkout = nanoshop_checkout::router(nanoshop_checkout::CheckoutDeps {
            store: store("checkout"),
            payments: config.payments.clone(),
            verifier: config.verifier.clone(),
            order_tokens: nanoshop_api::capability::OrderTokens::new(&config.order_token_key),
            payment_window: config.payment_window,
            max_units_per_sku: config.max_units_per_sku,
        });
        let webhook = nanoshop_payments_webhook::router(nanoshop_payments_webhook::WebhookDeps {
            store: store("payments-webhook"),
            payments: config.payments.clone(),
            secret: nanoshop_api::Secret::fixed(config.webhook_secret.clone()),
        });
        let simulated = config
            .simulator
            .clone()
            .map(|simulator| crate::payments::LocalPayments { simulator, webhook: webhook.clone() });
        let orders = nanoshop_orders::router(nanoshop_orders::OrdersDeps {
            store: store("orders"),
            payments: config.payments.clone(),
            verifier: config.verifier.clone(),
            order_tokens: nanoshop_api::capability::OrderTokens::new(&config.order_token_key),
            cursors: CursorCodec::new(&config.cursor_key),
            personal_data_window: nanoshop_orders::DEFAULT_PERSONAL_DATA_WINDOW,
        });
        let customers = nanoshop_customers::router(nanoshop_customers::CustomersDeps {
            store: store("customers"),
            verifier: config.verifier.clone(),
        });
        let dev = if config.dev_routes {
            let token = if config.verifier.mints_local_tokens() {
                Router::new().route("/dev/token", post(dev_token)).with_state(config.verifier.clone())
            } else {
                Router::new()
            };
            token.merge(simulated.as_ref().map(|p| p.router()).unwrap_or_default())
        } else {
            Router::new()
        };
        let api = Router::new()
            .merge(catalog)
            .merge(cart)
            .merge(checkout)
            .merge(webhook)
            .merge(orders)
            .merge(customers)
            .merge(dev)
            .merge(health_router("nanoshop", env!("CARGO_PKG_VERSION")))
            .route("/openapi.json", get(openapi))
            .merge(crate::docs::router());
        let api = match config.storefront {
            Some(dir) if dir.is_dir() => api.fallback_service(
                tower_http::services::ServeDir::new(dir)
                    .not_found_service(axum::routing::any(nanoshop_api::http::not_found)),
            ),
            _ => api.fallback(nanoshop_api::http::not_found),
        };
        // Uploads are merged after the common layers: they take up to 10 MiB, not the API's 64 KiB.
        let router = with_common_layers_and_fallback(api).merge(config.images.router());
        LocalApp {
            router,
            payments: simulated,
            orders: nanoshop_orders::repo::OrdersRepository::new(store("orders-expirer")),
            gateway: config.payments.clone(),
            store: store("orders-events-relay"),
            events: Arc::new(match &config.mail {
                Some(mail) => match mail.notifier(store("notifications"), &config.order_token_key) {
                    Ok(notifier) => crate::events::LocalEvents::new(config.events_log.clone()).with_notifier(notifier),
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "no order e-mails: the template overrides do not compile");
                        crate::events::LocalEvents::new(config.events_log.clone())
                    }
                },
                None => crate::events::LocalEvents::new(config.events_log.clone()),
            }),
        }
    }
}

/// The secret's bytes as hex-decoded key material (falls back to the raw bytes).
pub fn key_bytes(secret: &str) -> Vec<u8> {
    hex::decode(secret).unwrap_or_else(|_| secret.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_served_without_public() {
        for ok in ["127.0.0.1:3000", "127.0.0.2:0", "[::1]:3000", "[::ffff:127.0.0.1]:3000"] {
            let addr: SocketAddr = ok.parse().expect("an address");
            assert!(check_serve_address(addr, false).is_ok(), "{ok}");
        }
        for refused in ["0.0.0.0:3000", "[::]:3000", "192.168.1.10:3000", "[2001:db8::1]:80"] {
            let addr: SocketAddr = refused.parse().expect("an address");
            let error = check_serve_address(addr, false).expect_err(refused).to_string();
            assert!(error.contains("--public") && error.contains("/dev/token"), "{error}");
            assert!(check_serve_address(addr, true).is_ok(), "{refused} with --public");
        }
    }

    #[test]
    fn live_stripe_keys_are_refused_and_test_keys_taken() {
        for live in ["sk_live_51Habc", "rk_live_51Habc", " sk_live_x"] {
            let error = refuse_live_stripe_key(live).expect_err(live).to_string();
            assert!(error.contains("live Stripe key") && !error.contains("51Habc"), "{error}");
        }
        for test in ["sk_test_51Habc", "rk_test_x", "sk_test_live_x"] {
            assert!(refuse_live_stripe_key(test).is_ok(), "{test}");
        }
    }
}
