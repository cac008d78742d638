//! The list cursor decoder, `nanoshop_api::cursor::CursorCodec::decode`, on any string a client
//! can send as `?cursor=`, for any listing context.
//!
//! The input is `{context}\n{cursor}` (no newline: the whole input is the cursor of the
//! `discounts` listing), lossily UTF-8. Cursors are decoded as `nanoshop_store::PageKey`, what
//! the catalog's listings decode, and as any JSON. What this proves:
//!
//! - decoding never panics, and every refusal is 400 `invalid_cursor`;
//! - nothing is accepted that the codec did not issue: under a key drawn at random for this
//!   process every input is refused, and under the fixed key the seeds are signed with, an
//!   accepted cursor is byte for byte `encode(context, value)` of the value it decodes to (encoding
//!   is deterministic: canonical JSON, unpadded base64url), is at most `MAX_CURSOR_LEN` long, and
//!   is refused for any other context;
//! - round trip: a `PageKey` holding the input's strings encodes to a query-safe cursor that
//!   decodes to the same key (or is refused, when longer than `MAX_CURSOR_LEN`), and not under
//!   another context or key;
//! - once the MAC holds, the payload is read exactly as `serde_json` reads those bytes: the
//!   cursor part, taken as the JSON payload and signed here the way the module documents
//!   (`base64url(json) "." base64url(HMAC-SHA256(key, context || 0x00 || json))`), decodes to
//!   what `serde_json::from_slice` makes of it, and to a canonical cursor that `encode` agrees with.
#![no_main]

use std::collections::BTreeMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use nanoshop_api::ApiError;
use nanoshop_api::cursor::{CursorCodec, KEY_LEN, MAX_CURSOR_LEN};
use nanoshop_store::PageKey;
use serde_json::Value;
use sha2::Sha256;

/// The key the committed seeds in corpus/cursor are signed with.
const KEY: &[u8; KEY_LEN] = b"nanoshop-fuzz-cursor-key-32bytes";
const DEFAULT_CONTEXT: &str = "discounts";

static FIXED: LazyLock<CursorCodec> = LazyLock::new(|| CursorCodec::new(KEY));
/// Keyed from std's per-process random hasher keys: no input can have been signed with it.
static RANDOM: LazyLock<CursorCodec> = LazyLock::new(|| {
    let mut key = [0u8; KEY_LEN];
    for (i, chunk) in key.chunks_mut(8).enumerate() {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_usize(i);
        chunk.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    CursorCodec::new(&key)
});

/// The codec's methods are async (a rotating key may be read again mid-call); with a fixed key
/// they never wait, so one poll finishes them.
fn now<T>(future: impl Future<Output = T>) -> T {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(future).poll(&mut cx) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => unreachable!("a fixed key never waits"),
    }
}

fn refused<T: std::fmt::Debug>(result: Result<T, ApiError>, what: &str) {
    match result {
        Ok(v) => panic!("{what}: accepted as {v:?}"),
        Err(e) => assert_eq!((e.status.as_u16(), e.code), (400, "invalid_cursor"), "{what}"),
    }
}

/// Under the fixed key: either refused as `invalid_cursor`, or exactly the cursor `encode` makes
/// for what it decodes to.
fn issued_or_refused<T>(context: &str, cursor: &str)
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    match now(FIXED.decode::<T>(context, cursor)) {
        Err(e) => assert_eq!((e.status.as_u16(), e.code), (400, "invalid_cursor")),
        Ok(value) => {
            assert_eq!(
                now(FIXED.encode(context, &value)).expect("a fixed key signs"),
                cursor,
                "accepted a cursor the codec did not issue: {value:?}"
            );
            assert!(cursor.len() <= MAX_CURSOR_LEN);
            refused(now(FIXED.decode::<T>(&format!("{context}?"), cursor)), "another context");
        }
    }
}

/// `json` signed the way the module doc says, with `KEY`.
fn sign_raw(context: &str, json: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY).expect("HMAC takes keys of any length");
    mac.update(context.as_bytes());
    mac.update(&[0]);
    mac.update(json);
    format!("{}.{}", URL_SAFE_NO_PAD.encode(json), URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn signed_payload_is_read_as_serde_reads_it<T>(context: &str, json: &[u8])
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let cursor = sign_raw(context, json);
    let decoded = now(FIXED.decode::<T>(context, &cursor)).ok();
    let expected = if cursor.len() > MAX_CURSOR_LEN { None } else { serde_json::from_slice::<T>(json).ok() };
    assert_eq!(decoded, expected, "signed payload {:?}", String::from_utf8_lossy(json));
    if let Some(value) = decoded
        && serde_json::to_vec(&value).is_ok_and(|canonical| canonical == json)
    {
        assert_eq!(
            now(FIXED.encode(context, &value)).expect("a fixed key signs"),
            cursor,
            "the documented format is not what encode makes"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (context, cursor) = text.split_once('\n').unwrap_or((DEFAULT_CONTEXT, &text));

    // Whatever a client sends.
    issued_or_refused::<PageKey>(context, cursor);
    issued_or_refused::<Value>(context, cursor);
    refused(now(RANDOM.decode::<Value>(context, cursor)), "a key nobody signed with");

    // What the codec issues comes back, only to the same listing.
    let key = PageKey(BTreeMap::from([("pk".to_owned(), context.to_owned()), ("sk".to_owned(), cursor.to_owned())]));
    let issued = now(FIXED.encode(context, &key)).expect("a fixed key signs");
    assert!(issued.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "not query-safe: {issued}");
    assert_eq!(issued.matches('.').count(), 1);
    if issued.len() <= MAX_CURSOR_LEN {
        assert_eq!(now(FIXED.decode::<PageKey>(context, &issued)).ok(), Some(key));
    } else {
        refused(now(FIXED.decode::<PageKey>(context, &issued)), "an over-long cursor");
    }
    refused(now(FIXED.decode::<PageKey>(&format!("{context}?"), &issued)), "another context");
    refused(now(RANDOM.decode::<PageKey>(context, &issued)), "another key");

    // Past the MAC, the payload is serde_json's to judge, and only serde_json's.
    signed_payload_is_read_as_serde_reads_it::<PageKey>(context, cursor.as_bytes());
    signed_payload_is_read_as_serde_reads_it::<Value>(context, cursor.as_bytes());
});
