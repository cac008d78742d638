//! HMAC keys that rotate without a restart: the order-token key and the cursor key.
//!
//! A [`KeyRing`] signs with the secret's current value and checks signatures against the current
//! value and the one before it (Secrets Manager's `AWSPREVIOUS` stage,
//! [`crate::secrets::PREVIOUS_STAGE`]), so a token or cursor signed just before a rotation still
//! opens after it, on every instance, including one started after the rotation. A signature made
//! with a key two rotations old is refused.
//!
//! The ring follows a rotation two ways: a signature that fails with both keys reads the secret
//! again (at most once per [`crate::secrets::MIN_REREAD_INTERVAL`], so forgeries cannot multiply
//! reads) and is checked once more; and the key to sign with is read again when it is older
//! than [`SIGNING_KEY_MAX_AGE`], so an instance that only signs (checkout) does not go on signing
//! with a key the others have rotated past.

use std::time::Duration;

use secrecy::SecretString;

use super::{HmacKey, Secret};
use crate::ApiError;

/// How old the key a ring signs with may get before it is read again: the longest a signer can
/// lag behind a rotation. Two rotations of one key less than this apart can strand what a lagging
/// instance signed in between.
pub const SIGNING_KEY_MAX_AGE: Duration = Duration::from_secs(300);

/// The current and the previous value of one HMAC key. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct KeyRing(Source);

#[derive(Clone)]
enum Source {
    /// A key that never changes (a plain variable, `nanoshop serve`, tests).
    Fixed(Key),
    /// A Secrets Manager secret at its current and its previous stage.
    Rotating { current: Secret, previous: Secret, what: &'static str },
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Source::Fixed(_) => f.write_str("KeyRing::Fixed"),
            Source::Rotating { what, .. } => f.debug_tuple("KeyRing::Rotating").field(what).finish(),
        }
    }
}

/// One key of a ring: never shorter than [`HMAC_KEY_LEN`](crate::secrets::HMAC_KEY_LEN) bytes.
pub type Key = HmacKey;

fn usable(key: &SecretString) -> bool {
    HmacKey::from_secret(key).is_some()
}

impl KeyRing {
    /// A key that never changes.
    ///
    /// # Panics
    /// For a key shorter than [`HMAC_KEY_LEN`](crate::secrets::HMAC_KEY_LEN) bytes: a configuration error caught at start-up.
    pub fn fixed(key: &[u8]) -> Self {
        Self(Source::Fixed(HmacKey::new(key).unwrap_or_else(|short| panic!("{short}"))))
    }

    /// `current` (the secret) and `previous` (its value before the latest change); `what` names
    /// it in logs.
    pub fn rotating(current: Secret, previous: Secret, what: &'static str) -> Self {
        Self(Source::Rotating { current, previous, what })
    }

    /// The keys a signature is checked against now, current first; unusable values left out.
    fn keys(&self) -> Vec<Key> {
        match &self.0 {
            Source::Fixed(key) => vec![key.clone()],
            Source::Rotating { current, previous, .. } => {
                let current = current.cached().as_ref().and_then(HmacKey::from_secret);
                let previous =
                    previous.cached().as_ref().and_then(HmacKey::from_secret).filter(|p| current.as_ref() != Some(p));
                current.into_iter().chain(previous).collect()
            }
        }
    }

    /// Reads the current value again (rate-limited) and, when it changed, the previous one too.
    /// True when the current value changed.
    async fn reread(&self) -> bool {
        let Source::Rotating { current, previous, .. } = &self.0 else { return false };
        let changed = current.reread().await;
        if changed {
            previous.reread().await;
        }
        changed
    }

