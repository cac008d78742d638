//! One Secrets Manager secret fetched and cached: read at start, and again only when asked and
//! the interval since the last re-read has passed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use tokio::time::Instant;

use super::{MIN_REREAD_INTERVAL, SecretsManagerClient};

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
pub(super) struct SecretsManagerFetcher {
    pub(super) client: SecretsManagerClient,
    pub(super) id: String,
    pub(super) stage: Option<&'static str>,
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
    pub(super) fetcher: Box<dyn SecretFetcher>,
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

    pub(super) fn cached(&self) -> Option<Arc<SecretString>> {
        self.value.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Reads the secret now, unless the interval since the last re-read has not passed. True
    /// when a read happened.
    pub(super) async fn read(&self) -> bool {
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
    pub(super) async fn read_if_older(&self, max_age: Duration) -> bool {
        let last = self.reading.lock().await.last_read;
        if last.is_some_and(|at| Instant::now().duration_since(at) < max_age) {
            return false;
        }
        self.read().await
    }
}
