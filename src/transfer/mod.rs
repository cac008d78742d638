//! Catalog import and export through the public API, against the local store or a deployed one.
//!
//! A file (CSV or JSON, one row per variant and per category, documented in
//! `docs/import-export.md`) is read into a [`table::RawTable`] ([`format`], [`csv`]), every row
//! is checked ([`validate`], with the cell rules in [`cells`] and the tree's in [`categories`])
//! before anything is written, and the categories and products are then written idempotently
//! ([`import`]) through a [`client::ApiClient`]: the in-process router for the local
//! store, HTTP for a deployed one, so both take the same path and the same validation as any
//! other API client. [`export`] reads the catalog back the same way and [`format`] writes it.
//! [`api`] holds the calls both make, with retries of throttled answers.

pub mod api;
pub mod categories;
pub mod cells;
pub mod client;
pub mod csv;
pub mod export;
pub mod format;
pub mod import;
pub mod model;
pub mod progress;
pub mod table;
pub mod validate;

#[cfg(test)]
mod tests;

use std::future::Future;

use futures_util::StreamExt;

pub use api::{CatalogApi, RetryPolicy};
pub use format::Format;
pub use import::ImportReport;
pub use model::{Catalog, CatalogEntry};
pub use table::InvalidFile;

/// Products written or read at the same time: enough to hide the round trips to a deployed API,
/// few enough to stay under its throttling.
pub const CONCURRENCY: usize = 8;

/// `work` on every item, at most [`CONCURRENCY`] at a time; the results in the items' order.
async fn concurrently<T, F, R>(items: Vec<T>, work: impl FnMut(T) -> F) -> Vec<R>
where
    F: Future<Output = R>,
{
    futures_util::stream::iter(items).map(work).buffered(CONCURRENCY).collect().await
}

/// The checked catalog of a file's bytes.
///
/// # Errors
/// [`InvalidFile`] with every problem and its line; nothing should be written then.
pub fn read(format: Format, bytes: &[u8]) -> Result<Catalog, InvalidFile> {
    let table = format.read(bytes).map_err(|e| InvalidFile(vec![e]))?;
    validate::catalog(&table)
}
