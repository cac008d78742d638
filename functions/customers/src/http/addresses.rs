//! `GET/POST /me/addresses` and `PATCH/DELETE /me/addresses/{id}`: the address book.
//!
//! At most [`MAX_ADDRESSES`]; the 21st is 409 `address_book_full`. The profile names one default
//! shipping and one default billing address, so making an address a default takes the role from
//! the one before in the same write; the first address saved while there is no default becomes
//! it. An address is checked exactly as checkout checks one (`nanoshop_api::bodies`), its errors
//! named `address.city` and so on. Another customer's address, or an unknown id, is 404.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nanoshop_api::bodies::AddressHttpBody;
use nanoshop_api::{ApiError, Json, Result};
use nanoshop_domain::ValidationErrors;
use nanoshop_domain::address::Address;
use nanoshop_domain::customer::{MAX_ADDRESSES, Profile, SavedAddress};
use nanoshop_domain::ids::AddressId;
use serde::Deserialize;

use super::{
    AddressBookHttpResponse, CHANGE_ATTEMPTS, Me, ObjectJson, SavedAddressHttpResponse, kept_changing, present, text,
};
use crate::CustomersState;
use crate::repo::{BookChange, RepoError};

/// The longest label of a saved address ("Home", "Office").
pub const MAX_LABEL_CHARS: usize = 50;

/// The body of `POST /me/addresses`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAddressHttpBody {
    /// A name for the customer's own use, up to 50 characters.
    #[serde(default)]
    #[schemars(length(max = 50))]
    pub label: Option<String>,
    pub address: AddressHttpBody,
    /// Make it the default shipping address (the first address is, either way).
    #[serde(default)]
    pub default_shipping: bool,
    /// Make it the default billing address (the first address is, either way).
    #[serde(default)]
    pub default_billing: bool,
}

/// The body of `PATCH /me/addresses/{id}`: the fields to change. `false` for a default the
/// address holds leaves the customer without that default.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressPatchHttpBody {
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Option<String>", length(max = 50))]
    pub label: Option<Option<String>>,
    /// The whole address, replacing the saved one.
    #[serde(default)]
    pub address: Option<AddressHttpBody>,
    #[serde(default)]
    pub default_shipping: Option<bool>,
    #[serde(default)]
    pub default_billing: Option<bool>,
}

/// A checked change of a saved address and of the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AddressChange {
    label: Option<Option<String>>,
    address: Option<Address>,
    default_shipping: Option<bool>,
    default_billing: Option<bool>,
}

/// A new address as checked, under a fresh id, and the defaults it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NewAddress {
    saved: SavedAddress,
    change: AddressChange,
}

impl TryFrom<NewAddressHttpBody> for NewAddress {
    type Error = ValidationErrors;

    fn try_from(body: NewAddressHttpBody) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let label = body.label.and_then(|l| text(&mut errors, "label", l, MAX_LABEL_CHARS));
        let address = body.address.parse("address");
        match address {
            Ok(address) if errors.is_empty() => Ok(Self {
                saved: SavedAddress { id: AddressId::generate(), label, address },
                change: AddressChange {
                    label: None,
                    address: None,
                    default_shipping: Some(body.default_shipping),
                    default_billing: Some(body.default_billing),
                },
            }),
            Ok(_) => Err(errors),
            Err(more) => {
                errors.0.extend(more.0);
                Err(errors)
            }
        }
    }
}

impl TryFrom<AddressPatchHttpBody> for AddressChange {
    type Error = ValidationErrors;

    fn try_from(body: AddressPatchHttpBody) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let label = body.label.map(|l| l.and_then(|l| text(&mut errors, "label", l, MAX_LABEL_CHARS)));
        let address = body.address.and_then(|a| a.parse("address").map_err(|e| errors.0.extend(e.0)).ok());
        errors.into_result(Self {
            label,
            address,
            default_shipping: body.default_shipping,
            default_billing: body.default_billing,
        })
    }
}

/// `default` set to `id` when `make` is true, cleared when false and it was `id`, else kept;
/// where none is set, `fill` makes it `id` (a new address takes a vacant default).
fn default_for(default: &mut Option<AddressId>, id: &AddressId, make: Option<bool>, fill: bool) {
    match make {
        Some(true) => *default = Some(id.clone()),
        Some(false) if default.as_ref() == Some(id) => *default = None,
        _ => {}
    }
    if fill && default.is_none() {
        *default = Some(id.clone());
    }
}

