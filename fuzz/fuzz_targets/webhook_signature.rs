//! The `Stripe-Signature` check (`nanoshop_payments::webhook::verify`) against any header over any
//! body, with any secret.
//!
//! The header is built from fuzzed elements joined with `,`: `t=` timestamps near now or anywhere
//! in `i64`, `v1=`/`v0=` HMACs computed here for any timestamp under our secret or another
//! (lower or upper case, corrupted, truncated), arbitrary `name=value` pairs and raw text. What
//! this proves, for every such input, against an oracle that recomputes HMAC-SHA256 itself from
//! Stripe's documented scheme (it does not call the code under test):
//!
//! - `verify` never panics;
//! - soundness: when the signature passes (`Ok`, or `Malformed`, which comes only after both
//!   checks), the secret is not empty and the header has a `t=<i64>` element and a `v1=` element
//!   equal to the HMAC-SHA256 of `"{t}.{payload}"` under the secret, with `t` within
//!   `TOLERANCE_SECONDS` of now;
//! - completeness, for a well-formed header (every element `name=value`, exactly one `t`): a
//!   matching `v1` within the tolerance passes, a matching one outside it is `Stale`, none matching
//!   is `BadSignature`; an empty or blank header is `MissingSignature`, an empty secret is always
//!   `BadSignature`;
//! - `sign` renders exactly `t={t},v1={hex HMAC}`.
#![no_main]

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use nanoshop_payments::webhook::{TOLERANCE_SECONDS, WebhookError, sign, verify};
use sha2::Sha256;

const OURS: &str = "whsec_fuzz_ours";
const OTHER: &str = "whsec_fuzz_other";

#[derive(Arbitrary, Debug)]
struct Input {
    /// The secret `verify` is given.
    secret: Secret,
    /// The header's elements, joined with `,`.
    header: Vec<Element>,
    /// The request body, byte for byte.
    payload: String,
}

