//! Who is calling: bearer JWT verification and the [`Caller`] / [`Admin`] extractors.
//!
//! API Gateway may verify tokens too, but every function verifies them again (`docs/api.md`): a
//! function reachable by another path (a misconfigured route, `nanoshop serve`) must not trust
//! a header it did not check. What is accepted, and nothing more:
//!
//! - deployed ([`AuthConfig::Jwks`]): RS256 or ES256 (P-256), signed by a key of the configured
//!   JWKS, chosen by the token's `kid`;
//! - local ([`AuthConfig::LocalHs256`]): HS256 with the local server's secret;
//! - always: `exp`, `iss`, `aud` and `sub` present, `exp`/`nbf` checked with at most
//!   [`LEEWAY_SECS`] of clock skew, tokens at most [`MAX_TOKEN_LEN`] bytes.
//!
//! The algorithm is fixed by the key, never taken from the token, which is what defeats `none`
//! and the RS256-public-key-as-HS256-secret confusion.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::extract::{FromRef, FromRequestParts};
use http::HeaderValue;
use http::header::AUTHORIZATION;
use http::request::Parts;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::secrets::{HMAC_KEY_LEN, HmacKey};

/// Longer bearer tokens are refused before they are parsed. Real ones, Cognito's with groups
/// included, stay well under 2 KiB.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Clock skew tolerated on `exp` and `nbf` (jsonwebtoken's default is 60 s).
pub const LEEWAY_SECS: u64 = 30;

/// The claim that lists a caller's groups unless `AUTH_ADMIN_CLAIM` names another.
pub const DEFAULT_ADMIN_CLAIM: &str = "cognito:groups";

/// The group, in the admin claim, that makes a caller an administrator.
pub const ADMIN_GROUP: &str = "admin";

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

/// Why a bearer token was refused (or, for the last two, could not be minted).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the bearer token is longer than {MAX_TOKEN_LEN} bytes")]
    TooLong,
    #[error("the bearer token is malformed")]
    Malformed(#[source] jsonwebtoken::errors::Error),
    #[error("the bearer token is signed with an algorithm this service does not accept")]
    Algorithm,
    #[error("the bearer token names no signing key this service knows")]
    UnknownKey,
    #[error("the bearer token's signature is invalid")]
    Signature,
    #[error("the bearer token has expired")]
    Expired,
    #[error("the bearer token is not valid yet")]
    NotYetValid,
    #[error("the bearer token was issued by an issuer this service does not trust")]
    Issuer,
    #[error("the bearer token was issued for another audience")]
    Audience,
    #[error("the bearer token has no valid `{0}` claim")]
    MissingClaim(String),
    #[error("tokens can only be minted with the local HS256 configuration")]
    NotLocal,
    #[error("signing the token failed")]
    Sign(#[source] jsonwebtoken::errors::Error),
}

impl From<jsonwebtoken::errors::Error> for AuthError {
    fn from(e: jsonwebtoken::errors::Error) -> Self {
        match e.kind() {
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidIssuer => Self::Issuer,
            ErrorKind::InvalidAudience => Self::Audience,
            ErrorKind::InvalidSignature => Self::Signature,
            ErrorKind::InvalidAlgorithm => Self::Algorithm,
            ErrorKind::MissingRequiredClaim(claim) => Self::MissingClaim(claim.clone()),
            _ => Self::Malformed(e),
        }
    }
}

/// A refused token is a 401 saying why (nothing secret: the client holds the token); a failure
/// to mint one is ours, an opaque 500.
impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::NotLocal | AuthError::Sign(_) => Self::internal(e),
            _ => Self::unauthorized(e.to_string()),
        }
    }
}

/// Who made a request, as established by its bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No `Authorization` header: guests, who may still hold cart or order tokens.
    Anonymous,
    Customer {
        id: String,
        email: Option<String>,
    },
    /// A token whose admin claim contains [`ADMIN_GROUP`].
    Admin {
        id: String,
        email: Option<String>,
    },
}

impl Caller {
    /// The customer's id (`sub`); `None` for guests and for admins, who act for the store, not
    /// as its customers.
    pub fn customer_id(&self) -> Option<&str> {
        match self {
            Self::Customer { id, .. } => Some(id),
            Self::Anonymous | Self::Admin { .. } => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Self::Admin { .. })
    }
}

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
    /// By `kid`, each with the one algorithm its type allows.
    Jwks(HashMap<String, (DecodingKey, Validation)>),
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
        };
        f.debug_struct("Verifier")
            .field("keys", &keys)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("admin_claim", &self.admin_claim)
            .finish()
    }
}

