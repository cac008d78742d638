//! Keys, claims and tokens the auth tests share.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::{AuthConfig, Caller, DEFAULT_ADMIN_CLAIM, Verifier};

const RSA_PRIVATE: &[u8] = include_bytes!("../testdata/rsa_private.pem");
pub(super) const RSA_PUBLIC: &[u8] = include_bytes!("../testdata/rsa_public.pem");
const EC_PRIVATE: &[u8] = include_bytes!("../testdata/ec_private.pem");
pub(super) const ISSUER: &str = "https://issuer.example";
pub(super) const AUDIENCE: &str = "nanoshop";
pub(super) const SECRET: &str = "0123456789abcdef0123456789abcdef";

pub(super) fn local() -> Verifier {
    Verifier::new(
        AuthConfig::LocalHs256 { secret: SECRET.into(), issuer: ISSUER.into(), audience: AUDIENCE.into() },
        DEFAULT_ADMIN_CLAIM,
    )
    .unwrap()
}

pub(super) fn jwk(key: &EncodingKey, algorithm: Algorithm, kid: &str) -> Jwk {
    let mut jwk = Jwk::from_encoding_key(key, algorithm).unwrap();
    jwk.common.key_id = Some(kid.into());
    jwk
}

pub(super) fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap()
}

pub(super) fn ec_key() -> EncodingKey {
    EncodingKey::from_ec_pem(EC_PRIVATE).unwrap()
}

pub(super) fn jwks_verifier() -> Verifier {
    let jwks =
        JwkSet { keys: vec![jwk(&rsa_key(), Algorithm::RS256, "rsa-1"), jwk(&ec_key(), Algorithm::ES256, "ec-1")] };
    Verifier::new(AuthConfig::Jwks { issuer: ISSUER.into(), audience: AUDIENCE.into(), jwks }, DEFAULT_ADMIN_CLAIM)
        .unwrap()
}

pub(super) fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap()
}

/// Valid claims for a customer, with `changes` merged over them (`null` removes a claim).
pub(super) fn claims(changes: Value) -> Value {
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

pub(super) fn sign(algorithm: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(Into::into);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

pub(super) fn hs256(claims: &Value) -> String {
    sign(Algorithm::HS256, None, &EncodingKey::from_secret(SECRET.as_bytes()), claims)
}

pub(super) fn rs256(claims: &Value) -> String {
    sign(Algorithm::RS256, Some("rsa-1"), &rsa_key(), claims)
}

pub(super) fn customer() -> Caller {
    Caller::Customer { id: "cust_1".into(), email: Some("a@b.example".into()) }
}
