//! The lines of a cart: `POST /carts/{id}/items` adds units, `PATCH /carts/{id}/items/{sku}` sets
//! a quantity, `DELETE /carts/{id}/items/{sku}` removes a line; each through [`change`].

use axum::extract::{Path, State};
use axum::response::Response;
use nanoshop_api::capability::CartToken;
use nanoshop_api::{ApiError, Caller, Json, Result};
use nanoshop_domain::ValidationErrors;
use nanoshop_domain::cart::{Cart, Quantity};
use nanoshop_domain::catalog::Sku;
use serde::Deserialize;

use super::{cart_error, change, no_check};
use crate::CartState;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemHttpBody {
    #[schemars(extend("pattern" = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"))]
    pub sku: String,
    #[schemars(range(min = 1, max = 99))]
    pub quantity: i64,
}

fn parse_sku(sku: &str, field: &str) -> Result<Sku> {
    sku.parse().map_err(|e: nanoshop_domain::catalog::InvalidSku| {
        ApiError::validation(ValidationErrors::single(field, e.to_string()))
    })
}

fn parse_quantity(n: i64, field: &str) -> Result<Quantity> {
    Quantity::try_from(n).map_err(|e| ApiError::validation(ValidationErrors::single(field, e.to_string())))
}

/// `POST /carts/{id}/items`: adds units, merging with the SKU's line.
pub async fn add_item(
    State(state): State<CartState>,
    caller: Caller,
    token: CartToken,
    Path(id): Path<String>,
    Json(body): Json<ItemHttpBody>,
) -> Result<Response> {
    let sku = parse_sku(&body.sku, "sku")?;
    let quantity = parse_quantity(body.quantity, "quantity")?;
    change(
        &state,
        &id,
        &caller,
        &token,
        |cart| {
            let lines = cart.lines.add(sku.clone(), quantity, state.max_units_per_sku).map_err(cart_error)?;
            Ok(Cart { lines, ..cart.clone() })
        },
        no_check,
    )
    .await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantityHttpBody {
    #[schemars(range(min = 0, max = 99))]
    pub quantity: i64,
}

/// `PATCH /carts/{id}/items/{sku}`: sets the quantity; 0 removes the line.
pub async fn set_item(
    State(state): State<CartState>,
    caller: Caller,
    token: CartToken,
    Path((id, sku)): Path<(String, String)>,
    Json(body): Json<QuantityHttpBody>,
) -> Result<Response> {
    let sku: Sku = sku.parse().map_err(|_| ApiError::not_found("cart line"))?;
    if body.quantity != 0 {
        parse_quantity(body.quantity, "quantity")?;
    }
    let quantity = u32::try_from(body.quantity)
        .map_err(|_| ApiError::validation(ValidationErrors::single("quantity", "must be 0 to 99")))?;
    change(
        &state,
        &id,
        &caller,
        &token,
        |cart| {
            let lines = cart.lines.set_quantity(&sku, quantity, state.max_units_per_sku).map_err(cart_error)?;
            Ok(Cart { lines, ..cart.clone() })
        },
        no_check,
    )
    .await
}

/// `DELETE /carts/{id}/items/{sku}`: removes the line.
pub async fn remove_item(
    State(state): State<CartState>,
    caller: Caller,
    token: CartToken,
    Path((id, sku)): Path<(String, String)>,
) -> Result<Response> {
    let sku: Sku = sku.parse().map_err(|_| ApiError::not_found("cart line"))?;
    change(
        &state,
        &id,
        &caller,
        &token,
        |cart| Ok(Cart { lines: cart.lines.remove(&sku).map_err(cart_error)?, ..cart.clone() }),
        no_check,
    )
    .await
}
