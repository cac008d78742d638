//! `GET /customers/{sub}` and `GET /customers?email=`: an administrator looks a customer up.

use axum::extract::{Path, State};
use nanoshop_api::{Admin, ApiError, Json, Query, Result};
use nanoshop_domain::email::Email;
use nanoshop_domain::order::Order;
use serde::{Deserialize, Serialize};

use super::{ProfileHttpResponse, SavedAddressHttpResponse};
use crate::CustomersState;

/// The longest subject a token may carry (as the cart pointer's key allows); longer is no one.
const MAX_SUB_BYTES: usize = 128;

/// A customer as an administrator sees them.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CustomerHttpResponse {
    pub profile: ProfileHttpResponse,
    /// Oldest first.
    pub addresses: Vec<SavedAddressHttpResponse>,
    /// Every order they placed, newest first.
    pub orders: Vec<Order>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CustomerSearchHttpQuery {
    /// The customer's profile e-mail, in any case.
    pub email: String,
}

/// The profiles with that e-mail: `{"items": [...]}` (an e-mail may be on several).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CustomersHttpResponse {
    pub items: Vec<ProfileHttpResponse>,
}

/// `GET /customers/{sub}`: one query of the account, one query and one batch read per 100
/// orders. 404 for a subject the shop holds nothing about.
pub async fn get(
    State(state): State<CustomersState>,
    _: Admin,
    Path(sub): Path<String>,
) -> Result<Json<CustomerHttpResponse>> {
    let not_found = || ApiError::not_found(format!("customer `{sub}`"));
    if sub.is_empty() || sub.len() > MAX_SUB_BYTES {
        return Err(not_found());
    }
    let account = state.repo.account(&sub).await?;
    let orders = state.repo.orders(&sub).await?;
    if account.is_empty() && orders.is_empty() {
        return Err(not_found());
    }
    let profile = account.profile.profile;
    Ok(Json(CustomerHttpResponse {
        addresses: account.addresses.into_iter().map(|a| SavedAddressHttpResponse::new(a, &profile)).collect(),
        profile: ProfileHttpResponse::new(&sub, profile),
        orders,
    }))
}

/// `GET /customers?email=`: one query of the e-mail index (an address that is not one finds
/// nobody).
pub async fn search(
    State(state): State<CustomersState>,
    _: Admin,
    Query(query): Query<CustomerSearchHttpQuery>,
) -> Result<Json<CustomersHttpResponse>> {
    let email = Email::normalize(&query.email);
    let found = state.repo.by_email(&email).await?;
    Ok(Json(CustomersHttpResponse {
        items: found.into_iter().map(|(sub, profile)| ProfileHttpResponse::new(&sub, profile)).collect(),
    }))
}
