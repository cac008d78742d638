//! `PUT /carts/{id}/shipping`: where a cart goes and, optionally, how; refused for a country the
//! store does not ship to or a method it does not offer there.

use axum::extract::{Path, State};
use axum::response::Response;
use nanoshop_api::bodies::AddressHttpBody;
use nanoshop_api::capability::CartToken;
use nanoshop_api::{ApiError, Caller, Json, Result};
use nanoshop_domain::FieldError;
use nanoshop_domain::cart::Cart;
use serde::Deserialize;

use super::change;
use crate::CartState;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingHttpBody {
    pub address: AddressHttpBody,
    #[serde(default)]
    pub method: Option<String>,
}

/// `PUT /carts/{id}/shipping`: where the cart goes and, optionally, how.
pub async fn set_shipping(
    State(state): State<CartState>,
    caller: Caller,
    token: CartToken,
    Path(id): Path<String>,
    Json(body): Json<ShippingHttpBody>,
) -> Result<Response> {
    let address = body.address.parse("address").map_err(ApiError::validation)?;
    let method = body.method;
    change(
        &state,
        &id,
        &caller,
        &token,
        |cart| Ok(Cart { shipping_address: Some(address.clone()), shipping_method: method.clone(), ..cart.clone() }),
        |_, cart, catalog, priced| {
            let country = cart.shipping_address.as_ref().map(|a| a.country.clone());
            if country.as_ref().is_none_or(|c| catalog.settings.zone_for(c).is_none()) {
                return Err(ApiError::unprocessable("country_not_shipped", "the store does not ship to this country")
                    .with_errors(vec![FieldError { field: "address.country".into(), message: "not shipped to".into() }])
                    .into());
            }
            match &cart.shipping_method {
                Some(m) if !priced.offers(m) => Err(ApiError::unprocessable(
                    "shipping_method_unavailable",
                    format!("`{m}` is not offered for this address and currency"),
                )
                .into()),
                _ => Ok(()),
            }
        },
    )
    .await
}
