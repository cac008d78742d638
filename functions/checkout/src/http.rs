//! `POST /checkout`: a cart becomes an order, in four round trips to the store.
//!
//! 1. One batch read across tables: the `Idempotency-Key`'s record (a finished request is
//!    replayed from it, another request under the key refused), the cart, and the saved addresses
//!    the body names, from the caller's own address book.
//! 2. The cart's lines are checked against the store's limit per SKU (it may have been filled
//!    before the limit was lowered), and re-priced from one catalog batch read, with the address
//!    and shipping method given.
//! 3. One transaction claims the key (on condition that no request under it did, so of two
//!    concurrent requests one wins and the other is told the key is in use), reserves every
//!    line's stock, creates the order `pending_payment` and claims its number, marks the cart
//!    checked out and counts the discount's use.
//! 4. The PaymentIntent is created with a key derived from the order id. If the provider fails,
//!    one transaction gives everything back, the key included, and the answer is 502; nothing
//!    stays reserved.
//! 5. The intent is recorded on the order and the response stored for replays, in one transaction.
//!
//! A transient failure after step 3 may have left an order behind (a write whose answer was
//! lost); the key is then handed over rather than given back, so the client's retry with the same
//! key continues with that order. A key whose request died is taken over with one write more.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use nanoshop_api::bodies::AddressHttpBody;
use nanoshop_api::capability::{CartCredentials, CartToken, cart_token_hash};
use nanoshop_api::idempotency::{self, Begin, Guard};
use nanoshop_api::{ApiError, Caller, Json, Result};
use nanoshop_domain::address::Address;
use nanoshop_domain::cart::{Cart, CartStatus, MaxUnitsPerSku};
use nanoshop_domain::customer::SavedAddress;
use nanoshop_domain::email::Email;
use nanoshop_domain::ids::{AddressId, CartId, OrderId};
use nanoshop_domain::order::{
    ChosenShipping, FulfillmentStatus, Order, OrderLine, OrderStatus, OrderTotals, Payment, PaymentStatus, StockState,
};
use nanoshop_domain::pricing::Unavailable;
use nanoshop_domain::quote::{self, CatalogSnapshot, Quote};
use nanoshop_domain::{FieldError, Money, ValidationErrors};
use nanoshop_payments::{CreateIntent, PaymentError};
use nanoshop_store::StoreError;
use serde::{Deserialize, Serialize};

use crate::CheckoutState;
use crate::repo::{Extras, FirstRead, RepoError, ReserveFailure};

const ROUTE: &str = "POST /checkout";
/// Attempts of a checkout whose transaction lost a race it can win on a second try (the cart or a
/// limited discount code changed between read and write).
const ATTEMPTS: usize = 3;

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Store(StoreError::Unavailable(_)) => ApiError::unavailable(e),
            other => ApiError::internal(other),
        }
    }
}

/// The body of `POST /checkout`. Each address is given in full or by the id of one saved in the
/// signed-in customer's address book, never both.
// Absent fields are left out when the body is re-serialised for its idempotency fingerprint, so
// a body written before the saved-address fields existed fingerprints as it did.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutHttpRequest {
    pub cart_id: String,
    pub email: String,
    /// Where the order is shipped; required unless `shipping_address_id` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<AddressHttpBody>,
    /// The id (`addr_…`) of a saved address of the signed-in customer to ship to, instead of
    /// `shipping_address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address_id: Option<String>,
    /// Where the invoice goes; the shipping address when neither this nor `billing_address_id`
    /// is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<AddressHttpBody>,
    /// The id (`addr_…`) of a saved address of the signed-in customer to bill, instead of
    /// `billing_address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address_id: Option<String>,
    pub shipping_method: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PaymentHttpResponse {
    pub provider: &'static str,
    pub payment_intent_id: String,
    pub client_secret: String,
    pub publishable_key: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CheckoutHttpResponse<'a> {
    pub order: &'a Order,
    pub order_token: String,
    pub payment: PaymentHttpResponse,
}

