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

/// Longer cursors are refused before any decoding work; real ones are a few hundred bytes.
pub const MAX_CURSOR_LEN: usize = 2048;

/// The shortest key accepted: HMAC-SHA256's own output size.
pub const KEY_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// Signs and verifies cursors with one HMAC-SHA256 key. Cheap to clone.
#[derive(Clone)]
pub struct CursorCodec {
    // Keyed once; every cursor clones this state instead of re-deriving the key.
    mac: HmacSha256,
}

impl fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CursorCodec").finish_non_exhaustive()
    }
}

impl CursorCodec {
    /// A codec keyed with `key`, which should be [`KEY_LEN`] random bytes from the function's
    /// secret configuration. Every instance of a function must share it, or cursors fail as
    /// soon as a client's next page lands on another instance.
    ///
    /// # Panics
    /// If `key` is shorter than [`KEY_LEN`] bytes: a short key is a configuration mistake that
    /// should stop the function at start-up, not weaken every cursor silently.
    pub fn new(key: &[u8]) -> Self {
        assert!(key.len() >= KEY_LEN, "a cursor key needs at least {KEY_LEN} bytes");
        Self { mac: HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length") }
    }

    fn mac(&self, context: &str, json: &[u8]) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(json);
        mac
    }

    /// The cursor for `value` within the listing named by `context`.
    ///
    /// # Panics
    /// If `value` cannot be serialised to JSON (a map with non-string keys, a failing custom
    /// `Serialize`): cursor types are plain structs, so that is a programming error.
    pub fn encode<T: Serialize>(&self, context: &str, value: &T) -> String {
        let json = serde_json::to_vec(value).expect("cursor values serialise to JSON");
        let tag = self.mac(context, &json).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&json), URL_SAFE_NO_PAD.encode(tag))
    }

    /// The value in `cursor`, if this codec signed it for the same `context`.
    ///
    /// # Errors
    /// 400 `invalid_cursor` if the cursor is too long, not two base64url parts, signed with
    /// another key or for another context, or does not hold a `T`. The MAC is checked (in
    /// constant time) before the payload is parsed, so nothing unsigned reaches serde.
    pub fn decode<T: DeserializeOwned>(&self, context: &str, cursor: &str) -> Result<T, ApiError> {
        self.verified_payload(context, cursor).and_then(|json| serde_json::from_slice(&json).ok()).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_cursor",
                "the cursor is malformed, tampered with, or belongs to another listing",
            )
        })
    }

    fn verified_payload(&self, context: &str, cursor: &str) -> Option<Vec<u8>> {
        if cursor.len() > MAX_CURSOR_LEN {
            return None;
        }
        let (payload, tag) = cursor.split_once('.')?;
        let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(context, &json).verify_slice(&tag).ok()?;
        Some(json)
    }
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

    #[test]
    fn a_cursor_decodes_to_what_was_encoded() {
        let cursor = codec().encode(CONTEXT, &after());
        assert!(
            cursor.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "cursors must be safe in a query string unescaped: {cursor}"
        );
        assert_eq!(codec().decode::<After>(CONTEXT, &cursor).unwrap(), after());
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let cursor = codec().encode(CONTEXT, &after());
        let (_, tag) = cursor.split_once('.').unwrap();
        let forged = serde_json::to_vec(&After { id: "prod_00".into(), ..after() }).unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(forged));
        assert_invalid(codec().decode(CONTEXT, &forged));
    }

    #[test]
    fn a_tampered_mac_is_refused() {
        let cursor = codec().encode(CONTEXT, &after());
        let (payload, tag) = cursor.split_once('.').unwrap();
        let mut tag = URL_SAFE_NO_PAD.decode(tag).unwrap();
        tag[7] ^= 1;
        let forged = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag));
        assert_invalid(codec().decode(CONTEXT, &forged));
    }

    #[test]
    fn a_cursor_from_another_listing_or_key_is_refused() {
        let cursor = codec().encode(CONTEXT, &after());
        assert_invalid(codec().decode("products?status=draft&q=shirt", &cursor));
        assert_invalid(CursorCodec::new(&[8; KEY_LEN]).decode(CONTEXT, &cursor));
    }

    #[test]
    fn garbage_and_oversized_cursors_are_refused() {
        for garbage in ["", ".", "abc", "a.b.c", "!!!.???", "e30"] {
            assert_invalid(codec().decode(CONTEXT, garbage));
        }
        // Validly signed, but not an `After`.
        let other = codec().encode(CONTEXT, &42);
        assert_invalid(codec().decode(CONTEXT, &other));

        let huge = After { id: "x".repeat(MAX_CURSOR_LEN), ..after() };
        let cursor = codec().encode(CONTEXT, &huge);
        assert_invalid(codec().decode(CONTEXT, &cursor));
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
            for candidate in [cursor, dotted] {
                let decoded: Result<serde_json::Value, _> = codec.decode("ctx", &candidate);
                proptest::prop_assert_eq!(decoded.map_err(|e| e.code), Err("invalid_cursor"));
            }
        }
    }
}
