//! `/products`: list, read, create, patch, archive, and image uploads.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use nanoshop_api::{Admin, ApiError, Caller, IfMatch, Json, Page, Pagination, Query, Result, etag};
use nanoshop_domain::ValidationErrors;
use nanoshop_domain::catalog::{
    Category, Image, MAX_IMAGES, Product, ProductOption, ProductStatus, Sku, Slug, StockLevel, UncheckedProduct,
    UncheckedVariant, words_of,
};
use nanoshop_domain::ids::{ImageId, ProductId};
use nanoshop_store::PageKey;
use serde::{Deserialize, Serialize};

use super::merge_patch::MergePatch;
use crate::CatalogState;
use crate::images::{ALLOWED_CONTENT_TYPES, MAX_IMAGE_BYTES, UPLOAD_URL_LIFETIME};
use crate::repo::{CatalogError, CatalogRepository, StoredProduct};
use nanoshop_api::bodies::MoneyHttpBody;

/// The longest `?q=` accepted.
pub const MAX_QUERY_LEN: usize = 100;
/// A listing by a category with more than [`MAX_MERGED_CATEGORIES`] below it, a search narrowed
/// by a category, or a search of several words, reads at most this many index pages per
/// request, then returns what it found with a cursor, so a rare combination costs bounded time
/// instead of a scan. (A search of one word reads only its own hits, and fills its page in one.)
const MAX_FILTER_ROUNDS: usize = 5;
/// Index page size while filtering.
const FILTER_PAGE: u32 = 100;
/// A category listing (without `q`) merges the index partitions of the category and its
/// descendants when there are at most this many, one query each; a larger subtree is listed by
/// the bounded scan, as a search narrowed by a category is.
const MAX_MERGED_CATEGORIES: usize = 32;
/// Attempts of a read-modify-write that lost a race to another writer.
const WRITE_ATTEMPTS: usize = 3;

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionHttpBody {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantHttpBody {
    /// As the domain's `Sku` parses it: a letter or digit, then up to 63 of those or `.`, `_`, `-`.
    #[schemars(extend("pattern" = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"))]
    pub sku: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// At least one price: a variant nobody can be charged for is refused.
    #[schemars(length(min = 1))]
    pub prices: Vec<MoneyHttpBody>,
    #[serde(default)]
    pub weight_grams: Option<u32>,
}

/// An existing image as a patch may reorder, re-describe or drop it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageRefHttpBody {
    pub id: String,
    #[serde(default)]
    pub alt: Option<String>,
}

/// The editable fields of a product: the body of `POST /products`, and the document a
/// `PATCH` merge-patches.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductHttpBody {
    #[schemars(extend("pattern" = "^[a-z0-9]+(-[a-z0-9]+)*$"), length(max = 96))]
    pub slug: String,
    #[schemars(length(min = 1))]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub status: ProductStatus,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub options: Vec<OptionHttpBody>,
    pub variants: Vec<VariantHttpBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<ImageRefHttpBody>>,
}

impl ProductHttpBody {
    fn into_unchecked(self) -> UncheckedProduct {
        UncheckedProduct {
            slug: self.slug,
            title: self.title,
            description: self.description,
            status: self.status,
            categories: self.categories,
            tags: self.tags,
            options: self.options.into_iter().map(|o| ProductOption { name: o.name, values: o.values }).collect(),
            variants: self
                .variants
                .into_iter()
                .map(|v| UncheckedVariant {
                    sku: v.sku,
                    title: v.title,
                    options: v.options,
                    prices: v.prices.into_iter().map(|p| (p.amount, p.currency)).collect(),
                    weight_grams: v.weight_grams,
                })
                .collect(),
        }
    }