/// An address as a checkout names it: in full (checked), or by a saved address's id, looked up in
/// the caller's own address book.
#[derive(Debug, Clone)]
enum AddressChoice {
    Given(Address),
    Saved(AddressId),
}

/// The two roles an address plays in a checkout, by the field names the body uses for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Shipping,
    Billing,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Shipping => "shipping",
            Role::Billing => "billing",
        }
    }

    fn address_field(self) -> &'static str {
        match self {
            Role::Shipping => "shipping_address",
            Role::Billing => "billing_address",
        }
    }

    fn id_field(self) -> &'static str {
        match self {
            Role::Shipping => "shipping_address_id",
            Role::Billing => "billing_address_id",
        }
    }
}

/// A checked checkout request.
struct CheckoutCommand {
    cart_id: CartId,
    email: Email,
    shipping: AddressChoice,
    /// `None`: billed to the shipping address.
    billing: Option<AddressChoice>,
    method: String,
}

impl CheckoutCommand {
    /// The saved addresses the request names, each once.
    fn saved_ids(&self) -> Vec<AddressId> {
        let mut ids: Vec<AddressId> = Vec::new();
        for choice in [Some(&self.shipping), self.billing.as_ref()] {
            if let Some(AddressChoice::Saved(id)) = choice
                && !ids.contains(id)
            {
                ids.push(id.clone());
            }
        }
        ids
    }
}

fn invalid_address(role: Role, errors: ValidationErrors) -> ApiError {
    ApiError::unprocessable("invalid_address", format!("the {} address is incomplete or malformed", role.name()))
        .with_errors(errors.0)
}

/// 404 for a saved address that is not the caller's (unknown, malformed, deleted, or another
/// customer's: the same answer for all, so ids cannot be probed), naming the field.
fn unknown_address(role: Role) -> ApiError {
    ApiError::not_found("saved address")
        .with_errors(vec![FieldError { field: role.id_field().into(), message: "no such saved address".into() }])
}

/// One role's address: in full or by id, not both; `required` says whether neither is an error.
fn choice(
    role: Role,
    address: Option<AddressHttpBody>,
    id: Option<String>,
    required: bool,
) -> Result<Option<AddressChoice>> {
    match (address, id) {
        (Some(_), Some(_)) => Err(ApiError::validation(ValidationErrors::single(
            role.id_field(),
            format!("give `{}` or `{}`, not both", role.address_field(), role.id_field()),
        ))),
        (Some(address), None) => {
            Ok(Some(AddressChoice::Given(address.parse(role.address_field()).map_err(|e| invalid_address(role, e))?)))
        }
        (None, Some(id)) => Ok(Some(AddressChoice::Saved(id.parse().map_err(|_| unknown_address(role))?))),
        (None, None) if required => Err(ApiError::validation(ValidationErrors::single(
            role.address_field(),
            format!("required: an address, or a saved address's `{}`", role.id_field()),
        ))),
        (None, None) => Ok(None),
    }
}

/// 422 naming the saved-address field a guest sent: an address book needs a signed-in customer.
/// A 422 rather than a 401, because the request is fine with the address written out, and the
/// field tells the client which one to replace.
fn saved_addresses_need_sign_in(request: &CheckoutHttpRequest, caller: &Caller) -> Result<()> {
    if caller.subject().is_some() {
        return Ok(());
    }
    let fields = [(Role::Shipping, &request.shipping_address_id), (Role::Billing, &request.billing_address_id)];
    let errors: Vec<FieldError> = fields
        .into_iter()
        .filter(|(_, id)| id.is_some())
        .map(|(role, _)| FieldError {
            field: role.id_field().into(),
            message: "saved addresses need a signed-in customer; send the address itself".into(),
        })
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::validation(ValidationErrors(errors)))
}

impl TryFrom<CheckoutHttpRequest> for CheckoutCommand {
    type Error = ApiError;