#[derive(Arbitrary, Debug)]
enum Secret {
    Ours,
    Empty,
    Custom(String),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Time {
    /// Now plus this many seconds: around the tolerance's edges.
    Now(i16),
    /// Any second at all.
    Exactly(i64),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Key {
    /// The secret `verify` is given.
    Ours,
    /// Someone else's.
    Other,
}

#[derive(Arbitrary, Debug)]
enum Element {
    /// `t={time}`
    T(Time),
    /// `v1=` the HMAC of `"{at}.{payload}"` (`at` defaults to the header's last `t`).
    V1 { at: Option<Time>, key: Key, upper: bool, flip: Option<(u8, u8)>, truncate: Option<u8> },
    /// `v0=` (Stripe's test-mode scheme, to be ignored), signed like `V1`.
    V0 { at: Option<Time>, key: Key },
    /// `{name}={value}`
    Pair(String, String),
    /// Verbatim: may hold no `=`, or more `,`.
    Raw(String),
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn hmac(secret: &str, t: i64, payload: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{t}.{payload}").as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex of either case to bytes; `None` for an odd length or a non-hex digit.
fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
    s.as_bytes().chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

impl Time {
    fn at(self, now: i64) -> i64 {
        match self {
            Time::Now(offset) => now + i64::from(offset),
            Time::Exactly(t) => t,
        }
    }
}

fn render(input: &Input, secret: &str, now: i64) -> String {
    let header_t = input.header.iter().rev().find_map(|e| if let Element::T(t) = e { Some(t.at(now)) } else { None });
    let signature = |at: Option<Time>, key: Key| {
        let at = at.map_or(header_t.unwrap_or(now), |t| t.at(now));
        hmac(if matches!(key, Key::Ours) { secret } else { OTHER }, at, &input.payload)
    };
    let elements: Vec<String> = input
        .header
        .iter()
        .map(|element| match element {
            Element::T(t) => format!("t={}", t.at(now)),
            Element::V1 { at, key, upper, flip, truncate } => {
                let mut mac = signature(*at, *key);
                if let Some((i, bits)) = flip {
                    mac[usize::from(*i) % 32] ^= bits;
                }
                let mut text = hex(&mac);
                if *upper {
                    text = text.to_ascii_uppercase();
                }
                if let Some(n) = truncate {
                    text.truncate(usize::from(*n) % 64);
                }
                format!("v1={text}")
            }
            Element::V0 { at, key } => format!("v0={}", hex(&signature(*at, *key))),
            Element::Pair(name, value) => format!("{name}={value}"),
            Element::Raw(raw) => raw.clone(),
        })
        .collect();
    elements.join(",")
}

/// The header's `t` values (each that parses) and whether it is well formed: every element
/// `name=value` and exactly one `t`, which parses.
fn timestamps(header: &str) -> (Vec<i64>, bool) {
    let mut ts = Vec::new();
    let mut t_elements = 0;
    let mut well_formed = true;
    for element in header.split(',') {
        match element.split_once('=') {
            Some(("t", value)) => {
                t_elements += 1;
                match value.parse::<i64>() {
                    Ok(t) => ts.push(t),
                    Err(_) => well_formed = false,
                }
            }
            Some(_) => {}
            None => well_formed = false,
        }
    }
    (ts, well_formed && t_elements == 1)
}

/// Whether some `v1` element of `header` is the HMAC of `"{t}.{payload}"` under `secret`.
fn has_v1_for(header: &str, secret: &str, t: i64, payload: &str) -> bool {
    let expected = hmac(secret, t, payload);
    header.split(',').filter_map(|e| e.strip_prefix("v1=")).any(|v| unhex(v).as_deref() == Some(&expected[..]))
}

fuzz_target!(|input: Input| {
    let secret = match &input.secret {
        Secret::Ours => OURS,
        Secret::Empty => "",
        Secret::Custom(s) => s.as_str(),
    };
    let payload = input.payload.as_str();
    let before = now();
    let header = render(&input, secret, before);
    let result = verify(payload, Some(&header), secret);
    let after = now();
    let tol = TOLERANCE_SECONDS;

    // `sign` is what Stripe sends.
    assert_eq!(sign(payload, secret, before), format!("t={before},v1={}", hex(&hmac(secret, before, payload))));

    let passed = matches!(result, Ok(_) | Err(WebhookError::Malformed(_)));
    let (ts, well_formed) = timestamps(&header);
    let signed: Vec<i64> = ts.iter().copied().filter(|&t| has_v1_for(&header, secret, t, payload)).collect();

    if passed {
        assert!(!secret.is_empty(), "an empty secret verified {header:?}: {result:?}");
        assert!(!header.trim().is_empty(), "a blank header verified: {result:?}");
        assert!(
            signed.iter().any(|&t| t >= before.saturating_sub(tol) && t <= after.saturating_add(tol)),
            "accepted without a fresh v1 HMAC of t.payload under the secret: header {header:?}, \
             timestamps {ts:?}, signed {signed:?}, now {before}..{after}: {result:?}"
        );
    }

    if header.trim().is_empty() {
        assert_eq!(result, Err(WebhookError::MissingSignature), "{header:?}");
    } else if secret.is_empty() {
        assert_eq!(result, Err(WebhookError::BadSignature), "empty secret, {header:?}");
    } else if well_formed {
        let t = ts[0];
        if signed.is_empty() {
            assert_eq!(result, Err(WebhookError::BadSignature), "{header:?}");
        } else if t.abs_diff(before) < tol.unsigned_abs() && t.abs_diff(after) < tol.unsigned_abs() {
            assert!(passed, "a fresh, correctly signed header was refused: {header:?}: {result:?}");
        } else if t.abs_diff(before) > tol.unsigned_abs() + 1 && t.abs_diff(after) > tol.unsigned_abs() + 1 {
            assert_eq!(result, Err(WebhookError::Stale), "{header:?}, now {before}..{after}");
        }
    }
});
