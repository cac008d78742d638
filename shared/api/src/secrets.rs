//! Secrets read at run time, not at deploy time.
//!
//! A [`Secret`] is one secret value a function uses, from one of two sources ([`SecretSource`]):
//! a plain environment variable (containers, `nanoshop serve`, tests), or an AWS Secrets Manager
//! secret, whole or one field of its JSON (a deployed stack). A Secrets Manager secret is fetched
//! once at start ([`Secrets::load`]), cached, and read again only when the caller finds that the
//! cached value stopped working ([`Secret::reread`]: a webhook signature that fails with it, a 401
//! from Stripe), at most once per [`MIN_REREAD_INTERVAL`]. So rotating a secret needs no deploy,
//! and a flood of forged requests costs at most one Secrets Manager call a minute.
//!
//! A secret that cannot be read (Secrets Manager unreachable at start, a field missing) is
//! `None`, never an empty string: callers answer 503 `not_configured` ([`ApiError::not_configured`])
//! and the next request after the interval tries again; a value that cannot be used (too short) is
//! read again before it is refused. Every read gives up after [`SECRETS_MANAGER_TIMEOUT`]
//! ([`secrets_manager_client`]). [`when_configured`] answers 503 for a whole router until the
//! secrets it needs can be read (the HMAC keys of order tokens and cursors, which then rotate
//! under it: [`crate::keyring`]).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::ApiError;

pub use aws_sdk_secretsmanager::Client as SecretsManagerClient;

/// The shortest time between two reads of one Secrets Manager secret after the first: re-reads
/// are triggered by requests (a forged webhook signature is one), so they must not be a lever
/// for multiplying Secrets Manager calls.
pub const MIN_REREAD_INTERVAL: Duration = Duration::from_secs(60);

/// The longest one Secrets Manager read may take, retries included. The SDK sets no limit of its
/// own: a read that hangs at start would run into Lambda's init limit (a bare 500, not the 503 a
/// missing secret is), or mid-request into the function's timeout.
pub const SECRETS_MANAGER_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest one attempt of a read may take, so a hung connection leaves time for a retry
/// within [`SECRETS_MANAGER_TIMEOUT`].
pub const SECRETS_MANAGER_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(900);

/// The version stage of a secret's value before its latest change (Secrets Manager moves it on
/// every `PutSecretValue`): what a key ring checks signatures made before a rotation against.
pub const PREVIOUS_STAGE: &str = "AWSPREVIOUS";

/// The Secrets Manager client every function reads its secrets with: `config` (the shared AWS
/// configuration, `&SdkConfig`) with [`SECRETS_MANAGER_TIMEOUT`] and
/// [`SECRETS_MANAGER_ATTEMPT_TIMEOUT`].
pub fn secrets_manager_client(config: impl Into<aws_sdk_secretsmanager::config::Builder>) -> SecretsManagerClient {
    use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
    let timeouts = TimeoutConfig::builder()
        .operation_timeout(SECRETS_MANAGER_TIMEOUT)
        .operation_attempt_timeout(SECRETS_MANAGER_ATTEMPT_TIMEOUT)
        .build();
    SecretsManagerClient::from_conf(config.into().timeout_config(timeouts).build())
}

/// Where one secret comes from, as the environment says.
#[derive(Clone)]
pub enum SecretSource {
    /// The value itself, from a plain variable; `None` when the variable is unset or blank.
    Value(Option<SecretString>),
    /// A Secrets Manager secret (name or ARN), and the field to read when it holds a JSON object.
    SecretsManager { id: String, field: Option<&'static str> },
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Value(v) => f.debug_tuple("Value").field(&v.as_ref().map(|_| "[REDACTED]")).finish(),
            Self::SecretsManager { id, field } => {
                f.debug_struct("SecretsManager").field("id", id).field("field", field).finish()
            }
        }
    }
}

