//! Every row of a catalog file checked before anything is written: the columns, each cell, the
//! rows of one product against each other, SKUs across the whole file, each product against the
//! domain's own rules, exactly as the API will check it, and the category rows as a tree
//! ([`super::categories`]).

use std::collections::{BTreeMap, HashMap};

use nanoshop_domain::Currency;
use nanoshop_domain::catalog::{Product, ProductOption, ProductStatus, UncheckedProduct, UncheckedVariant};
use nanoshop_domain::ids::ProductId;

use super::categories::{self, CATEGORY_COLUMNS};
use super::cells;
use super::model::{Catalog, CatalogEntry, CategoryEntry, ProductDoc};
use super::table::{InvalidFile, RawRow, RawTable, TableError};

/// The columns besides prices, in the order an export writes them.
pub const COLUMNS: [&str; 12] = [
    "slug",
    "title",
    "description",
    "status",
    "categories",
    "tags",
    "options",
    "sku",
    "variant_title",
    "option_values",
    "weight_grams",
    "stock",
];
/// A price column is this prefix and a currency code, in either case: `price_eur`.
pub const PRICE_PREFIX: &str = "price_";
/// Columns every row fills: which product, which variant.
const REQUIRED: [&str; 2] = ["slug", "sku"];
/// Columns the first row of each product fills (its later rows may leave them empty).
const REQUIRED_FIRST: [&str; 1] = ["title"];
/// The columns that describe the product, not the variant: every row of a product repeats them
/// (or leaves them empty).
const PRODUCT_COLUMNS: [&str; 7] = ["slug", "title", "description", "status", "categories", "tags", "options"];

/// What each header position holds.
#[derive(Debug, Clone, Copy)]
enum Column {
    Field(&'static str),
    Price(Currency),
}

/// The file's categories and products, every row checked, or every problem found.
///
/// All or nothing: one bad row anywhere refuses the whole file, so a file is never half
/// imported and a fixed file can simply be imported again.
///
/// # Errors
/// [`InvalidFile`] with each problem and the line (or item) it is on.
pub fn catalog(table: &RawTable) -> Result<Catalog, InvalidFile> {
    let columns = columns(table).map_err(InvalidFile)?;
    // Checked here, not with the other columns: a file whose rows are all categories (an export
    // of a store with no products) needs no price.
    let has_variants = table.rows.iter().any(|raw| category_cells(raw, &columns).is_none());
    if has_variants && !columns.iter().any(|c| matches!(c, Column::Price(_))) {
        let reason = "no price column: add one per currency, such as `price_eur`".to_owned();
        return Err(InvalidFile(vec![TableError { unit: table.unit, line: table.header_line, reason }]));
    }
    let mut errors = Vec::new();
    let error = |line, reason: String| TableError { unit: table.unit, line, reason };
    let mut categories: Vec<CategoryEntry> = Vec::new();
    let mut products: Vec<(usize, Vec<Row<'_>>)> = Vec::new();
    let mut by_slug: HashMap<String, usize> = HashMap::new();
    let mut sku_lines: HashMap<String, usize> = HashMap::new();
    for raw in &table.rows {
        if let Some(cell) = category_cells(raw, &columns) {
            let filled: Vec<&str> = table
                .header
                .iter()
                .zip(&raw.cells)
                .filter(|(name, value)| {
                    !value.trim().is_empty() && !CATEGORY_COLUMNS.contains(&name.to_ascii_lowercase().as_str())
                })
                .map(|(name, _)| name.as_str())
                .collect();
            match categories::read_row(cell, &filled) {
                Ok(category) => categories.push(CategoryEntry { line: raw.line, category }),
                Err(reasons) => errors.extend(reasons.into_iter().map(|r| error(raw.line, r))),
            }
            continue;
        }
        match read_row(raw, &columns) {
            Err(reasons) => errors.extend(reasons.into_iter().map(|r| error(raw.line, r))),
            Ok(row) => {
                if let Some(first) = sku_lines.insert(row.field("sku").to_owned(), raw.line) {
                    errors.push(error(
                        raw.line,
                        format!("SKU `{}` is already on {} {first}", row.field("sku"), table.unit),
                    ));
                }
                let index = *by_slug.entry(row.field("slug").to_owned()).or_insert_with(|| {
                    products.push((raw.line, Vec::new()));
                    products.len() - 1
                });
                products[index].1.push(row);
            }
        }
    }
    let mut entries = Vec::new();
    for (line, rows) in products {
        match product(&rows, table.unit) {
            Ok(entry) => entries.push(CatalogEntry { line, ..entry }),
            Err(reasons) => errors.extend(reasons),
        }
    }
    errors.extend(categories::file_problems(&categories, table.unit));
    if errors.is_empty() {
        Ok(Catalog { unit: table.unit, categories, products: entries })
    } else {
        errors.sort_by_key(|e| e.line);
        Err(InvalidFile(errors))
    }
}

fn columns(table: &RawTable) -> Result<Vec<Column>, Vec<TableError>> {
    let mut errors = Vec::new();
    let mut at = |reason: String| errors.push(TableError { unit: table.unit, line: table.header_line, reason });
    let mut columns = Vec::new();
    for name in &table.header {
        let lower = name.to_ascii_lowercase();
        if let Some(known) = COLUMNS.iter().chain(&CATEGORY_COLUMNS).find(|c| **c == lower) {
            columns.push(Column::Field(known));
        } else if let Some(code) = lower.strip_prefix(PRICE_PREFIX) {
            match code.to_ascii_uppercase().parse::<Currency>() {
                Ok(currency) => columns.push(Column::Price(currency)),
                Err(e) => at(format!("column `{name}`: {e}")),
            }
        } else {
            at(format!(
                "unknown column `{name}`: the columns are {}, {} and price_<currency>",
                COLUMNS.join(", "),
                CATEGORY_COLUMNS.join(", ")
            ));
        }
    }
    let mut seen = Vec::new();
    for name in &table.header {
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            at(format!("column `{name}` appears twice"));
        }
        seen.push(lower);
    }
    // A file of categories alone (only category columns) needs none of the product columns.
    let only_categories = !seen.is_empty() && seen.iter().all(|s| CATEGORY_COLUMNS.contains(&s.as_str()));
    let has_categories = seen.iter().any(|s| CATEGORY_COLUMNS.contains(&s.as_str()));
    let mut required: Vec<&str> = Vec::new();
    if !only_categories {
        required.extend(REQUIRED.into_iter().chain(REQUIRED_FIRST));
    }
    if has_categories {
        required.extend(&CATEGORY_COLUMNS[..2]);
    }
    for required in required {
        if !seen.iter().any(|s| s == required) {
            at(format!("the column `{required}` is missing"));
        }
    }
    if errors.is_empty() { Ok(columns) } else { Err(errors) }
}

/// A category row's cells, by column name, or `None` for a variant's row. A row that is not a
/// well-formed row at all is left to [`read_row`] to report.
fn category_cells<'a>(raw: &'a RawRow, columns: &[Column]) -> Option<impl Fn(&str) -> &'a str + Copy> {
    if raw.bad_encoding || raw.cells.len() != columns.len() {
        return None;
    }
    let cell = move |name: &str| {
        columns
            .iter()
            .zip(&raw.cells)
            .find(|(column, _)| matches!(column, Column::Field(field) if *field == name))
            .map_or("", |(_, value)| value.as_str())
    };
    categories::is_category_row(cell).then_some(cell)
}

