//! [`RemoteKeys`] through [`Verifier::authenticate`], against a provider served in-process whose
//! key set the tests change and whose key-set fetches they count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::routing::get;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::auth::testing::{AUDIENCE, claims, ec_key, jwk, rsa_key, sign};
use crate::auth::{AuthConfig, AuthError, DEFAULT_ADMIN_CLAIM, Refresh, Verifier};

struct Provider {
    issuer: String,
    jwks: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

impl Provider {
    /// A provider on a free loopback port serving the key set `keys` (`rsa-1`, `ec-1`).
    async fn start(keys: &[&str]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let provider = Self { issuer, jwks: Arc::default(), fetches: Arc::default() };
        provider.publish(keys);
        let discovery = json!({"issuer": provider.issuer, "jwks_uri": format!("{}/jwks", provider.issuer)});
        let (jwks, fetches) = (provider.jwks.clone(), provider.fetches.clone());
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(move || async move { Json(discovery) }))
            .route(
                "/jwks",
                get(move || async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    Json(jwks.lock().unwrap().clone())
                }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        provider
    }

    fn publish(&self, kids: &[&str]) {
        let keys: Vec<_> = kids
            .iter()
            .map(|kid| match *kid {
                "rsa-1" => jwk(&rsa_key(), Algorithm::RS256, kid),
                _ => jwk(&ec_key(), Algorithm::ES256, kid),
            })
            .collect();
        *self.jwks.lock().unwrap() = json!({ "keys": keys });
    }

    fn verifier(&self, refresh: Refresh) -> Verifier {
        let config = AuthConfig::Discovery { issuer: self.issuer.clone(), audience: AUDIENCE.into(), refresh };
        Verifier::new(config, DEFAULT_ADMIN_CLAIM).unwrap()
    }

    fn token(&self, kid: &str) -> String {
        let claims = claims(json!({"iss": self.issuer}));
        match kid {
            "rsa-1" => sign(Algorithm::RS256, Some(kid), &rsa_key(), &claims),
            _ => sign(Algorithm::ES256, Some(kid), &ec_key(), &claims),
        }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

const EVERY_TIME: Refresh = Refresh { min_interval: Duration::ZERO, max_age: Duration::from_secs(3600) };

#[tokio::test]
async fn keys_are_discovered_and_follow_a_rotation() {
    let provider = Provider::start(&["rsa-1"]).await;
    let verifier = provider.verifier(EVERY_TIME);
    assert_eq!(provider.fetches(), 0, "nothing is fetched before a token needs it");
    assert!(verifier.authenticate(&provider.token("rsa-1")).await.is_ok());
    assert!(verifier.authenticate(&provider.token("rsa-1")).await.is_ok());
    assert_eq!(provider.fetches(), 1, "the key set is cached");

    provider.publish(&["rsa-1", "ec-1"]);
    assert!(verifier.authenticate(&provider.token("ec-1")).await.is_ok(), "the new key, without a restart");
    assert_eq!(provider.fetches(), 2);
}

#[tokio::test]
async fn a_dropped_key_stops_working_once_the_set_is_fetched_again() {
    let provider = Provider::start(&["rsa-1"]).await;
    let max_age = Duration::from_millis(200);
    let verifier = provider.verifier(Refresh { min_interval: Duration::ZERO, max_age });
    let old = provider.token("rsa-1");
    assert!(verifier.authenticate(&old).await.is_ok());
    provider.publish(&["ec-1"]);
    tokio::time::sleep(max_age).await;
    assert!(matches!(verifier.authenticate(&old).await, Err(AuthError::UnknownKey)));
}

#[tokio::test]
async fn forged_kids_fetch_at_most_once_per_interval_even_concurrently() {
    let provider = Provider::start(&["rsa-1"]).await;
    let verifier =
        Arc::new(provider.verifier(Refresh { min_interval: Duration::from_secs(3600), ..Refresh::default() }));
    assert!(verifier.authenticate(&provider.token("rsa-1")).await.is_ok());
    let forged: Vec<_> = (0..50)
        .map(|i| {
            let (verifier, token) = (verifier.clone(), provider.token(&format!("forged-{i}")));
            tokio::spawn(async move { verifier.authenticate(&token).await })
        })
        .collect();
    for outcome in forged {
        assert!(matches!(outcome.await.unwrap(), Err(AuthError::UnknownKey)));
    }
    assert_eq!(provider.fetches(), 1, "the first fetch started the interval");
}

#[tokio::test]
async fn concurrent_first_requests_share_one_fetch() {
    let provider = Provider::start(&["rsa-1"]).await;
    let verifier = Arc::new(provider.verifier(Refresh::default()));
    let first: Vec<_> = (0..20)
        .map(|_| {
            let (verifier, token) = (verifier.clone(), provider.token("rsa-1"));
            tokio::spawn(async move { verifier.authenticate(&token).await })
        })
        .collect();
    for outcome in first {
        assert!(outcome.await.unwrap().is_ok());
    }
    assert_eq!(provider.fetches(), 1);
}

#[tokio::test]
async fn without_keys_tokens_are_refused_and_the_last_keys_outlive_an_outage() {
    // Nothing listens on the issuer: no key set was ever obtained.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let config = AuthConfig::Discovery { issuer: issuer.clone(), audience: AUDIENCE.into(), refresh: EVERY_TIME };
    let verifier = Verifier::new(config, DEFAULT_ADMIN_CLAIM).unwrap();
    let token = sign(Algorithm::RS256, Some("rsa-1"), &rsa_key(), &claims(json!({"iss": issuer})));
    assert!(matches!(verifier.authenticate(&token).await, Err(AuthError::KeysUnavailable)));

    // A provider that starts failing: the keys already fetched stay in use.
    let provider = Provider::start(&["rsa-1"]).await;
    let verifier = provider.verifier(EVERY_TIME);
    assert!(verifier.authenticate(&provider.token("rsa-1")).await.is_ok());
    *provider.jwks.lock().unwrap() = json!({"keys": "not a list"});
    assert!(matches!(verifier.authenticate(&provider.token("ec-1")).await, Err(AuthError::UnknownKey)));
    assert!(verifier.authenticate(&provider.token("rsa-1")).await.is_ok());
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_or_an_oversized_key_set_is_refused() {
    let provider = Provider::start(&["rsa-1"]).await;
    let stranger = format!("{}/other", provider.issuer);
    let config = AuthConfig::Discovery { issuer: stranger, audience: AUDIENCE.into(), refresh: EVERY_TIME };
    let verifier = Verifier::new(config, DEFAULT_ADMIN_CLAIM).unwrap();
    assert!(matches!(verifier.authenticate(&provider.token("rsa-1")).await, Err(AuthError::KeysUnavailable)));

    let verifier = provider.verifier(EVERY_TIME);
    let padding = "x".repeat(super::super::fetch::MAX_DOCUMENT_LEN);
    let mut jwks = provider.jwks.lock().unwrap().clone();
    jwks["padding"] = padding.into();
    *provider.jwks.lock().unwrap() = jwks;
    assert!(matches!(verifier.authenticate(&provider.token("rsa-1")).await, Err(AuthError::KeysUnavailable)));
}