impl AddressChange {
    /// The profile with the defaults this change asks of address `id`.
    fn defaults(&self, profile: &Profile, id: &AddressId, new: bool) -> Profile {
        let mut next = profile.clone();
        default_for(&mut next.default_shipping_address_id, id, self.default_shipping, new);
        default_for(&mut next.default_billing_address_id, id, self.default_billing, new);
        next
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("address")
}

fn parse_id(id: &str) -> Result<AddressId> {
    id.parse().map_err(|_| not_found())
}

/// `GET /me/addresses`: one query of the customer's items.
pub async fn list(State(state): State<CustomersState>, Me(sub): Me) -> Result<Json<AddressBookHttpResponse>> {
    let account = state.repo.account(&sub).await?;
    Ok(Json(AddressBookHttpResponse::new(account.addresses, &account.profile.profile)))
}

/// `POST /me/addresses`: one read of the profile (its count and defaults), one transaction.
pub async fn add(
    State(state): State<CustomersState>,
    Me(sub): Me,
    ObjectJson(body): ObjectJson<NewAddressHttpBody>,
) -> Result<Response> {
    let NewAddress { saved, change } = NewAddress::try_from(body)?;
    for _ in 0..CHANGE_ATTEMPTS {
        let read = state.repo.profile(&sub).await?;
        if usize::try_from(read.address_count).unwrap_or(0) >= MAX_ADDRESSES {
            return Err(ApiError::conflict(
                "address_book_full",
                format!("an address book holds at most {MAX_ADDRESSES} addresses; delete one to add another"),
            ));
        }
        let next = change.defaults(&read.profile, &saved.id, true);
        let book = BookChange { profile: (next != read.profile).then_some(&next), count: 1 };
        match state.repo.add_address(&sub, &read, &saved, book).await {
            Ok(()) => {
                let location = format!("/me/addresses/{}", saved.id);
                let body = SavedAddressHttpResponse::new(saved, &next);
                return Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(body)).into_response());
            }
            Err(RepoError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(kept_changing())
}

/// `PATCH /me/addresses/{id}`: one batch read (profile and address), then one write of the
/// address, or a transaction with the profile when a default moves.
pub async fn change(
    State(state): State<CustomersState>,
    Me(sub): Me,
    Path(id): Path<String>,
    ObjectJson(body): ObjectJson<AddressPatchHttpBody>,
) -> Result<Json<SavedAddressHttpResponse>> {
    let id = parse_id(&id)?;
    let change = AddressChange::try_from(body)?;
    for _ in 0..CHANGE_ATTEMPTS {
        let (read, current) = state.repo.profile_and_address(&sub, &id).await?;
        let mut saved = current.ok_or_else(not_found)?;
        if let Some(label) = &change.label {
            saved.label.clone_from(label);
        }
        if let Some(address) = &change.address {
            saved.address = address.clone();
        }
        let next = change.defaults(&read.profile, &id, false);
        match state.repo.change_address(&sub, &read, &saved, (next != read.profile).then_some(&next)).await {
            Ok(()) => return Ok(Json(SavedAddressHttpResponse::new(saved, &next))),
            // Changed or deleted meanwhile: read again (a deleted one is then a 404).
            Err(RepoError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(kept_changing())
}

/// `DELETE /me/addresses/{id}`: one batch read, one transaction; a default it held is left unset.
pub async fn remove(State(state): State<CustomersState>, Me(sub): Me, Path(id): Path<String>) -> Result<StatusCode> {
    let id = parse_id(&id)?;
    for _ in 0..CHANGE_ATTEMPTS {
        let (read, current) = state.repo.profile_and_address(&sub, &id).await?;
        if current.is_none() {
            return Err(not_found());
        }
        let mut next = read.profile.clone();
        default_for(&mut next.default_shipping_address_id, &id, Some(false), false);
        default_for(&mut next.default_billing_address_id, &id, Some(false), false);
        let book = BookChange { profile: (next != read.profile).then_some(&next), count: -1 };
        match state.repo.remove_address(&sub, &read, &id, book).await {
            Ok(()) => return Ok(StatusCode::NO_CONTENT),
            Err(RepoError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(kept_changing())
}
