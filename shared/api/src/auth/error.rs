//! [`AuthError`]: why a bearer token was refused, and the HTTP answer each reason gets.

use jsonwebtoken::errors::ErrorKind;

use super::MAX_TOKEN_LEN;
use crate::error::ApiError;

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
    /// The issuer's keys are discovered and none could be fetched yet. A 401 like the others:
    /// the token cannot be proven, and the client's remedy (try again, sign in again) is the same.
    #[error("the issuer's signing keys could not be fetched; try again later")]
    KeysUnavailable,
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

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;
    use http::StatusCode;

    use super::*;
    use crate::error::tests::problem;

    #[tokio::test]
    async fn minting_on_a_jwks_verifier_is_an_opaque_500() {
        let err: ApiError = AuthError::NotLocal.into();
        problem(err.into_response(), StatusCode::INTERNAL_SERVER_ERROR, "internal_error").await;
    }
}
