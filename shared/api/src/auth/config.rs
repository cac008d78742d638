//! [`AuthConfig`]: where token signing keys come from, and how a deployed function reads it.

use anyhow::{Context as _, bail};
use jsonwebtoken::jwk::JwkSet;
use secrecy::SecretString;

use super::Refresh;
use super::remote::discovery_uri;

/// Where token signing keys come from.
#[derive(Debug, Clone)]
pub enum AuthConfig {
    /// `nanoshop serve` only: tokens it mints itself with a shared secret. Never read from the
    /// environment, so a deployed function cannot be switched to a guessable secret by config.
    LocalHs256 { secret: SecretString, issuer: String, audience: String },
    /// Deployed functions: the identity provider's public keys, found by OpenID discovery
    /// (`{issuer}/.well-known/openid-configuration` names the `jwks_uri`), fetched on first use
    /// and again as `refresh` says (`remote.rs`).
    Discovery { issuer: String, audience: String, refresh: Refresh },
    /// Offline: the identity provider's public keys given at start-up (e.g. a Cognito user
    /// pool's `.well-known/jwks.json`), never fetched.
    Jwks { issuer: String, audience: String, jwks: JwkSet },
}

impl AuthConfig {
    /// The deployed configuration:
    ///
    /// - `AUTH_ISSUER`: the required `iss` (for Cognito, `https://cognito-idp.<region>.amazonaws.com/<pool id>`);
    /// - `AUTH_AUDIENCE`: the required `aud` (for Cognito ID tokens, the app client id);
    /// - `AUTH_JWKS`: the JWKS document itself, or `AUTH_JWKS_FILE`: a path to it; neither
    ///   means the keys are discovered from the issuer.
    ///
    /// # Errors
    /// If a variable is missing or empty, both JWKS variables are set, the document is not a
    /// JWKS, or keys are to be discovered from an issuer that is not an https URL. There is
    /// deliberately no fallback to a local secret.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let issuer = var("AUTH_ISSUER").context("AUTH_ISSUER is not set")?;
        let audience = var("AUTH_AUDIENCE").context("AUTH_AUDIENCE is not set")?;
        Self::jwks_from(issuer, audience, var("AUTH_JWKS"), var("AUTH_JWKS_FILE"))
    }

    /// The deployed configuration from its values (`crate::config::AuthVariables` reads them):
    /// the JWKS document is `inline` or read from the path `file`, at most one of them; with
    /// neither, the keys are discovered from the issuer.
    ///
    /// # Errors
    /// If both are given, the file cannot be read, the document is not a JWKS, or the issuer to
    /// discover keys from is not an https URL (plain http on the loopback interface only).
    pub fn jwks_from(
        issuer: String,
        audience: String,
        inline: Option<String>,
        file: Option<String>,
    ) -> anyhow::Result<Self> {
        let document = match (inline, file) {
            (Some(inline), None) => inline,
            (None, Some(path)) => {
                std::fs::read_to_string(&path).with_context(|| format!("cannot read AUTH_JWKS_FILE `{path}`"))?
            }
            (Some(_), Some(_)) => bail!("set only one of AUTH_JWKS and AUTH_JWKS_FILE"),
            (None, None) => {
                discovery_uri(&issuer)?;
                return Ok(Self::Discovery { issuer, audience, refresh: Refresh::default() });
            }
        };
        let jwks = serde_json::from_str(&document).context("the JWKS is not a JWKS document")?;
        Ok(Self::Jwks { issuer, audience, jwks })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use jsonwebtoken::Algorithm;
    use serde_json::json;

    use super::*;
    use crate::auth::testing::{AUDIENCE, ISSUER, SECRET, claims, customer, hs256, jwk, rs256, rsa_key};
    use crate::auth::{AuthError, DEFAULT_ADMIN_CLAIM, Verifier};

    #[test]
    fn the_environment_configures_jwks_only() {
        let jwks = json!({"keys": [jwk(&rsa_key(), Algorithm::RS256, "rsa-1")]}).to_string();
        let env = |vars: &[(&str, &str)]| {
            let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
            AuthConfig::from_lookup(move |name| vars.get(name).cloned())
        };
        let config = env(&[("AUTH_ISSUER", ISSUER), ("AUTH_AUDIENCE", AUDIENCE), ("AUTH_JWKS", &jwks)]).unwrap();
        assert!(matches!(&config, AuthConfig::Jwks { jwks, .. } if jwks.keys.len() == 1));
        let v = Verifier::new(config, DEFAULT_ADMIN_CLAIM).unwrap();
        assert_eq!(v.verify(&rs256(&claims(json!({})))).unwrap(), customer());

        // A local secret in the environment is not a way in: without a JWKS, keys are discovered.
        let config = env(&[("AUTH_ISSUER", ISSUER), ("AUTH_AUDIENCE", AUDIENCE), ("AUTH_SECRET", SECRET)]).unwrap();
        assert!(matches!(&config, AuthConfig::Discovery { .. }), "{config:?}");
        let v = Verifier::new(config, DEFAULT_ADMIN_CLAIM).unwrap();
        assert!(matches!(v.verify(&hs256(&claims(json!({})))), Err(AuthError::KeysUnavailable)));
        // Discovery only from an https issuer (or plain http on the loopback interface).
        let err = env(&[("AUTH_ISSUER", "http://idp.example"), ("AUTH_AUDIENCE", AUDIENCE)]).unwrap_err();
        assert!(format!("{err:#}").contains("https"), "{err:#}");
        assert!(env(&[("AUTH_ISSUER", "http://127.0.0.1:9/"), ("AUTH_AUDIENCE", AUDIENCE)]).is_ok());
        assert!(env(&[("AUTH_AUDIENCE", AUDIENCE), ("AUTH_JWKS", &jwks)]).is_err());
        assert!(env(&[("AUTH_ISSUER", ISSUER), ("AUTH_AUDIENCE", AUDIENCE), ("AUTH_JWKS", "{\"keys\": 1}"),]).is_err());
    }
}
