//! [`Verifier`]: checks a bearer token against one [`AuthConfig`] and says which [`Caller`] it
//! proves; mints the local server's tokens.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde_json::{Map, Value};

use crate::secrets::{HMAC_KEY_LEN, HmacKey};

use super::keys::{KeyMap, key_map, validation};
use super::remote::RemoteKeys;
use super::{ADMIN_GROUP, AuthConfig, AuthError, Caller, DEFAULT_ADMIN_CLAIM, MAX_TOKEN_LEN};

/// Verifies bearer tokens against one [`AuthConfig`]. Build it once at start-up and share it as
/// `Arc<Verifier>` in the router state.
pub struct Verifier {
    keys: Keys,
    issuer: String,
    audience: String,
    admin_claim: String,
}

enum Keys {
    // Boxed: the local keys are large and there is one per process.
    Local(Box<LocalKeys>),
    /// A key set given at start-up.
    Jwks(KeyMap),
    /// The issuer's key set, fetched and kept up to date. Boxed for the same reason.
    Remote(Box<RemoteKeys>),
}

struct LocalKeys {
    decoding: DecodingKey,
    encoding: EncodingKey,
    validation: Validation,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = match &self.keys {
            Keys::Local(_) => "local HS256".to_owned(),
            Keys::Jwks(keys) => format!("{} JWKS keys", keys.len()),
            Keys::Remote(remote) => format!("{} discovered JWKS keys", remote.current().len()),
        };
        f.debug_struct("Verifier")
            .field("keys", &keys)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("admin_claim", &self.admin_claim)
            .finish()
    }
}

impl Verifier {
    /// A verifier for `config`; `admin_claim` names the claim holding the caller's groups.
    ///
    /// # Errors
    /// If the local secret is shorter than 32 bytes, or the JWKS has no RS256/ES256 signing key
    /// with a `kid` (keys of other types are skipped with a warning), or repeats a `kid`, or the
    /// issuer to discover keys from is not an https URL.
    pub fn new(config: AuthConfig, admin_claim: impl Into<String>) -> anyhow::Result<Self> {
        let (keys, issuer, audience) = match config {
            AuthConfig::LocalHs256 { secret, issuer, audience } => {
                let secret = secret.expose_secret().as_bytes();
                // HS256 is an HMAC: its key obeys the one rule for HMAC keys.
                if HmacKey::new(secret).is_err() {
                    bail!("the local token secret needs at least {HMAC_KEY_LEN} bytes");
                }
                let keys = Keys::Local(Box::new(LocalKeys {
                    decoding: DecodingKey::from_secret(secret),
                    encoding: EncodingKey::from_secret(secret),
                    validation: validation(Algorithm::HS256, &issuer, &audience),
                }));
                (keys, issuer, audience)
            }
            AuthConfig::Jwks { issuer, audience, jwks } => {
                (Keys::Jwks(key_map(&jwks, &issuer, &audience)?), issuer, audience)
            }
            AuthConfig::Discovery { issuer, audience, refresh } => {
                (Keys::Remote(Box::new(RemoteKeys::new(issuer.clone(), audience.clone(), refresh)?)), issuer, audience)
            }
        };
        Ok(Self { keys, issuer, audience, admin_claim: admin_claim.into() })
    }