    fn try_from(body: CheckoutHttpRequest) -> Result<Self> {
        let cart_id = body.cart_id.parse().map_err(|_| ApiError::not_found("cart"))?;
        let email = body
            .email
            .parse::<Email>()
            .map_err(|e| ApiError::validation(ValidationErrors::single("email", e.to_string())))?;
        let shipping = choice(Role::Shipping, body.shipping_address, body.shipping_address_id, true)?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a required address came back absent")))?;
        let billing = choice(Role::Billing, body.billing_address, body.billing_address_id, false)?;
        Ok(Self { cart_id, email, shipping, billing, method: body.shipping_method })
    }
}

/// Who the order is for and where it goes: the checkout's e-mail and addresses, the saved ones
/// read from the caller's address book.
struct Recipient {
    email: Email,
    shipping: Address,
    billing: Address,
}

impl Recipient {
    /// Resolves `command`'s addresses against `saved` (what the store holds of the ids it names).
    ///
    /// # Errors
    /// 404 naming the first field whose saved address was not found.
    fn resolve(command: &CheckoutCommand, saved: &[SavedAddress]) -> Result<Self> {
        let pick = |role: Role, choice: &AddressChoice| match choice {
            AddressChoice::Given(address) => Ok(address.clone()),
            AddressChoice::Saved(id) => {
                saved.iter().find(|s| s.id == *id).map(|s| s.address.clone()).ok_or_else(|| unknown_address(role))
            }
        };
        let shipping = pick(Role::Shipping, &command.shipping)?;
        let billing = match &command.billing {
            Some(choice) => pick(Role::Billing, choice)?,
            None => shipping.clone(),
        };
        Ok(Self { email: command.email.clone(), shipping, billing })
    }
}

/// `POST /checkout`.
pub async fn checkout(
    State(state): State<CheckoutState>,
    caller: Caller,
    token: CartToken,
    headers: HeaderMap,
    Json(request): Json<CheckoutHttpRequest>,
) -> Result<Response> {
    // No cart opens without its token or its owner's JWT: 401 whatever the cart, before any read.
    let credentials = CartCredentials::new(&caller, token.0.as_deref())?;
    let key = idempotency::key_of(&headers)?.ok_or_else(|| {
        ApiError::bad_request("idempotency_key_required", "POST /checkout needs an `Idempotency-Key` header")
    })?;
    // The parsed body, re-serialised: the same request in other whitespace is the same request.
    let canonical = serde_json::to_vec(&request).map_err(ApiError::internal)?;
    // Who is asking is part of the request: a guest by its cart token (hashed), so someone who
    // learns a key and a body cannot have another guest's answer (client secret, order token)
    // replayed to them.
    let asker = match (caller.subject(), credentials.token()) {
        (Some(name), _) => name.to_owned(),
        (None, Some(token)) => format!("cart:{}", cart_token_hash(token)),
        // Never: credentials hold a JWT or a cart token.
        (None, None) => String::new(),
    };
    let fingerprint = idempotency::fingerprint(ROUTE, &asker, &canonical);
    saved_addresses_need_sign_in(&request, &caller)?;
    let command = CheckoutCommand::try_from(request)?;
    let customer = caller.subject().map(str::to_owned);
    // Nothing is reserved while no usable Stripe key can be read: the order could not be paid.
    state.payments.ready().await.map_err(|e| match e {
        e if e.is_not_configured() => not_configured(&e),
        e => ApiError::unavailable(e),
    })?;
    // The answer holds the client secret, the order token and the shopper's address: stored
    // sealed, so the idempotency table holds none of them in clear.
    let sealer = state.order_tokens.record_sealer().await?;
    // One round trip: the key's record, the cart and the saved addresses named. A fresh key is
    // claimed by the reservation's transaction, not by a write of its own.
    let record = idempotency::record_key(ROUTE, &key);
    let saved_ids = command.saved_ids();
    let first = state.repo.first_read(Some(&record), &command.cart_id, customer.as_deref(), &saved_ids).await?;
    let store = state.repo.store();
    let mut guard =
        match idempotency::begin_read(store, ROUTE, &key, fingerprint, Some(&sealer), first.record.as_ref()).await? {
            Begin::Replay(response) => return Ok(response),
            Begin::Run(guard) => guard,
        };
    let outcome = run(&state, credentials, customer.as_deref(), &command, &mut guard, first).await;
    match outcome {
        Ok(response) => Ok(response),
        // A final answer about this request is kept for replays; a transient one is not.
        Err(e) if e.status.is_client_error() && e.code != "request_in_progress" => {
            guard.finish(state.repo.store(), e.status, &e.to_problem_json()).await?;
            Err(e)
        }
        // Transient: the key is given back, or handed to the retry when an order may exist.
        Err(e) => {
            guard.hand_over(state.repo.store()).await?;
            Err(e)
        }
    }
}

