//! Opaque, tamper-checked list cursors.
//!
//! A cursor carries where a listing stopped (typically the last key) as
//! `base64url(json) "." base64url(hmac)`. The MAC is over `context || 0x00 || json`, where the
//! context names the listing and its filters (`"products?status=active&q=shirt"`): a cursor
//! from one listing then fails on any other, so a client can neither forge a position nor carry
//! one into a query it was not issued for (e.g. from an admin's `?status=draft` listing into
//! another filter). The payload is only signed, not encrypted: put nothing secret in it.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::error::ApiError;
use crate::secrets::KeyRing;

/// Longer cursors are refused before any decoding work; real ones are a few hundred bytes.
pub const MAX_CURSOR_LEN: usize = 2048;

/// The shortest key accepted: HMAC-SHA256's own output size.
pub const KEY_LEN: usize = crate::secrets::HMAC_KEY_LEN;

type HmacSha256 = Hmac<Sha256>;

/// Signs cursors with the current key of a [`KeyRing`] and verifies them against its current and
/// previous keys, so a rotation does not break the next page of a listing. Cheap to clone.
#[derive(Clone)]
pub struct CursorCodec {
    keys: KeyRing,
}

impl fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CursorCodec").finish_non_exhaustive()
    }
}

fn mac(key: &[u8], context: &str, json: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(context.as_bytes());
    mac.update(&[0]);
    mac.update(json);
    mac
}

fn invalid_cursor() -> ApiError {
    ApiError::bad_request("invalid_cursor", "the cursor is malformed, tampered with, or belongs to another listing")
}

impl CursorCodec {
    /// A codec keyed with `key`, which never changes and should be [`KEY_LEN`] random bytes.
    /// Every instance of a function must share it, or cursors fail as soon as a client's next
    /// page lands on another instance.
    ///
    /// # Panics
    /// If `key` is shorter than [`KEY_LEN`] bytes: a short key is a configuration mistake that
    /// should stop the function at start-up, not weaken every cursor silently.
    pub fn new(key: &[u8]) -> Self {
        Self { keys: KeyRing::fixed(key) }
    }

    /// A codec keyed with `keys`, which may rotate.
    pub fn rotating(keys: KeyRing) -> Self {
        Self { keys }
    }

    /// The cursor for `value` within the listing named by `context`.
    ///
    /// # Errors
    /// 503 `not_configured` while the key cannot be read.
    ///
    /// # Panics
    /// If `value` cannot be serialised to JSON (a map with non-string keys, a failing custom
    /// `Serialize`): cursor types are plain structs, so that is a programming error.
    pub async fn encode<T: Serialize>(&self, context: &str, value: &T) -> Result<String, ApiError> {
        let keys = self.keys.signing_keys().await?;
        let key = keys.first().ok_or_else(|| ApiError::not_configured("no cursor key"))?;
        let json = serde_json::to_vec(value).expect("cursor values serialise to JSON");
        let tag = mac(key, context, &json).finalize().into_bytes();
        Ok(format!("{}.{}", URL_SAFE_NO_PAD.encode(&json), URL_SAFE_NO_PAD.encode(tag)))
    }

    /// The value in `cursor`, if this codec signed it for the same `context` (under the current
    /// key or the previous one; one that fails both reads the key again first, at most once a
    /// minute).
    ///
    /// # Errors
    /// 400 `invalid_cursor` if the cursor is too long, not two base64url parts, signed with
    /// another key or for another context, or does not hold a `T`. The MAC is checked (in
    /// constant time) before the payload is parsed, so nothing unsigned reaches serde.
    pub async fn decode<T: DeserializeOwned>(&self, context: &str, cursor: &str) -> Result<T, ApiError> {
        let (json, tag) = split(cursor).ok_or_else(invalid_cursor)?;
        self.keys
            .check(|key| mac(key, context, &json).verify_slice(&tag).ok())
            .await
            .and_then(|()| serde_json::from_slice(&json).ok())
            .ok_or_else(invalid_cursor)
    }

    /// [`CursorCodec::encode`] of where a listing goes on, if it does.
    ///
    /// # Errors
    /// As [`CursorCodec::encode`].
    pub async fn encode_opt<T: Serialize>(&self, context: &str, value: Option<&T>) -> Result<Option<String>, ApiError> {
        match value {
            Some(value) => self.encode(context, value).await.map(Some),
            None => Ok(None),
        }
    }