    /// [`AuthConfig::from_env`], with the admin claim from `AUTH_ADMIN_CLAIM` (default
    /// [`DEFAULT_ADMIN_CLAIM`]).
    ///
    /// # Errors
    /// As [`AuthConfig::from_env`] and [`Verifier::new`].
    pub fn from_env() -> anyhow::Result<Self> {
        let admin_claim = std::env::var("AUTH_ADMIN_CLAIM")
            .ok()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| DEFAULT_ADMIN_CLAIM.to_owned());
        Self::new(AuthConfig::from_env()?, admin_claim)
    }

    /// The caller a bearer token (without the `Bearer ` prefix) proves, fetching the issuer's
    /// keys first if they are discovered and missing, stale, or lack the token's `kid` (as
    /// often as [`Refresh`](super::Refresh) allows). What the extractors use.
    ///
    /// # Errors
    /// As [`Verifier::verify`] after the fetch.
    pub async fn authenticate(&self, token: &str) -> Result<Caller, AuthError> {
        let Keys::Remote(remote) = &self.keys else {
            return self.verify(token);
        };
        if remote.is_stale() {
            remote.refresh().await;
        }
        match self.verify(token) {
            Err(AuthError::UnknownKey) if names_a_key(token) => {
                remote.refresh().await;
                self.verify(token)
            }
            verified => verified,
        }
    }

    /// The caller a bearer token (without the `Bearer ` prefix) proves, with the keys at hand
    /// (never fetching).
    ///
    /// # Errors
    /// Whenever the token is not exactly what the module docs accept; each variant says why.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TooLong);
        }
        let header = jsonwebtoken::decode_header(token).map_err(AuthError::Malformed)?;
        let kid = header.kid.as_deref();
        let discovered: Arc<KeyMap>;
        let (key, validation) = match &self.keys {
            Keys::Local(local) => (&local.decoding, &local.validation),
            Keys::Jwks(keys) => by_kid(keys, kid)?,
            Keys::Remote(remote) => {
                discovered = remote.current();
                if discovered.is_empty() {
                    return Err(AuthError::KeysUnavailable);
                }
                by_kid(&discovered, kid)?
            }
        };
        // jsonwebtoken checks this too; checking here first keeps the refusal independent of
        // what a key type would tolerate.
        if !validation.algorithms.contains(&header.alg) {
            return Err(AuthError::Algorithm);
        }
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, key, validation)?.claims;
        self.caller(&claims)
    }

    fn caller(&self, claims: &Map<String, Value>) -> Result<Caller, AuthError> {
        let id = match claims.get("sub") {
            Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
            _ => return Err(AuthError::MissingClaim("sub".to_owned())),
        };
        let email = claims.get("email").and_then(Value::as_str).map(str::to_owned);
        // Cognito sends groups as an array; some providers send one space-separated string
        // (like OAuth's `scope`). Whole entries only: `not-admin` is not `admin`.
        let admin = match claims.get(&self.admin_claim) {
            Some(Value::Array(groups)) => groups.iter().any(|g| g.as_str() == Some(ADMIN_GROUP)),
            Some(Value::String(groups)) => groups.split_whitespace().any(|g| g == ADMIN_GROUP),
            _ => false,
        };
        Ok(if admin { Caller::Admin { id, email } } else { Caller::Customer { id, email } })
    }

    /// Whether [`Verifier::mint_local`] works: only for [`AuthConfig::LocalHs256`]. `nanoshop
    /// serve` mounts `/dev/token` only then; trusting an OpenID issuer, it has nothing to mint with.
    pub fn mints_local_tokens(&self) -> bool {
        matches!(self.keys, Keys::Local(_))
    }

    /// A token this verifier accepts, for `nanoshop serve`'s `/dev/token` and tests: `sub`,
    /// `email` if given, `iss`, `aud`, `iat`, `nbf` (now), `exp` (now + `ttl`), and the admin
    /// claim as `["admin"]` when `admin`.
    ///
    /// # Errors
    /// [`AuthError::NotLocal`] unless this verifier is [`AuthConfig::LocalHs256`]: deployed
    /// functions only ever verify.
    pub fn mint_local(&self, sub: &str, email: Option<&str>, admin: bool, ttl: Duration) -> Result<String, AuthError> {
        let Keys::Local(local) = &self.keys else {
            return Err(AuthError::NotLocal);
        };
        let now = jsonwebtoken::get_current_timestamp();
        let mut claims = Map::new();
        claims.insert("iss".into(), self.issuer.clone().into());
        claims.insert("aud".into(), self.audience.clone().into());
        claims.insert("sub".into(), sub.into());
        claims.insert("iat".into(), now.into());
        claims.insert("nbf".into(), now.into());
        claims.insert("exp".into(), now.saturating_add(ttl.as_secs()).into());
        if let Some(email) = email {
            claims.insert("email".into(), email.into());
        }
        if admin {
            claims.insert(self.admin_claim.clone(), Value::from(vec![ADMIN_GROUP]));
        }
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &local.encoding).map_err(AuthError::Sign)
    }
}

