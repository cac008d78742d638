//! `/categories`: the category tree, and creating or updating one category.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nanoshop_api::{Admin, ApiError, IfMatch, Json, Result, etag};
use nanoshop_domain::ValidationErrors;
use nanoshop_domain::catalog::{Category, Slug};
use serde::{Deserialize, Serialize};

use crate::CatalogState;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryHttpBody {
    pub name: String,
    #[serde(default)]
    #[schemars(extend("pattern" = "^[a-z0-9]+(-[a-z0-9]+)*$"), length(max = 96))]
    pub parent: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CategoryHttpResponse {
    pub slug: String,
    pub name: String,
    pub parent: Option<String>,
    pub version: u64,
    pub children: Vec<CategoryHttpResponse>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CategoryTreeHttpResponse {
    pub items: Vec<CategoryHttpResponse>,
}

fn subtree(all: &[Category], parent: Option<&Slug>) -> Vec<CategoryHttpResponse> {
    all.iter()
        .filter(|c| c.parent.as_ref() == parent)
        .map(|c| CategoryHttpResponse {
            slug: c.slug.to_string(),
            name: c.name.clone(),
            parent: c.parent.as_ref().map(ToString::to_string),
            version: c.version,
            children: subtree(all, Some(&c.slug)),
        })
        .collect()
}

/// `GET /categories`: roots first, each with its children, sorted by slug.
pub async fn tree(State(state): State<crate::CatalogState>) -> Result<Response> {
    let all = state.repo.categories().await?;
    Ok(Json(CategoryTreeHttpResponse { items: subtree(&all, None) }).into_response())
}

/// `PUT /categories/{slug}`: creates (201) or updates (200) a category.
pub async fn put(
    State(state): State<CatalogState>,
    _admin: Admin,
    Path(slug): Path<String>,
    if_match: IfMatch,
    Json(body): Json<CategoryHttpBody>,
) -> Result<Response> {
    let mut errors = ValidationErrors::default();
    let slug = slug.parse::<Slug>().map_err(|e| errors.add("slug", e.to_string())).ok();
    let parent =
        body.parent.as_deref().and_then(|p| p.parse::<Slug>().map_err(|e| errors.add("parent", e.to_string())).ok());
    let slug = errors.into_result(slug)?.ok_or_else(|| ApiError::not_found("category"))?;

    let all = state.repo.categories().await?;
    let previous = all.iter().find(|c| c.slug == slug);
    if let Some(previous) = previous {
        if_match.check(previous.version)?;
    } else if if_match.0.is_some() {
        return Err(ApiError::precondition_failed());
    }
    let version = previous.map_or(1, |p| p.version + 1);
    let category = Category::new(slug, &body.name, parent, &all, version)?;
    let ancestors = ancestors(&all, &category);
    state.repo.put_category(&category, previous, &ancestors).await?;
    let status = if previous.is_some() { StatusCode::OK } else { StatusCode::CREATED };
    let response = CategoryHttpResponse {
        slug: category.slug.to_string(),
        name: category.name.clone(),
        parent: category.parent.as_ref().map(ToString::to_string),
        version: category.version,
        children: subtree(&all, Some(&category.slug)),
    };
    Ok((status, [etag(category.version)], Json(response)).into_response())
}

/// The chain of parents above `category`, nearest first.
fn ancestors<'a>(all: &'a [Category], category: &Category) -> Vec<&'a Category> {
    let mut chain = Vec::new();
    let mut at = category.parent.as_ref();
    while let Some(slug) = at {
        let Some(parent) = all.iter().find(|c| &c.slug == slug) else {
            break;
        };
        if chain.len() > all.len() {
            break;
        }
        chain.push(parent);
        at = parent.parent.as_ref();
    }
    chain
}
