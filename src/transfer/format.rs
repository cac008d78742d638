//! The two file formats, CSV and JSON, with the same columns: reading a file into a
//! [`RawTable`], and writing entries out as rows, one per variant.

use nanoshop_domain::Currency;
use serde_json::{Map, Value};

use super::categories::CATEGORY_COLUMNS;
use super::cells;
use super::csv;
use super::model::Catalog;
use super::table::{RawRow, RawTable, TableError};
use super::validate::{COLUMNS, PRICE_PREFIX};

/// A catalog file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    /// The format a file name's extension names: `.json` is JSON, anything else CSV.
    pub fn of_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Csv,
        }
    }

    /// Reads a file's bytes.
    ///
    /// # Errors
    /// A file that is not a table at all (no header, an unclosed quote, JSON that is not an
    /// array of objects); problems within rows are the validator's.
    pub fn read(self, bytes: &[u8]) -> Result<RawTable, TableError> {
        match self {
            Format::Csv => csv::read(bytes),
            Format::Json => read_json(bytes),
        }
    }

    /// The catalog as a file: a row per category, parents first, then a row per variant; price
    /// columns for the currencies used, in code order.
    pub fn write(self, catalog: &Catalog) -> String {
        let (header, rows) = table(catalog);
        match self {
            Format::Csv => {
                let mut out = String::new();
                csv::write_record(&mut out, &header);
                for row in &rows {
                    csv::write_record(&mut out, row);
                }
                out
            }
            Format::Json => {
                let items: Vec<Value> = rows
                    .into_iter()
                    .map(|row| {
                        let object: Map<String, Value> = header
                            .iter()
                            .zip(row)
                            .filter(|(_, cell)| !cell.is_empty())
                            .map(|(name, cell)| {
                                let value = match (name.as_str(), cell.parse::<i64>()) {
                                    ("stock" | "weight_grams", Ok(n)) => Value::from(n),
                                    _ => Value::String(cell),
                                };
                                (name.clone(), value)
                            })
                            .collect();
                        Value::Object(object)
                    })
                    .collect();
                let mut text = serde_json::to_string_pretty(&items).unwrap_or_default();
                text.push('\n');
                text
            }
        }
    }
}

fn table(catalog: &Catalog) -> (Vec<String>, Vec<Vec<String>>) {
    let entries = &catalog.products;
    let mut currencies: Vec<Currency> = entries
        .iter()
        .flat_map(|e| e.product.variants.iter().flat_map(|v| v.prices.iter()))
        .filter_map(|p| p.currency.parse().ok())
        .collect();
    currencies.sort_by(|a, b| a.code().cmp(b.code()));
    currencies.dedup();
    let mut header: Vec<String> = COLUMNS.iter().chain(&CATEGORY_COLUMNS).map(|c| (*c).to_owned()).collect();
    header.extend(currencies.iter().map(|c| format!("{PRICE_PREFIX}{}", c.code().to_ascii_lowercase())));
    let mut rows = Vec::new();
    for entry in &catalog.categories {
        let c = &entry.category;
        let mut row = vec![String::new(); COLUMNS.len()];
        row.extend([c.slug.clone(), c.name.clone(), c.parent.clone().unwrap_or_default()]);
        row.extend(currencies.iter().map(|_| String::new()));
        rows.push(row);
    }
    for entry in entries {
        let p = &entry.product;
        let options = cells::write_entries(p.options.iter().map(|o| (&o.name, o.values.clone())));
        for (variant, (_, stock)) in p.variants.iter().zip(&entry.stock) {
            let mut row = vec![
                p.slug.clone(),
                p.title.clone(),
                p.description.clone(),
                p.status.as_str().to_owned(),
                cells::write_list(&p.categories),
                cells::write_list(&p.tags),
                options.clone(),
                variant.sku.clone(),
                variant.title.clone(),
                cells::write_entries(variant.options.iter().map(|(name, value)| (name, vec![value.clone()]))),
                variant.weight_grams.map(|w| w.to_string()).unwrap_or_default(),
                stock.map(|s| s.to_string()).unwrap_or_default(),
            ];
            row.extend(CATEGORY_COLUMNS.iter().map(|_| String::new()));
            row.extend(currencies.iter().map(|c| {
                variant
                    .prices
                    .iter()
                    .find(|m| m.currency == c.code())
                    .map(|m| cells::write_price(m.amount, *c))
                    .unwrap_or_default()
            }));
            rows.push(row);
        }
    }
    (header, rows)
}

/// A JSON array of objects, one per variant, keyed by column. Values are strings, or whole
/// numbers (stock, weights, and prices in currencies without decimals); a fractional JSON
/// number is refused rather than read through a float.
fn read_json(bytes: &[u8]) -> Result<RawTable, TableError> {
    let error = |line, reason: String| TableError { unit: "item", line, reason };
    let text = std::str::from_utf8(bytes).map_err(|_| error(0, "the file is not UTF-8".to_owned()))?;
    let items: Vec<Value> = serde_json::from_str(text)
        .map_err(|e| error(0, format!("not a JSON array of rows ({e}, at line {})", e.line())))?;
    let mut header: Vec<String> = Vec::new();
    for item in &items {
        for key in item.as_object().into_iter().flat_map(Map::keys) {
            if !header.contains(key) {
                header.push(key.clone());
            }
        }
    }
    let rows = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let line = i + 1;
            let object = item.as_object().ok_or_else(|| error(line, "not a JSON object".to_owned()))?;
            let cells = header
                .iter()
                .map(|key| match object.get(key) {
                    None | Some(Value::Null) => Ok(String::new()),
                    Some(Value::String(s)) => Ok(s.clone()),
                    Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
                    Some(other) => {
                        Err(error(line, format!("`{key}` is {other}: write it as a string, as in \"49.90\"")))
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(RawRow { line, cells, bad_encoding: false })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RawTable { unit: "item", header_line: 0, header, rows })
}