    /// The keys to sign with (the first) and check against, the current one read again first
    /// when it is older than [`SIGNING_KEY_MAX_AGE`].
    ///
    /// # Errors
    /// 503 `not_configured` while the secret has no usable value (it is read again first).
    pub async fn signing_keys(&self) -> Result<Vec<Key>, ApiError> {
        if let Source::Rotating { current, previous, what } = &self.0 {
            if current.refresh(SIGNING_KEY_MAX_AGE).await {
                previous.reread().await;
            }
            if current.cached().filter(usable).is_none() {
                self.reread().await;
            }
            if current.cached().filter(usable).is_none() {
                tracing::error!(secret = *what, "no usable key (missing or shorter than 32 bytes)");
                return Err(ApiError::not_configured("a key this function signs with cannot be read"));
            }
        }
        Ok(self.keys())
    }

    /// The first `Some` that `check` gives for a key of the ring. When none does, the secret is
    /// read again (at most once per [`crate::secrets::MIN_REREAD_INTERVAL`]) and, if it changed,
    /// checked once more: a signature made with a key this instance has not seen yet.
    pub async fn check<T>(&self, check: impl Fn(&[u8]) -> Option<T>) -> Option<T> {
        let first = |keys: Vec<Key>| keys.iter().find_map(|k| check(k));
        if let Some(found) = first(self.keys()) {
            return Some(found);
        }
        if self.reread().await { first(self.keys()) } else { None }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_fixed_ring_signs_and_checks_with_its_one_key() {
        let ring = KeyRing::fixed(&[b'k'; 32]);
        let keys = ring.signing_keys().await.expect("a key");
        assert_eq!(keys.len(), 1);
        assert_eq!(*keys[0], [b'k'; 32]);
        assert_eq!(ring.check(|k| (k == [b'k'; 32]).then_some(1)).await, Some(1));
        assert_eq!(ring.check(|k| (k == [b'x'; 32]).then_some(1)).await, None);
    }

    use std::sync::Mutex;

    use async_trait::async_trait;
    use nanoshop_domain::ids::OrderId;

    use crate::capability::OrderTokens;
    use crate::cursor::CursorCodec;
    use crate::secrets::{MIN_REREAD_INTERVAL, RemoteSecret, SecretFetcher};

    /// One version stage of a secret in a fake Secrets Manager.
    #[derive(Debug)]
    struct Stage(Arc<Mutex<String>>);

    #[async_trait]
    impl SecretFetcher for Stage {
        async fn fetch(&self) -> anyhow::Result<String> {
            Ok(self.0.lock().unwrap().clone())
        }
    }

    /// A fake secret with its current and previous stage, as `PutSecretValue` moves them.
    struct Store {
        current: Arc<Mutex<String>>,
        previous: Arc<Mutex<String>>,
    }

    impl Store {
        fn new(key: &str) -> Self {
            Self { current: Arc::new(Mutex::new(key.into())), previous: Arc::new(Mutex::new(String::new())) }
        }

        fn put(&self, key: &str) {
            let old = std::mem::replace(&mut *self.current.lock().unwrap(), key.into());
            *self.previous.lock().unwrap() = old;
        }

        /// An instance's view of the secret, as a function opens it at start.
        async fn instance(&self) -> (KeyRing, Arc<RemoteSecret>) {
            let current = RemoteSecret::new(Box::new(Stage(self.current.clone())));
            let previous = RemoteSecret::new(Box::new(Stage(self.previous.clone())));
            let ring = KeyRing::rotating(Secret::remote(current.clone(), None), Secret::remote(previous, None), "test");
            ring.signing_keys().await.expect("a key at start");
            (ring, current)
        }
    }

    fn key(c: char) -> String {
        c.to_string().repeat(32)
    }

    #[tokio::test(start_paused = true)]
    async fn order_tokens_open_across_one_rotation_on_old_and_new_instances_but_not_two() {
        let store = Store::new(&key('1'));
        let (warm, warm_reads) = store.instance().await;
        let warm = OrderTokens::rotating(warm);
        let order = OrderId::generate();
        let before = warm.issue(&order, 0, 100).await.unwrap();

        store.put(&key('2'));
        let (fresh, _) = store.instance().await;
        let fresh = OrderTokens::rotating(fresh);
        assert_eq!(fresh.verify(&order, &before, 0, 1).await, Some(100), "an instance started after: previous key");
        let after = fresh.issue(&order, 0, 200).await.unwrap();
        assert_ne!(after.rsplit('.').next(), before.rsplit('.').next());
        let reads = warm_reads.reads();
        assert_eq!(warm.verify(&order, &after, 0, 1).await, Some(200), "a warm instance reads the new key");
        assert_eq!(warm_reads.reads(), reads + 1);
        assert_eq!(warm.verify(&order, &before, 0, 1).await, Some(100), "and still opens the old token");

        let forged = format!("0.300.{}", after.rsplit('.').next().unwrap());
        for _ in 0..50 {
            assert_eq!(warm.verify(&order, &forged, 0, 1).await, None);
        }
        assert_eq!(warm_reads.reads(), reads + 1, "forgeries read nothing more within the interval");
        tokio::time::advance(MIN_REREAD_INTERVAL).await;
        for _ in 0..50 {
            assert_eq!(warm.verify(&order, &forged, 0, 1).await, None);
        }
        assert_eq!(warm_reads.reads(), reads + 2, "one read a minute at most");

        store.put(&key('3'));
        let (third, _) = store.instance().await;
        let third = OrderTokens::rotating(third);
        assert_eq!(third.verify(&order, &after, 0, 1).await, Some(200), "one rotation old");
        assert_eq!(third.verify(&order, &before, 0, 1).await, None, "two rotations old");
    }

    #[tokio::test(start_paused = true)]
    async fn a_signer_follows_a_rotation_within_the_signing_key_s_max_age() {
        let store = Store::new(&key('1'));
        let (ring, _) = store.instance().await;
        let (tokens, order) = (OrderTokens::rotating(ring.clone()), OrderId::generate());
        let old = tokens.issue(&order, 0, 1).await.unwrap();
        store.put(&key('2'));
        assert_eq!(tokens.issue(&order, 0, 1).await.unwrap(), old, "not read again at every signature");
        tokio::time::advance(SIGNING_KEY_MAX_AGE).await;
        let new = tokens.issue(&order, 0, 1).await.unwrap();
        assert_ne!(new, old, "signed with the new key");
        assert_eq!(OrderTokens::new(key('2').as_bytes()).verify(&order, &new, 0, 1).await, Some(1));
    }

    #[tokio::test(start_paused = true)]
    async fn cursors_open_across_one_rotation() {
        let store = Store::new(&key('1'));
        let (warm, _) = store.instance().await;
        let warm = CursorCodec::rotating(warm);
        let before = warm.encode("ctx", &1).await.unwrap();
        store.put(&key('2'));
        let (fresh, _) = store.instance().await;
        let fresh = CursorCodec::rotating(fresh);
        assert_eq!(fresh.decode::<i32>("ctx", &before).await.unwrap(), 1, "the previous key");
        let after = fresh.encode("ctx", &2).await.unwrap();
        assert_eq!(warm.decode::<i32>("ctx", &after).await.unwrap(), 2, "read again on a miss");
        store.put(&key('3'));
        let (third, _) = store.instance().await;
        let third = CursorCodec::rotating(third);
        assert_eq!(third.decode::<i32>("ctx", &before).await.unwrap_err().code, "invalid_cursor");
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_key_fixed_in_the_source_is_signed_with_after_the_reread_interval() {
        let store = Store::new("short");
        let current = RemoteSecret::new(Box::new(Stage(store.current.clone())));
        let ring = KeyRing::rotating(Secret::remote(current, None), Secret::missing(), "test");
        assert_eq!(ring.signing_keys().await.unwrap_err().code, "not_configured");
        store.put(&key('1'));
        assert_eq!(ring.signing_keys().await.unwrap_err().code, "not_configured", "within the interval");
        tokio::time::advance(MIN_REREAD_INTERVAL).await;
        assert_eq!(*ring.signing_keys().await.expect("fixed, no restart")[0], *key('1').as_bytes());
    }

    #[test]
    #[should_panic(expected = "at least 32 bytes")]
    fn a_short_fixed_key_is_refused_at_start_up() {
        let _ = KeyRing::fixed(b"too short");
    }
}
