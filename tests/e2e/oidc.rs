//! Keys that follow the provider: the functions' [`Verifier`] against a real OpenID provider
//! (node-oidc-provider, `tests/oidc/provider.mjs`) that rotates and drops its signing keys while
//! it runs. The keys are found by discovery and fetched again as the tokens need, without a
//! restart, and a flood of made-up `kid`s costs the provider at most one fetch per interval.
//!
//! The provider is installed by `tests/oidc/install.sh` (`make test` runs it); without it the
//! tests fail, unless `NANOSHOP_SKIP_SERVICES=1`.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nanoshop_api::ApiError;
use nanoshop_api::auth::{AuthConfig, AuthError, Caller, DEFAULT_ADMIN_CLAIM, Refresh, Verifier};
use serde_json::{Value, json};

/// The audience the provider's access tokens carry (a resource indicator: an absolute URI).
const AUDIENCE: &str = "https://api.nanoshop.test";
/// How often the verifier under test may fetch keys: short, so the test does not wait a minute.
const MIN_INTERVAL: Duration = Duration::from_millis(500);

/// The provider process, stopped when dropped.
struct Provider {
    child: Child,
    issuer: String,
    http: reqwest::Client,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn installed() -> Option<PathBuf> {
    let cache = std::env::var_os("NANOSHOP_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/nanoshop")))?;
    let package = cache.join("oidc-provider/node_modules/oidc-provider/package.json");
    package.exists().then_some(cache)
}

impl Provider {
    /// The provider on a free loopback port, or `None` if it is not installed and the run knowingly
    /// goes without services.
    fn start() -> Option<Self> {
        let Some(cache) = installed() else {
            assert!(
                std::env::var("NANOSHOP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
                "node-oidc-provider is not installed: run tests/oidc/install.sh (`make test` does)"
            );
            return None;
        };
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/provider.mjs");
        let mut child = Command::new("node")
            .args([script, AUDIENCE])
            .env("NANOSHOP_CACHE", cache)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs tests/oidc/provider.mjs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let started: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("provider said `{line}`: {e}"));
        let issuer = started["issuer"].as_str().unwrap().to_owned();
        Some(Self { child, issuer, http: reqwest::Client::new() })
    }

    /// A verifier as a function builds it without `AUTH_JWKS`, fetching at most every
    /// [`MIN_INTERVAL`].
    fn verifier(&self) -> Verifier {
        let refresh = Refresh { min_interval: MIN_INTERVAL, max_age: Duration::from_secs(3600) };
        let config = AuthConfig::Discovery { issuer: self.issuer.clone(), audience: AUDIENCE.into(), refresh };
        Verifier::new(config, DEFAULT_ADMIN_CLAIM).unwrap()
    }

    /// An access token (a JWT signed with the provider's current key), by the client-credentials
    /// grant.
    async fn token(&self) -> String {
        let reply = self
            .http
            .post(format!("{}/token", self.issuer))
            .basic_auth("nanoshop-e2e", Some("nanoshop-e2e-secret"))
            .form(&[("grant_type", "client_credentials"), ("scope", "api")])
            .send()
            .await
            .unwrap();
        let body: Value = reply.json().await.unwrap();
        body["access_token"].as_str().unwrap_or_else(|| panic!("no token: {body}")).to_owned()
    }

    async fn post(&self, path: &str) {
        let reply = self.http.post(format!("{}{path}", self.issuer)).send().await.unwrap();
        assert!(reply.status().is_success(), "{path}: {}", reply.status());
    }

    /// How often the provider's key set was read.
    async fn jwks_fetches(&self) -> u64 {
        let stats: Value =
            self.http.get(format!("{}/test/stats", self.issuer)).send().await.unwrap().json().await.unwrap();
        stats["jwks_fetches"].as_u64().unwrap()
    }
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// `token` with its header naming `kid` instead (so its signature no longer matches either).
fn with_kid(token: &str, kid: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "at+jwt", "kid": kid}).to_string());
    let (_, rest) = token.split_once('.').unwrap();
    format!("{header}.{rest}")
}

/// The HTTP status a function answers a request bearing `token` with.
async fn status(verifier: &Verifier, token: &str) -> StatusCode {
    match verifier.authenticate(token).await {
        Ok(Caller::Customer { .. }) => StatusCode::OK,
        Ok(caller) => panic!("the provider's client is a customer, not {caller:?}"),
        Err(e) => ApiError::from(e).into_response().status(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_keys_are_followed_without_a_restart_and_dropped_ones_stop_working() {
    let Some(provider) = Provider::start() else { return };
    let verifier = provider.verifier();

    let old = provider.token().await;
    assert_eq!(status(&verifier, &old).await, StatusCode::OK, "a token signed by the provider's key");
    assert_eq!(provider.jwks_fetches().await, 1);

    // The provider rotates: a new key signs, the old one is still published.
    provider.post("/test/rotate").await;
    let new = provider.token().await;
    assert_ne!(kid(&new), kid(&old));
    tokio::time::sleep(MIN_INTERVAL).await;
    assert_eq!(status(&verifier, &new).await, StatusCode::OK, "the new key, without a restart");
    assert_eq!(status(&verifier, &old).await, StatusCode::OK, "the old key while it is published");
    assert_eq!(provider.jwks_fetches().await, 2);

    // The provider drops the old key: once the key set is fetched again (here because a token
    // names a key we do not know), tokens signed with it stop working.
    provider.post("/test/drop").await;
    tokio::time::sleep(MIN_INTERVAL).await;
    let unknown = with_kid(&new, "not-a-key-of-the-provider");
    assert!(matches!(verifier.authenticate(&unknown).await, Err(AuthError::UnknownKey)));
    assert_eq!(provider.jwks_fetches().await, 3);
    assert_eq!(status(&verifier, &old).await, StatusCode::UNAUTHORIZED, "the dropped key");
    assert_eq!(status(&verifier, &new).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_forged_kids_fetches_the_keys_at_most_once_per_interval() {
    let Some(provider) = Provider::start() else { return };
    let verifier = Arc::new(provider.verifier());
    let token = provider.token().await;
    assert_eq!(status(&verifier, &token).await, StatusCode::OK);
    tokio::time::sleep(MIN_INTERVAL).await;

    let before = provider.jwks_fetches().await;
    let flood: Vec<_> = (0..200)
        .map(|i| {
            let (verifier, forged) = (verifier.clone(), with_kid(&token, &format!("forged-{i}")));
            tokio::spawn(async move { status(&verifier, &forged).await })
        })
        .collect();
    for request in flood {
        assert_eq!(request.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(provider.jwks_fetches().await - before, 1, "one fetch for the whole flood");
    assert_eq!(status(&verifier, &token).await, StatusCode::OK, "the real key still works");
}
