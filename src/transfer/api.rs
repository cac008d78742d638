//! The catalog calls import and export make, on any [`ApiClient`]: throttled answers retried,
//! refusals turned into errors that quote the API's problem, writes counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use nanoshop_retry::Backoff;
use serde_json::{Value, json};

use super::categories::StoredCategory;
use super::client::{ApiClient, ApiReply, ApiRequest};
use super::model::{CategoryDoc, ProductDoc};

/// How throttled calls (429, 503) are retried: at most `attempts` tries, waiting what
/// `Retry-After` asks (up to the backoff's cap), or the backoff's pause when it asks nothing.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Calls in all, the first included.
    pub attempts: u32,
    /// The pause when the answer does not say (`Retry-After`); its cap bounds what it says too.
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts: 6, backoff: Backoff::doubling(Duration::from_millis(250), Duration::from_secs(30)) }
    }
}

impl RetryPolicy {
    /// The pause after call `attempt` (1: the first) was throttled: what the answer asks, else
    /// the backoff's, never longer than the backoff's cap.
    fn wait(&self, attempt: u32, reply: &ApiReply) -> Duration {
        let scheduled = self.backoff.nominal(attempt.saturating_sub(1));
        reply.retry_after.unwrap_or(scheduled).min(self.backoff.nominal(u32::MAX))
    }
}

/// A product as the store has it: its id (for `PATCH`), `ETag` and editable fields.
#[derive(Debug, Clone)]
pub struct StoredProduct {
    pub id: String,
    pub etag: String,
    pub doc: ProductDoc,
}

/// The API the transfer uses, over one client.
#[derive(Debug, Clone)]
pub struct CatalogApi {
    client: Arc<dyn ApiClient>,
    retry: RetryPolicy,
    writes: Arc<AtomicUsize>,
}

impl CatalogApi {
    pub fn new(client: Arc<dyn ApiClient>, retry: RetryPolicy) -> Self {
        Self { client, retry, writes: Arc::default() }
    }