/// The key named `kid`, and what a token it signed must pass.
fn by_kid<'k>(keys: &'k KeyMap, kid: Option<&str>) -> Result<(&'k DecodingKey, &'k Validation), AuthError> {
    kid.and_then(|kid| keys.get(kid)).map(|(key, validation)| (key, validation)).ok_or(AuthError::UnknownKey)
}

/// Whether a token's header names a key (`kid`): only then can fetching keys again help.
fn names_a_key(token: &str) -> bool {
    jsonwebtoken::decode_header(token).is_ok_and(|header| header.kid.is_some())
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::jwk::JwkSet;
    use serde_json::json;

    use super::*;
    use crate::auth::testing::{
        AUDIENCE, ISSUER, RSA_PUBLIC, SECRET, claims, customer, ec_key, hs256, jwk, jwks_verifier, local, now, rs256,
        rsa_key, sign,
    };

    #[test]
    fn local_tokens_prove_customers_and_admins() {
        let v = local();
        assert_eq!(v.verify(&hs256(&claims(json!({})))).unwrap(), customer());

        let admin = claims(json!({"cognito:groups": ["staff", "admin"]}));
        assert_eq!(
            v.verify(&hs256(&admin)).unwrap(),
            Caller::Admin { id: "cust_1".into(), email: Some("a@b.example".into()) }
        );
        for not_admin in [json!(["administrators"]), json!("not-admin"), json!({"admin": true})] {
            let token = hs256(&claims(json!({ "cognito:groups": not_admin })));
            assert!(!v.verify(&token).unwrap().is_admin(), "{not_admin}");
        }
    }

    #[test]
    fn a_custom_admin_claim_may_be_a_space_separated_string() {
        let v = Verifier::new(
            AuthConfig::LocalHs256 { secret: SECRET.into(), issuer: ISSUER.into(), audience: AUDIENCE.into() },
            "roles",
        )
        .unwrap();
        let token = hs256(&claims(json!({"roles": "editor admin"})));
        assert!(v.verify(&token).unwrap().is_admin());
        let token = hs256(&claims(json!({"cognito:groups": ["admin"]})));
        assert!(!v.verify(&token).unwrap().is_admin());
    }

    #[test]
    fn minted_tokens_verify_with_the_same_configuration() {
        let v = local();
        let ttl = Duration::from_secs(60);
        assert!(v.mints_local_tokens());
        let token = v.mint_local("cust_9", None, false, ttl).unwrap();
        assert_eq!(v.verify(&token).unwrap(), Caller::Customer { id: "cust_9".into(), email: None });
        let token = v.mint_local("adm_1", Some("ops@b.example"), true, ttl).unwrap();
        assert!(v.verify(&token).unwrap().is_admin());
        assert!(matches!(jwks_verifier().mint_local("x", None, true, ttl), Err(AuthError::NotLocal)));
        assert!(!jwks_verifier().mints_local_tokens());
    }

    #[test]
    fn rs256_and_es256_tokens_from_the_jwks_are_accepted() {
        let v = jwks_verifier();
        assert_eq!(v.verify(&rs256(&claims(json!({})))).unwrap(), customer());
        let es = sign(Algorithm::ES256, Some("ec-1"), &ec_key(), &claims(json!({})));
        assert_eq!(v.verify(&es).unwrap(), customer());
    }

    #[test]
    fn alg_none_is_refused() {
        let encode = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let payload = encode(claims(json!({})));
        for header in [json!({"alg": "none", "typ": "JWT"}), json!({"alg": "none", "kid": "rsa-1"})] {
            let token = format!("{}.{payload}.", encode(header));
            assert!(matches!(local().verify(&token), Err(AuthError::Malformed(_))));
            assert!(matches!(jwks_verifier().verify(&token), Err(AuthError::Malformed(_))));
        }
    }

    #[test]
    fn an_hs256_token_keyed_with_the_rsa_public_key_is_refused() {
        // The classic confusion: a verifier that lets the token pick the algorithm would check
        // this HMAC with the (public) RSA key bytes as the secret, and accept it.
        let forged = sign(
            Algorithm::HS256,
            Some("rsa-1"),
            &EncodingKey::from_secret(RSA_PUBLIC),
            &claims(json!({"cognito:groups": ["admin"]})),
        );
        assert!(matches!(jwks_verifier().verify(&forged), Err(AuthError::Algorithm)));
        // And an RS256 token is no good to the local verifier either.
        assert!(matches!(local().verify(&rs256(&claims(json!({})))), Err(AuthError::Algorithm)));
        // Nor an ES256 token presented under the RSA key's kid.
        let es = sign(Algorithm::ES256, Some("rsa-1"), &ec_key(), &claims(json!({})));
        assert!(matches!(jwks_verifier().verify(&es), Err(AuthError::Algorithm)));
    }

    #[test]
    fn time_issuer_audience_and_subject_are_enforced() {
        let v = jwks_verifier();
        let check = |changes: Value, expected: fn(&AuthError) -> bool| {
            let err = v.verify(&rs256(&claims(changes.clone()))).unwrap_err();
            assert!(expected(&err), "{changes}: {err:?}");
        };
        check(json!({"exp": now() - 60}), |e| matches!(e, AuthError::Expired));
        check(json!({"nbf": now() + 60}), |e| matches!(e, AuthError::NotYetValid));
        check(json!({"iss": "https://evil.example"}), |e| matches!(e, AuthError::Issuer));
        check(json!({"aud": "someone-else"}), |e| matches!(e, AuthError::Audience));
        check(json!({"aud": ["a", "b"]}), |e| matches!(e, AuthError::Audience));
        for claim in ["exp", "iss", "aud", "sub"] {
            check(json!({ claim: null }), |e| matches!(e, AuthError::MissingClaim(_)));
        }
        check(json!({"sub": ""}), |e| matches!(e, AuthError::MissingClaim(_)));
        // Within the leeway, both ways.
        assert!(v.verify(&rs256(&claims(json!({"exp": now() - 20})))).is_ok());
        assert!(v.verify(&rs256(&claims(json!({"nbf": now() + 20})))).is_ok());
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let token = rs256(&claims(json!({})));
        let mut parts: Vec<&str> = token.split('.').collect();
        let promoted = URL_SAFE_NO_PAD.encode(claims(json!({"cognito:groups": ["admin"]})).to_string());
        parts[1] = &promoted;
        let forged = parts.join(".");
        assert!(matches!(jwks_verifier().verify(&forged), Err(AuthError::Signature)));
    }

    #[test]
    fn unknown_or_missing_kids_and_oversized_tokens_are_refused() {
        let v = jwks_verifier();
        let other = sign(Algorithm::RS256, Some("rsa-2"), &rsa_key(), &claims(json!({})));
        assert!(matches!(v.verify(&other), Err(AuthError::UnknownKey)));
        let none = sign(Algorithm::RS256, None, &rsa_key(), &claims(json!({})));
        assert!(matches!(v.verify(&none), Err(AuthError::UnknownKey)));

        let padded = rs256(&claims(json!({"pad": "x".repeat(MAX_TOKEN_LEN)})));
        assert!(matches!(v.verify(&padded), Err(AuthError::TooLong)));
    }

    #[test]
    fn unusable_configurations_fail_at_start_up() {
        let short = Verifier::new(
            AuthConfig::LocalHs256 { secret: "short".into(), issuer: ISSUER.into(), audience: AUDIENCE.into() },
            DEFAULT_ADMIN_CLAIM,
        );
        assert!(short.is_err());

        let hmac_only = JwkSet { keys: vec![jwk(&EncodingKey::from_secret(SECRET.as_bytes()), Algorithm::HS256, "h")] };
        let jwks = Verifier::new(
            AuthConfig::Jwks { issuer: ISSUER.into(), audience: AUDIENCE.into(), jwks: hmac_only },
            DEFAULT_ADMIN_CLAIM,
        );
        assert!(jwks.is_err());
    }
}