fn validation(algorithm: Algorithm, issuer: &str, audience: &str) -> Validation {
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

impl Verifier {
    /// A verifier for `config`; `admin_claim` names the claim holding the caller's groups.
    ///
    /// # Errors
    /// If the local secret is shorter than 32 bytes, or the JWKS has no RS256/ES256 signing key
    /// with a `kid` (keys of other types are skipped with a warning), or repeats a `kid`.
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
                let mut keys = HashMap::new();
                for jwk in &jwks.keys {
                    let kid = jwk.common.key_id.as_deref().unwrap_or("");
                    let Some(algorithm) = accepted_algorithm(jwk).filter(|_| !kid.is_empty()) else {
                        tracing::warn!(kid, "skipping a JWKS key: not an RS256/ES256 signing key with a kid");
                        continue;
                    };
                    let key = DecodingKey::from_jwk(jwk).with_context(|| format!("JWKS key `{kid}` is invalid"))?;
                    let previous = keys.insert(kid.to_owned(), (key, validation(algorithm, &issuer, &audience)));
                    if previous.is_some() {
                        bail!("the JWKS has two keys with kid `{kid}`");
                    }
                }
                if keys.is_empty() {
                    bail!("the JWKS has no RS256 or ES256 signing key with a kid");
                }
                (Keys::Jwks(keys), issuer, audience)
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

    /// The caller a bearer token (without the `Bearer ` prefix) proves.
    ///
    /// # Errors
    /// Whenever the token is not exactly what the module docs accept; each variant says why.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::TooLong);
        }
        let header = jsonwebtoken::decode_header(token).map_err(AuthError::Malformed)?;
        let (key, validation) = match &self.keys {
            Keys::Local(local) => (&local.decoding, &local.validation),
            Keys::Jwks(keys) => header
                .kid
                .as_deref()
                .and_then(|kid| keys.get(kid))
                .map(|(key, validation)| (key, validation))
                .ok_or(AuthError::UnknownKey)?,
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

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer_token(value: &HeaderValue) -> Option<&str> {
    let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The caller of the request: [`Caller::Anonymous`] without an `Authorization` header, else
/// whoever its bearer token proves.
///
/// A header that is present but not a valid bearer token is a 401, never anonymous: a client
/// whose token expired must learn so, not silently lose its identity (and see a guest's view).
/// The result is cached in the request's extensions, so extracting it twice (say, [`Caller`] and
/// [`Admin`] in one handler) verifies once.
impl<S> FromRequestParts<S> for Caller
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Self>() {
            return Ok(caller.clone());
        }
        let mut values = parts.headers.get_all(AUTHORIZATION).iter();
        let caller = match (values.next(), values.next()) {
            (None, _) => Self::Anonymous,
            (Some(value), None) => {
                let token = bearer_token(value)
                    .ok_or_else(|| ApiError::unauthorized("`Authorization` must be `Bearer <token>`"))?;
                Arc::<Verifier>::from_ref(state).verify(token)?
            }
            (Some(_), Some(_)) => {
                return Err(ApiError::unauthorized("send one `Authorization` header"));
            }
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// An administrator ([`Caller::Admin`]); guests get 401, customers 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin(pub Caller);

impl<S> FromRequestParts<S> for Admin
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Anonymous => Err(ApiError::unauthorized("this operation needs an administrator's bearer token")),
            Caller::Customer { .. } => Err(ApiError::forbidden("this operation is for administrators only")),
            admin @ Caller::Admin { .. } => Ok(Self(admin)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::tests::problem;
    use axum::Router;
    use axum::body::Body;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use http::StatusCode;
    use serde_json::json;
    use tower::ServiceExt;

    const RSA_PRIVATE: &[u8] = include_bytes!("testdata/rsa_private.pem");
    const RSA_PUBLIC: &[u8] = include_bytes!("testdata/rsa_public.pem");
    const EC_PRIVATE: &[u8] = include_bytes!("testdata/ec_private.pem");
    const ISSUER: &str = "https://issuer.example";
    const AUDIENCE: &str = "nanoshop";
    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn local() -> Verifier {
        Verifier::new(
            AuthConfig::LocalHs256 { secret: SECRET.into(), issuer: ISSUER.into(), audience: AUDIENCE.into() },
            DEFAULT_ADMIN_CLAIM,
        )
        .unwrap()
    }

    fn jwk(key: &EncodingKey, algorithm: Algorithm, kid: &str) -> Jwk {
        let mut jwk = Jwk::from_encoding_key(key, algorithm).unwrap();
        jwk.common.key_id = Some(kid.into());
        jwk
    }

    fn rsa_key() -> EncodingKey {
        EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap()
    }

    fn ec_key() -> EncodingKey {
        EncodingKey::from_ec_pem(EC_PRIVATE).unwrap()
    }

    fn jwks_verifier() -> Verifier {
        let jwks =
            JwkSet { keys: vec![jwk(&rsa_key(), Algorithm::RS256, "rsa-1"), jwk(&ec_key(), Algorithm::ES256, "ec-1")] };
        Verifier::new(AuthConfig::Jwks { issuer: ISSUER.into(), audience: AUDIENCE.into(), jwks }, DEFAULT_ADMIN_CLAIM)
            .unwrap()
    }

    fn now() -> i64 {
        i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap()
    }

    /// Valid claims for a customer, with `changes` merged over them (`null` removes a claim).
    fn claims(changes: Value) -> Value {
        let mut claims = json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": "cust_1", "email": "a@b.example",
            "iat": now(), "nbf": now(), "exp": now() + 600,
        });
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    }

    fn sign(algorithm: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
        let mut header = Header::new(algorithm);
        header.kid = kid.map(Into::into);
        jsonwebtoken::encode(&header, claims, key).unwrap()
    }

    fn hs256(claims: &Value) -> String {
        sign(Algorithm::HS256, None, &EncodingKey::from_secret(SECRET.as_bytes()), claims)
    }

    fn rs256(claims: &Value) -> String {
        sign(Algorithm::RS256, Some("rsa-1"), &rsa_key(), claims)
    }

    fn customer() -> Caller {
        Caller::Customer { id: "cust_1".into(), email: Some("a@b.example".into()) }
    }

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
        let token = v.mint_local("cust_9", None, false, ttl).unwrap();
        assert_eq!(v.verify(&token).unwrap(), Caller::Customer { id: "cust_9".into(), email: None });
        let token = v.mint_local("adm_1", Some("ops@b.example"), true, ttl).unwrap();
        assert!(v.verify(&token).unwrap().is_admin());
        assert!(matches!(jwks_verifier().mint_local("x", None, true, ttl), Err(AuthError::NotLocal)));
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

    #[derive(Clone)]
    struct State(Arc<Verifier>);

    impl FromRef<State> for Arc<Verifier> {
        fn from_ref(state: &State) -> Self {
            state.0.clone()
        }
    }

    fn app() -> Router {
        Router::new()
            .route("/me", get(|caller: Caller| async move { caller.customer_id().unwrap_or("anonymous").to_owned() }))
            .route("/admin", get(|Admin(caller): Admin| async move { format!("{}", caller.is_admin()) }))
            .with_state(State(Arc::new(local())))
    }

    async fn call(path: &str, authorization: Option<&str>) -> axum::response::Response {
        let mut request = http::Request::get(path);
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        app().oneshot(request.body(Body::empty()).unwrap()).await.unwrap()
    }

    async fn text(response: axum::response::Response) -> String {
        use http_body_util::BodyExt;
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn no_header_is_anonymous_and_a_valid_bearer_is_the_customer() {
        assert_eq!(text(call("/me", None).await).await, "anonymous");
        let token = hs256(&claims(json!({})));
        assert_eq!(text(call("/me", Some(&format!("Bearer {token}"))).await).await, "cust_1");
        assert_eq!(text(call("/me", Some(&format!("bearer  {token}"))).await).await, "cust_1");
    }

    #[tokio::test]
    async fn a_bad_authorization_header_is_401_never_anonymous() {
        let expired = hs256(&claims(json!({"exp": now() - 3600})));
        for value in [
            format!("Bearer {expired}"),
            "Bearer not.a.jwt".to_owned(),
            "Bearer ".to_owned(),
            "Basic dXNlcjpwYXNz".to_owned(),
        ] {
            let response = call("/me", Some(&value)).await;
            assert_eq!(response.headers()[http::header::WWW_AUTHENTICATE], "Bearer");
            problem(response, StatusCode::UNAUTHORIZED, "unauthorized").await;
        }
        let body =
            problem(call("/me", Some(&format!("Bearer {expired}"))).await, StatusCode::UNAUTHORIZED, "unauthorized")
                .await;
        assert_eq!(body["detail"], "the bearer token has expired");
    }

    #[tokio::test]
    async fn admin_routes_are_401_for_guests_403_for_customers() {
        problem(call("/admin", None).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let customer = format!("Bearer {}", hs256(&claims(json!({}))));
        problem(call("/admin", Some(&customer)).await, StatusCode::FORBIDDEN, "forbidden").await;
        let admin = format!("Bearer {}", hs256(&claims(json!({"cognito:groups": ["admin"]}))));
        assert_eq!(text(call("/admin", Some(&admin)).await).await, "true");
    }

    #[tokio::test]
    async fn minting_on_a_jwks_verifier_is_an_opaque_500() {
        let err: ApiError = AuthError::NotLocal.into();
        problem(err.into_response(), StatusCode::INTERNAL_SERVER_ERROR, "internal_error").await;
    }
}