/// One row's cells by column, each checked on its own.
#[derive(Debug)]
struct Row<'a> {
    line: usize,
    fields: BTreeMap<&'static str, &'a str>,
    status: ProductStatus,
    prices: Vec<(i64, Currency)>,
    option_values: BTreeMap<String, String>,
    options: Vec<ProductOption>,
    weight_grams: Option<u32>,
    stock: Option<i64>,
}

impl Row<'_> {
    fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", |v| v.trim())
    }
}

fn read_row<'a>(raw: &'a RawRow, columns: &[Column]) -> Result<Row<'a>, Vec<String>> {
    if raw.bad_encoding {
        return Err(vec!["not UTF-8: save the file as UTF-8".to_owned()]);
    }
    if raw.cells.len() != columns.len() {
        return Err(vec![format!("{} field(s), but the header names {} column(s)", raw.cells.len(), columns.len())]);
    }
    let mut errors = Vec::new();
    let mut fields = BTreeMap::new();
    let mut prices = Vec::new();
    for (column, cell) in columns.iter().zip(&raw.cells) {
        match column {
            Column::Field(name) => {
                fields.insert(*name, cell.as_str());
            }
            Column::Price(_) if cell.trim().is_empty() => {}
            Column::Price(currency) => match cells::price(cell, *currency) {
                Ok(amount) => prices.push((amount, *currency)),
                Err(e) => errors.push(format!("{PRICE_PREFIX}{}: {e}", currency.code().to_ascii_lowercase())),
            },
        }
    }
    let cell = |name: &str| fields.get(name).map_or("", |v| v.trim());
    for required in REQUIRED {
        if cell(required).is_empty() {
            errors.push(format!("`{required}` is missing"));
        }
    }
    if prices.is_empty() && errors.iter().all(|e| !e.starts_with(PRICE_PREFIX)) {
        errors.push("no price: fill at least one price_<currency> column".to_owned());
    }
    let status = match cell("status") {
        "" => ProductStatus::default(),
        s => s.parse().unwrap_or_else(|()| {
            errors.push(format!("status `{s}` is not draft, active or archived"));
            ProductStatus::default()
        }),
    };
    let stock = match cell("stock") {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) if n < 0 => {
                errors.push(format!("stock `{s}` is negative: stock on hand is zero or more"));
                None
            }
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(format!("stock `{s}` is not a whole number"));
                None
            }
        },
    };
    let weight_grams = match cell("weight_grams") {
        "" => None,
        s => {
            s.parse::<u32>().map_err(|_| errors.push(format!("weight_grams `{s}` is not a whole number of grams"))).ok()
        }
    };
    let mut option_values = BTreeMap::new();
    for (name, values) in cells::entries(cell("option_values")).unwrap_or_else(|e| {
        errors.push(format!("option_values: {e}"));
        Vec::new()
    }) {
        match <[String; 1]>::try_from(values) {
            Ok([value]) => {
                option_values.insert(name, value);
            }
            Err(_) => errors.push(format!("option_values: `{name}` needs exactly one value (escape a `|` as `\\|`)")),
        }
    }
    let options = cells::entries(cell("options"))
        .map_err(|e| errors.push(format!("options: {e}")))
        .unwrap_or_default()
        .into_iter()
        .map(|(name, values)| ProductOption { name, values })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Row { line: raw.line, fields, status, prices, option_values, options, weight_grams, stock })
}

