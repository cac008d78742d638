//! `/discounts`: discount codes, for admins. Carts apply them; checkout counts their use.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use nanoshop_api::{Admin, ApiError, IfMatch, Json, Page, Pagination, Result, etag};
use nanoshop_domain::ValidationErrors;
use nanoshop_domain::discount::{Discount, DiscountKind, UncheckedDiscount};
use nanoshop_domain::ids::DiscountId;
use nanoshop_store::PageKey;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::merge_patch::MergePatch;
use crate::CatalogState;
use crate::repo::CatalogRepository;
use nanoshop_api::bodies::MoneyHttpBody;

/// The editable fields of a discount: the body of `POST /discounts`, and what `PATCH` merges into.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
// What each kind needs, as `into_domain` checks it: a fixed discount at least one amount, a
// percentage one its percentage.
#[schemars(extend("allOf" = [
    {"if": {"properties": {"kind": {"const": "fixed"}}},
     "then": {"required": ["amounts"], "properties": {"amounts": {"minItems": 1}}}},
    {"if": {"properties": {"kind": {"const": "percentage"}}},
     "then": {"required": ["percentage"], "properties": {"percentage": {"type": "string"}}}},
]))]
pub struct DiscountHttpBody {
    /// 3–32 letters, digits, `-`, `_`; case-insensitive; cannot change after creation.
    #[schemars(extend("pattern" = "^[A-Za-z0-9_-]{3,32}$"))]
    pub code: String,
    /// `percentage` or `fixed`.
    #[schemars(extend("enum" = ["percentage", "fixed"]))]
    pub kind: String,
    /// For `percentage`: a decimal string, `"0.10"` for 10 %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<String>,
    /// For `fixed`: the amount off, per currency.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amounts: Vec<MoneyHttpBody>,
    #[serde(default)]
    pub min_subtotal: Vec<MoneyHttpBody>,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub usage_limit: Option<u32>,
    #[serde(default)]
    pub once_per_customer: bool,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DiscountHttpResponse {
    pub id: String,
    #[serde(flatten)]
    pub body: DiscountHttpBody,
    pub times_used: u32,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl DiscountHttpBody {
    fn into_unchecked(self) -> Result<UncheckedDiscount, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let money = |list: &[MoneyHttpBody], field: &str, errors: &mut ValidationErrors| {
            list.iter().enumerate().filter_map(|(i, m)| m.parse(&format!("{field}[{i}]"), errors)).collect::<Vec<_>>()
        };
        let kind = match self.kind.as_str() {
            "percentage" => match self.percentage.as_deref().map(str::trim).map(str::parse::<Decimal>) {
                Some(Ok(p)) => Some(DiscountKind::Percentage(p)),
                _ => {
                    errors.add(
                        "percentage",
                        "a percentage discount needs `percentage` as a decimal string, like \"0.10\"",
                    );
                    None
                }
            },
            "fixed" => Some(DiscountKind::Fixed(money(&self.amounts, "amounts", &mut errors))),
            _ => {
                errors.add("kind", "must be `percentage` or `fixed`");
                None
            }
        };
        let min_subtotal = money(&self.min_subtotal, "min_subtotal", &mut errors);
        match kind {
            Some(kind) if errors.is_empty() => Ok(UncheckedDiscount {
                code: self.code,
                kind,
                min_subtotal,
                starts_at: self.starts_at,
                ends_at: self.ends_at,
                usage_limit: self.usage_limit,
                once_per_customer: self.once_per_customer,
                active: self.active,
            }),
            _ => Err(errors),
        }
    }

    fn of(d: &Discount) -> Self {
        let (kind, percentage, amounts) = match &d.kind {
            DiscountKind::Percentage(p) => ("percentage", Some(p.to_string()), Vec::new()),
            DiscountKind::Fixed(a) => ("fixed", None, a.iter().copied().map(MoneyHttpBody::from).collect()),
        };
        Self {
            code: d.code.to_string(),
            kind: kind.into(),
            percentage,
            amounts,
            min_subtotal: d.min_subtotal.iter().copied().map(MoneyHttpBody::from).collect(),
            starts_at: d.starts_at,
            ends_at: d.ends_at,
            usage_limit: d.usage_limit,
            once_per_customer: d.once_per_customer,
            active: d.active,
        }
    }
}

fn response(d: &Discount) -> DiscountHttpResponse {
    DiscountHttpResponse {
        id: d.id.to_string(),
        body: DiscountHttpBody::of(d),
        times_used: d.times_used,
        version: d.version,
        created_at: d.created_at,
        updated_at: d.updated_at,
    }
}

/// `POST /discounts`.
pub async fn create(
    State(state): State<CatalogState>,
    _admin: Admin,
    Json(body): Json<DiscountHttpBody>,
) -> Result<Response> {
    let discount = Discount::create(DiscountId::generate(), body.into_unchecked()?, Utc::now())?;
    state.repo.create_discount(&discount).await?;
    let location = format!("/discounts/{}", discount.id);
    let mut reply = (StatusCode::CREATED, [etag(discount.version)], Json(response(&discount))).into_response();
    if let Ok(value) = header::HeaderValue::from_str(&location) {
        reply.headers_mut().insert(header::LOCATION, value);
    }
    Ok(reply)
}

/// `GET /discounts`: newest first, cursor-paged.
pub async fn list(State(state): State<CatalogState>, _admin: Admin, page: Pagination) -> Result<Response> {
    const CONTEXT: &str = "discounts";
    let after: Option<PageKey> = state.cursors.decode_opt(CONTEXT, page.cursor.as_deref()).await?;
    let limit = u32::try_from(page.limit).unwrap_or(100);
    let (discounts, next) = state.repo.discounts(limit, after).await?;
    // A full page ends where its last item is; DynamoDB may report more even when none follow.
    let next = match (discounts.last(), next) {
        (Some(last), Some(_)) => Some(CatalogRepository::discount_page_key(last)?),
        _ => None,
    };
    let items = discounts.iter().map(response).collect();
    let next_cursor = match next {
        Some(n) => Some(state.cursors.encode(CONTEXT, &n).await?),
        None => None,
    };
    Ok(Json(Page { items, next_cursor }).into_response())
}

/// `GET /discounts/{id}`.
pub async fn get(State(state): State<CatalogState>, _admin: Admin, Path(id): Path<String>) -> Result<Response> {
    let discount = load(&state, &id).await?;
    Ok(([etag(discount.version)], Json(response(&discount))).into_response())
}

async fn load(state: &CatalogState, id: &str) -> Result<Discount> {
    let id: DiscountId = id.parse().map_err(|_| ApiError::not_found("discount"))?;
    state.repo.discount(&id).await?.ok_or_else(|| ApiError::not_found("discount"))
}

/// `PATCH /discounts/{id}`: a JSON merge patch; the code cannot change.
pub async fn patch(
    State(state): State<CatalogState>,
    _admin: Admin,
    Path(id): Path<String>,
    if_match: IfMatch,
    patch: MergePatch,
) -> Result<Response> {
    let current = load(&state, &id).await?;
    if_match.check(current.version)?;
    let body = patch.apply(&DiscountHttpBody::of(&current), "discount")?;
    if !body.code.trim().eq_ignore_ascii_case(current.code.as_str()) {
        return Err(ApiError::validation(ValidationErrors::single(
            "code",
            "a discount's code cannot change; create a new discount",
        )));
    }
    let revised = current.revise(body.into_unchecked()?, Utc::now())?;
    state.repo.replace_discount(&revised, current.version).await?;
    Ok(([etag(revised.version)], Json(response(&revised))).into_response())
}
