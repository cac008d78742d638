//! The cart endpoints. Every change follows one path, [`change`]: read the cart (1 call), apply
//! the change to the stored lines, read the catalog for the changed cart (1 batch), check what
//! needs prices or the catalog, then write on condition of the version read (1 call), retrying
//! from the top when another request won the race. So no update is ever lost, and an item change
//! is 3 round trips.
//!
//! Two abuse limits live on that path: no change takes a line above the store's
//! [`MaxUnitsPerSku`] (422 `quantity_limit`), and a discount code that is unknown or does not
//! apply is counted on the cart by the same conditional write a change makes, so concurrent
//! attempts all count; a cart out of attempts gets 429 `too_many_attempts` for any code
//! ([`nanoshop_domain::discount::CodeAttempts`]).

use std::collections::BTreeSet;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use nanoshop_api::bodies::AddressHttpBody;
use nanoshop_api::{ApiError, Caller, Json, Result, etag};
use nanoshop_domain::cart::{Cart, CartError, CartLines, CartStatus, MaxUnitsPerSku, Quantity};
use nanoshop_domain::catalog::Sku;
use nanoshop_domain::discount::DiscountCode;
use nanoshop_domain::ids::CartId;
use nanoshop_domain::quote::{self, CatalogSnapshot, Quote};
use nanoshop_domain::{Currency, FieldError, ValidationErrors};
use serde::Deserialize;

use crate::CartState;
use crate::repo::RepoError;
use crate::view;
use nanoshop_api::capability::{cart_token_hash, cart_token_matches, new_cart_token};

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

/// The `X-Cart-Token` header, if any.
#[derive(Debug, Clone, Default)]
pub struct CartToken(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for CartToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.headers.get("x-cart-token").and_then(|v| v.to_str().ok()).map(str::to_owned)))
    }
}

/// The customer a caller shops as: customers and admins alike have a subject.
fn shopper(caller: &Caller) -> Option<&str> {
    match caller {
        Caller::Anonymous => None,
        Caller::Customer { id, .. } | Caller::Admin { id, .. } => Some(id),
    }
}

/// Whether this caller may use this cart: a guest cart by its token, a customer's cart by the
/// customer's JWT only. So a guest token left in a shared browser stops working once the cart
/// is claimed, and with it the address it holds.
fn may_use(cart: &Cart, caller: &Caller, token: &CartToken) -> bool {
    match &cart.customer_id {
        None => token.0.as_deref().is_some_and(|t| cart_token_matches(t, &cart.token_hash)),
        Some(owner) => shopper(caller) == Some(owner.as_str()),
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("cart")
}

fn parse_id(id: &str) -> Result<CartId> {
    id.parse().map_err(|_| not_found())
}

fn parse_sku(sku: &str, field: &str) -> Result<Sku> {
    sku.parse().map_err(|e: nanoshop_domain::catalog::InvalidSku| {
        ApiError::validation(ValidationErrors::single(field, e.to_string()))
    })
}

fn parse_quantity(n: i64, field: &str) -> Result<Quantity> {
    Quantity::try_from(n).map_err(|e| ApiError::validation(ValidationErrors::single(field, e.to_string())))
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

/// 401 for a request that carries neither a cart token nor a JWT: no cart opens without one, so
/// the answer is the same whether the cart exists or not (and costs no read).
fn require_credentials(caller: &Caller, token: &CartToken) -> Result<()> {
    if token.0.is_none() && matches!(caller, Caller::Anonymous) {
        return Err(ApiError::unauthorized("send the cart's `X-Cart-Token`, or its owner's bearer token"));
    }
    Ok(())
}

async fn load(state: &CartState, id: &CartId, caller: &Caller, token: &CartToken) -> Result<Cart> {
    let cart = state.repo.cart(id).await?.ok_or_else(not_found)?;
    // A merged guest cart is gone for everyone; someone else's cart does not exist for you.
    if cart.status == CartStatus::Merged || !may_use(&cart, caller, token) {
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
    require_credentials(caller, token)?;
    let id = parse_id(id)?;
    for attempt in 0..CHANGE_ATTEMPTS {
        let cart = load(state, &id, caller, token).await?;
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

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemHttpBody {
    #[schemars(extend("pattern" = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"))]
    pub sku: String,
    #[schemars(range(min = 1, max = 99))]
    pub quantity: i64,
}

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
    let customer = shopper(&caller).map(str::to_owned);
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

/// `GET /carts/{id}`: the cart, priced from the catalog now. Two round trips.
pub async fn get(
    State(state): State<CartState>,
    caller: Caller,
    token: CartToken,
    Path(id): Path<String>,
) -> Result<Response> {
    require_credentials(&caller, &token)?;
    let cart = load(&state, &parse_id(&id)?, &caller, &token).await?;
    let catalog = snapshot(&state, &cart).await?;
    let priced = priced(&cart, &catalog)?;
    Ok(respond(StatusCode::OK, &cart, &catalog, &priced, &state.image_base, None))
}

/// `GET /me/cart`: the caller's active cart.
pub async fn mine(State(state): State<CartState>, caller: Caller) -> Result<Response> {
    let customer = shopper(&caller).ok_or_else(|| ApiError::unauthorized("sign in to see your cart"))?;
    let id = state.repo.customer_cart_id(customer).await?.ok_or_else(not_found)?;
    let cart = state.repo.cart(&id).await?.filter(|c| c.status == CartStatus::Active).ok_or_else(not_found)?;
    let catalog = snapshot(&state, &cart).await?;
    let priced = priced(&cart, &catalog)?;
    Ok(respond(StatusCode::OK, &cart, &catalog, &priced, &state.image_base, None))
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
    let customer = match &caller {
        Caller::Customer { id, .. } | Caller::Admin { id, .. } => id.clone(),
        Caller::Anonymous => return Err(ApiError::unauthorized("sign in to claim a cart")),
    };
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