impl SecretSource {
    /// The Secrets Manager secret `id` (`field` of its JSON when given) when there is one, else
    /// the plain `value`, else [`SecretSource::Value`]`(None)`. A configuration reads both
    /// variables (`…_SECRET_ID` and the value's) and hands them here.
    pub fn new(id: Option<String>, field: Option<&'static str>, value: Option<SecretString>) -> Self {
        match id {
            Some(id) => Self::SecretsManager { id, field },
            None => Self::Value(value),
        }
    }
}

/// Reads the current value of one remote secret. The seam between [`RemoteSecret`]'s caching
/// and Secrets Manager, so the caching is tested without it.
#[async_trait]
pub trait SecretFetcher: Send + Sync + std::fmt::Debug {
    /// The secret's current string.
    ///
    /// # Errors
    /// Any failure to read it (unreachable, denied, no such secret); logged by the caller.
    async fn fetch(&self) -> anyhow::Result<String>;
}

/// A Secrets Manager secret, by id, at its current value or at a version stage.
struct SecretsManagerFetcher {
    client: SecretsManagerClient,
    id: String,
    stage: Option<&'static str>,
}

/// The id only: what a log line needs to name the secret, and nothing of the client's settings.
impl std::fmt::Debug for SecretsManagerFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SecretsManager").field(&self.id).field(&self.stage).finish()
    }
}

#[async_trait]
impl SecretFetcher for SecretsManagerFetcher {
    async fn fetch(&self) -> anyhow::Result<String> {
        let out = match self
            .client
            .get_secret_value()
            .secret_id(&self.id)
            .set_version_stage(self.stage.map(Into::into))
            .send()
            .await
        {
            Ok(out) => out,
            // A secret never changed has no previous value: that is no failure, just no key.
            Err(e)
                if self.stage.is_some()
                    && e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(String::new());
            }
            Err(e) => return Err(e.into()),
        };
        out.secret_string.ok_or_else(|| anyhow::anyhow!("secret {} has no string value", self.id))
    }
}

/// One remote secret's cache: the last value read, and when it may be read again.
#[derive(Debug)]
pub struct RemoteSecret {
    fetcher: Box<dyn SecretFetcher>,
    value: RwLock<Option<Arc<SecretString>>>,
    /// Serialises reads, and holds when the last re-read started (`None`: only the first read,
    /// if any, has happened; it does not count against the interval).
    reading: tokio::sync::Mutex<Reads>,
    reads: AtomicU64,
}

#[derive(Debug, Default)]
struct Reads {
    first_done: bool,
    last_reread: Option<Instant>,
    /// When the last read of any kind started.
    last_read: Option<Instant>,
}

impl RemoteSecret {
    pub fn new(fetcher: Box<dyn SecretFetcher>) -> Arc<Self> {
        Arc::new(Self {
            fetcher,
            value: RwLock::new(None),
            reading: tokio::sync::Mutex::new(Reads::default()),
            reads: AtomicU64::new(0),
        })
    }

    /// How many times the secret was fetched (tried) since start.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    fn cached(&self) -> Option<Arc<SecretString>> {
        self.value.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Reads the secret now, unless the interval since the last re-read has not passed. True
    /// when a read happened.
    async fn read(&self) -> bool {
        let mut reads = self.reading.lock().await;
        let now = Instant::now();
        if reads.first_done {
            if reads.last_reread.is_some_and(|at| now.duration_since(at) < MIN_REREAD_INTERVAL) {
                return false;
            }
            reads.last_reread = Some(now);
        }
        reads.first_done = true;
        reads.last_read = Some(now);
        self.reads.fetch_add(1, Ordering::Relaxed);
        match self.fetcher.fetch().await {
            Ok(value) => {
                *self.value.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(value.into()));
            }
            // The error names the secret and the failure, never a value.
            Err(e) => tracing::warn!(secret = ?self.fetcher, error = %format!("{e:#}"), "cannot read a secret"),
        }
        true
    }

    /// Reads the secret when the last read started `max_age` ago or more (or never), subject to
    /// [`MIN_REREAD_INTERVAL`].
    async fn read_if_older(&self, max_age: Duration) -> bool {
        let last = self.reading.lock().await.last_read;
        if last.is_some_and(|at| Instant::now().duration_since(at) < max_age) {
            return false;
        }
        self.read().await
    }
}

