//! The catalog table.
//!
//! | item          | pk                  | sk          | attributes                                                  |
//! |---------------|---------------------|-------------|-------------------------------------------------------------|
//! | product       | `PRODUCT#{id}`      | `PRODUCT`   | `doc`: `Product`; `gsi1pk = PRODUCTS#{status}`, `gsi1sk = {id}` |
//! | search word   | `PRODUCT#{id}`      | `WORD#{word}` | `product_id`; `gsi1pk = SEARCH#{status}#{first char}`, `gsi1sk = {word}#{newest-first id}` |
//! | in category   | `PRODUCT#{id}`      | `CATEGORY#{slug}` | `product_id`; `gsi1pk = CATEGORY#{status}#{slug}`, `gsi1sk = {id}` |
//! | slug claim    | `SLUG#{slug}`       | `SLUG`      | `product_id`; `skus`: the product's SKUs, space-separated    |
//! | variant       | `SKU#{sku}`         | `SKU`       | `product_id`; `doc`: `VariantSnapshot`                      |
//! | stock         | `STOCK#{sku}`       | `STOCK`     | `on_hand`, `reserved`, `available`, `version`               |
//! | category      | `CATEGORIES`        | `{slug}`    | `doc`: `Category`                                           |
//! | settings      | `SETTINGS`          | `SETTINGS`  | `doc`: `StoreSettings`                                      |
//! | discount      | `DISCOUNT#{CODE}`   | `DISCOUNT`  | `doc`: `Discount`; `times_used`; `gsi1pk = DISCOUNTS`, `gsi1sk = {id}` |
//! | discount use  | `DISCOUNT#{CODE}`   | `USE#{sub}` | (written by checkout: the customer has used the code)       |
//! | discount id   | `DISCOUNTID#{id}`   | `DISCOUNTID`| `code`                                                      |
//!
//! The slug claim lists the product's SKUs (rewritten in each of the product's transactions), so a
//! read by slug is two round trips: the claim, then one batch of the product and its stock. A
//! claim written before it listed them, or read just before a change of the SKUs, costs the read
//! one batch more for the stock it did not name; the product item stays the authority.
//!
//! The variant item is both the SKU's uniqueness claim and a denormalised copy of what pricing
//! needs (product status, titles, prices), rewritten in the same transaction as its product, so a
//! cart is priced from one batch read of variants, stock, settings and discount.
//!
//! Search is a word-prefix index: one item per word of [`Product::search_words`] (at most
//! `MAX_SEARCH_WORDS`), in the product's own item collection and written in the product's own
//! transaction (added words put, removed ones deleted, all re-put when the status moves them to
//! another listing). In `gsi1` a word's items sit in the partition of its status and first
//! character, sorted by the word and then newest product first, so the products whose words start
//! with `lin` are one `begins_with` query of `SEARCH#active#l`, reading only the items that match
//! however large the catalog.
//!
//! [`Product::search_words`]: nanoshop_domain::catalog::Product::search_words
//!
//! A category listing has an index of the same kind: one item per category the product names
//! itself (at most `MAX_CATEGORIES_PER_PRODUCT`), in its item collection and its transaction, in
//! the `gsi1` partition of its status and that category, sorted by product id as the status
//! listing is. A category's listing with its descendants merges their partitions, newest first;
//! the tree is not copied into the index, so moving a category rewrites no product.
//!
//! Stock changes only by a [`StockMove`] (reserve, commit, release, restock): checkout, the
//! payments webhook and the orders function write a stock item through it and nothing else.

use nanoshop_domain::catalog::{ProductStatus, Sku, Slug};
use nanoshop_domain::ids::{DiscountId, ProductId};
use nanoshop_store::Key;

pub const PRODUCT_ID: &str = "product_id";
/// On a slug claim: the product's SKUs, separated by single spaces (no SKU holds one).
pub const SKUS: &str = "skus";
pub const ON_HAND: &str = "on_hand";
pub const RESERVED: &str = "reserved";
pub const AVAILABLE: &str = "available";
pub const CODE: &str = "code";
/// How often a discount was used in orders: a counter checkout increments on its own, outside the
/// document, so an admin's edit of the discount never overwrites it.
pub const TIMES_USED: &str = "times_used";
pub const CATEGORIES: &str = "CATEGORIES";
pub const DISCOUNTS: &str = "DISCOUNTS";

