//! Reading a store's whole catalog through the API: the category tree, parents first, every
//! product of every status, and the stock on hand of each SKU, sorted by slug so two exports of
//! one catalog are the same file.

use super::api::CatalogApi;
use super::categories;
use super::model::{Catalog, CatalogEntry, ProductDoc};
use super::progress::Progress;

/// The statuses an admin lists; together, every product.
const STATUSES: [&str; 3] = ["draft", "active", "archived"];

/// The store's category tree and every product with its stock, sorted by slug.
///
/// # Errors
/// A call failed.
pub async fn export(api: &CatalogApi, show_progress: impl Fn(usize) -> Progress) -> anyhow::Result<Catalog> {
    let categories = categories::in_tree_order(api.categories().await?);
    let mut products: Vec<ProductDoc> = Vec::new();
    for status in STATUSES {
        let mut cursor = None;
        loop {
            let (page, next) = api.products_page(status, cursor.as_deref()).await?;
            products.extend(page);
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    products.sort_by(|a, b| a.slug.cmp(&b.slug));
    let progress = show_progress(products.len());
    let results = super::concurrently(products, |product| {
        let api = api.clone();
        let progress = &progress;
        async move {
            let mut stock = Vec::with_capacity(product.variants.len());
            for variant in &product.variants {
                stock.push((variant.sku.clone(), Some(api.stock(&variant.sku).await?.0)));
            }
            progress.advance();
            anyhow::Ok(CatalogEntry { line: 0, product, stock })
        }
    })
    .await;
    let products = results.into_iter().collect::<anyhow::Result<_>>()?;
    Ok(Catalog { unit: "line", categories, products })
}