    fn of(product: &Product) -> Self {
        let u = product.to_unchecked();
        Self {
            slug: u.slug,
            title: u.title,
            description: u.description,
            status: u.status,
            categories: u.categories,
            tags: u.tags,
            options: u.options.into_iter().map(|o| OptionHttpBody { name: o.name, values: o.values }).collect(),
            variants: u
                .variants
                .into_iter()
                .map(|v| VariantHttpBody {
                    sku: v.sku,
                    title: v.title,
                    options: v.options,
                    prices: v.prices.into_iter().map(|(amount, currency)| MoneyHttpBody { amount, currency }).collect(),
                    weight_grams: v.weight_grams,
                })
                .collect(),
            images: Some(
                product.images.iter().map(|i| ImageRefHttpBody { id: i.id.to_string(), alt: i.alt.clone() }).collect(),
            ),
        }
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ImageHttpResponse {
    pub id: String,
    pub url: String,
    pub alt: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct VariantHttpResponse {
    pub sku: String,
    pub title: String,
    pub options: BTreeMap<String, String>,
    pub prices: Vec<MoneyHttpBody>,
    pub available: i64,
    pub weight_grams: Option<u32>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ProductHttpResponse {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub status: ProductStatus,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub images: Vec<ImageHttpResponse>,
    pub options: Vec<OptionHttpBody>,
    pub variants: Vec<VariantHttpResponse>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProductHttpResponse {
    fn new(state: &CatalogState, p: Product, stock: &[(nanoshop_domain::catalog::Sku, StockLevel)]) -> Self {
        let available = |sku: &nanoshop_domain::catalog::Sku| {
            stock.iter().find(|(s, _)| s == sku).map_or(0, |(_, l)| l.available().max(0))
        };
        Self {
            id: p.id.to_string(),
            slug: p.slug.to_string(),
            title: p.title,
            description: p.description,
            status: p.status,
            categories: p.categories.iter().map(ToString::to_string).collect(),
            tags: p.tags,
            images: p
                .images
                .into_iter()
                .map(|i| ImageHttpResponse { url: state.images.public_url(&i.key), id: i.id.to_string(), alt: i.alt })
                .collect(),
            options: p.options.into_iter().map(|o| OptionHttpBody { name: o.name, values: o.values }).collect(),
            variants: p
                .variants
                .into_iter()
                .map(|v| VariantHttpResponse {
                    available: available(&v.sku),
                    sku: v.sku.to_string(),
                    title: v.title,
                    options: v.options,
                    prices: v.prices.into_iter().map(MoneyHttpBody::from).collect(),
                    weight_grams: v.weight_grams,
                })
                .collect(),
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A product with its stock, as every product endpoint answers it, with its `ETag`.
async fn respond(state: &CatalogState, status: StatusCode, product: Product) -> Result<Response> {
    let skus: Vec<_> = product.skus().collect();
    let stock = state.repo.stock_levels(&skus).await?;
    Ok(respond_with_stock(state, status, product, &stock))
}

/// [`respond`] with the stock already read.
fn respond_with_stock(
    state: &CatalogState,
    status: StatusCode,
    product: Product,
    stock: &[(Sku, StockLevel)],
) -> Response {
    let version = product.version;
    let location = (status == StatusCode::CREATED).then(|| format!("/products/{}", product.id));
    let body = ProductHttpResponse::new(state, product, stock);
    let mut response = (status, [etag(version)], Json(body)).into_response();
    if let Some(location) = location.and_then(|l| header::HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListProductsHttpQuery {
    /// A category slug: its products and its descendants'.
    #[schemars(length(min = 1, max = 96), extend("pattern" = "^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub category: Option<String>,
    /// Words to find: each must start one of the product's search words (the first 32 distinct
    /// words of its title and tags), in any case.
    #[schemars(length(max = 100))]
    pub q: Option<String>,
    /// Admins only.
    #[schemars(extend("enum" = ["draft", "active", "archived"]))]
    pub status: Option<String>,
}

/// `GET /products`: active products newest first; admins may ask for another `status`.
pub async fn list(
    State(state): State<CatalogState>,
    caller: Caller,
    page: Pagination,
    Query(filter): Query<ListProductsHttpQuery>,
) -> Result<Response> {
    let status = match filter.status.as_deref() {
        None => ProductStatus::Active,
        Some(_) if !caller.is_admin() => {
            return Err(ApiError::forbidden("only admins may list products by status"));
        }
        Some(s) => s
            .parse()
            .map_err(|()| ApiError::bad_request("invalid_status", "`status` must be draft, active or archived"))?,
    };
    let q = filter.q.unwrap_or_default();
    if q.chars().count() > MAX_QUERY_LEN {
        return Err(ApiError::bad_request("invalid_query", format!("`q` must be at most {MAX_QUERY_LEN} characters")));
    }
    let category = filter
        .category
        .map(|c| c.parse::<Slug>().map_err(|e| ApiError::bad_request("invalid_category", format!("`category`: {e}"))))
        .transpose()?;
    let in_category = match &category {
        Some(slug) => Some(descendants(&state.repo.categories().await?, slug)),
        None => None,
    };
    let words: Vec<String> = words_of(&q).collect();
    let matches = |p: &Product| {
        in_category.as_ref().is_none_or(|set| p.categories.iter().any(|c| set.contains(c)))
            && (words.is_empty() || p.matches_query(&q))
    };

    // A search's cursor resumes in the word index, a category listing's after a product id, a
    // listing's in the status listing: bound to different listings, none is accepted for another.
    let merged = in_category.as_ref().filter(|set| words.is_empty() && set.len() <= MAX_MERGED_CATEGORIES);
    let listing = match (words.is_empty(), merged.is_some()) {
        (false, _) => "product-search",
        (true, true) => "products-in-category",
        (true, false) => "products",
    };
    let context = format!("{listing}|{}|{}|{}", status.as_str(), category.as_ref().map_or("", Slug::as_str), q);
    let cursor = page.cursor.as_deref();
    let (found, next_cursor) = if let Some(set) = merged {
        let before: Option<ProductId> = state.cursors.decode_opt(&context, cursor).await?;
        let (found, last) = in_categories(&state, status, set, page.limit, before).await?;
        (found, state.cursors.encode_opt(&context, last.as_ref()).await?)
    } else {
        let after: Option<PageKey> = state.cursors.decode_opt(&context, cursor).await?;
        let (found, next) = match words.iter().reduce(|longest, w| if w.len() > longest.len() { w } else { longest }) {
            Some(needle) => {
                let narrowed = words.len() > 1 || in_category.is_some();
                search(&state, status, needle, narrowed, &matches, page.limit, after).await?
            }
            None => scan(&state, status, in_category.is_some(), &matches, page.limit, after).await?,
        };
        (found, state.cursors.encode_opt(&context, next.as_ref()).await?)
    };
    let skus: Vec<_> = found.iter().flat_map(Product::skus).collect();
    let stock = if skus.is_empty() { Vec::new() } else { state.repo.stock_levels(&skus).await? };
    let items = found.into_iter().map(|p| ProductHttpResponse::new(&state, p, &stock)).collect();
    Ok(Json(Page { items, next_cursor }).into_response())
}

/// The newest products of `status` in any of `categories` (a category and its descendants),
/// older than `before`: one query of each category's index partition (concurrently), their
/// entries merged newest first, then one read of the products. Each partition reads `limit + 1`
/// entries, so the page is full whenever more products follow, however large the catalog or
/// rare the category. Returns the page and the id it ends at when more follow.
async fn in_categories(
    state: &CatalogState,
    status: ProductStatus,
    categories: &BTreeSet<Slug>,
    limit: usize,
    before: Option<ProductId>,
) -> Result<(Vec<Product>, Option<ProductId>)> {
    let fetch = u32::try_from(limit + 1).unwrap_or(u32::MAX);
    let pages = futures_util::future::try_join_all(
        categories.iter().map(|c| state.repo.category_entries(status, c, fetch, before.as_ref())),
    )
    .await?;
    let (ids, more) = merge_newest_first(pages, limit);
    let products = state.repo.products(&ids.iter().collect::<Vec<_>>()).await?;
    // The index is read eventually consistent: the product itself decides.
    let found = ids
        .iter()
        .filter_map(|id| products.iter().find(|p| &p.id == id))
        .filter(|p| p.status == status && p.categories.iter().any(|c| categories.contains(c)))
        .cloned()
        .collect();
    let last = if more { ids.last().cloned() } else { None };
    Ok((found, last))
}

/// The first `limit` ids, newest first and each once, of several partitions' pages (each newest
/// first, with whether more follow it), and whether more follow those. An id is only taken once
/// every partition with more to read has been read past it, so none is skipped.
fn merge_newest_first(pages: Vec<(Vec<ProductId>, bool)>, limit: usize) -> (Vec<ProductId>, bool) {
    // The oldest id that every partition has been read down to: the newest of the last ids
    // of the partitions with more.
    let horizon = pages.iter().filter(|(_, more)| *more).filter_map(|(ids, _)| ids.last()).max().cloned();
    let any_more = pages.iter().any(|(_, more)| *more);
    let mut ids: Vec<ProductId> = pages.into_iter().flat_map(|(ids, _)| ids).collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    ids.retain(|id| horizon.as_ref().is_none_or(|h| id >= h));
    let more = any_more || ids.len() > limit;
    ids.truncate(limit);
    (ids, more)
}

/// The newest products of `status` that `matches`, read through the status listing: at most
/// [`MAX_FILTER_ROUNDS`] index pages when `filtered` (by category), then what was found with a
/// cursor.
async fn scan(
    state: &CatalogState,
    status: ProductStatus,
    filtered: bool,
    matches: &impl Fn(&Product) -> bool,
    limit: usize,
    mut after: Option<PageKey>,
) -> Result<(Vec<Product>, Option<PageKey>)> {
    let mut found = Vec::new();
    let mut next = None;
    for round in 1..=MAX_FILTER_ROUNDS {
        let fetch = if filtered { FILTER_PAGE } else { u32::try_from(limit).unwrap_or(FILTER_PAGE) };
        let batch = state.repo.products_by_status(status, fetch, after.take()).await?;
        let count = batch.products.len();
        for (i, product) in batch.products.into_iter().enumerate() {
            if !matches(&product) {
                continue;
            }
            let last_of_all = i + 1 == count && batch.next.is_none();
            if found.len() + 1 == limit && !last_of_all {
                next = Some(CatalogRepository::page_key_after(&product)?);
            }
            found.push(product);
            if found.len() == limit {
                break;
            }
        }
        if found.len() == limit || batch.next.is_none() {
            break;
        }
        after = batch.next;
        if round == MAX_FILTER_ROUNDS {
            next = after.take();
        }
    }
    Ok((found, next))
}

/// The products of `status` with a search word starting with `needle` (the query's longest
/// word) that `matches` the whole query, through the word index: by matching word, then newest
/// first. Each product shows once, at the first of its words the needle starts, so a product
/// with `linen` and `linens` is one hit for `lin`.
///
/// A query of one word and no category reads `limit + 1` index items, so its page is full (and
/// its cursor says whether more follow) in one round: one query, one batch read of the products,
/// however large the catalog. More words or a category narrow the needle's hits; those read up
/// to [`MAX_FILTER_ROUNDS`] pages of [`FILTER_PAGE`] hits, then answer what they found with a
/// cursor.
async fn search(
    state: &CatalogState,
    status: ProductStatus,
    needle: &str,
    narrowed: bool,
    matches: &impl Fn(&Product) -> bool,
    limit: usize,
    mut after: Option<PageKey>,
) -> Result<(Vec<Product>, Option<PageKey>)> {
    let mut found: Vec<Product> = Vec::new();
    let mut next = None;
    for round in 1..=MAX_FILTER_ROUNDS {
        let wanted = limit - found.len() + 1;
        let fetch = if narrowed { FILTER_PAGE } else { u32::try_from(wanted).unwrap_or(FILTER_PAGE) };
        let batch = state.repo.search(status, needle, fetch, after.take()).await?;
        let ids: Vec<&ProductId> = batch.hits.iter().map(|h| &h.product_id).collect();
        let products = state.repo.products(&ids).await?;
        let count = batch.hits.len();
        for (i, hit) in batch.hits.iter().enumerate() {
            // The index is read eventually consistent: the product itself decides.
            let Some(product) = products.iter().find(|p| p.id == hit.product_id) else { continue };
            let first_match = product.search_words().into_iter().filter(|w| w.starts_with(needle)).min();
            if product.status != status || first_match.as_ref() != Some(&hit.word) || !matches(product) {
                continue;
            }
            found.push(product.clone());
            if found.len() == limit {
                if i + 1 < count || batch.next.is_some() {
                    next = Some(hit.resume.clone());
                }
                break;
            }
        }
        if found.len() == limit || batch.next.is_none() {
            break;
        }
        after = batch.next;
        if round == MAX_FILTER_ROUNDS {
            next = after.take();
        }
    }
    Ok((found, next))
}

/// Every category at or below `root`.
fn descendants(categories: &[Category], root: &Slug) -> BTreeSet<Slug> {
    let mut set = BTreeSet::from([root.clone()]);
    // Each pass adds the children of what is in the set; the tree has no cycles, so this ends.
    loop {
        let before = set.len();
        for c in categories {
            if c.parent.as_ref().is_some_and(|p| set.contains(p)) {
                set.insert(c.slug.clone());
            }
        }
        if set.len() == before {
            return set;
        }
    }
}

/// `GET /products/{id_or_slug}`: drafts and archived products only for admins. By id, the product
/// and then its stock; by slug, the claim and then the product with its stock in one batch.
pub async fn get(
    State(state): State<CatalogState>,
    caller: Caller,
    Path(id_or_slug): Path<String>,
) -> Result<Response> {
    let visible = |p: &Product| p.is_purchasable() || caller.is_admin();
    if let Ok(id) = id_or_slug.parse::<ProductId>() {
        let product = state.repo.product(&id).await?.filter(visible).ok_or_else(|| ApiError::not_found("product"))?;
        return respond(&state, StatusCode::OK, product).await;
    }
    let found = match id_or_slug.parse::<Slug>() {
        Ok(slug) => state.repo.product_by_slug(&slug).await?,
        Err(_) => None,
    };
    let (product, stock) = found.filter(|(p, _)| visible(p)).ok_or_else(|| ApiError::not_found("product"))?;
    Ok(respond_with_stock(&state, StatusCode::OK, product, &stock))
}

/// `POST /products`.
pub async fn create(
    State(state): State<CatalogState>,
    _admin: Admin,
    Json(body): Json<ProductHttpBody>,
) -> Result<Response> {
    if body.images.as_ref().is_some_and(|i| !i.is_empty()) {
        return Err(ApiError::validation(ValidationErrors::single(
            "images",
            "add images with POST /products/{id}/images",
        )));
    }
    let product = Product::create(ProductId::generate(), body.into_unchecked(), Utc::now())?;
    state.repo.create_product(&product).await?;
    respond(&state, StatusCode::CREATED, product).await
}

fn parse_id(id: &str) -> Result<ProductId> {
    id.parse().map_err(|_| ApiError::not_found("product"))
}

async fn load(state: &CatalogState, id: &ProductId) -> Result<StoredProduct> {
    state.repo.stored_product(id).await?.ok_or_else(|| ApiError::not_found("product"))
}

/// `PATCH /products/{id}`: a JSON merge patch (RFC 7396) of the editable fields. Without
/// `If-Match`, a patch that loses a race is re-applied to the newer version.
pub async fn patch(
    State(state): State<CatalogState>,
    _admin: Admin,
    Path(id): Path<String>,
    if_match: IfMatch,
    patch: MergePatch,
) -> Result<Response> {
    let id = parse_id(&id)?;
    for attempt in 1..=WRITE_ATTEMPTS {
        let stored = load(&state, &id).await?;
        let current = &stored.product;
        if_match.check(current.version)?;
        let body = patch.apply(&ProductHttpBody::of(current), "product")?;
        let images = body.images.clone();
        let mut revised = current.revise(body.into_unchecked(), Utc::now())?;
        if let Some(images) = images {
            revised.images = reorder_images(&current.images, images)?;
        }
        match state.repo.replace_product(&stored, &revised).await {
            Ok(()) => return respond(&state, StatusCode::OK, revised).await,
            Err(CatalogError::VersionConflict) if if_match.0.is_none() && attempt < WRITE_ATTEMPTS => {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(CatalogError::VersionConflict.into())
}

/// The product's images as the patch lists them: a subset of the existing ones, in a new order,
/// with new alt texts. New images come only through uploads.
fn reorder_images(existing: &[Image], wanted: Vec<ImageRefHttpBody>) -> Result<Vec<Image>> {
    let mut errors = ValidationErrors::default();
    let mut out: Vec<Image> = Vec::with_capacity(wanted.len());
    for (i, w) in wanted.into_iter().enumerate() {
        match existing.iter().find(|e| e.id.as_str() == w.id) {
            Some(_) if out.iter().any(|o| o.id.as_str() == w.id) => {
                errors.add(format!("images[{i}].id"), "listed twice")
            }
            Some(e) => {
                if w.alt.as_ref().is_some_and(|a| a.chars().count() > 300) {
                    errors.add(format!("images[{i}].alt"), "must be at most 300 characters");
                }
                out.push(Image { alt: w.alt, ..e.clone() });
            }
            None => errors.add(format!("images[{i}].id"), "not an image of this product"),
        }
    }
    errors.into_result(out).map_err(ApiError::validation)
}

/// `DELETE /products/{id}`: archives; archived products are not purchasable. Idempotent.
pub async fn archive(
    State(state): State<CatalogState>,
    _admin: Admin,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> Result<Response> {
    let id = parse_id(&id)?;
    for attempt in 1..=WRITE_ATTEMPTS {
        let stored = load(&state, &id).await?;
        let current = &stored.product;
        if_match.check(current.version)?;
        if current.status == ProductStatus::Archived {
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        let archived = Product {
            status: ProductStatus::Archived,
            version: current.version + 1,
            updated_at: Utc::now(),
            ..current.clone()
        };
        match state.repo.replace_product(&stored, &archived).await {
            Ok(()) => return Ok((StatusCode::NO_CONTENT, [etag(archived.version)]).into_response()),
            Err(CatalogError::VersionConflict) if if_match.0.is_none() && attempt < WRITE_ATTEMPTS => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(CatalogError::VersionConflict.into())
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageUploadHttpRequest {
    #[schemars(extend("enum" = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"]))]
    pub content_type: String,
    #[schemars(range(min = 1, max = 10_485_760))]
    pub content_length: u64,
    #[serde(default)]
    #[schemars(length(max = 300))]
    pub alt: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct UploadHttpResponse {
    pub url: String,
    pub method: &'static str,
    pub headers: BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ImageUploadHttpResponse {
    pub upload: UploadHttpResponse,
    pub image: ImageHttpResponse,
}

/// `POST /products/{id}/images`: reserves an image slot and returns a presigned upload.
pub async fn add_image(
    State(state): State<CatalogState>,
    _admin: Admin,
    Path(id): Path<String>,
    Json(body): Json<ImageUploadHttpRequest>,
) -> Result<Response> {
    let mut errors = ValidationErrors::default();
    let extension = ALLOWED_CONTENT_TYPES.iter().find(|(t, _)| *t == body.content_type).map(|(_, e)| *e);
    if extension.is_none() {
        let allowed: Vec<&str> = ALLOWED_CONTENT_TYPES.iter().map(|(t, _)| *t).collect();
        errors.add("content_type", format!("must be one of {}", allowed.join(", ")));
    }
    if body.content_length == 0 || body.content_length > MAX_IMAGE_BYTES {
        errors.add("content_length", format!("must be 1 to {MAX_IMAGE_BYTES} bytes (10 MiB)"));
    }
    if body.alt.as_ref().is_some_and(|a| a.chars().count() > 300) {
        errors.add("alt", "must be at most 300 characters");
    }
    let extension = errors.into_result(extension.unwrap_or_default())?;
    let id = parse_id(&id)?;
    for attempt in 1..=WRITE_ATTEMPTS {
        let stored = load(&state, &id).await?;
        let current = &stored.product;
        if current.images.len() >= MAX_IMAGES {
            return Err(ApiError::conflict("too_many_images", format!("a product has at most {MAX_IMAGES} images")));
        }
        let image_id = ImageId::generate();
        let key = format!("products/{id}/{image_id}.{extension}");
        let upload = state
            .images
            .presign_upload(&key, &body.content_type, body.content_length, UPLOAD_URL_LIFETIME)
            .await
            .map_err(ApiError::internal)?;
        let image = Image { id: image_id, key, alt: body.alt.clone() };
        let mut updated = Product { version: current.version + 1, updated_at: Utc::now(), ..current.clone() };
        updated.images.push(image.clone());
        match state.repo.replace_product(&stored, &updated).await {
            Ok(()) => {
                let response = ImageUploadHttpResponse {
                    upload: UploadHttpResponse {
                        url: upload.url,
                        method: upload.method,
                        headers: upload.headers.into_iter().collect(),
                        expires_at: upload.expires_at,
                    },
                    image: ImageHttpResponse {
                        url: state.images.public_url(&image.key),
                        id: image.id.to_string(),
                        alt: image.alt,
                    },
                };
                return Ok((StatusCode::CREATED, [etag(updated.version)], Json(response)).into_response());
            }
            Err(CatalogError::VersionConflict) if attempt < WRITE_ATTEMPTS => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(CatalogError::VersionConflict.into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use nanoshop_domain::ids::ProductId;

    use super::merge_newest_first;

    /// Ids `0..n` as time-sortable product ids (a larger number is newer).
    fn ids(n: usize) -> Vec<ProductId> {
        (0..n).map(|_| ProductId::generate()).collect()
    }

    #[test]
    fn merged_pages_take_no_id_below_a_partition_that_has_more() {
        let all = ids(10);
        let newest_first = |picks: &[usize]| picks.iter().rev().map(|&i| all[i].clone()).collect::<Vec<_>>();
        // Partition A was read down to 6 and has more; B holds 5, 3 and 1 and is done. Below 6,
        // only A's unread ids could come before B's 5, so the page stops at 6.
        let (page, more) =
            merge_newest_first(vec![(newest_first(&[6, 8, 9]), true), (newest_first(&[1, 3, 5]), false)], 5);
        assert_eq!(page, newest_first(&[6, 8, 9]));
        assert!(more);
        // Both done: everything, each once (8 is in both), and nothing more.
        let (page, more) =
            merge_newest_first(vec![(newest_first(&[2, 8]), false), (newest_first(&[1, 8, 9]), false)], 10);
        assert_eq!(page, newest_first(&[1, 2, 8, 9]));
        assert!(!more);
        // Done, but more than a page: the first `limit`, and more follow.
        let (page, more) = merge_newest_first(vec![(newest_first(&[1, 2, 3]), false), (newest_first(&[4]), false)], 2);
        assert_eq!(page, newest_first(&[3, 4]));
        assert!(more);
    }
}
