//! [`RemoteKeys`]: the issuer's signing keys, found by OpenID discovery, cached, and fetched
//! again when they may have changed, never more often than [`Refresh::min_interval`].
//!
//! The keys are fetched on first use (no request, no fetch: a cold start stays fast), again when
//! a token names a `kid` we do not know (the provider rotated its keys), and again when the set
//! is older than [`Refresh::max_age`] (the provider dropped a key, so tokens signed with it stop
//! working). All fetches go through one lock: concurrent requests share one fetch, and a fetch
//! (or a failed attempt) less than `min_interval` ago means no fetch at all, so a flood of
//! tokens with forged `kid`s costs the provider at most one request per interval. While the keys
//! cannot be fetched the last ones obtained stay in use.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use http::Uri;
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;

use super::fetch::{Fetcher, allowed};
use super::keys::{KeyMap, key_map};

/// How often the key set may and must be fetched again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refresh {
    /// At most one fetch (or failed attempt) per this interval, whatever the tokens say.
    pub min_interval: Duration,
    /// A key set older than this is fetched again on the next request.
    pub max_age: Duration,
}

impl Default for Refresh {
    /// One fetch a minute at most; a key set is kept at most 15 minutes.
    fn default() -> Self {
        Self { min_interval: Duration::from_secs(60), max_age: Duration::from_secs(15 * 60) }
    }
}

/// The issuer's OpenID discovery document URL: `{issuer}/.well-known/openid-configuration`.
///
/// # Errors
/// If the issuer is not an https URL (or http on the loopback interface).
pub(super) fn discovery_uri(issuer: &str) -> anyhow::Result<Uri> {
    let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let uri: Uri = url.parse().with_context(|| format!("AUTH_ISSUER `{issuer}` is not a URL"))?;
    allowed(&uri).context("AUTH_ISSUER")?;
    Ok(uri)
}

/// The fields of the discovery document we use.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// The issuer's keys as last fetched, and how to fetch them again.
pub(super) struct RemoteKeys {
    issuer: String,
    audience: String,
    discovery: Uri,
    refresh: Refresh,
    fetcher: Fetcher,
    current: RwLock<Current>,
    /// Held for the whole of a fetch: the single flight.
    attempts: tokio::sync::Mutex<Attempts>,
}

#[derive(Default)]
struct Current {
    keys: Arc<KeyMap>,
    fetched: Option<Instant>,
}

#[derive(Default)]
struct Attempts {
    last: Option<Instant>,
    /// From the discovery document; forgotten when a fetch fails, so it is looked up again.
    jwks_uri: Option<Uri>,
}

impl RemoteKeys {
    /// # Errors
    /// If the issuer is not an https URL, or the HTTP client cannot be built.
    pub(super) fn new(issuer: String, audience: String, refresh: Refresh) -> anyhow::Result<Self> {
        Ok(Self {
            discovery: discovery_uri(&issuer)?,
            issuer,
            audience,
            refresh,
            fetcher: Fetcher::new()?,
            current: RwLock::default(),
            attempts: tokio::sync::Mutex::default(),
        })
    }

    /// The keys as last fetched; empty until a fetch has succeeded.
    pub(super) fn current(&self) -> Arc<KeyMap> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).keys.clone()
    }

    /// Whether the keys were never fetched or are older than [`Refresh::max_age`].
    pub(super) fn is_stale(&self) -> bool {
        let fetched = self.current.read().unwrap_or_else(PoisonError::into_inner).fetched;
        fetched.is_none_or(|at| at.elapsed() >= self.refresh.max_age)
    }

    /// Fetches the keys again, unless a fetch was attempted less than
    /// [`Refresh::min_interval`] ago; concurrent callers wait for the one fetch and use its
    /// result. A failure is logged and keeps the keys we had.
    pub(super) async fn refresh(&self) {
        let mut attempts = self.attempts.lock().await;
        if attempts.last.is_some_and(|at| at.elapsed() < self.refresh.min_interval) {
            return;
        }
        attempts.last = Some(Instant::now());
        match self.fetch(&mut attempts).await {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), issuer = %self.issuer, "fetched the issuer's signing keys");
                *self.current.write().unwrap_or_else(PoisonError::into_inner) =
                    Current { keys: Arc::new(keys), fetched: Some(Instant::now()) };
            }
            Err(e) => {
                attempts.jwks_uri = None;
                tracing::warn!(error = format!("{e:#}"), issuer = %self.issuer, "cannot fetch the issuer's signing keys");
            }
        }
    }

    async fn fetch(&self, attempts: &mut Attempts) -> anyhow::Result<KeyMap> {
        let jwks_uri = match &attempts.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let discovery: Discovery = self.fetcher.json(&self.discovery).await?;
                // OpenID Connect Discovery 1.0, section 4.3: the document must be the issuer's own.
                if discovery.issuer.trim_end_matches('/') != self.issuer.trim_end_matches('/') {
                    bail!("the discovery document is for issuer `{}`, not `{}`", discovery.issuer, self.issuer);
                }
                let uri: Uri = discovery.jwks_uri.parse().context("the discovery document's jwks_uri")?;
                allowed(&uri).context("the discovery document's jwks_uri")?;
                attempts.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let jwks: JwkSet = self.fetcher.json(&jwks_uri).await?;
        key_map(&jwks, &self.issuer, &self.audience)
    }
}

#[cfg(test)]
mod tests;
