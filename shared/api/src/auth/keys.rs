//! A JWKS read into the keys we verify with: each usable signing key by `kid`, with the one
//! algorithm its type allows and the checks every token must pass.

use std::collections::HashMap;

use anyhow::{Context as _, bail};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::LEEWAY_SECS;

/// Signing keys by `kid`, each with the [`Validation`] a token signed by it must pass.
pub(super) type KeyMap = HashMap<String, (DecodingKey, Validation)>;

/// What every token must be, signed with `algorithm`, to be accepted.
pub(super) fn validation(algorithm: Algorithm, issuer: &str, audience: &str) -> Validation {
    let mut v = Validation::new(algorithm);
    v.leeway = LEEWAY_SECS;
    v.validate_nbf = true;
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    // Without these, a token simply lacking `iss` or `aud` would pass their checks.
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v
}

/// The algorithm a JWKS key may verify, or `None` if we do not accept tokens signed with it.
fn accepted_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
        return None;
    }
    match (&jwk.algorithm, jwk.common.key_algorithm) {
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Some(Algorithm::RS256),
        (AlgorithmParameters::EllipticCurve(p), None | Some(KeyAlgorithm::ES256)) if p.curve == EllipticCurve::P256 => {
            Some(Algorithm::ES256)
        }
        _ => None,
    }
}

/// The RS256 and ES256 signing keys of `jwks` that have a `kid`; keys of other types are
/// skipped with a warning.
///
/// # Errors
/// If no key is usable, a usable key is invalid, or two keys share a `kid`.
pub(super) fn key_map(jwks: &JwkSet, issuer: &str, audience: &str) -> anyhow::Result<KeyMap> {
    let mut keys = HashMap::new();
    for jwk in &jwks.keys {
        let kid = jwk.common.key_id.as_deref().unwrap_or("");
        let Some(algorithm) = accepted_algorithm(jwk).filter(|_| !kid.is_empty()) else {
            tracing::warn!(kid, "skipping a JWKS key: not an RS256/ES256 signing key with a kid");
            continue;
        };
        let key = DecodingKey::from_jwk(jwk).with_context(|| format!("JWKS key `{kid}` is invalid"))?;
        if keys.insert(kid.to_owned(), (key, validation(algorithm, issuer, audience))).is_some() {
            bail!("the JWKS has two keys with kid `{kid}`");
        }
    }
    if keys.is_empty() {
        bail!("the JWKS has no RS256 or ES256 signing key with a kid");
    }
    Ok(keys)
}
