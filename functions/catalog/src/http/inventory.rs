//! `/inventory/{sku}`: stock levels for admins.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use nanoshop_api::{Admin, ApiError, IfMatch, Json, Result, etag};
use nanoshop_domain::ValidationErrors;
use nanoshop_domain::catalog::{Sku, StockError, StockLevel};
use serde::{Deserialize, Serialize};

use crate::CatalogState;
use crate::repo::{CatalogError, StoredStock};

/// Attempts to set stock while reservations keep changing it.
const SET_ATTEMPTS: usize = 5;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryHttpBody {
    #[schemars(range(min = 0, max = 1_000_000_000))]
    pub on_hand: i64,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct InventoryHttpResponse {
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

fn respond(sku: &Sku, stock: StoredStock) -> Response {
    let body = InventoryHttpResponse {
        sku: sku.to_string(),
        on_hand: stock.level.on_hand,
        reserved: stock.level.reserved,
        available: stock.level.available(),
    };
    ([etag(u64::try_from(stock.version).unwrap_or(0))], Json(body)).into_response()
}

fn out_of_range(e: StockError) -> ApiError {
    ApiError::validation(ValidationErrors::single("on_hand", e.to_string()))
}

async fn load(state: &CatalogState, sku: &str) -> Result<(Sku, StoredStock)> {
    let sku: Sku = sku.parse().map_err(|_| ApiError::not_found("SKU"))?;
    let stock = state.repo.stock(&sku).await?.ok_or_else(|| ApiError::not_found("SKU"))?;
    Ok((sku, stock))
}

/// `GET /inventory/{sku}`.
pub async fn get(State(state): State<CatalogState>, _admin: Admin, Path(sku): Path<String>) -> Result<Response> {
    let (sku, stock) = load(&state, &sku).await?;
    Ok(respond(&sku, stock))
}

/// `PUT /inventory/{sku}`: sets the units on hand. Reservations made meanwhile are kept: the
/// write is conditional on the reserved count it read, and retried when that changed.
pub async fn put(
    State(state): State<CatalogState>,
    _admin: Admin,
    Path(sku): Path<String>,
    if_match: IfMatch,
    Json(body): Json<InventoryHttpBody>,
) -> Result<Response> {
    // A count no SKU may hold is the request's fault whatever the stock is: 422 before a stale
    // `If-Match` (412) or an unknown SKU (404) is looked for, so the merchant fixes the field first.
    StockLevel::check_on_hand(body.on_hand).map_err(out_of_range)?;
    for _ in 0..SET_ATTEMPTS {
        let (sku, current) = load(&state, &sku).await?;
        if_match.check(u64::try_from(current.version).unwrap_or(0))?;
        let level = current.level.with_on_hand(body.on_hand).map_err(|e| match e {
            StockError::OutOfRange => out_of_range(e),
            StockError::BelowReserved { .. } => ApiError::conflict("below_reserved", e.to_string()),
        })?;
        match state.repo.set_on_hand(&sku, current, level).await {
            Ok(stored) => return Ok(respond(&sku, stored)),
            Err(CatalogError::StockChanged { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict("stock_changed", "stock kept changing while it was being set; retry"))
}
