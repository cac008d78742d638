//! The cart endpoints. Every change follows one path, [`change`]: read the cart (1 call), apply
//! the change to the stored lines, read the catalog for the changed cart (1 batch), check what
//! needs prices or the catalog, then write on condition of the version read (1 call), retrying
//! from the top when another request won the race. So no update is ever lost, and an item change
//! is 3 round trips.

use std::collections::BTreeSet;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use nanoshop_api::bodies::AddressHttpBody;
use nanoshop_api::{ApiError, Caller, Json, Result, etag};
use nanoshop_domain::cart::{Cart, CartError, CartLines, CartStatus, Quantity};
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

fn cart_error(e: CartError) -> ApiError {
    match e {
        CartError::NotInCart { .. } => ApiError::not_found("cart line"),
        CartError::QuantityTooLarge { .. } => ApiError::validation(ValidationErrors::single("quantity", e.to_string())),
        CartError::TooManyLines { .. } => ApiError::conflict("too_many_lines", e.to_string()),
    }
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

/// The one path of every cart change; see the module documentation.
async fn change(
    state: &CartState,
    id: &str,
    caller: &Caller,
    token: &CartToken,
    apply: impl Fn(&Cart) -> Result<Cart>,
    check: impl Fn(&Cart, &CatalogSnapshot, &Quote) -> Result<()>,
) -> Result<Response> {
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
        check(&next, &catalog, &priced)?;
        match state.repo.save(&next, cart.version).await {
            Ok(()) => return Ok(respond(StatusCode::OK, &next, &catalog, &priced, &state.image_base, None)),
            Err(RepoError::Conflict) => backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(RepoError::Conflict.into())
}

/// A short randomised pause, so racing writers do not collide again in lockstep.
async fn backoff(attempt: u32) {
    let mut byte = [0u8; 1];
    rand::fill(&mut byte);
    let millis = u64::from(byte[0] % 4) + u64::from(attempt.min(8));
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}

fn no_check(_: &Cart, _: &CatalogSnapshot, _: &Quote) -> Result<()> {
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
    #[schemars(extend("pattern" = "^[A-Z]{3}$"))]
    pub currency: String,
    #[serde(default)]
    pub items: Vec<ItemHttpBody>,
}

/// The requested items as cart lines, every problem reported by field.
fn lines_of(items: &[ItemHttpBody]) -> Result<CartLines> {
    let mut errors = ValidationErrors::default();
    let mut lines = CartLines::default();
    for (i, item) in items.iter().enumerate() {
        let sku = item.sku.parse::<Sku>().map_err(|e| errors.add(format!("items[{i}].sku"), e.to_string())).ok();
        let quantity = Quantity::try_from(item.quantity)
            .map_err(|e| errors.add(format!("items[{i}].quantity"), e.to_string()))
            .ok();
        if let (Some(sku), Some(quantity)) = (sku, quantity) {
            match lines.add(sku, quantity) {
                Ok(next) => lines = next,
                Err(e) => errors.add(format!("items[{i}]"), e.to_string()),
            }
        }
    }
    errors.into_result(lines).map_err(ApiError::validation)
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
    let lines = lines_of(&body.items)?;
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
            for line in lines.as_slice() {
                next.lines = next.lines.add(line.sku.clone(), line.quantity).map_err(cart_error)?;
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
        |cart| Ok(Cart { lines: cart.lines.add(sku.clone(), quantity).map_err(cart_error)?, ..cart.clone() }),
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
        |cart| Ok(Cart { lines: cart.lines.set_quantity(&sku, quantity).map_err(cart_error)?, ..cart.clone() }),
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
    pub code: String,
}

/// `PUT /carts/{id}/discount`: applies a code if it applies to this cart now.
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
    change(
        &state,
        &id,
        &caller,
        &token,
        |cart| Ok(Cart { discount_code: Some(code.as_str().to_owned()), ..cart.clone() }),
        |_, catalog, priced| match (&catalog.discount, &priced.rejection) {
            (None, _) => Err(invalid(format!("there is no discount code `{code}`"))),
            (Some(_), Some(why)) => Err(invalid(format!("the code `{code}` does not apply: {why}"))),
            (Some(_), None) => Ok(()),
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
        |cart, catalog, priced| {
            let country = cart.shipping_address.as_ref().map(|a| a.country.clone());
            if country.as_ref().is_none_or(|c| catalog.settings.zone_for(c).is_none()) {
                return Err(ApiError::unprocessable("country_not_shipped", "the store does not ship to this country")
                    .with_errors(vec![FieldError {
                        field: "address.country".into(),
                        message: "not shipped to".into(),
                    }]));
            }
            match &cart.shipping_method {
                Some(m) if !priced.offers(m) => Err(ApiError::unprocessable(
                    "shipping_method_unavailable",
                    format!("`{m}` is not offered for this address and currency"),
                )),
                _ => Ok(()),
            }
        },
    )
    .await
}

/// `POST /carts/{id}/claim`: a signed-in customer takes over a guest cart (proved by its token).
/// Into an existing active cart it merges (quantities summed, capped by 99 and stock, at most 50
/// lines) and the guest cart becomes unusable; otherwise the guest cart becomes the customer's.
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
                let merged = CartLines::merge_capped(&guest.lines, &mine.lines, |s| stock.available(s));
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
            Err(RepoError::Conflict) => backoff(attempt).await,
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
