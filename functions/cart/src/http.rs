//! The cart endpoints. Every change follows one path, [`change`]: read the cart (1 call), apply
//! the change to the stored lines, read the catalog for the changed cart (1 batch), check what
//! needs prices or the catalog, then write on condition of the version read (1 call), retrying
//! from the top when another request won the race. So no update is ever lost, and an item change
//! is 3 round trips.
//!
//! Two abuse limits live on that path: no change takes a line above the store's
//! [`MaxUnitsPerSku`](nanoshop_domain::cart::MaxUnitsPerSku) (422 `quantity_limit`), and a
//! discount code that is unknown or does not apply is counted on the cart by the same conditional
//! write a change makes, so concurrent attempts all count; a cart out of attempts gets 429
//! `too_many_attempts` for any code ([`nanoshop_domain::discount::CodeAttempts`]).
//!
//! This module holds that path, the reads (`GET /carts/{id}`, `GET /me/cart`) and the claim of a
//! guest cart, which has its own retry loop over two carts. The handlers of each kind of change
//! live beside it: [`create`] (`POST /carts`), [`items`] (lines), [`discount`] (codes and their
//! attempt limit), [`shipping`] (address and method).

mod create;
mod discount;
mod items;
mod shipping;

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use nanoshop_api::capability::{CartCredentials, CartToken, cart_token_matches};
use nanoshop_api::{ApiError, Caller, Json, Result, etag};
use nanoshop_domain::cart::{Cart, CartError, CartLines, CartStatus};
use nanoshop_domain::catalog::Sku;
use nanoshop_domain::ids::CartId;
use nanoshop_domain::quote::{self, CatalogSnapshot, Quote};
use nanoshop_domain::{FieldError, ValidationErrors};

pub use create::{CreateCartHttpBody, create};
pub use discount::{DiscountHttpBody, apply_discount, remove_discount};
pub use items::{ItemHttpBody, QuantityHttpBody, add_item, remove_item, set_item};
pub use shipping::{ShippingHttpBody, set_shipping};

use crate::CartState;
use crate::repo::RepoError;
use crate::view;

/// Attempts of a change that keeps losing races to concurrent changes of the same cart. Each
/// round lets at least one writer through, so this covers that many simultaneous writers.
const CHANGE_ATTEMPTS: u32 = 32;

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict => ApiError::conflict("cart_changed", "the cart kept changing; retry"),
            RepoError::Store(nanoshop_store::StoreError::Unavailable(_)) => ApiError::unavailable(e),
            other => ApiError::internal(other),
        }
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("cart")
}

fn parse_id(id: &str) -> Result<CartId> {
    id.parse().map_err(|_| not_found())
}

/// A change refused by a cart rule; `field` names the quantity the request gave.
fn cart_error_at(e: CartError, field: &str) -> ApiError {
    match e {
        CartError::NotInCart { .. } => ApiError::not_found("cart line"),
        CartError::QuantityTooLarge { .. } => ApiError::validation(ValidationErrors::single(field, e.to_string())),
        CartError::OverUnitLimit { .. } => {
            quantity_limit(e.to_string(), vec![FieldError { field: field.into(), message: e.to_string() }])
        }
        CartError::TooManyLines { .. } => ApiError::conflict("too_many_lines", e.to_string()),
    }
}

fn cart_error(e: CartError) -> ApiError {
    cart_error_at(e, "quantity")
}

/// 422 `quantity_limit`: more units of a SKU than the store sells in one order.
fn quantity_limit(detail: String, errors: Vec<FieldError>) -> ApiError {
    ApiError::unprocessable("quantity_limit", detail).with_errors(errors)
}

async fn load(state: &CartState, id: &CartId, credentials: CartCredentials<'_>) -> Result<Cart> {
    let cart = state.repo.cart(id).await?.ok_or_else(not_found)?;
    // A merged guest cart is gone for everyone; someone else's cart does not exist for you.
    if cart.status == CartStatus::Merged || !credentials.open(&cart) {
        return Err(not_found());
    }
    Ok(cart)
}

fn respond(
    status: StatusCode,
    cart: &Cart,
    catalog: &CatalogSnapshot,
    priced: &Quote,
    image_base: &str,
    token: Option<String>,
) -> Response {
    (status, [etag(cart.version)], Json(view::render(cart, catalog, priced, image_base, token))).into_response()
}

