//! The customers endpoints, by concern: [`profile`] (`GET/PATCH /me`), [`addresses`]
//! (`/me/addresses…`), [`privacy`] (`DELETE /me`, `GET /me/export`) and [`admin`]
//! (`/customers…`). This module holds what they share: who the caller is ([`Me`]), the response
//! shapes, and the mapping of storage failures.
//!
//! Every change is read, change, write on condition of what was read ([`crate::repo`]), from the
//! top again when another request won the race, so no field written by one request is lost to
//! another.

pub mod addresses;
pub mod admin;
pub mod privacy;
pub mod profile;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use nanoshop_api::{ApiError, Caller, Verifier};
use nanoshop_domain::customer::{Profile, SavedAddress};
use serde::{Deserialize, Deserializer, Serialize};
use std::sync::Arc;

use crate::repo::RepoError;

/// Attempts of a change that keeps losing races to concurrent changes of the same account. Each
/// round lets at least one writer through, so this covers that many simultaneous writers.
pub(crate) const CHANGE_ATTEMPTS: u32 = 16;

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict => ApiError::conflict("account_changed", "the account kept changing; retry"),
            RepoError::Store(nanoshop_store::StoreError::Unavailable(_)) => ApiError::unavailable(e),
            other => ApiError::internal(other),
        }
    }
}

/// 409 `account_changed` after [`CHANGE_ATTEMPTS`] lost races.
pub(crate) fn kept_changing() -> ApiError {
    RepoError::Conflict.into()
}

/// The signed-in caller's subject (`sub`): a customer's, or an admin's own (admins shop too).
/// Guests, and callers who bring only a cart or order token, are 401 before anything else about
/// the request is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me(pub String);

impl<S> FromRequestParts<S> for Me
where
    Arc<Verifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Caller::from_request_parts(parts, state).await?.subject() {
            Some(sub) => Ok(Self(sub.to_owned())),
            None => Err(ApiError::unauthorized("sign in: your profile and address book need a bearer token")),
        }
    }
}

/// A customer's profile as the API shows it: their subject and the profile's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ProfileHttpResponse {
    /// The customer: the `sub` of their tokens.
    pub sub: String,
    #[serde(flatten)]
    pub profile: Profile,
}

impl ProfileHttpResponse {
    pub fn new(sub: &str, profile: Profile) -> Self {
        Self { sub: sub.to_owned(), profile }
    }
}

/// A saved address, and whether it is the customer's default for shipping or billing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SavedAddressHttpResponse {
    #[serde(flatten)]
    pub saved: SavedAddress,
    pub default_shipping: bool,
    pub default_billing: bool,
}

impl SavedAddressHttpResponse {
    pub fn new(saved: SavedAddress, profile: &Profile) -> Self {
        Self {
            default_shipping: profile.default_shipping_address_id.as_ref() == Some(&saved.id),
            default_billing: profile.default_billing_address_id.as_ref() == Some(&saved.id),
            saved,
        }
    }
}

/// The address book, oldest first: `{"items": [...]}` (at most 20, so never paged).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AddressBookHttpResponse {
    pub items: Vec<SavedAddressHttpResponse>,
}

impl AddressBookHttpResponse {
    pub fn new(addresses: Vec<SavedAddress>, profile: &Profile) -> Self {
        Self { items: addresses.into_iter().map(|a| SavedAddressHttpResponse::new(a, profile)).collect() }
    }
}

/// A JSON object body read into `T`, as [`nanoshop_api::Json`] reads one (content type, syntax,
/// size and whole numbers alike), but refusing any other JSON value: serde reads a struct from an
/// array too, by position, and a body whose every field is optional would then take `[null]` as
/// "change nothing" (or `[null, null]` as "clear the name and the e-mail").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ObjectJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let nanoshop_api::Json(value) = nanoshop_api::Json::<serde_json::Value>::from_request(request, state).await?;
        if !value.is_object() {
            return Err(ApiError::unprocessable("invalid_body", "the body must be a JSON object"));
        }
        // Read again through axum's reader, whose errors name the field's path (`address.city: …`).
        let bytes = serde_json::to_vec(&value).map_err(ApiError::internal)?;
        axum::Json::<T>::from_bytes(&bytes).map(|axum::Json(body)| Self(body)).map_err(|rejection| {
            let detail =
                std::error::Error::source(&rejection).map_or_else(|| rejection.body_text(), ToString::to_string);
            ApiError::unprocessable("invalid_body", detail)
        })
    }
}

/// For a field of a change body: `Some(None)` when sent as `null` (clear it), `Some(value)` when
/// sent, and, with `#[serde(default)]`, `None` when left out (keep it).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A trimmed free-text field, `None` when blank; or why it is refused, at `field`.
pub(crate) fn text(
    errors: &mut nanoshop_domain::ValidationErrors,
    field: &str,
    value: String,
    max: usize,
) -> Option<String> {
    let value = value.trim();
    if value.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
        return None;
    }
    if value.chars().any(char::is_control) {
        errors.add(field, "must not contain control characters");
        return None;
    }
    (!value.is_empty()).then(|| value.to_owned())
}
