//! The order endpoints: history, one order, cancel, fulfil and refund.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use nanoshop_api::idempotency::{self, Begin};
use nanoshop_api::{Admin, ApiError, Caller, Json, Page, Pagination, Query, Result};
use nanoshop_domain::ValidationErrors;
use nanoshop_domain::catalog::Sku;
use nanoshop_domain::email::Email;
use nanoshop_domain::ids::OrderId;
use nanoshop_domain::order::{CancelEffect, Fulfillment, Order, OrderStatus, RefundState, TransitionError};
use nanoshop_payments::PaymentError;
use nanoshop_schema::catalog::StockMove;
use nanoshop_schema::orders::{ALL_LISTING, customer_listing, email_listing, status_listing};
use nanoshop_store::{PageKey, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::OrdersState;
use crate::repo::RepoError;

/// Attempts of a change that lost a race for the order.
const ATTEMPTS: usize = 3;

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict => ApiError::conflict("order_changed", "the order changed meanwhile; retry"),
            RepoError::Store(StoreError::Unavailable(_)) => ApiError::unavailable(e),
            other => ApiError::internal(other),
        }
    }
}

fn transition(e: TransitionError) -> ApiError {
    match e {
        TransitionError::InvalidTransition { .. }
        | TransitionError::NothingToFulfill
        | TransitionError::RefundInProgress => ApiError::conflict("invalid_transition", e.to_string()),
        TransitionError::UnknownSku(_) | TransitionError::TooMany { .. } => {
            ApiError::unprocessable("invalid_lines", e.to_string())
        }
        TransitionError::InvalidAmount { .. } => ApiError::unprocessable("invalid_amount", e.to_string()),
    }
}

fn provider(e: PaymentError) -> ApiError {
    match e {
        e if e.is_not_configured() => {
            tracing::error!(error = %e, "payments are not configured");
            ApiError::not_configured("payments are not configured yet; nothing changed, please retry later")
        }
        PaymentError::Unavailable(_) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "payment_provider_unavailable",
            "the payment provider could not be reached; nothing changed, please retry",
        ),
        // The provider's own words are logged, never answered: they can name the account's
        // state or the key's last digits.
        PaymentError::Refused(why) => {
            tracing::warn!(reason = %why, "the payment provider refused");
            ApiError::conflict("payment_provider_refused", "the payment provider refused the request; nothing changed")
        }
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("order")
}

/// How much of an order a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sight {
    /// Everything: an admin, the customer who placed it, or its token within the personal-data
    /// window.
    Whole,
    /// A token older than the personal-data window: status, lines, totals, fulfilments, but not
    /// who bought it or where it goes.
    WithoutPersonalData,
}

fn is_owner(order: &Order, caller: &Caller) -> bool {
    order.customer_id.is_some() && order.customer_id.as_deref() == caller.customer_id()
}

/// What the caller may see of this order: an admin or its customer everything; a guest with a
/// token of the order's current generation everything until the token is older than the
/// personal-data window, then everything but the personal data; anyone else nothing.
async fn sight(state: &OrdersState, order: &Order, caller: &Caller, token: Option<&str>) -> Option<Sight> {
    if caller.is_admin() || is_owner(order, caller) {
        return Some(Sight::Whole);
    }
    let issued =
        state.order_tokens.verify(&order.id, token?, order.token_version, order.created_at.timestamp()).await?;
    let age = Utc::now().timestamp().saturating_sub(issued);
    Some(if age <= state.personal_data_window.num_seconds() { Sight::Whole } else { Sight::WithoutPersonalData })
}

async fn may_see(state: &OrdersState, order: &Order, caller: &Caller, token: Option<&str>) -> bool {
    sight(state, order, caller, token).await.is_some()
}

/// The order as `sight` allows: without personal data, its `email`, `shipping_address` and
/// `billing_address` are `null` (and the client secret, if any, is gone with them).
fn shown(order: Order, sight: Sight) -> Result<Response> {
    if sight == Sight::Whole {
        return Ok(Json(order).into_response());
    }
    let mut body = serde_json::to_value(&order).map_err(ApiError::internal)?;
    body["email"] = serde_json::Value::Null;
    body["shipping_address"] = serde_json::Value::Null;
    body["billing_address"] = serde_json::Value::Null;
    if let Some(payment) = body.get_mut("payment").and_then(serde_json::Value::as_object_mut) {
        payment.remove("client_secret");
    }
    Ok(Json(body).into_response())
}

