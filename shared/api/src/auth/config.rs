//! [`AuthConfig`]: where token signing keys come from, and how a deployed function reads it.

use anyhow::{Context as _, bail};
use jsonwebtoken::jwk::JwkSet;
use secrecy::SecretString;

/// Where token signing keys come from.
#[derive(Debug, Clone)]
pub enum AuthConfig {
    /// `nanoshop serve` only: tokens it mints itself with a shared secret. Never read from the
    /// environment, so a deployed function cannot be switched to a guessable secret by config.
    LocalHs256 { secret: SecretString, issuer: String, audience: String },
    /// Deployed functions: the identity provider's public keys (e.g. a Cognito user pool's
    /// `.well-known/jwks.json`).
    Jwks { issuer: String, audience: String, jwks: JwkSet },
}

impl AuthConfig {
    /// The deployed configuration:
    ///
    /// - `AUTH_ISSUER`: the required `iss` (for Cognito, `https://cognito-idp.<region>.amazonaws.com/<pool id>`);
    /// - `AUTH_AUDIENCE`: the required `aud` (for Cognito ID tokens, the app client id);
    /// - `AUTH_JWKS`: the JWKS document itself, or `AUTH_JWKS_FILE`: a path to it.
    ///
    /// # Errors
    /// If a variable is missing or empty, both JWKS variables are set, or the document is not a
    /// JWKS. There is deliberately no fallback to a local secret.
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
    /// the JWKS document is `inline` or read from the path `file`, exactly one of them.
    ///
    /// # Errors
    /// If both or neither are given, the file cannot be read, or the document is not a JWKS.
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
            (None, None) => bail!(
                "neither AUTH_JWKS nor AUTH_JWKS_FILE is set; \
                 locally signed tokens are only accepted by `nanoshop serve`"
            ),
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
    use crate::auth::testing::{AUDIENCE, ISSUER, SECRET, claims, customer, jwk, rs256, rsa_key};
    use crate::auth::{DEFAULT_ADMIN_CLAIM, Verifier};

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

        // A local secret in the environment is not a way in.
        let err = env(&[("AUTH_ISSUER", ISSUER), ("AUTH_AUDIENCE", AUDIENCE), ("AUTH_SECRET", SECRET)]).unwrap_err();
        assert!(err.to_string().contains("AUTH_JWKS"), "{err}");
        assert!(env(&[("AUTH_AUDIENCE", AUDIENCE), ("AUTH_JWKS", &jwks)]).is_err());
        assert!(env(&[("AUTH_ISSUER", ISSUER), ("AUTH_AUDIENCE", AUDIENCE), ("AUTH_JWKS", "{\"keys\": 1}"),]).is_err());
    }
}