pub fn product_key(id: &ProductId) -> Key {
    Key::new(format!("PRODUCT#{id}"), "PRODUCT")
}

/// The index partition that lists products of one status, newest first.
pub fn products_by_status(status: ProductStatus) -> String {
    format!("PRODUCTS#{}", status.as_str())
}

/// The sort-key prefix of a product's search words in its item collection.
pub const SEARCH_WORD_PREFIX: &str = "WORD#";

/// The index item of `word` (one of the product's search words).
pub fn search_word_key(id: &ProductId, word: &str) -> Key {
    Key::new(format!("PRODUCT#{id}"), format!("{SEARCH_WORD_PREFIX}{word}"))
}

/// The index partition of the words of products of `status` that start like `word` (its first
/// character; `word` is not empty).
pub fn search_partition(status: ProductStatus, word: &str) -> String {
    let first = word.chars().next().map(String::from).unwrap_or_default();
    format!("SEARCH#{}#{first}", status.as_str())
}

/// The index sort key of `word` of product `id`: the word, then the id with its time-sortable
/// part inverted, so an ascending query reads a word's products newest first, and a prefix reads
/// shorter words (`linen`) before the longer ones they start (`linens`).
pub fn search_sort(word: &str, id: &ProductId) -> String {
    format!("{word}#{}", newest_first(id))
}

/// The ULID of `id` with every base-32 digit mirrored, so ids sort in reverse.
fn newest_first(id: &ProductId) -> String {
    const DIGITS: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let ulid = id.as_str().rsplit('_').next().unwrap_or_default();
    ulid.bytes()
        .map(|b| DIGITS.iter().position(|d| *d == b).map_or(char::from(b), |i| char::from(DIGITS[31 - i])))
        .collect()
}

/// The sort-key prefix of a product's category entries in its item collection.
pub const CATEGORY_ENTRY_PREFIX: &str = "CATEGORY#";

/// The index item that lists product `id` in category `slug` (one the product names itself).
pub fn category_entry_key(id: &ProductId, slug: &Slug) -> Key {
    Key::new(format!("PRODUCT#{id}"), format!("{CATEGORY_ENTRY_PREFIX}{slug}"))
}

/// The index partition of the products of `status` that name category `slug`, sorted by id as
/// the status listing is (a descending query reads them newest first).
pub fn category_partition(status: ProductStatus, slug: &Slug) -> String {
    format!("CATEGORY#{}#{slug}", status.as_str())
}

pub fn slug_key(slug: &Slug) -> Key {
    Key::new(format!("SLUG#{slug}"), "SLUG")
}

pub fn variant_key(sku: &Sku) -> Key {
    Key::new(format!("SKU#{sku}"), "SKU")
}

pub fn stock_key(sku: &Sku) -> Key {
    Key::new(format!("STOCK#{sku}"), "STOCK")
}

/// How units of a SKU move between the counters of its stock item (`on_hand`, `reserved`,
/// `available = on_hand - reserved`): every change of stock any function makes is one of these,
/// written as one update of the stock item inside the transaction that changes the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockMove {
    /// available → reserved: `available -= q`, `reserved += q`, only while `available >= q`, so
    /// concurrent checkouts never sell a unit twice (checkout).
    Reserve,
    /// reserved → sold: `on_hand -= q`, `reserved -= q` (the payment arrived).
    Commit,
    /// reserved → available: `available += q`, `reserved -= q` (an unpaid order closed, or
    /// checkout gave its reservation back).
    Release,
    /// sold → available: `on_hand += q`, `available += q` (a refund that restocks).
    Restock,
}

