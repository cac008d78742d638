//! A cart's discount code: `PUT /carts/{id}/discount` applies one, within the cart's limit of
//! failed attempts; `DELETE /carts/{id}/discount` removes it.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use nanoshop_api::capability::CartToken;
use nanoshop_api::{ApiError, Caller, Json, Result};
use nanoshop_domain::cart::Cart;
use nanoshop_domain::discount::DiscountCode;
use serde::Deserialize;

use super::{Refusal, change, no_check};
use crate::CartState;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CartDiscountHttpBody")]
pub struct DiscountHttpBody {
    /// 3–32 letters, digits, `-` or `_`; case does not matter.
    #[schemars(extend("pattern" = "^[A-Za-z0-9_-]{3,32}$"))]
    pub code: String,
}

/// 429 `too_many_attempts` until `until`, with `Retry-After` in whole seconds.
fn too_many_attempts(until: DateTime<Utc>, now: DateTime<Utc>) -> ApiError {
    let millis = u64::try_from((until - now).num_milliseconds()).unwrap_or(0);
    let seconds = millis.div_ceil(1000);
    ApiError::too_many_requests(
        "too_many_attempts",
        format!(
            "too many discount codes that do not apply were tried on this cart; try again in {} minutes",
            seconds.div_ceil(60).max(1)
        ),
        seconds,
    )
}

/// `PUT /carts/{id}/discount`: applies a code if it applies to this cart now.
///
/// A code that is unknown or does not apply is 422 `invalid_discount` saying which, and counts
/// as a failed attempt on the cart; a cart out of attempts answers 429 `too_many_attempts`
/// whatever the code, and changes nothing. A malformed code is refused before the cart is read
/// (no code has that shape, so it tells nothing) and is not counted.
pub async fn apply_discount(
    State(state): State<CartState>,
    caller: Caller,
    token: CartToken,
    Path(id): Path<String>,
    Json(body): Json<DiscountHttpBody>,
) -> Result<Response> {
    let invalid = |why: String| ApiError::unprocessable("invalid_discount", why);
    let code = body
        .code
        .parse::<DiscountCode>()
        .map_err(|_| invalid(format!("`{}` is not a discount code", body.code.chars().take(40).collect::<String>())))?;
    let now = Utc::now();
    change(
        &state,
        &id,
        &caller,
        &token,
        |cart| match cart.code_attempts.locked_until(now) {
            Some(until) => Err(too_many_attempts(until, now)),
            None => Ok(Cart { discount_code: Some(code.as_str().to_owned()), ..cart.clone() }),
        },
        |before, _, catalog, priced| {
            let why = match (&catalog.discount, &priced.rejection) {
                (None, _) => format!("there is no discount code `{code}`"),
                (Some(_), Some(why)) => format!("the code `{code}` does not apply: {why}"),
                (Some(_), None) => return Ok(()),
            };
            Err(Refusal { error: invalid(why), instead: Some(Box::new(before.clone().with_failed_code_attempt(now))) })
        },
    )
    .await
}

/// `DELETE /carts/{id}/discount`.
pub async fn remove_discount(
    State(state): State<CartState>,
    caller: Caller,
    token: CartToken,
    Path(id): Path<String>,
) -> Result<Response> {
    change(&state, &id, &caller, &token, |cart| Ok(Cart { discount_code: None, ..cart.clone() }), no_check).await
}