async fn load(state: &OrdersState, id: &str) -> Result<Order> {
    let id: OrderId = id.parse().map_err(|_| not_found())?;
    state.repo.order(&id).await?.ok_or_else(not_found)
}

fn order_token(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-order-token").and_then(|v| v.to_str().ok())
}

/// The order `id` for an action only the customer who placed it or an admin may take: 404 for a
/// caller who may not see it, 403 for one who may see it but not act (a guest with its token).
async fn load_for_owner_or_admin(
    state: &OrdersState,
    id: &str,
    caller: &Caller,
    headers: &HeaderMap,
    action: &str,
) -> Result<Order> {
    let order = load(state, id).await?;
    if !may_see(state, &order, caller, order_token(headers)).await {
        return Err(not_found());
    }
    if !caller.is_admin() && !is_owner(&order, caller) {
        return Err(ApiError::forbidden(format!("only the customer who placed the order, or an admin, may {action}")));
    }
    Ok(order)
}

/// 401 for a request with neither an order token nor a JWT: no order opens without one, so the
/// answer is the same whether the order exists or not (and costs no read).
fn require_credentials(caller: &Caller, headers: &HeaderMap) -> Result<()> {
    if order_token(headers).is_none() && matches!(caller, Caller::Anonymous) {
        return Err(ApiError::unauthorized("send the order's `X-Order-Token`, or a bearer token"));
    }
    Ok(())
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListOrdersHttpQuery {
    /// Admins only.
    #[schemars(extend("enum" = ["pending_payment", "paid", "fulfilled", "expired", "cancelled"]))]
    pub status: Option<String>,
    /// Admins only: the orders placed with this e-mail.
    pub email: Option<String>,
}

/// `GET /orders`: a customer's own orders, or (admins) all, by status or e-mail; newest first.
pub async fn list(
    State(state): State<OrdersState>,
    caller: Caller,
    page: Pagination,
    Query(filter): Query<ListOrdersHttpQuery>,
) -> Result<Response> {
    let status = filter
        .status
        .as_deref()
        .map(|s| {
            serde_json::from_value::<OrderStatus>(serde_json::Value::String(s.to_owned())).map_err(|_| {
                ApiError::bad_request(
                    "invalid_status",
                    "`status` must be pending_payment, paid, fulfilled, expired or cancelled",
                )
            })
        })
        .transpose()?;
    let email = filter.email.as_deref().map(Email::normalize);
    let listing = match (&caller, &email, status) {
        (Caller::Anonymous, _, _) => return Err(ApiError::unauthorized("sign in to see your orders")),
        (Caller::Customer { .. }, Some(_), _) | (Caller::Customer { .. }, _, Some(_)) => {
            return Err(ApiError::forbidden("only admins filter orders by status or e-mail"));
        }
        (Caller::Customer { id, .. }, None, None) => customer_listing(id),
        (Caller::Admin { .. }, Some(email), _) => email_listing(email),
        (Caller::Admin { .. }, None, Some(status)) => status_listing(status),
        (Caller::Admin { .. }, None, None) => ALL_LISTING.to_owned(),
    };
    let context = format!("orders|{listing}");
    let after: Option<PageKey> = state.cursors.decode_opt(&context, page.cursor.as_deref()).await?;
    let (orders, next) = state.repo.list(&listing, u32::try_from(page.limit).unwrap_or(100), after).await?;
    // An e-mail listing holds every status; the status filter then applies to the page.
    let items: Vec<Order> =
        orders.into_iter().filter(|o| email.is_none() || status.is_none_or(|s| o.status == s)).collect();
    let next_cursor = state.cursors.encode_opt(&context, next.as_ref()).await?;
    Ok(Json(Page { items, next_cursor }).into_response())
}

/// `GET /orders/{id}`.
pub async fn get(
    State(state): State<OrdersState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    require_credentials(&caller, &headers)?;
    let order = load(&state, &id).await?;
    let sight = sight(&state, &order, &caller, order_token(&headers)).await.ok_or_else(not_found)?;
    shown(order, sight)
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct OrderTokenHttpResponse {
    order_id: String,
    order_token: String,
}

/// `POST /orders/{id}/token`: a fresh order token, and every token issued before it revoked
/// (the order's token generation moves on). For the customer who placed the order, or an admin
/// (for a guest who lost control of their link). The answer is 201 with `order_token`.
pub async fn new_token(
    State(state): State<OrdersState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    require_credentials(&caller, &headers)?;
    for _ in 0..ATTEMPTS {
        let order = load_for_owner_or_admin(&state, &id, &caller, &headers, "replace its token").await?;
        let now = Utc::now();
        let next = order.with_new_token(now);
        match state.repo.save(&order, &next, Vec::new()).await {
            Ok(()) => {
                let token = state.order_tokens.issue(&next.id, next.token_version, now.timestamp()).await?;
                let body = OrderTokenHttpResponse { order_id: next.id.to_string(), order_token: token };
                return Ok((StatusCode::CREATED, Json(body)).into_response());
            }
            Err(RepoError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(RepoError::Conflict.into())
}

/// `POST /orders/{id}/cancel`: admins, or the customer while nothing has shipped. Unpaid orders
/// release their stock; paid ones are refunded in full and restocked. Cancelling a paid order is
/// two writes around the provider's refund; a cancel that failed between them (its refund still
/// pending) is finished by the next cancel.
pub async fn cancel(
    State(state): State<OrdersState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    require_credentials(&caller, &headers)?;
    for _ in 0..ATTEMPTS {
        let order = load_for_owner_or_admin(&state, &id, &caller, &headers, "cancel it").await?;
        let refund_id = format!("cancel-{}", order.id);
        let unsettled = order.refunds.iter().find(|r| r.id == refund_id && r.state == RefundState::Pending);
        if let Some(amount) = unsettled.map(|r| r.amount) {
            match settle(&state, &order, &refund_id, amount, None).await {
                Ok((order, _)) => return Ok(Json(order).into_response()),
                Err(SettleError::Repo(RepoError::Conflict)) => continue,
                Err(SettleError::Repo(e)) => return Err(e.into()),
                Err(SettleError::Api(e)) => return Err(e),
            }
        }
        let (next, effect) = order.cancel(refund_id, Utc::now()).map_err(transition)?;
        let outcome = match effect {
            CancelEffect::ReleaseReservation => {
                if let Some(intent) = &order.payment.payment_intent_id {
                    state.payments.cancel_intent(intent).await.map_err(|e| match e {
                        PaymentError::Refused(_) => ApiError::conflict(
                            "payment_in_flight",
                            "the payment has just gone through; reload the order",
                        ),
                        other => provider(other),
                    })?;
                }
                state
                    .repo
                    .save(&order, &next, StockMove::Release.of_order(&order))
                    .await
                    .map(|()| next)
                    .map_err(SettleError::Repo)
            }
            CancelEffect::Refund { amount, refund_id } => match state.repo.save(&order, &next, Vec::new()).await {
                Ok(()) => settle(&state, &next, &refund_id, amount, None).await.map(|(order, _)| order),
                Err(e) => Err(SettleError::Repo(e)),
            },
        };
        match outcome {
            Ok(order) => return Ok(Json(order).into_response()),
            Err(SettleError::Repo(RepoError::Conflict)) => continue,
            Err(SettleError::Repo(e)) => return Err(e.into()),
            Err(SettleError::Api(e)) => return Err(e),
        }
    }
    Err(RepoError::Conflict.into())
}

/// Builds the write that stores a request's final response, from the settled order.
type FinishWrite<'a> = dyn Fn(&Order) -> Result<nanoshop_store::Write> + Sync + 'a;

/// A settle failure: either the store (retryable as a conflict) or the provider (an answer).
enum SettleError {
    Repo(RepoError),
    Api(ApiError),
}

/// Asks the provider for a refund already reserved on `reserved`, then records it settled and
/// restocks its units, with `finish` (an idempotency record) in the same transaction. If the
/// provider refuses, the reservation is taken back off the order. If it cannot be reached, the
/// refund stays pending: the provider may have made it and lost the answer, and taking it off
/// would let its `charge.refunded` event and a retry count the same money twice. The retry (the
/// same `Idempotency-Key`, or cancelling again) asks again under the same provider key, which
/// the provider answers with the refund it made, if it made one.
async fn settle(
    state: &OrdersState,
    reserved: &Order,
    refund_id: &str,
    amount: nanoshop_domain::Money,
    finish: Option<&FinishWrite<'_>>,
) -> Result<(Order, String), SettleError> {
    let intent = reserved.payment.payment_intent_id.clone().ok_or_else(|| {
        SettleError::Api(ApiError::conflict("invalid_transition", "the order has no payment to refund"))
    })?;
    match state.payments.refund(&intent, amount, &format!("nanoshop-{refund_id}")).await {
        Ok(refund) => {
            let (settled, restock) = reserved
                .settle_refund(refund_id, refund.id.clone(), Utc::now())
                .ok_or_else(|| SettleError::Repo(RepoError::Conflict))?;
            let mut also = StockMove::Restock.of_units(&restock);
            if let Some(f) = finish {
                also.push(f(&settled).map_err(SettleError::Api)?);
            }
            state.repo.save(reserved, &settled, also).await.map_err(SettleError::Repo)?;
            nanoshop_api::metrics::count(nanoshop_api::Metric::OrdersRefunded);
            Ok((settled, refund.id))
        }
        Err(PaymentError::Unavailable(_)) => Err(SettleError::Api(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "payment_provider_unavailable",
            "the payment provider could not be reached; the refund stays pending until this request is retried",
        ))),
        Err(e) => {
            if let Some(dropped) = reserved.drop_refund(refund_id, Utc::now()) {
                state.repo.save(reserved, &dropped, Vec::new()).await.map_err(SettleError::Repo)?;
            }
            Err(SettleError::Api(provider(e)))
        }
    }
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineHttpBody {
    #[schemars(extend("pattern" = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"))]
    pub sku: String,
    #[schemars(range(min = 1))]
    pub quantity: u32,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfillmentHttpBody {
    #[serde(default)]
    pub lines: Option<Vec<LineHttpBody>>,
    #[serde(default)]
    #[schemars(length(max = 100))]
    pub carrier: Option<String>,
    #[serde(default)]
    #[schemars(length(max = 100))]
    pub tracking_number: Option<String>,
    #[serde(default)]
    #[schemars(length(max = 2000), extend("pattern" = "^https?://[^\\s]+$"))]
    pub tracking_url: Option<String>,
}

fn lines_of(lines: &[LineHttpBody], field: &str) -> Result<Vec<(Sku, u32)>> {
    let mut errors = ValidationErrors::default();
    let parsed = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            l.sku
                .parse::<Sku>()
                .map_err(|e| errors.add(format!("{field}[{i}].sku"), e.to_string()))
                .ok()
                .map(|s| (s, l.quantity))
        })
        .collect();
    errors.into_result(parsed).map_err(ApiError::validation)
}

fn short_text(errors: &mut ValidationErrors, field: &str, value: &Option<String>, max: usize) {
    if value.as_ref().is_some_and(|v| v.chars().count() > max) {
        errors.add(field, format!("must be at most {max} characters"));
    }
}

/// `POST /orders/{id}/fulfillments`: ships some or all of what is left.
pub async fn fulfill(
    State(state): State<OrdersState>,
    _admin: Admin,
    Path(id): Path<String>,
    Json(body): Json<FulfillmentHttpBody>,
) -> Result<Response> {
    let mut errors = ValidationErrors::default();
    short_text(&mut errors, "carrier", &body.carrier, 100);
    short_text(&mut errors, "tracking_number", &body.tracking_number, 100);
    short_text(&mut errors, "tracking_url", &body.tracking_url, 2000);
    if body.tracking_url.as_ref().is_some_and(|u| !u.starts_with("https://") && !u.starts_with("http://")) {
        errors.add("tracking_url", "must be an http(s) URL");
    }
    errors.into_result(()).map_err(ApiError::validation)?;
    let lines = body.lines.as_deref().map(|l| lines_of(l, "lines")).transpose()?;
    for _ in 0..ATTEMPTS {
        let order = load(&state, &id).await?;
        let now = Utc::now();
        let fulfillment = Fulfillment {
            id: format!("ful_{}", nanoshop_domain::ids::OrderId::generate().as_str().trim_start_matches("ord_")),
            lines: Vec::new(),
            carrier: body.carrier.clone(),
            tracking_number: body.tracking_number.clone(),
            tracking_url: body.tracking_url.clone(),
            created_at: now,
        };
        let next = order.fulfill(lines.clone(), fulfillment, now).map_err(transition)?;
        match state.repo.save(&order, &next, Vec::new()).await {
            Ok(()) => return Ok((StatusCode::CREATED, Json(next)).into_response()),
            Err(RepoError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(RepoError::Conflict.into())
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundHttpBody {
    /// What to refund, in the order's currency; everything left when left out.
    #[serde(default)]
    pub amount: Option<RefundAmountHttpBody>,
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub reason: Option<String>,
    #[serde(default)]
    pub restock: Vec<LineHttpBody>,
}

/// A refund's amount as every amount of the API: `{"amount": 500, "currency": "EUR"}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundAmountHttpBody {
    pub amount: i64,
    pub currency: String,
}

/// Described as the one `Money` of the API.
impl schemars::JsonSchema for RefundAmountHttpBody {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        nanoshop_domain::Money::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        nanoshop_domain::Money::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        nanoshop_domain::Money::json_schema(generator)
    }
}

/// The amount to refund of `order`: 422 `validation_failed` unless in the order's currency.
fn refund_amount(order: &Order, amount: Option<&RefundAmountHttpBody>) -> Result<Option<i64>> {
    let Some(amount) = amount else { return Ok(None) };
    if amount.currency != order.currency.to_string() {
        let mut errors = ValidationErrors::default();
        errors.add("amount.currency", format!("must be the order's currency, {}", order.currency));
        return Err(ApiError::validation(errors));
    }
    Ok(Some(amount.amount))
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct RefundHttpResponse<'a> {
    order: &'a Order,
    refund: &'a nanoshop_domain::order::RefundRecord,
}

/// `POST /orders/{id}/refunds`: `Idempotency-Key` required. The refund is reserved on the order
/// first (so concurrent refunds can never exceed what was paid), then asked of the provider with
/// a key derived from the request, then settled with its restocking, exactly once.
pub async fn refund(
    State(state): State<OrdersState>,
    admin: Admin,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<RefundHttpBody>,
) -> Result<Response> {
    let key = idempotency::key_of(&headers)?
        .ok_or_else(|| ApiError::bad_request("idempotency_key_required", "refunds need an `Idempotency-Key` header"))?;
    let mut errors = ValidationErrors::default();
    short_text(&mut errors, "reason", &body.reason, 500);
    errors.into_result(()).map_err(ApiError::validation)?;
    let restock = lines_of(&body.restock, "restock")?;
    let route = format!("POST /orders/{id}/refunds");
    let canonical = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    let caller = admin.0.customer_id().unwrap_or_default().to_owned();
    // The answer holds the order, its address and e-mail: stored sealed.
    let sealer = state.order_tokens.record_sealer().await?;
    let guard = match idempotency::begin(
        state.repo.store(),
        &route,
        &key,
        idempotency::fingerprint(&route, &caller, &canonical),
        Some(&sealer),
    )
    .await?
    {
        Begin::Replay(response) => return Ok(response),
        Begin::Run(guard) => guard,
    };
    // Derived from the request, so a retry that takes over finds the refund the first one reserved.
    let refund_id: String =
        Sha256::digest(format!("{id}\0{key}").as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect();
    let refund_id = format!("rf_{refund_id}");
    let result = async {
        for _ in 0..ATTEMPTS {
            let order = load(&state, &id).await?;
            let pending = order.refunds.iter().find(|r| r.id == refund_id).cloned();
            let (reserved, amount) = match pending {
                Some(r) if r.state == nanoshop_domain::order::RefundState::Succeeded => return Ok((order.clone(), r)),
                Some(r) => (order.clone(), r.amount),
                None => {
                    let wanted = refund_amount(&order, body.amount.as_ref())?;
                    let (reserved, amount) = order
                        .refund(refund_id.clone(), wanted, body.reason.clone(), restock.clone(), Utc::now())
                        .map_err(transition)?;
                    match state.repo.save(&order, &reserved, Vec::new()).await {
                        Ok(()) => (reserved, amount),
                        Err(RepoError::Conflict) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
            };
            let finish = |settled: &Order| -> Result<nanoshop_store::Write> {
                let refund = settled.refunds.iter().find(|r| r.id == refund_id).ok_or_else(not_found)?;
                let json = serde_json::to_string(&RefundHttpResponse { order: settled, refund })
                    .map_err(ApiError::internal)?;
                guard.finish_write(StatusCode::CREATED, &json)
            };
            match settle(&state, &reserved, &refund_id, amount, Some(&finish)).await {
                Ok((settled, _)) => {
                    let record = settled.refunds.iter().find(|r| r.id == refund_id).cloned().ok_or_else(not_found)?;
                    return Ok((settled, record));
                }
                Err(SettleError::Repo(RepoError::Conflict)) => continue,
                Err(SettleError::Repo(e)) => return Err(e.into()),
                Err(SettleError::Api(e)) => return Err(e),
            }
        }
        Err(RepoError::Conflict.into())
    }
    .await;
    match result {
        Ok((order, record)) => {
            Ok((StatusCode::CREATED, Json(RefundHttpResponse { order: &order, refund: &record })).into_response())
        }
        Err(e) if e.status.is_client_error() && e.code != "order_changed" => {
            guard.finish(state.repo.store(), e.status, &e.to_problem_json()).await?;
            Err(e)
        }
        Err(e) => {
            guard.release(state.repo.store()).await?;
            Err(e)
        }
    }
}