async fn run(
    state: &CheckoutState,
    credentials: CartCredentials<'_>,
    customer: Option<&str>,
    command: &CheckoutCommand,
    guard: &mut Guard,
    first: FirstRead,
) -> Result<Response> {
    // A retry that took over from a request that died or failed after reserving continues with
    // its order, while the order still waits for its payment. One that was given back (the
    // provider failed and the reservation was released) or has closed since starts afresh: the
    // cart says whether there is anything left to check out.
    if let Some(order_id) = guard.order_id().cloned() {
        let order = state.repo.order(&order_id).await?.ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("order {order_id} of an idempotency record is missing"))
        })?;
        if order.status == OrderStatus::PendingPayment {
            return pay(state, order, None, guard).await;
        }
    }
    let mut read = Some(first);
    for _ in 0..ATTEMPTS {
        // The first attempt uses the request's first read; a retry after a lost race reads the
        // cart (and the addresses with it) again.
        let FirstRead { cart, saved, .. } = match read.take() {
            Some(first) => first,
            None => state.repo.first_read(None, &command.cart_id, customer, &command.saved_ids()).await?,
        };
        let cart = cart.filter(|c| credentials.open(c)).ok_or_else(|| ApiError::not_found("cart"))?;
        match cart.status {
            CartStatus::Active => {}
            CartStatus::CheckedOut => {
                return Err(ApiError::conflict("cart_already_checked_out", "this cart has already been checked out"));
            }
            CartStatus::Merged => return Err(ApiError::not_found("cart")),
        }
        if cart.lines.is_empty() {
            return Err(ApiError::conflict("cart_empty", "the cart has no items"));
        }
        check_limit(&cart, state.max_units_per_sku)?;
        let recipient = Recipient::resolve(command, &saved)?;
        let priced_cart = Cart {
            shipping_address: Some(recipient.shipping.clone()),
            shipping_method: Some(command.method.clone()),
            ..cart.clone()
        };
        let catalog = state.repo.catalog(&priced_cart).await?;
        let quote = quote::quote(&priced_cart, &catalog, Utc::now()).map_err(ApiError::internal)?;
        check_quote(&priced_cart, &catalog, &quote)?;

        let now = Utc::now();
        let order = new_order(&priced_cart, &catalog, &quote, &recipient, now, state.payment_window)?;
        let checked_out = Cart { status: CartStatus::CheckedOut, ..priced_cart.clone() }.touched(now);
        let extras = extras(&priced_cart, &catalog, command, guard.attach(&order.id)?);
        match state.repo.reserve(&order, &cart, &checked_out, &extras).await? {
            Ok(()) => {
                guard.confirm();
                return pay(state, order, Some((checked_out, extras)), guard).await;
            }
            Err(ReserveFailure::OutOfStock(_)) => return Err(out_of_stock(state, &cart).await),
            Err(ReserveFailure::LeaseLost) => {
                return Err(ApiError::conflict(
                    "request_in_progress",
                    "another request with this Idempotency-Key holds it (a concurrent one, or a retry after this \
                     one took too long); check that request's answer",
                ));
            }
            Err(ReserveFailure::CartChanged | ReserveFailure::DiscountChanged | ReserveFailure::NumberTaken) => {
                continue;
            }
        }
    }
    Err(ApiError::conflict("cart_changed", "the cart or its discount kept changing during checkout; retry"))
}

