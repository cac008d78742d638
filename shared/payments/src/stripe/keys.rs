//! Where the secret key comes from, and which keys and base URLs may be used together.

use async_trait::async_trait;
use secrecy::SecretString;

use super::STRIPE_API_BASE;

/// Where the gateway gets a key that may change at run time (`nanoshop_api::Secret` with this
/// crate's feature `secrets`; a fixed string otherwise).
#[async_trait]
pub trait KeySource: Send + Sync + std::fmt::Debug {
    /// The key as cached now, reading nothing.
    fn cached(&self) -> Option<SecretString>;
    /// The key, read first when none is cached.
    async fn get(&self) -> Option<SecretString>;
    /// Reads the key again because Stripe refused it; true when it changed. The source decides
    /// how often it really reads.
    async fn reread(&self) -> bool;
}

/// A key that never changes.
#[derive(Clone)]
pub struct FixedKey(pub Option<SecretString>);

impl std::fmt::Debug for FixedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FixedKey")
    }
}

#[async_trait]
impl KeySource for FixedKey {
    fn cached(&self) -> Option<SecretString> {
        self.0.clone()
    }
    async fn get(&self) -> Option<SecretString> {
        self.0.clone()
    }
    async fn reread(&self) -> bool {
        false
    }
}

#[cfg(feature = "secrets")]
#[async_trait]
impl KeySource for nanoshop_api::Secret {
    fn cached(&self) -> Option<SecretString> {
        nanoshop_api::Secret::cached(self)
    }
    async fn get(&self) -> Option<SecretString> {
        nanoshop_api::Secret::get(self).await
    }
    async fn reread(&self) -> bool {
        nanoshop_api::Secret::reread(self).await
    }
}
/// The secret key or the base URL cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid Stripe configuration: {0}")]
pub struct StripeConfigError(pub(super) String);
/// Whether `base` may be given any key: Stripe's own, any https URL, or http to a loopback
/// address (localstripe in tests). Anything else would send the key in clear over a network.
///
/// # Errors
/// [`StripeConfigError`] naming the URL's problem.
pub fn check_base(base: &str) -> Result<(), StripeConfigError> {
    let (scheme, rest) = base.split_once("://").ok_or_else(|| StripeConfigError(format!("{base} is not a URL")))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() || authority.contains('@') {
        return Err(StripeConfigError(format!("{base} names no plain host")));
    }
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match scheme {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(StripeConfigError(format!("{base} is plain http to another machine; use https"))),
        _ => Err(StripeConfigError(format!("{base} is not an http(s) URL"))),
    }
}

/// Whether `key` can be sent to `base` (`None`: Stripe's own): a secret (`sk_`) or restricted
/// (`rk_`) key of test or live mode, not a placeholder (`sk_live_…`, `…replace…`); a live key only
/// to Stripe itself, so a variable cannot send it anywhere else.
///
/// # Errors
/// [`StripeConfigError`] saying why, never showing the key.
pub fn check_key(key: &str, base: Option<&str>) -> Result<(), StripeConfigError> {
    let rest = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"]
        .iter()
        .find_map(|p| key.strip_prefix(p))
        .ok_or_else(|| StripeConfigError("the secret key is not an sk_… or rk_… key".into()))?;
    let lower = rest.to_ascii_lowercase();
    if rest.len() < 4
        || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        || ["replace", "example", "placeholder"].iter().any(|p| lower.contains(p))
    {
        return Err(StripeConfigError("the secret key is a placeholder, not a key".into()));
    }
    let live = key.starts_with("sk_live_") || key.starts_with("rk_live_");
    if let Some(base) = base {
        check_base(base)?;
        if live && base.trim_end_matches('/') != STRIPE_API_BASE {
            return Err(StripeConfigError(format!("a live key is only ever sent to {STRIPE_API_BASE}, not {base}")));
        }
    }
    Ok(())
}