impl StockMove {
    /// The update of `sku`'s stock item that moves `quantity` units this way.
    pub fn update(self, sku: &Sku, quantity: u32) -> nanoshop_store::Update {
        let q = i64::from(quantity);
        let stock = nanoshop_store::Update::new(stock_key(sku));
        match self {
            Self::Reserve => {
                stock.add(AVAILABLE, -q).add(RESERVED, q).when(nanoshop_store::Condition::AtLeast(AVAILABLE.into(), q))
            }
            Self::Commit => stock.add(ON_HAND, -q).add(RESERVED, -q),
            Self::Release => stock.add(AVAILABLE, q).add(RESERVED, -q),
            Self::Restock => stock.add(ON_HAND, q).add(AVAILABLE, q),
        }
    }

    /// [`StockMove::update`] as a transaction's write.
    pub fn write(self, sku: &Sku, quantity: u32) -> nanoshop_store::Write {
        nanoshop_store::Write::Update { table: nanoshop_store::Table::Catalog, update: self.update(sku, quantity) }
    }

    /// One write per line of `order`, moving all its units.
    pub fn of_order(self, order: &nanoshop_domain::order::Order) -> Vec<nanoshop_store::Write> {
        order.lines.iter().map(|line| self.write(&line.sku, line.quantity)).collect()
    }

    /// One write per `(SKU, units)`.
    pub fn of_units(self, units: &[(Sku, u32)]) -> Vec<nanoshop_store::Write> {
        units.iter().map(|(sku, quantity)| self.write(sku, *quantity)).collect()
    }
}

/// The order state machine names the moves a payment makes; this is how each is written.
impl From<nanoshop_domain::order::StockMove> for StockMove {
    fn from(movement: nanoshop_domain::order::StockMove) -> Self {
        match movement {
            nanoshop_domain::order::StockMove::Commit => Self::Commit,
            nanoshop_domain::order::StockMove::Release => Self::Release,
        }
    }
}

pub fn category_key(slug: &Slug) -> Key {
    Key::new(CATEGORIES, slug.as_str())
}

pub fn settings_key() -> Key {
    Key::new("SETTINGS", "SETTINGS")
}

/// A discount by its (upper-case) code: what a cart looks up.
pub fn discount_key(code: &str) -> Key {
    Key::new(format!("DISCOUNT#{code}"), "DISCOUNT")
}

/// The record that `customer` has used the discount `code` in an order, for once-per-customer
/// codes; written by checkout.
pub fn discount_use_key(code: &str, customer: &str) -> Key {
    Key::new(format!("DISCOUNT#{code}"), format!("USE#{customer}"))
}

/// A discount's id, pointing at its code: what the admin API looks up.
pub fn discount_id_key(id: &DiscountId) -> Key {
    Key::new(format!("DISCOUNTID#{id}"), "DISCOUNTID")
}

/// A discount as stored: its document, with the use counter that lives beside it.
///
/// # Errors
/// The item is not a discount.
pub fn decode_discount(item: &nanoshop_store::Item) -> Result<nanoshop_domain::discount::Discount, crate::CorruptItem> {
    let mut discount: nanoshop_domain::discount::Discount = crate::decode(item)?;
    discount.times_used = item.n(TIMES_USED).and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    Ok(discount)
}

