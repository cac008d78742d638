//! Who is calling: bearer JWT verification and the [`Caller`] / [`Admin`] extractors.
//!
//! API Gateway may verify tokens too, but every function verifies them again (`docs/api.md`): a
//! function reachable by another path (a misconfigured route, `nanoshop serve`) must not trust
//! a header it did not check. What is accepted, and nothing more:
//!
//! - deployed ([`AuthConfig::Discovery`], or [`AuthConfig::Jwks`] offline): RS256 or ES256
//!   (P-256), signed by a key of the issuer's JWKS (found by OpenID discovery and kept up to
//!   date, `remote.rs`, or given at start-up), chosen by the token's `kid`;
//! - local ([`AuthConfig::LocalHs256`]): HS256 with the local server's secret;
//! - always: `exp`, `iss`, `aud` and `sub` present, `exp`/`nbf` checked with at most
//!   [`LEEWAY_SECS`] of clock skew, tokens at most [`MAX_TOKEN_LEN`] bytes.
//!
//! The algorithm is fixed by the key, never taken from the token, which is what defeats `none`
//! and the RS256-public-key-as-HS256-secret confusion.
//!
//! Laid out by concern: [`AuthConfig`] (where keys come from, `config.rs`), [`Verifier`] (what a
//! token must be to prove a caller, `verifier.rs`), the keys of a JWKS (`keys.rs`), the issuer's
//! keys fetched and refreshed (`remote.rs`, over `fetch.rs`), [`Caller`] and [`Admin`] (the
//! extractors, `caller.rs`) and [`AuthError`] (why a token was refused, `error.rs`).

mod caller;
mod config;
mod error;
mod fetch;
mod keys;
mod remote;
#[cfg(test)]
mod testing;
mod verifier;

pub use caller::{Admin, Caller};
pub use config::AuthConfig;
pub use error::AuthError;
pub use remote::Refresh;
pub use verifier::Verifier;

/// Longer bearer tokens are refused before they are parsed. Real ones, Cognito's with groups
/// included, stay well under 2 KiB.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Clock skew tolerated on `exp` and `nbf` (jsonwebtoken's default is 60 s).
pub const LEEWAY_SECS: u64 = 30;

/// The claim that lists a caller's groups unless `AUTH_ADMIN_CLAIM` names another.
pub const DEFAULT_ADMIN_CLAIM: &str = "cognito:groups";

/// The group, in the admin claim, that makes a caller an administrator.
pub const ADMIN_GROUP: &str = "admin";