/// One secret value as a function uses it. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct Secret(Inner);

#[derive(Clone)]
enum Inner {
    Fixed(Option<SecretString>),
    Remote { secret: Arc<RemoteSecret>, field: Option<&'static str> },
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Inner::Fixed(v) => f.debug_tuple("Secret::Fixed").field(&v.as_ref().map(|_| "[REDACTED]")).finish(),
            Inner::Remote { secret, field } => {
                f.debug_struct("Secret::Remote").field("source", &secret.fetcher).field("field", field).finish()
            }
        }
    }
}

impl Secret {
    /// A secret that never changes (a plain variable, `nanoshop serve`'s generated secrets).
    pub fn fixed(value: impl Into<String>) -> Self {
        Self(Inner::Fixed(Some(SecretString::from(value.into()))))
    }

    /// A secret that is not configured: every read is `None`.
    pub fn missing() -> Self {
        Self(Inner::Fixed(None))
    }

    /// `field` of `secret`'s JSON object, or the whole string when `field` is `None`.
    pub fn remote(secret: Arc<RemoteSecret>, field: Option<&'static str>) -> Self {
        Self(Inner::Remote { secret, field })
    }

    /// The value as cached now, without reading anything. `None` when it was never read, could
    /// not be, or has no such field.
    pub fn cached(&self) -> Option<SecretString> {
        match &self.0 {
            Inner::Fixed(v) => v.clone(),
            Inner::Remote { secret, field } => pick(secret.cached()?.expose_secret(), *field),
        }
    }

    /// The value, reading it first if none is cached (subject to [`MIN_REREAD_INTERVAL`]).
    pub async fn get(&self) -> Option<SecretString> {
        if let Some(value) = self.cached() {
            return Some(value);
        }
        self.reread().await;
        self.cached()
    }

    /// Reads the secret again because the cached value stopped working; at most once per
    /// [`MIN_REREAD_INTERVAL`] per secret (a plain variable is never read again). True when the
    /// value is now different from before the call.
    pub async fn reread(&self) -> bool {
        let Inner::Remote { secret, .. } = &self.0 else { return false };
        let before = self.cached();
        secret.read().await;
        let after = self.cached();
        match (before, after) {
            (Some(b), Some(a)) => b.expose_secret() != a.expose_secret(),
            (b, a) => b.is_some() != a.is_some(),
        }
    }

    /// Reads the secret again when its value was read `max_age` ago or more, so a key that is only
    /// ever signed with (never refused) still follows a rotation. True when the value changed.
    pub async fn refresh(&self, max_age: Duration) -> bool {
        let Inner::Remote { secret, .. } = &self.0 else { return false };
        let before = self.cached();
        if !secret.read_if_older(max_age).await {
            return false;
        }
        let after = self.cached();
        before.map(|b| b.expose_secret().to_owned()) != after.map(|a| a.expose_secret().to_owned())
    }

    /// How many times the secret behind this one was fetched (0 for a plain variable).
    pub fn reads(&self) -> u64 {
        match &self.0 {
            Inner::Fixed(_) => 0,
            Inner::Remote { secret, .. } => secret.reads(),
        }
    }
}

/// `field` of a JSON object, or the whole string; `None` for a missing, blank or non-string field.
fn pick(whole: &str, field: Option<&str>) -> Option<SecretString> {
    let Some(field) = field else {
        return (!whole.trim().is_empty()).then(|| SecretString::from(whole.to_owned()));
    };
    let json: serde_json::Value = serde_json::from_str(whole).ok()?;
    let value = json.get(field)?.as_str()?;
    (!value.trim().is_empty()).then(|| SecretString::from(value.to_owned()))
}

