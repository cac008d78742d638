//! `DELETE /me` and `GET /me/export`: the customer's rights over what the shop keeps of them.
//!
//! An erasure anonymises the customer's orders first ([`crate::erase`]: the books keep amounts,
//! lines and dates) and then deletes their profile, addresses, cart pointer and cart, so a failure
//! half way leaves the account in place and the same request, repeated, finishes it. Repeating
//! it afterwards finds nothing and answers 204 again.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use nanoshop_api::{Json, Result};
use nanoshop_domain::cart::Cart;
use nanoshop_domain::order::Order;
use serde::Serialize;

use super::{CHANGE_ATTEMPTS, Me, ProfileHttpResponse, SavedAddressHttpResponse, kept_changing};
use crate::CustomersState;
use crate::repo::RepoError;

/// Everything the shop stores about the caller.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ExportHttpResponse {
    pub exported_at: DateTime<Utc>,
    pub profile: ProfileHttpResponse,
    /// Oldest first.
    pub addresses: Vec<SavedAddressHttpResponse>,
    /// The customer's cart, while they have one.
    pub cart: Option<Cart>,
    /// Every order they placed, newest first.
    pub orders: Vec<Order>,
}

/// `DELETE /me`: per 100 orders one query, one batch read and a transaction per 33; then one
/// query of the account and one transaction deleting it.
pub async fn erase(State(state): State<CustomersState>, Me(sub): Me) -> Result<StatusCode> {
    let mut anonymised = None;
    for _ in 0..CHANGE_ATTEMPTS {
        match state.repo.anonymise_orders(&sub, Utc::now()).await {
            Ok(n) => {
                anonymised = Some(n);
                break;
            }
            // An order changed under us (paid, shipped): what is done stays done; go on from there.
            Err(RepoError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let Some(orders) = anonymised else { return Err(kept_changing()) };
    for _ in 0..CHANGE_ATTEMPTS {
        let account = state.repo.account(&sub).await?;
        match state.repo.erase(&sub, &account).await {
            Ok(()) => {
                tracing::info!(orders, addresses = account.addresses.len(), "customer erased");
                return Ok(StatusCode::NO_CONTENT);
            }
            // An address saved or a profile changed meanwhile: read the account again.
            Err(RepoError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(kept_changing())
}

/// `GET /me/export`: one query of the account, one query and one batch read per 100 orders, and
/// one read of the cart when there is one.
pub async fn export(State(state): State<CustomersState>, Me(sub): Me) -> Result<Json<ExportHttpResponse>> {
    let account = state.repo.account(&sub).await?;
    let orders = state.repo.orders(&sub).await?;
    let cart = match &account.cart_id {
        Some(id) => state.repo.cart(id).await?,
        None => None,
    };
    let profile = account.profile.profile;
    Ok(Json(ExportHttpResponse {
        exported_at: Utc::now(),
        addresses: account.addresses.into_iter().map(|a| SavedAddressHttpResponse::new(a, &profile)).collect(),
        profile: ProfileHttpResponse::new(&sub, profile),
        cart,
        orders,
    }))
}