    /// How many writes (`POST`, `PATCH`, `PUT`) were accepted so far.
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::Relaxed)
    }

    /// Sends a request, retrying throttled answers; any other answer is returned as is.
    async fn send(
        &self,
        method: Method,
        path: &str,
        if_match: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<ApiReply> {
        let mut attempt = 1;
        loop {
            let request = ApiRequest { method: &method, path, if_match, body };
            let reply = self.client.send(request).await?;
            let throttled = matches!(reply.status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE);
            if !throttled || attempt >= self.retry.attempts {
                if reply.status.is_success() && method != Method::GET {
                    self.writes.fetch_add(1, Ordering::Relaxed);
                }
                return Ok(reply);
            }
            tokio::time::sleep(self.retry.wait(attempt, &reply)).await;
            attempt += 1;
        }
    }

    /// Like `send`, but anything but a 2xx is an error naming the call and the API's problem.
    async fn expect_success(
        &self,
        method: Method,
        path: &str,
        if_match: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<ApiReply> {
        let reply = self.send(method.clone(), path, if_match, body).await?;
        anyhow::ensure!(
            reply.status.is_success(),
            "{method} {path} answered {}: {}",
            reply.status,
            problem(&reply.body)
        );
        Ok(reply)
    }

    /// The product with `slug`, or `None`.
    ///
    /// # Errors
    /// The call failed, or its answer is not a product.
    pub async fn product(&self, slug: &str) -> anyhow::Result<Option<StoredProduct>> {
        let path = format!("/products/{slug}");
        let reply = self.send(Method::GET, &path, None, None).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        anyhow::ensure!(reply.status.is_success(), "GET {path} answered {}: {}", reply.status, problem(&reply.body));
        Ok(Some(stored(reply)?))
    }

    /// # Errors
    /// The API refused the product (such as 409 `sku_taken`: a SKU of another product).
    pub async fn create_product(&self, doc: &ProductDoc) -> anyhow::Result<StoredProduct> {
        stored(self.expect_success(Method::POST, "/products", None, Some(&serde_json::to_value(doc)?)).await?)
    }

    /// Replaces the editable fields of `current` with `doc`, if it is still at its `ETag`.
    ///
    /// # Errors
    /// The API refused, 412 if someone changed the product meanwhile.
    pub async fn update_product(&self, current: &StoredProduct, doc: &ProductDoc) -> anyhow::Result<StoredProduct> {
        let path = format!("/products/{}", current.id);
        let body = serde_json::to_value(doc)?;
        stored(self.expect_success(Method::PATCH, &path, Some(&current.etag), Some(&body)).await?)
    }

    /// The stock on hand of `sku` and its `ETag`.
    ///
    /// # Errors
    /// The call failed or the SKU has no stock record.
    pub async fn stock(&self, sku: &str) -> anyhow::Result<(i64, String)> {
        let reply = self.expect_success(Method::GET, &format!("/inventory/{sku}"), None, None).await?;
        let on_hand =
            reply.body["on_hand"].as_i64().ok_or_else(|| anyhow::anyhow!("GET /inventory/{sku}: no on_hand"))?;
        Ok((on_hand, reply.etag.unwrap_or_default()))
    }

    /// # Errors
    /// The API refused, 412 if the stock changed since `etag`.
    pub async fn set_stock(&self, sku: &str, etag: &str, on_hand: i64) -> anyhow::Result<()> {
        let path = format!("/inventory/{sku}");
        self.expect_success(Method::PUT, &path, Some(etag), Some(&json!({"on_hand": on_hand}))).await?;
        Ok(())
    }

    /// Every category of the store, flattened from the tree `GET /categories` answers.
    ///
    /// # Errors
    /// The call failed, or its answer is not a tree of categories.
    pub async fn categories(&self) -> anyhow::Result<Vec<StoredCategory>> {
        fn flatten(nodes: &Value, into: &mut Vec<StoredCategory>) -> anyhow::Result<()> {
            for node in nodes.as_array().into_iter().flatten() {
                let text = |field: &str| node[field].as_str().map(str::to_owned);
                let category = CategoryDoc {
                    slug: text("slug").ok_or_else(|| anyhow::anyhow!("GET /categories: a category without a slug"))?,
                    name: text("name").unwrap_or_default(),
                    parent: text("parent"),
                };
                into.push(StoredCategory { category, version: node["version"].as_u64().unwrap_or_default() });
                flatten(&node["children"], into)?;
            }
            Ok(())
        }
        let reply = self.expect_success(Method::GET, "/categories", None, None).await?;
        let mut all = Vec::new();
        flatten(&reply.body["items"], &mut all)?;
        Ok(all)
    }

    /// Creates `category`, or replaces the one at version `replaces`.
    ///
    /// # Errors
    /// The API refused: 412 if the category changed since `replaces` (or was created meanwhile),
    /// 422 for a parent that is gone.
    pub async fn put_category(&self, category: &CategoryDoc, replaces: Option<u64>) -> anyhow::Result<()> {
        let path = format!("/categories/{}", category.slug);
        let if_match = replaces.map(|version| format!("\"{version}\""));
        let body = json!({"name": category.name, "parent": category.parent});
        self.expect_success(Method::PUT, &path, if_match.as_deref(), Some(&body)).await?;
        Ok(())
    }

    /// One page of products with `status`: their editable fields, and the next page's cursor.
    ///
    /// # Errors
    /// The call failed.
    pub async fn products_page(
        &self,
        status: &str,
        cursor: Option<&str>,
    ) -> anyhow::Result<(Vec<ProductDoc>, Option<String>)> {
        let page = self.listing_page(status, cursor).await?;
        let items = serde_json::from_value(page["items"].clone())?;
        Ok((items, page["next_cursor"].as_str().map(str::to_owned)))
    }

    /// One page (up to 100) of `GET /products` with `status`, as the API answered it.
    async fn listing_page(&self, status: &str, cursor: Option<&str>) -> anyhow::Result<Value> {
        let mut path = format!("/products?status={status}&limit=100");
        if let Some(cursor) = cursor {
            path.push_str("&cursor=");
            path.push_str(&percent_encode(cursor));
        }
        Ok(self.expect_success(Method::GET, &path, None, None).await?.body)
    }

    /// Saves every product (of every status) again, unchanged (`PATCH` with `{}`), so a store
    /// that ran an older version puts each product's search words and categories into their
    /// indexes: `nanoshop reindex --api`. Safe to run again and while the shop serves (each save
    /// is conditional on the version the API read, and retried by it). Returns how many it saved.
    ///
    /// # Errors
    /// A call failed; the products saved before it stay saved.
    pub async fn resave_all(&self) -> anyhow::Result<usize> {
        let unchanged = Value::Object(serde_json::Map::new());
        let mut saved = 0;
        for status in ["draft", "active", "archived"] {
            let mut cursor: Option<String> = None;
            loop {
                let page = self.listing_page(status, cursor.as_deref()).await?;
                for id in page["items"].as_array().into_iter().flatten().filter_map(|p| p["id"].as_str()) {
                    self.expect_success(Method::PATCH, &format!("/products/{id}"), None, Some(&unchanged)).await?;
                    saved += 1;
                }
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => break,
                }
            }
        }
        Ok(saved)
    }
}

fn stored(reply: ApiReply) -> anyhow::Result<StoredProduct> {
    let id = reply.body["id"].as_str().unwrap_or_default().to_owned();
    let etag = reply.etag.clone().unwrap_or_default();
    Ok(StoredProduct { id, etag, doc: serde_json::from_value(reply.body)? })
}

/// A problem+json body in one line: its `detail` and field errors.
fn problem(body: &Value) -> String {
    let mut text = body["detail"].as_str().or(body["title"].as_str()).unwrap_or("no detail").to_owned();
    for e in body["errors"].as_array().into_iter().flatten() {
        text.push_str(&format!("; {}: {}", e["field"].as_str().unwrap_or("?"), e["message"].as_str().unwrap_or("?")));
    }
    text
}

/// A cursor made safe for a query string (cursors are base64url, but nothing promises it).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
