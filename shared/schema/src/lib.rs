//! The table schemas: which items each table holds, their keys and their documents.
//!
//! Modules: [`catalog`], [`carts`], [`customers`] (profiles and address books, in the carts
//! table), [`orders`] (with the idempotency table's records).
//!
//! Functions never depend on each other's crates; they share the domain types and these
//! layouts. The catalog function writes the catalog table, and the cart and checkout functions
//! read products, variants, stock, settings and discounts from it through the keys and documents
//! defined here, so a change to a layout is a change to this crate, visible to every reader.
//!
//! Conventions (see `nanoshop_store::port`): `pk`/`sk` keys, `gsi1pk`/`gsi1sk` for the one index,
//! `version` for optimistic concurrency, `expires_at` for TTL, and the item's document as JSON in
//! the `doc` attribute.

pub mod carts;
pub mod catalog;
pub mod customers;
pub mod orders;

use nanoshop_store::Item;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The attribute that holds an item's JSON document.
pub const DOC: &str = "doc";

/// A stored document that could not be read back or written: a bug or a corrupt item, never bad
/// client input.
#[derive(Debug, thiserror::Error)]
#[error("corrupt item {key}: {reason}")]
pub struct CorruptItem {
    pub key: String,
    pub reason: String,
}

/// A read through the schema failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Store(#[from] nanoshop_store::StoreError),
    #[error(transparent)]
    Corrupt(#[from] CorruptItem),
}

/// The document as it is stored in [`DOC`].
///
/// # Errors
/// Serialising the document failed (it holds a map with non-string keys: a bug).
pub fn encode<T: Serialize>(value: &T) -> Result<String, CorruptItem> {
    serde_json::to_string(value).map_err(|e| CorruptItem { key: String::new(), reason: e.to_string() })
}

/// The document of `item`.
///
/// # Errors
/// The item has no document or a document of another shape.
pub fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, CorruptItem> {
    let key = || item.key().map(|k| k.to_string()).unwrap_or_default();
    let doc = item.s(DOC).ok_or_else(|| CorruptItem { key: key(), reason: "no doc attribute".into() })?;
    serde_json::from_str(doc).map_err(|e| CorruptItem { key: key(), reason: e.to_string() })
}