async fn snapshot(state: &CartState, cart: &Cart) -> Result<CatalogSnapshot> {
    let skus: Vec<&Sku> = cart.skus().collect();
    Ok(state.repo.catalog(&skus, cart.discount_code.as_deref(), cart.customer_id.as_deref()).await?)
}

fn priced(cart: &Cart, catalog: &CatalogSnapshot) -> Result<Quote> {
    quote::quote(cart, catalog, Utc::now()).map_err(ApiError::internal)
}

/// SKUs that `next` has and `before` had not, which must exist in the catalog.
fn check_new_skus(before: &Cart, next: &Cart, catalog: &CatalogSnapshot) -> Result<()> {
    let old: BTreeSet<&Sku> = before.skus().collect();
    let unknown: Vec<FieldError> = next
        .skus()
        .filter(|s| !old.contains(s) && catalog.variant(s).is_none())
        .map(|s| FieldError { field: "sku".into(), message: format!("no product has the SKU `{s}`") })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unprocessable("unknown_sku", "the catalog has no such SKU").with_errors(unknown))
    }
}

/// A change refused once the catalog was read: the answer, and what to store instead of the
/// change, if anything. A failed discount-code attempt stores its count, in the write the change
/// would have made.
struct Refusal {
    error: ApiError,
    instead: Option<Box<Cart>>,
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Self { error, instead: None }
    }
}

/// The one path of every cart change; see the module documentation. `check` sees the cart as
/// read and as changed.
async fn change(
    state: &CartState,
    id: &str,
    caller: &Caller,
    token: &CartToken,
    apply: impl Fn(&Cart) -> Result<Cart>,
    check: impl Fn(&Cart, &Cart, &CatalogSnapshot, &Quote) -> Result<(), Refusal>,
) -> Result<Response> {
    let credentials = CartCredentials::new(caller, token.0.as_deref())?;
    let id = parse_id(id)?;
    for attempt in 0..CHANGE_ATTEMPTS {
        let cart = load(state, &id, credentials).await?;
        if cart.status != CartStatus::Active {
            return Err(ApiError::conflict(
                "cart_already_checked_out",
                "the cart has been checked out and can no longer change",
            ));
        }
        let next = apply(&cart)?.touched(Utc::now());
        let catalog = snapshot(state, &next).await?;
        check_new_skus(&cart, &next, &catalog)?;
        let priced = priced(&next, &catalog)?;
        let (instead, refused) = match check(&cart, &next, &catalog, &priced) {
            Ok(()) => (None, None),
            Err(Refusal { error, instead: None }) => return Err(error),
            Err(Refusal { error, instead: Some(instead) }) => (Some(instead), Some(error)),
        };
        match (state.repo.save(instead.as_deref().unwrap_or(&next), cart.version).await, refused) {
            (Ok(()), None) => return Ok(respond(StatusCode::OK, &next, &catalog, &priced, &state.image_base, None)),
            (Ok(()), Some(refused)) => return Err(refused),
            (Err(RepoError::Conflict), _) => BACKOFF.sleep(attempt).await,
            (Err(e), _) => return Err(e.into()),
        }
    }
    Err(RepoError::Conflict.into())
}

/// The pause after a lost write race: a millisecond more per attempt up to 8, plus a random 0 to
/// 3, so racing writers do not collide again in lockstep.
const BACKOFF: nanoshop_retry::Backoff = nanoshop_retry::Backoff::linear(
    std::time::Duration::ZERO,
    std::time::Duration::from_millis(1),
    std::time::Duration::from_millis(8),
)
.with_jitter(nanoshop_retry::Jitter::UpTo(std::time::Duration::from_millis(3)));

fn no_check(_: &Cart, _: &Cart, _: &CatalogSnapshot, _: &Quote) -> Result<(), Refusal> {
    Ok(())
}

/// `GET /carts/{id}`: the cart, priced from the catalog now. Two round trips.
pub async fn get(
    State(state): State<CartState>,
    caller: Caller,
    token: CartToken,
    Path(id): Path<String>,
) -> Result<Response> {
    let credentials = CartCredentials::new(&caller, token.0.as_deref())?;
    let cart = load(&state, &parse_id(&id)?, credentials).await?;
    let catalog = snapshot(&state, &cart).await?;
    let priced = priced(&cart, &catalog)?;
    Ok(respond(StatusCode::OK, &cart, &catalog, &priced, &state.image_base, None))
}

