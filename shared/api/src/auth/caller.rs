//! [`Caller`] and [`Admin`]: who made a request, as extractors that verify its bearer token.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use http::HeaderValue;
use http::header::AUTHORIZATION;
use http::request::Parts;

use super::Verifier;
use crate::error::ApiError;

/// Who made a request, as established by its bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No `Authorization` header: guests, who may still hold cart or order tokens.
    Anonymous,
    Customer {
        id: String,
        email: Option<String>,
    },
    /// A token whose admin claim contains [`ADMIN_GROUP`](super::ADMIN_GROUP).
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

    /// Whom the caller shops as (`sub`): customers and admins alike; `None` for guests. A cart
    /// belongs to a subject, so an admin's own cart is theirs as any customer's is.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Self::Anonymous => None,
            Self::Customer { id, .. } | Self::Admin { id, .. } => Some(id),
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Self::Admin { .. })
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
                Arc::<Verifier>::from_ref(state).authenticate(token).await?
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
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use http::StatusCode;
    use serde_json::json;
    use tower::ServiceExt;

    use super::*;
    use crate::auth::testing::{claims, hs256, local, now};
    use crate::error::tests::problem;

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
}
