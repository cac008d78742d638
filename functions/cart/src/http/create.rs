//! `POST /carts`: a guest's new cart, or the items added to a customer's active cart.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use nanoshop_api::capability::{CartToken, cart_token_hash, new_cart_token};
use nanoshop_api::{ApiError, Caller, Json, Result};
use nanoshop_domain::cart::{Cart, CartError, CartLines, CartStatus, MaxUnitsPerSku, Quantity};
use nanoshop_domain::catalog::Sku;
use nanoshop_domain::ids::CartId;
use nanoshop_domain::{Currency, FieldError, ValidationErrors};
use serde::Deserialize;

use super::items::ItemHttpBody;
use super::{cart_error_at, change, check_new_skus, no_check, priced, quantity_limit, respond, snapshot};
use crate::CartState;
use crate::repo::RepoError;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCartHttpBody {
    #[schemars(with = "nanoshop_domain::Currency")]
    pub currency: String,
    #[serde(default)]
    pub items: Vec<ItemHttpBody>,
}

/// The requested items as cart lines, every problem reported by field: malformed items first
/// (422 `validation_failed`), then quantities above the store's limit (422 `quantity_limit`).
fn lines_of(items: &[ItemHttpBody], limit: MaxUnitsPerSku) -> Result<CartLines> {
    let mut errors = ValidationErrors::default();
    let mut over_limit = Vec::new();
    let mut lines = CartLines::default();
    for (i, item) in items.iter().enumerate() {
        let sku = item.sku.parse::<Sku>().map_err(|e| errors.add(format!("items[{i}].sku"), e.to_string())).ok();
        let quantity = Quantity::try_from(item.quantity)
            .map_err(|e| errors.add(format!("items[{i}].quantity"), e.to_string()))
            .ok();
        if let (Some(sku), Some(quantity)) = (sku, quantity) {
            match lines.add(sku, quantity, limit) {
                Ok(next) => lines = next,
                Err(e @ CartError::OverUnitLimit { .. }) => {
                    over_limit.push(FieldError { field: format!("items[{i}].quantity"), message: e.to_string() });
                }
                Err(e) => errors.add(format!("items[{i}]"), e.to_string()),
            }
        }
    }
    let lines = errors.into_result(lines).map_err(ApiError::validation)?;
    match over_limit.as_slice() {
        [] => Ok(lines),
        [one] => Err(quantity_limit(one.message.clone(), over_limit)),
        _ => Err(quantity_limit(
            format!("the store sells at most {limit} units of an item per order; see `errors`"),
            over_limit,
        )),
    }
}

/// `POST /carts`: a new cart. A guest gets its token once; a customer who already has an active
/// cart gets that cart back (200) with the items added, since a customer has one active cart.
pub async fn create(
    State(state): State<CartState>,
    caller: Caller,
    Json(body): Json<CreateCartHttpBody>,
) -> Result<Response> {
    let currency = body
        .currency
        .parse::<Currency>()
        .map_err(|e| ApiError::validation(ValidationErrors::single("currency", e.to_string())))?;
    let lines = lines_of(&body.items, state.max_units_per_sku)?;
    let customer = caller.subject().map(str::to_owned);
    let previous = match &customer {
        Some(c) => state.repo.customer_cart_id(c).await?,
        None => None,
    };
    if let (Some(existing), Some(_)) = (&previous, &customer)
        && let Some(cart) = state.repo.cart(existing).await?
        && cart.status == CartStatus::Active
    {
        return add_lines(&state, &caller, existing, &lines).await;
    }
    let token = new_cart_token();
    let mut cart = Cart::new(currency, customer.clone(), cart_token_hash(&token), Utc::now());
    cart.lines = lines;
    let catalog = snapshot(&state, &cart).await?;
    if !catalog.settings.currencies.contains(&currency) {
        return Err(ApiError::unprocessable("unsupported_currency", format!("the store does not sell in {currency}")));
    }
    check_new_skus(&Cart { lines: CartLines::default(), ..cart.clone() }, &cart, &catalog)?;
    let priced = priced(&cart, &catalog)?;
    match &customer {
        None => state.repo.create(&cart).await?,
        Some(c) => state.repo.create_for_customer(&cart, c, previous.as_ref()).await.map_err(|e| match e {
            RepoError::Conflict => ApiError::conflict(
                "cart_changed",
                "another cart was created for you at the same time; use GET /me/cart",
            ),
            other => other.into(),
        })?,
    }
    Ok(respond(StatusCode::CREATED, &cart, &catalog, &priced, &state.image_base, Some(token)))
}

async fn add_lines(state: &CartState, caller: &Caller, id: &CartId, lines: &CartLines) -> Result<Response> {
    let id = id.to_string();
    change(
        state,
        &id,
        caller,
        &CartToken(None),
        |cart| {
            let mut next = cart.clone();
            for (i, line) in lines.as_slice().iter().enumerate() {
                next.lines = next
                    .lines
                    .add(line.sku.clone(), line.quantity, state.max_units_per_sku)
                    .map_err(|e| cart_error_at(e, &format!("items[{i}].quantity")))?;
            }
            Ok(next)
        },
        no_check,
    )
    .await
}