/// `GET /me/cart`: the caller's active cart.
pub async fn mine(State(state): State<CartState>, caller: Caller) -> Result<Response> {
    let customer = caller.subject().ok_or_else(|| ApiError::unauthorized("sign in to see your cart"))?;
    let id = state.repo.customer_cart_id(customer).await?.ok_or_else(not_found)?;
    let cart = state.repo.cart(&id).await?.filter(|c| c.status == CartStatus::Active).ok_or_else(not_found)?;
    let catalog = snapshot(&state, &cart).await?;
    let priced = priced(&cart, &catalog)?;
    Ok(respond(StatusCode::OK, &cart, &catalog, &priced, &state.image_base, None))
}

/// `POST /carts/{id}/claim`: a signed-in customer takes over a guest cart (proved by its token).
/// Into an existing active cart it merges (quantities summed, capped by the store's limit per SKU
/// and stock, at most 50 lines) and the guest cart becomes unusable; otherwise the guest cart becomes the customer's.
/// Repeating a claim answers with the same customer cart.
pub async fn claim(
    State(state): State<CartState>,
    caller: Caller,
    token: CartToken,
    Path(id): Path<String>,
) -> Result<Response> {
    let customer = caller.subject().ok_or_else(|| ApiError::unauthorized("sign in to claim a cart"))?.to_owned();
    // The guest's token is the other half of the proof: without it no cart is claimed, whichever.
    if token.0.is_none() {
        return Err(ApiError::unauthorized("send the guest cart's `X-Cart-Token` to claim it"));
    }
    let id = parse_id(&id)?;
    for attempt in 0..CHANGE_ATTEMPTS {
        let guest = state.repo.cart(&id).await?.ok_or_else(not_found)?;
        let token_ok = token.0.as_deref().is_some_and(|t| cart_token_matches(t, &guest.token_hash));
        if !token_ok {
            return Err(not_found());
        }
        let current_id = state.repo.customer_cart_id(&customer).await?;
        // Already claimed by this customer: answer as the first claim did.
        if guest.customer_id.as_deref() == Some(customer.as_str()) && guest.status == CartStatus::Active {
            return respond_cart(&state, &guest).await;
        }
        if guest.status == CartStatus::Merged && guest.merged_into.is_some() && guest.merged_into == current_id {
            let target =
                state.repo.cart(guest.merged_into.as_ref().ok_or_else(not_found)?).await?.ok_or_else(not_found)?;
            if target.customer_id.as_deref() == Some(customer.as_str()) {
                return respond_cart(&state, &target).await;
            }
        }
        if guest.status != CartStatus::Active || guest.customer_id.is_some() {
            return Err(not_found());
        }
        let existing = match &current_id {
            Some(cid) => state.repo.cart(cid).await?.filter(|c| c.status == CartStatus::Active),
            None => None,
        };
        let now = Utc::now();
        let outcome = match existing {
            Some(mine) => {
                let skus: Vec<&Sku> = guest.skus().chain(mine.skus()).collect();
                let stock = state.repo.catalog(&skus, None, None).await?;
                let merged =
                    CartLines::merge_capped(&guest.lines, &mine.lines, |s| stock.available(s), state.max_units_per_sku);
                let next = Cart { lines: merged, ..mine.clone() }.touched(now);
                let gone = Cart { status: CartStatus::Merged, merged_into: Some(next.id.clone()), ..guest.clone() }
                    .touched(now);
                state.repo.save_both((&next, mine.version), (&gone, guest.version)).await.map(|()| next)
            }
            None => {
                let adopted = Cart { customer_id: Some(customer.clone()), ..guest.clone() }.touched(now);
                state.repo.adopt(&adopted, guest.version, &customer, current_id.as_ref()).await.map(|()| adopted)
            }
        };
        match outcome {
            Ok(cart) => return respond_cart(&state, &cart).await,
            Err(RepoError::Conflict) => BACKOFF.sleep(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(RepoError::Conflict.into())
}

async fn respond_cart(state: &CartState, cart: &Cart) -> Result<Response> {
    let catalog = snapshot(state, cart).await?;
    let priced = priced(cart, &catalog)?;
    Ok(respond(StatusCode::OK, cart, &catalog, &priced, &state.image_base, None))
}