/// Opens [`Secret`]s from [`SecretSource`]s, one cache per Secrets Manager secret (three fields of
/// the Stripe secret are one read).
#[derive(Debug)]
pub struct Secrets {
    client: Option<SecretsManagerClient>,
    remote: Mutex<HashMap<String, Arc<RemoteSecret>>>,
}

impl Secrets {
    /// `client` reads Secrets Manager sources; without one, such a source stays missing.
    pub fn new(client: Option<SecretsManagerClient>) -> Self {
        Self { client, remote: Mutex::new(HashMap::new()) }
    }

    /// The secret `source` names.
    pub fn open(&self, source: &SecretSource) -> Secret {
        self.open_stage(source, None)
    }

    /// The value `source` had before its latest change ([`PREVIOUS_STAGE`]): missing for a plain
    /// variable, and for a secret never changed.
    pub fn open_previous(&self, source: &SecretSource) -> Secret {
        match source {
            SecretSource::Value(_) => Secret::missing(),
            SecretSource::SecretsManager { .. } => self.open_stage(source, Some(PREVIOUS_STAGE)),
        }
    }

    fn open_stage(&self, source: &SecretSource, stage: Option<&'static str>) -> Secret {
        match source {
            SecretSource::Value(v) => Secret(Inner::Fixed(v.clone())),
            SecretSource::SecretsManager { id, field } => {
                let Some(client) = &self.client else {
                    tracing::error!(secret = %id, "no Secrets Manager client to read a secret with");
                    return Secret::missing();
                };
                let mut remote = self.remote.lock().unwrap_or_else(PoisonError::into_inner);
                let cache = match stage {
                    Some(stage) => format!("{id}#{stage}"),
                    None => id.clone(),
                };
                let secret = remote
                    .entry(cache)
                    .or_insert_with(|| {
                        let (client, id) = (client.clone(), id.clone());
                        RemoteSecret::new(Box::new(SecretsManagerFetcher { client, id, stage }))
                    })
                    .clone();
                Secret::remote(secret, *field)
            }
        }
    }

    /// The HMAC key `source` names as a [`KeyRing`]: its current value and its previous one.
    pub fn key_ring(&self, source: &SecretSource, what: &'static str) -> crate::KeyRing {
        crate::KeyRing::rotating(self.open(source), self.open_previous(source), what)
    }

    /// The first read of every Secrets Manager secret opened so far, concurrently. Failures are
    /// logged and leave the secret missing until a later read succeeds; start-up goes on.
    pub async fn load(&self) {
        let remote: Vec<_> = self.remote.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
        let reads: Vec<_> = remote.into_iter().map(|s| tokio::spawn(async move { s.read().await })).collect();
        for read in reads {
            // A read that panicked left its secret missing, which requests report.
            let _ = read.await;
        }
    }
}

type Build = dyn Fn() -> Pin<Box<dyn Future<Output = Option<Router>> + Send>> + Send + Sync;

struct Lazy {
    router: tokio::sync::OnceCell<Router>,
    build: Box<Build>,
}

/// The shortest HMAC key accepted: HMAC-SHA256's own output size.
pub const HMAC_KEY_LEN: usize = 32;

/// `secret` as an HMAC key (order tokens, cursors): `None`, logged, while it is missing or
/// shorter than [`HMAC_KEY_LEN`] bytes. A short value is read again before it is refused (at
/// most once per [`MIN_REREAD_INTERVAL`]), so a key fixed in Secrets Manager is picked up
/// without a restart.
pub async fn hmac_key(secret: &Secret, what: &'static str) -> Option<SecretString> {
    let usable = |key: &SecretString| key.expose_secret().len() >= HMAC_KEY_LEN;
    let key = secret.get().await?;
    if usable(&key) {
        return Some(key);
    }
    secret.reread().await;
    let key = secret.cached().filter(usable);
    if key.is_none() {
        tracing::error!(secret = what, "the key is shorter than 32 bytes; refusing to sign with it");
    }
    key
}

