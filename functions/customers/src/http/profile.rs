//! `GET /me` and `PATCH /me`: the signed-in customer's profile.
//!
//! A customer who never wrote one has the empty profile, at version 0, never a 404. A change
//! names only the fields it changes (`null` clears one); with `If-Match` it applies only to the
//! version named (412 otherwise), and without, it is merged into whatever the profile is when it
//! is written, so two changes at once both land.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use nanoshop_api::{ApiError, IfMatch, Json, Result, etag};
use nanoshop_domain::ValidationErrors;
use nanoshop_domain::customer::Profile;
use nanoshop_domain::email::Email;
use serde::Deserialize;

use super::{CHANGE_ATTEMPTS, Me, ObjectJson, ProfileHttpResponse, kept_changing, present, text};
use crate::CustomersState;
use crate::repo::RepoError;

/// The longest name a profile keeps, as an address's.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest phone number, as an address's.
pub const MAX_PHONE_CHARS: usize = 32;

/// The body of `PATCH /me`: the fields to change; `null` clears one, a field left out is kept.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatchHttpBody {
    /// Up to 200 characters; blank or `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<String>", length(max = 200))]
    pub name: Option<Option<String>>,
    /// Where the customer wants mail; stored lower-case. `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<String>")]
    pub email: Option<Option<String>>,
    /// Digits, spaces and `+ - ( ) . /`, up to 32, as an address's phone.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<String>", length(max = 32))]
    pub phone: Option<Option<String>>,
    /// `null` is `false`.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<bool>")]
    pub marketing_consent: Option<Option<bool>>,
}

/// A checked change of a profile: each field `None` to keep, `Some(None)` to clear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    name: Option<Option<String>>,
    email: Option<Option<Email>>,
    phone: Option<Option<String>>,
    marketing_consent: Option<bool>,
}

impl TryFrom<ProfilePatchHttpBody> for ProfileChange {
    type Error = ValidationErrors;

    fn try_from(body: ProfilePatchHttpBody) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = body.name.map(|name| name.and_then(|n| text(&mut errors, "name", n, MAX_NAME_CHARS)));
        let email = body.email.map(|email| {
            email
                .filter(|e| !e.trim().is_empty())
                .and_then(|e| e.parse::<Email>().map_err(|invalid| errors.add("email", invalid.to_string())).ok())
        });
        let phone = body.phone.map(|phone| phone.and_then(|p| checked_phone(&mut errors, p)));
        let marketing_consent = body.marketing_consent.map(|c| c.unwrap_or(false));
        errors.into_result(Self { name, email, phone, marketing_consent })
    }
}

/// The rule an address's phone follows (`nanoshop_domain::address`), so a number accepted in one
/// is accepted in the other.
fn checked_phone(errors: &mut ValidationErrors, phone: String) -> Option<String> {
    let phone = phone.trim();
    if phone.len() > MAX_PHONE_CHARS || !phone.chars().all(|c| c.is_ascii_digit() || " +-()./".contains(c)) {
        errors.add("phone", "must be up to 32 digits, spaces and + - ( ) . /");
        return None;
    }
    (!phone.is_empty()).then(|| phone.to_owned())
}

impl ProfileChange {
    /// `profile` with this change applied; the default addresses are never the client's to set here.
    pub fn apply(&self, profile: &Profile) -> Profile {
        let mut next = profile.clone();
        if let Some(name) = &self.name {
            next.name.clone_from(name);
        }
        if let Some(email) = &self.email {
            next.email.clone_from(email);
        }
        if let Some(phone) = &self.phone {
            next.phone.clone_from(phone);
        }
        if let Some(consent) = self.marketing_consent {
            next.marketing_consent = consent;
        }
        next
    }
}

fn respond(sub: &str, profile: Profile, version: u64) -> Response {
    ([etag(version)], Json(ProfileHttpResponse::new(sub, profile))).into_response()
}

/// `GET /me`: one read.
pub async fn get(State(state): State<CustomersState>, Me(sub): Me) -> Result<Response> {
    let stored = state.repo.profile(&sub).await?;
    Ok(respond(&sub, stored.profile, stored.version))
}

/// `PATCH /me`: one read and one conditional write, again from the read when another change won
/// the race (without `If-Match`), or 412 (with it).
pub async fn patch(
    State(state): State<CustomersState>,
    Me(sub): Me,
    if_match: IfMatch,
    ObjectJson(body): ObjectJson<ProfilePatchHttpBody>,
) -> Result<Response> {
    let change = ProfileChange::try_from(body)?;
    for _ in 0..CHANGE_ATTEMPTS {
        let read = state.repo.profile(&sub).await?;
        if_match.check(read.version)?;
        let next = change.apply(&read.profile);
        if read.exists && next == read.profile {
            return Ok(respond(&sub, next, read.version));
        }
        match state.repo.save_profile(&sub, &read, &next).await {
            Ok(()) => return Ok(respond(&sub, next, read.version + 1)),
            Err(RepoError::Conflict) if if_match.0.is_some() => return Err(ApiError::precondition_failed()),
            Err(RepoError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(kept_changing())
}