/// The rows of one product as that product, checked as the API will check it.
fn product(rows: &[Row<'_>], unit: &'static str) -> Result<CatalogEntry, Vec<TableError>> {
    let first = &rows[0];
    let mut errors = Vec::new();
    for required in REQUIRED_FIRST {
        if first.field(required).is_empty() {
            let reason = format!("`{required}` is missing (the first row of a product fills it)");
            errors.push(TableError { unit, line: first.line, reason });
        }
    }
    if !errors.is_empty() {
        // The domain would only say the same again, in its own words.
        return Err(errors);
    }
    for row in &rows[1..] {
        for column in PRODUCT_COLUMNS {
            if !row.field(column).is_empty() && row.field(column) != first.field(column) {
                errors.push(TableError {
                    unit,
                    line: row.line,
                    reason: format!("`{column}` differs from {unit} {} of the same product", first.line),
                });
            }
        }
    }
    let unchecked = UncheckedProduct {
        slug: first.field("slug").to_owned(),
        title: first.field("title").to_owned(),
        description: first.field("description").to_owned(),
        status: first.status,
        categories: cells::list(first.field("categories")),
        tags: cells::list(first.field("tags")),
        options: first.options.clone(),
        variants: rows
            .iter()
            .map(|row| UncheckedVariant {
                sku: row.field("sku").to_owned(),
                title: row.field("variant_title").to_owned(),
                options: row.option_values.clone(),
                prices: row.prices.iter().map(|(amount, currency)| (*amount, currency.code().to_owned())).collect(),
                weight_grams: row.weight_grams,
            })
            .collect(),
    };
    match Product::create(ProductId::generate(), unchecked, chrono::Utc::now()) {
        Ok(product) if errors.is_empty() => Ok(CatalogEntry {
            line: first.line,
            stock: product.variants.iter().zip(rows).map(|(v, row)| (v.sku.to_string(), row.stock)).collect(),
            product: ProductDoc::of(&product),
        }),
        Ok(_) => Err(errors),
        Err(invalid) => {
            for field_error in invalid.0 {
                errors.push(TableError {
                    unit,
                    line: line_of(&field_error.field, rows),
                    reason: describe(&field_error),
                });
            }
            Err(errors)
        }
    }
}

/// The line a domain field error is about: `variants[2].…` is the third row's.
fn line_of(field: &str, rows: &[Row<'_>]) -> usize {
    field
        .strip_prefix("variants[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| rows.get(i))
        .unwrap_or(&rows[0])
        .line
}

/// A domain field error in the file's words: `variants[0].sku` is the row's `sku` column.
fn describe(e: &nanoshop_domain::FieldError) -> String {
    let field = match e.field.split_once("].") {
        Some((_, inner)) if e.field.starts_with("variants[") => match inner {
            "title" => "variant_title".to_owned(),
            "options" => "option_values".to_owned(),
            other if other.starts_with("prices") => "prices".to_owned(),
            other => other.to_owned(),
        },
        _ => e.field.clone(),
    };
    format!("{field}: {}", e.message)
}