/// A router built by `build` once it can be: `build` answers `None` while a secret it needs is
/// missing (it should only [`Secret::get`] or [`hmac_key`], which limit how often they read), and
/// until it answers `Some` every request is 503 `not_configured`. Tries once now, then on
/// requests. The router it builds gets the 404 and 405 problem+json fallbacks; merge the result
/// with the health route and give it `with_common_layers_and_fallback`.
pub async fn when_configured<F, Fut>(build: F) -> Router
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Router>> + Send + 'static,
{
    let build = move || {
        let built = build();
        Box::pin(async move {
            built.await.map(|router| {
                router.fallback(crate::http::not_found).method_not_allowed_fallback(crate::http::method_not_allowed)
            })
        }) as Pin<Box<dyn Future<Output = Option<Router>> + Send>>
    };
    let lazy = Arc::new(Lazy { router: tokio::sync::OnceCell::new(), build: Box::new(build) });
    if let Some(router) = (lazy.build)().await {
        let _ = lazy.router.set(router);
    }
    Router::new().fallback(serve_lazily).with_state(lazy)
}

async fn serve_lazily(State(lazy): State<Arc<Lazy>>, request: Request) -> Response {
    let router = match lazy.router.get() {
        Some(router) => router.clone(),
        None => match (lazy.build)().await {
            Some(router) => lazy.router.get_or_init(|| async { router }).await.clone(),
            None => return ApiError::not_configured("a secret this function needs cannot be read yet").into_response(),
        },
    };
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;

    #[derive(Debug)]
    struct Fake {
        value: Arc<Mutex<String>>,
        up: Arc<AtomicBool>,
    }

    #[async_trait]
    impl SecretFetcher for Fake {
        async fn fetch(&self) -> anyhow::Result<String> {
            anyhow::ensure!(self.up.load(Ordering::SeqCst), "unreachable");
            Ok(self.value.lock().unwrap().clone())
        }
    }

    fn fake(value: &str, up: bool) -> (Arc<RemoteSecret>, Arc<Mutex<String>>, Arc<AtomicBool>) {
        let value = Arc::new(Mutex::new(value.to_owned()));
        let up = Arc::new(AtomicBool::new(up));
        (RemoteSecret::new(Box::new(Fake { value: value.clone(), up: up.clone() })), value, up)
    }

    fn expose(s: Option<SecretString>) -> Option<String> {
        s.map(|s| s.expose_secret().to_owned())
    }

    #[tokio::test(start_paused = true)]
    async fn a_changed_secret_is_read_again_at_most_once_a_minute() {
        let (remote, value, _) = fake(r#"{"webhook_secret": "one", "secret_key": "sk"}"#, true);
        let hook = Secret::remote(remote.clone(), Some("webhook_secret"));
        let key = Secret::remote(remote.clone(), Some("secret_key"));
        assert_eq!(expose(hook.get().await).as_deref(), Some("one"));
        assert_eq!(expose(key.get().await).as_deref(), Some("sk"), "one read serves every field");
        assert_eq!(remote.reads(), 1);

        *value.lock().unwrap() = r#"{"webhook_secret": "two", "secret_key": "sk"}"#.into();
        assert!(hook.reread().await, "the first re-read is not held back by the start-up read");
        assert_eq!(expose(hook.cached()).as_deref(), Some("two"));
        for _ in 0..5 {
            assert!(!hook.reread().await);
            assert!(!key.reread().await);
        }
        assert_eq!(remote.reads(), 2, "no more than one re-read within the interval");

        tokio::time::advance(MIN_REREAD_INTERVAL).await;
        *value.lock().unwrap() = r#"{"webhook_secret": "three"}"#.into();
        assert!(hook.reread().await);
        assert_eq!(remote.reads(), 3);
        assert_eq!(expose(key.cached()), None, "a field that went away is missing, not empty");
    }

    #[tokio::test(start_paused = true)]
    async fn an_unreachable_store_leaves_the_secret_missing_and_is_retried_after_the_interval() {
        let (remote, _, up) = fake("a plain secret", false);
        let secret = Secret::remote(remote.clone(), None);
        assert_eq!(expose(secret.get().await), None, "the start-up read");
        assert_eq!(expose(secret.get().await), None, "the first retry, at once");
        up.store(true, Ordering::SeqCst);
        assert_eq!(expose(secret.get().await), None, "the next retry waits for the interval");
        assert_eq!(remote.reads(), 2);
        tokio::time::advance(MIN_REREAD_INTERVAL).await;
        assert_eq!(expose(secret.get().await).as_deref(), Some("a plain secret"));
        assert_eq!(remote.reads(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_router_waits_for_its_secret_answering_503_not_configured_meanwhile() {
        use axum::body::Body;
        use axum::routing::get;
        use http::{Request, StatusCode};

        let (remote, _, up) = fake("k".repeat(32).as_str(), false);
        let secret = Secret::remote(remote.clone(), None);
        let app = when_configured(move || {
            let secret = secret.clone();
            async move {
                let key = hmac_key(&secret, "test").await?;
                let len = key.expose_secret().len();
                Some(Router::new().route("/x", get(move || async move { len.to_string() })))
            }
        })
        .await;
        let status = |path: &'static str| {
            let app = app.clone();
            async move { app.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap().status() }
        };
        assert_eq!(status("/x").await, StatusCode::SERVICE_UNAVAILABLE, "Secrets Manager is down");
        up.store(true, Ordering::SeqCst);
        tokio::time::advance(MIN_REREAD_INTERVAL).await;
        assert_eq!(status("/x").await, StatusCode::OK, "built once the secret can be read");
        assert_eq!(status("/nope").await, StatusCode::NOT_FOUND, "with the problem+json fallback");
        let reads = remote.reads();
        assert_eq!(status("/x").await, StatusCode::OK);
        assert_eq!(remote.reads(), reads, "built once, not per request");
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_key_fixed_in_the_source_builds_the_router_after_the_reread_interval_without_a_restart() {
        use axum::body::Body;
        use axum::routing::get;
        use http::{Request, StatusCode};

        let (remote, value, _) = fake("too short", true);
        let secret = Secret::remote(remote.clone(), None);
        let app = when_configured(move || {
            let secret = secret.clone();
            async move {
                hmac_key(&secret, "test").await?;
                Some(Router::new().route("/x", get(|| async { "built" })))
            }
        })
        .await;
        let status = || {
            let app = app.clone();
            async move { app.oneshot(Request::get("/x").body(Body::empty()).unwrap()).await.unwrap().status() }
        };
        assert_eq!(status().await, StatusCode::SERVICE_UNAVAILABLE, "a short key");
        *value.lock().unwrap() = "k".repeat(32);
        assert_eq!(status().await, StatusCode::SERVICE_UNAVAILABLE, "not read again within the interval");
        let reads = remote.reads();
        tokio::time::advance(MIN_REREAD_INTERVAL).await;
        assert_eq!(status().await, StatusCode::OK, "the fixed key is read again and used");
        assert_eq!(remote.reads(), reads + 1);
    }

    #[test]
    fn fields_are_read_from_json_and_blank_values_are_missing() {
        assert_eq!(expose(pick(r#"{"a": "x"}"#, Some("a"))).as_deref(), Some("x"));
        assert_eq!(expose(pick(r#"{"a": ""}"#, Some("a"))), None);
        assert_eq!(expose(pick(r#"{"a": 1}"#, Some("a"))), None);
        assert_eq!(expose(pick("not json", Some("a"))), None);
        assert_eq!(expose(pick(" ", None)), None);
        assert_eq!(expose(pick("whole", None)).as_deref(), Some("whole"));
    }

    #[test]
    fn debug_never_shows_a_value() {
        let secret = Secret::fixed("do-not-print");
        assert!(!format!("{secret:?}").contains("do-not-print"));
        let source = SecretSource::Value(Some("do-not-print".into()));
        assert!(!format!("{source:?}").contains("do-not-print"));
    }
}
