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
//! under it: [`keyring`]).
//!
//! Laid out as: this module (sources, [`Secret`], [`Secrets`]), [`remote`] (fetching and caching
//! one Secrets Manager secret), [`hmac_key`] (the one rule for HMAC key length, [`HmacKey`]) and
//! `configured` ([`when_configured`]).

mod configured;
pub mod hmac_key;
pub mod keyring;
pub mod remote;
pub(crate) mod variables;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

pub use aws_sdk_secretsmanager::Client as SecretsManagerClient;
pub use configured::when_configured;
pub use hmac_key::{HMAC_KEY_LEN, HmacKey, ShortKey, hmac_key};
pub use keyring::KeyRing;
pub use remote::{RemoteSecret, SecretFetcher};
pub use variables::{CursorSecretVariables, OrderTokenSecretVariables};

use remote::SecretsManagerFetcher;

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
    pub fn key_ring(&self, source: &SecretSource, what: &'static str) -> KeyRing {
        KeyRing::rotating(self.open(source), self.open_previous(source), what)
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

#[cfg(test)]
mod tests;
