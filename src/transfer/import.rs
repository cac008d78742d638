//! Writing a checked catalog into a store, idempotently: first the category tree (each category
//! missing or different is written, parents first), then each product, compared with what the
//! store has under its slug and created, updated (conditional on its `ETag`) or left alone; each
//! SKU's stock likewise. Importing the same file twice writes nothing the second time.

use super::api::CatalogApi;
use super::categories;
use super::model::{Catalog, CatalogEntry};
use super::progress::Progress;

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// SKUs whose stock on hand was set.
    pub stock_set: usize,
    pub categories_created: usize,
    pub categories_updated: usize,
    /// Categories of the file the store already held as they are.
    pub categories_unchanged: usize,
    /// Writes the store accepted during this import: zero when the store already held the file.
    pub writes: usize,
}

/// What happened to one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Imports `catalog`: its categories one at a time, parents first, then its products a few at a
/// time.
///
/// # Errors
/// An [`InvalidFile`](super::InvalidFile) cause, before anything is written, when a category's
/// parent is neither in the file nor in the store, or the file and the store together make a
/// cycle. Otherwise the first category or product the store refused (such as a SKU that belongs
/// to another product in the store), naming its line. What was written before stays written; the
/// file can be fixed and imported again, which skips it.
pub async fn import(api: &CatalogApi, catalog: Catalog, progress: &Progress) -> anyhow::Result<ImportReport> {
    let writes_before = api.writes();
    let mut report = ImportReport::default();
    let category_writes = categories::plan(&catalog, &api.categories().await?)?;
    report.categories_unchanged = catalog.categories.len() - category_writes.len();
    for write in category_writes {
        let line = catalog.categories.iter().find(|e| e.category.slug == write.category.slug).map_or(0, |e| e.line);
        api.put_category(&write.category, write.replaces)
            .await
            .map_err(|e| e.context(format!("{} {line}: category `{}`", catalog.unit, write.category.slug)))?;
        match write.replaces {
            None => report.categories_created += 1,
            Some(_) => report.categories_updated += 1,
        }
    }
    let results = super::concurrently(catalog.products, |entry| {
        let api = api.clone();
        async move {
            let outcome = import_one(&api, &entry)
                .await
                .map_err(|e| e.context(format!("line {}: product `{}`", entry.line, entry.product.slug)));
            progress.advance();
            outcome
        }
    })
    .await;
    for result in results {
        let (outcome, stock_set) = result?;
        match outcome {
            Outcome::Created => report.created += 1,
            Outcome::Updated => report.updated += 1,
            Outcome::Unchanged => report.unchanged += 1,
        }
        report.stock_set += stock_set;
    }
    report.writes = api.writes() - writes_before;
    Ok(report)
}

async fn import_one(api: &CatalogApi, entry: &CatalogEntry) -> anyhow::Result<(Outcome, usize)> {
    let outcome = match api.product(&entry.product.slug).await? {
        None => {
            api.create_product(&entry.product).await?;
            Outcome::Created
        }
        Some(current) if current.doc.same_as(&entry.product) => Outcome::Unchanged,
        Some(current) => {
            api.update_product(&current, &entry.product).await?;
            Outcome::Updated
        }
    };
    let mut stock_set = 0;
    for (sku, wanted) in &entry.stock {
        let Some(wanted) = *wanted else { continue };
        let (on_hand, etag) = api.stock(sku).await?;
        if on_hand != wanted {
            api.set_stock(sku, &etag, wanted).await?;
            stock_set += 1;
        }
    }
    Ok((outcome, stock_set))
}