    /// [`CursorCodec::decode`] of an optional cursor.
    ///
    /// # Errors
    /// As [`CursorCodec::decode`].
    pub async fn decode_opt<T: DeserializeOwned>(
        &self,
        context: &str,
        cursor: Option<&str>,
    ) -> Result<Option<T>, ApiError> {
        match cursor {
            Some(cursor) => self.decode(context, cursor).await.map(Some),
            None => Ok(None),
        }
    }
}

/// The payload and tag of a cursor, decoded; `None` for one too long or not two base64url parts.
fn split(cursor: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    if cursor.len() > MAX_CURSOR_LEN {
        return None;
    }
    let (payload, tag) = cursor.split_once('.')?;
    Some((URL_SAFE_NO_PAD.decode(payload).ok()?, URL_SAFE_NO_PAD.decode(tag).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct After {
        created_at: String,
        id: String,
    }

    const CONTEXT: &str = "products?status=active&q=shirt";

    fn codec() -> CursorCodec {
        CursorCodec::new(&[7; KEY_LEN])
    }

    fn after() -> After {
        After { created_at: "2025-01-02T03:04:05Z".into(), id: "prod_01J".into() }
    }

    fn assert_invalid(result: Result<After, ApiError>) {
        let err = result.unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert_eq!(err.code, "invalid_cursor");
    }

    #[tokio::test]
    async fn a_cursor_decodes_to_what_was_encoded() {
        let cursor = codec().encode(CONTEXT, &after()).await.unwrap();
        assert!(
            cursor.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "cursors must be safe in a query string unescaped: {cursor}"
        );
        assert_eq!(codec().decode::<After>(CONTEXT, &cursor).await.unwrap(), after());
    }

    #[tokio::test]
    async fn a_tampered_payload_is_refused() {
        let cursor = codec().encode(CONTEXT, &after()).await.unwrap();
        let (_, tag) = cursor.split_once('.').unwrap();
        let forged = serde_json::to_vec(&After { id: "prod_00".into(), ..after() }).unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(forged));
        assert_invalid(codec().decode(CONTEXT, &forged).await);
    }

    #[tokio::test]
    async fn a_tampered_mac_is_refused() {
        let cursor = codec().encode(CONTEXT, &after()).await.unwrap();
        let (payload, tag) = cursor.split_once('.').unwrap();
        let mut tag = URL_SAFE_NO_PAD.decode(tag).unwrap();
        tag[7] ^= 1;
        let forged = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag));
        assert_invalid(codec().decode(CONTEXT, &forged).await);
    }

    #[tokio::test]
    async fn a_cursor_from_another_listing_or_key_is_refused() {
        let cursor = codec().encode(CONTEXT, &after()).await.unwrap();
        assert_invalid(codec().decode("products?status=draft&q=shirt", &cursor).await);
        assert_invalid(CursorCodec::new(&[8; KEY_LEN]).decode(CONTEXT, &cursor).await);
    }

    #[tokio::test]
    async fn garbage_and_oversized_cursors_are_refused() {
        for garbage in ["", ".", "abc", "a.b.c", "!!!.???", "e30"] {
            assert_invalid(codec().decode(CONTEXT, garbage).await);
        }
        // Validly signed, but not an `After`.
        let other = codec().encode(CONTEXT, &42).await.unwrap();
        assert_invalid(codec().decode(CONTEXT, &other).await);

        let huge = After { id: "x".repeat(MAX_CURSOR_LEN), ..after() };
        let cursor = codec().encode(CONTEXT, &huge).await.unwrap();
        assert_invalid(codec().decode(CONTEXT, &cursor).await);
    }

    #[test]
    #[should_panic(expected = "at least 32 bytes")]
    fn a_short_key_is_refused_at_start_up() {
        let _ = CursorCodec::new(b"too short");
    }

    proptest::proptest! {
        /// Whatever a client sends as a cursor, decoding answers 400 `invalid_cursor` or a value
        /// this codec encoded: never a panic, never a forged page key.
        #[test]
        fn arbitrary_cursors_are_refused_never_panic(cursor in ".{0,300}", dotted in "[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,80}") {
            let codec = CursorCodec::new(&[9; 32]);
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            for candidate in [cursor, dotted] {
                let decoded: Result<serde_json::Value, _> = runtime.block_on(codec.decode("ctx", &candidate));
                proptest::prop_assert_eq!(decoded.map_err(|e| e.code), Err("invalid_cursor"));
            }
        }
    }
}
