//! Writing checked entries into a store, idempotently: each product is compared with what the
//! store has under its slug and created, updated (conditional on its `ETag`) or left alone; each
//! SKU's stock likewise. Importing the same file twice writes nothing the second time.

use super::api::CatalogApi;
use super::model::CatalogEntry;
use super::progress::Progress;

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// SKUs whose stock on hand was set.
    pub stock_set: usize,
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

/// Imports `entries`, a few products at a time.
///
/// # Errors
/// The first product the store refused (such as a SKU that belongs to another product in the
/// store), naming its line. Products already written stay written; the file can be fixed and
/// imported again, which skips them.
pub async fn import(api: &CatalogApi, entries: Vec<CatalogEntry>, progress: &Progress) -> anyhow::Result<ImportReport> {
    let writes_before = api.writes();
    let results = super::concurrently(entries, |entry| {
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
    let mut report = ImportReport::default();
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