fn extras(cart: &Cart, catalog: &CatalogSnapshot, command: &CheckoutCommand, attach: nanoshop_store::Write) -> Extras {
    let discount = cart.discount_code.clone().filter(|_| catalog.discount.is_some()).map(|code| {
        let limited = catalog.discount.as_ref().and_then(|d| d.usage_limit.map(|_| d.times_used));
        (code, limited)
    });
    let once = catalog.discount.as_ref().is_some_and(|d| d.once_per_customer);
    // Guests are recognised by their e-mail address for once-per-customer codes.
    let user = once.then(|| cart.customer_id.clone().unwrap_or_else(|| format!("email:{}", command.email)));
    Extras { attach, discount, discount_user: user }
}

/// 422 `quantity_limit` naming every line above the store's limit per SKU, by SKU as
/// `out_of_stock` does.
fn check_limit(cart: &Cart, limit: MaxUnitsPerSku) -> Result<()> {
    let over: Vec<FieldError> = limit
        .exceeded_by(&cart.lines)
        .map(|l| FieldError { field: l.sku.to_string(), message: format!("at most {limit} units per order") })
        .collect();
    if over.is_empty() {
        return Ok(());
    }
    Err(ApiError::unprocessable(
        "quantity_limit",
        format!("the store sells at most {limit} units of an item per order; lower the quantities named in `errors`"),
    )
    .with_errors(over))
}

/// Refuses a quote that must not become an order, naming every problem.
fn check_quote(cart: &Cart, catalog: &CatalogSnapshot, quote: &Quote) -> Result<()> {
    let ships = cart.shipping_address.as_ref().is_some_and(|a| catalog.settings.zone_for(&a.country).is_some());
    if !ships {
        return Err(invalid_address(
            Role::Shipping,
            ValidationErrors::single("shipping_address.country", "the store does not ship to this country"),
        ));
    }
    if quote.method(cart).is_none() {
        let offered: Vec<&str> = quote.options.iter().map(|(_, m)| m.id.as_str()).collect();
        return Err(ApiError::unprocessable(
            "shipping_method_unavailable",
            format!("that shipping method is not offered for this address; choose one of: {}", offered.join(", ")),
        ));
    }
    let mut short = Vec::new();
    let mut gone = Vec::new();
    for line in &quote.priced.lines {
        match &line.unavailable {
            Some(Unavailable::InsufficientStock { available }) => {
                short.push(FieldError { field: line.sku.to_string(), message: format!("only {available} available") })
            }
            Some(other) => {
                gone.push(FieldError { field: line.sku.to_string(), message: unavailable(other).to_owned() })
            }
            None => {}
        }
    }
    if !short.is_empty() {
        return Err(ApiError::conflict("out_of_stock", "some items are not available in the quantity wanted")
            .with_errors(short));
    }
    if !gone.is_empty() {
        return Err(ApiError::conflict(
            "items_unavailable",
            "some items can no longer be bought; remove them from the cart",
        )
        .with_errors(gone));
    }
    if let Some(why) = &quote.rejection {
        return Err(ApiError::unprocessable(
            "invalid_discount",
            format!("the discount code no longer applies: {why}; remove it to continue"),
        ));
    }
    if quote.priced.total.amount <= 0 {
        return Err(ApiError::unprocessable("nothing_to_pay", "orders with a total of zero cannot be paid by card"));
    }
    Ok(())
}

/// Why a line cannot be bought, for the shopper.
fn unavailable(reason: &Unavailable) -> &'static str {
    match reason {
        Unavailable::Archived => "no longer sold",
        Unavailable::UnknownSku => "no longer in the catalog",
        Unavailable::NoPriceInCurrency => "not sold in this currency",
        Unavailable::InsufficientStock { .. } => "not enough in stock",
    }
}