/// Settings, the variants and stock of `skus`, and the discount `code` (with whether `customer`
/// has used it): everything pricing needs, in one batch read of the catalog table.
///
/// # Errors
/// The store failed, or an item is corrupt.
pub async fn read_snapshot(
    store: &dyn nanoshop_store::Store,
    skus: &[&Sku],
    code: Option<&str>,
    customer: Option<&str>,
) -> Result<nanoshop_domain::quote::CatalogSnapshot, crate::ReadError> {
    use nanoshop_domain::catalog::StockLevel;
    use nanoshop_domain::quote::CatalogSnapshot;

    let skus: std::collections::BTreeSet<&Sku> = skus.iter().copied().collect();
    let mut keys = vec![settings_key()];
    for sku in &skus {
        keys.push(variant_key(sku));
        keys.push(stock_key(sku));
    }
    if let Some(code) = code {
        keys.push(discount_key(code));
        if let Some(customer) = customer {
            keys.push(discount_use_key(code, customer));
        }
    }
    let items = store.batch_get(nanoshop_store::Table::Catalog, &keys).await?;
    let find = |key: &Key| items.iter().find(|i| i.key().as_ref() == Some(key));
    let mut snapshot = CatalogSnapshot {
        settings: find(&settings_key()).map(crate::decode).transpose()?.unwrap_or_default(),
        ..CatalogSnapshot::default()
    };
    for sku in skus {
        if let Some(item) = find(&variant_key(sku)) {
            snapshot.variants.push((sku.clone(), crate::decode(item)?));
        }
        let level = find(&stock_key(sku)).map_or(StockLevel { on_hand: 0, reserved: 0 }, |i| StockLevel {
            on_hand: i.n(ON_HAND).unwrap_or(0),
            reserved: i.n(RESERVED).unwrap_or(0),
        });
        snapshot.stock.push((sku.clone(), level));
    }
    if let Some(code) = code {
        snapshot.discount = find(&discount_key(code)).map(decode_discount).transpose()?;
        snapshot.discount_used = customer.is_some_and(|c| find(&discount_use_key(code, c)).is_some());
    }
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use nanoshop_store::{Condition, Table, Update, Write};

    use super::*;

    fn sku() -> Sku {
        "LS-M".parse().expect("a SKU")
    }

    /// The update `movement` makes of 3 units of [`sku`]: its counters' deltas and its condition.
    fn check(movement: StockMove, add: &[(&str, i64)], condition: Option<Condition>) {
        let expected = Update {
            key: Key::new("STOCK#LS-M", "STOCK"),
            set: Vec::new(),
            add: add.iter().map(|(name, delta)| ((*name).to_owned(), *delta)).collect(),
            remove: Vec::new(),
            condition,
        };
        assert_eq!(movement.update(&sku(), 3), expected, "{movement:?}");
        assert_eq!(movement.write(&sku(), 3), Write::Update { table: Table::Catalog, update: expected });
    }

    #[test]
    fn a_reservation_takes_available_units_only_while_there_are_enough() {
        check(StockMove::Reserve, &[(AVAILABLE, -3), (RESERVED, 3)], Some(Condition::AtLeast(AVAILABLE.into(), 3)));
    }

    #[test]
    fn a_commit_turns_reserved_units_into_sold_ones() {
        check(StockMove::Commit, &[(ON_HAND, -3), (RESERVED, -3)], None);
    }

    #[test]
    fn a_release_gives_reserved_units_back_to_available() {
        check(StockMove::Release, &[(AVAILABLE, 3), (RESERVED, -3)], None);
    }

    #[test]
    fn a_restock_brings_sold_units_back_into_stock() {
        check(StockMove::Restock, &[(ON_HAND, 3), (AVAILABLE, 3)], None);
    }

    #[test]
    fn every_move_of_a_payment_is_written_as_the_move_of_the_same_name() {
        use nanoshop_domain::order::StockMove as Decided;
        assert_eq!(StockMove::from(Decided::Commit), StockMove::Commit);
        assert_eq!(StockMove::from(Decided::Release), StockMove::Release);
    }

    #[test]
    fn a_words_index_items_sort_newest_product_first_and_shorter_words_first() {
        let older: ProductId = "prod_01J00000000000000000000000".parse().expect("an id");
        let newer: ProductId = "prod_01J00000000000000000000001".parse().expect("an id");
        assert!(search_sort("linen", &newer) < search_sort("linen", &older));
        assert!(search_sort("linen", &older) < search_sort("linens", &newer));
        assert_eq!(search_partition(ProductStatus::Active, "linen"), "SEARCH#active#l");
        assert_eq!(search_partition(ProductStatus::Draft, "élan"), "SEARCH#draft#é");
    }

    #[test]
    fn units_move_one_write_per_sku() {
        let units = [(sku(), 2), ("LS-L".parse().expect("a SKU"), 5)];
        let writes = StockMove::Release.of_units(&units);
        assert_eq!(writes, vec![StockMove::Release.write(&units[0].0, 2), StockMove::Release.write(&units[1].0, 5)]);
        assert!(StockMove::Restock.of_units(&[]).is_empty());
    }
}
