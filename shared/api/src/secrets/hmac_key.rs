//! The one rule for the length of an HMAC key (order tokens, cursors, locally signed JWTs): at
//! least [`HMAC_KEY_LEN`] bytes. [`HmacKey`] cannot be built from a shorter value, so a key that
//! signs anything has passed it.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::Secret;

/// The shortest HMAC key accepted: HMAC-SHA256's own output size. A shorter key makes
/// brute-forcing the key, not the MAC, the weak link.
pub const HMAC_KEY_LEN: usize = 32;

/// The bytes of an HMAC key at least [`HMAC_KEY_LEN`] long. Cheap to clone; `Debug` never shows
/// them.
#[derive(Clone, PartialEq, Eq)]
pub struct HmacKey(Arc<[u8]>);

/// A value too short to be an [`HmacKey`]; says so without showing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an HMAC key needs at least {HMAC_KEY_LEN} bytes")]
pub struct ShortKey;

impl HmacKey {
    /// `bytes` as a key.
    ///
    /// # Errors
    /// [`ShortKey`] when it is shorter than [`HMAC_KEY_LEN`] bytes.
    pub fn new(bytes: &[u8]) -> Result<Self, ShortKey> {
        if bytes.len() < HMAC_KEY_LEN {
            return Err(ShortKey);
        }
        Ok(Self(bytes.into()))
    }

    /// The bytes of a secret's value as a key, when it is long enough.
    pub fn from_secret(secret: &SecretString) -> Option<Self> {
        Self::new(secret.expose_secret().as_bytes()).ok()
    }
}

impl std::ops::Deref for HmacKey {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacKey([REDACTED])")
    }
}

/// `secret` as an HMAC key (order tokens, cursors): `None`, logged, while it is missing or
/// shorter than [`HMAC_KEY_LEN`] bytes. A short value is read again before it is refused (at
/// most once per [`MIN_REREAD_INTERVAL`](super::MIN_REREAD_INTERVAL)), so a key fixed in Secrets Manager is picked up
/// without a restart.
pub async fn hmac_key(secret: &Secret, what: &'static str) -> Option<HmacKey> {
    if let Some(key) = HmacKey::from_secret(&secret.get().await?) {
        return Some(key);
    }
    secret.reread().await;
    let key = secret.cached().as_ref().and_then(HmacKey::from_secret);
    if key.is_none() {
        tracing::error!(secret = what, "the key is shorter than 32 bytes; refusing to sign with it");
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_shorter_than_32_bytes_cannot_be_built_and_debug_hides_the_bytes() {
        assert_eq!(HmacKey::new(&[b'k'; HMAC_KEY_LEN - 1]), Err(ShortKey));
        assert_eq!(ShortKey.to_string(), "an HMAC key needs at least 32 bytes");
        let key = HmacKey::new(&[b'k'; HMAC_KEY_LEN]).unwrap();
        assert_eq!(&*key, &[b'k'; HMAC_KEY_LEN]);
        assert!(!format!("{key:?}").contains("kkkk"), "{key:?}");
        assert!(HmacKey::from_secret(&SecretString::from("k".repeat(31))).is_none());
        assert!(HmacKey::from_secret(&SecretString::from("k".repeat(32))).is_some());
    }
}