/// The 409 for a reservation that lost to other buyers: which SKUs, and how many are left now.
async fn out_of_stock(state: &CheckoutState, cart: &Cart) -> ApiError {
    let errors = match state.repo.catalog(cart).await {
        Ok(now) => cart
            .lines
            .as_slice()
            .iter()
            .filter(|l| i64::from(l.quantity.get()) > now.available(&l.sku))
            .map(|l| FieldError {
                field: l.sku.to_string(),
                message: format!("only {} available", now.available(&l.sku).max(0)),
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    ApiError::conflict("out_of_stock", "some items sold out while you were checking out").with_errors(errors)
}

fn new_order(
    cart: &Cart,
    catalog: &CatalogSnapshot,
    quote: &Quote,
    recipient: &Recipient,
    now: chrono::DateTime<Utc>,
    window: chrono::TimeDelta,
) -> Result<Order> {
    let p = &quote.priced;
    let lines = p
        .lines
        .iter()
        .filter_map(|l| {
            let v = catalog.variant(&l.sku)?;
            let title = if v.variant_title.is_empty() {
                v.product_title.clone()
            } else {
                format!("{} — {}", v.product_title, v.variant_title)
            };
            Some(OrderLine {
                sku: l.sku.clone(),
                title,
                quantity: l.quantity.get(),
                unit_price: l.unit_price?,
                line_total: l.line_total?,
                discount: l.discount,
                tax: l.tax,
            })
        })
        .collect();
    let (_, method) =
        quote.method(cart).ok_or_else(|| ApiError::internal(anyhow::anyhow!("checked method vanished")))?;
    let id = OrderId::generate();
    Ok(Order {
        number: order_number(&id, now),
        id,
        status: OrderStatus::PendingPayment,
        payment_status: PaymentStatus::Pending,
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        email: recipient.email.as_str().to_owned(),
        customer_id: cart.customer_id.clone(),
        currency: cart.currency,
        lines,
        totals: OrderTotals {
            subtotal: p.subtotal,
            discount: p.discount,
            shipping: p.shipping,
            tax: p.tax,
            total: p.total,
            refunded: Money::zero(cart.currency),
        },
        shipping_address: recipient.shipping.clone(),
        billing_address: Some(recipient.billing.clone()),
        shipping_method: ChosenShipping { id: method.id.clone(), name: method.name.clone(), price: p.shipping },
        discount_code: cart.discount_code.clone().filter(|_| catalog.discount.is_some()),
        payment: Payment {
            provider: "stripe".into(),
            payment_intent_id: None,
            client_secret: None,
            publishable_key: None,
        },
        fulfillments: Vec::new(),
        refunds: Vec::new(),
        stock: StockState::Reserved,
        flags: Vec::new(),
        payment_error: None,
        expires_at: now + window,
        created_at: now,
        updated_at: now,
        version: 1,
        token_version: 0,
    })
}

/// When order numbers start counting: 2025-01-01T00:00:00Z.
const NUMBER_EPOCH: i64 = 1_735_689_600;
/// Crockford's base 32: digits and capitals without I, L, O and U, so a number read out over the
/// phone is not misheard, in ascending ASCII order, so numbers sort as they are written.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The number people use for an order: ten characters (`1RVXQ8K3ZP`), the second it was placed
/// since 2025 (six characters, until 2059) and the last four of its id (the lowest 20 bits of the
/// id's randomness, which differ between ids of one process even within a millisecond). Later
/// orders have greater numbers, to the second. No counter is read or written for it: a
/// sequential number would cost a round trip of its own (a transaction cannot return a value,
/// and a counter every checkout updates in its transaction would make concurrent checkouts
/// conflict). The transaction claims the number, so two orders never share one; drawing one
/// already taken (the same second and the same 20 bits) retries the checkout.
pub(crate) fn order_number(id: &OrderId, now: chrono::DateTime<Utc>) -> String {
    let mut seconds = u64::try_from(now.timestamp().saturating_sub(NUMBER_EPOCH)).unwrap_or(0);
    let mut digits = Vec::with_capacity(7);
    while seconds > 0 || digits.len() < 6 {
        digits.push(char::from(CROCKFORD[usize::try_from(seconds % 32).unwrap_or(0)]));
        seconds /= 32;
    }
    let id = id.as_str();
    digits.into_iter().rev().chain(id[id.len() - 4..].chars()).collect()
}

/// 503 `not_configured`: the Stripe keys are missing, placeholders or refused; an operator must
/// put them in place (they are read again without a restart).
fn not_configured(e: &PaymentError) -> ApiError {
    tracing::error!(error = %e, "checkout refused: payments are not configured");
    ApiError::not_configured("payments are not configured yet; nothing was reserved or charged, please retry later")
}

/// Gives back the reservation `reserved` when this request made it: nothing is held any more, so
/// the key is given back too and a retry starts afresh.
async fn give_back(
    state: &CheckoutState,
    order: &Order,
    reserved: Option<&(Cart, Extras)>,
    guard: &mut Guard,
) -> Result<()> {
    if let (Some((checked_out, extras)), Some(abandoned)) = (reserved, order.abandon(Utc::now())) {
        state.repo.release(order, &abandoned, checked_out, extras, guard.release_write()).await?;
        guard.detach();
    }
    Ok(())
}

/// Creates the order's PaymentIntent and finishes the request; on a provider failure, gives the
/// reservation back (when this request made it) and answers 502.
async fn pay(
    state: &CheckoutState,
    order: Order,
    reserved: Option<(Cart, Extras)>,
    guard: &mut Guard,
) -> Result<Response> {
    // Issued at the order's creation, so a request that takes over hands out the same token;
    // before the intent, so a key that cannot be read charges nothing.
    let order_token = match state.order_tokens.issue(&order.id, order.token_version, order.created_at.timestamp()).await
    {
        Ok(token) => token,
        Err(e) => {
            give_back(state, &order, reserved.as_ref(), guard).await?;
            return Err(e);
        }
    };
    let request = CreateIntent { order_id: order.id.clone(), amount: order.totals.total, email: order.email.clone() };
    let intent = match state.payments.create_intent(&request).await {
        Ok(intent) => intent,
        Err(e) => {
            give_back(state, &order, reserved.as_ref(), guard).await?;
            tracing::warn!(order = %order.id, error = %e, "payment provider failed; reservation released");
            // The provider's own words stay in the log above: they can name the account's state
            // or the key's last digits, which are nobody else's business.
            return Err(match e {
                e if e.is_not_configured() => not_configured(&e),
                PaymentError::Unavailable(_) => ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "payment_provider_unavailable",
                    "the payment provider could not be reached; nothing was charged or reserved, please retry",
                ),
                PaymentError::Refused(_) => ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "payment_provider_unavailable",
                    "the payment provider refused the payment; nothing was charged or reserved",
                ),
            });
        }
    };
    let paid_order = Order {
        payment: Payment {
            provider: order.payment.provider.clone(),
            payment_intent_id: Some(intent.id.clone()),
            client_secret: Some(intent.client_secret.clone()),
            publishable_key: Some(state.payments.publishable_key()),
        },
        version: order.version + 1,
        updated_at: Utc::now(),
        ..order.clone()
    };
    let body = CheckoutHttpResponse {
        order: &paid_order,
        order_token,
        payment: PaymentHttpResponse {
            provider: "stripe",
            payment_intent_id: intent.id.clone(),
            client_secret: intent.client_secret,
            publishable_key: state.payments.publishable_key(),
        },
    };
    let json = serde_json::to_string(&body).map_err(ApiError::internal)?;
    let finish = guard.finish_write(StatusCode::CREATED, &json)?;
    state.repo.attach_intent(&order, &paid_order, &intent.id, finish).await?;
    nanoshop_api::metrics::count(nanoshop_api::Metric::OrdersPlaced);
    Ok((StatusCode::CREATED, [(axum::http::header::CONTENT_TYPE, "application/json")], json).into_response())
}
