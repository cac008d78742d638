//! The file rules: the documented sample is accepted, and each kind of bad input is refused
//! with its line and reason, nothing of the file accepted.

use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::client::{ApiClient, ApiReply, ApiRequest};
use super::{CatalogApi, Format, InvalidFile, RetryPolicy, read};

const SAMPLE: &str = include_str!("../../docs/examples/catalog.csv");
const SAMPLE_WITH_CATEGORIES: &str = include_str!("../../docs/examples/catalog-with-categories.csv");
const HEADER: &str = "slug,title,status,options,sku,option_values,stock,price_eur,price_usd";

/// The problems `csv` has, as `line N: reason` texts.
fn problems(csv: &str) -> Vec<String> {
    problems_of(csv.as_bytes())
}

fn problems_of(bytes: &[u8]) -> Vec<String> {
    match read(Format::Csv, bytes) {
        Ok(catalog) => panic!("accepted {} products", catalog.products.len()),
        Err(InvalidFile(errors)) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// `csv` is refused with exactly one problem, on `line`, whose reason contains `fragment`.
fn refused(csv: &str, line: usize, fragment: &str) {
    let problems = problems(csv);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].starts_with(&format!("line {line}: ")) && problems[0].contains(fragment), "{problems:#?}");
}

#[test]
fn the_documented_sample_is_three_products_with_prices_in_minor_units_and_stock() {
    let entries = read(Format::Csv, SAMPLE.as_bytes()).expect("the sample is valid").products;
    let slugs: Vec<_> = entries.iter().map(|e| e.product.slug.as_str()).collect();
    assert_eq!(slugs, ["linen-shirt", "stoneware-mug", "gift-card-sample"]);
    let shirt = &entries[0];
    assert_eq!(shirt.product.variants.len(), 3);
    let large = &shirt.product.variants[2];
    let prices: Vec<_> = large.prices.iter().map(|p| (p.amount, p.currency.as_str())).collect();
    assert_eq!(prices, [(5250, "EUR"), (5795, "USD")]);
    assert_eq!(shirt.stock, [("LS-S".into(), Some(12)), ("LS-M".into(), Some(20)), ("LS-L".into(), Some(8))]);
    assert_eq!(entries[1].product.variants[1].prices.len(), 1, "an empty price cell is no price in that currency");
}

#[test]
fn a_header_with_an_unknown_or_missing_column_is_refused_on_line_1() {
    refused("slug,title,sku,colour,price_eur\na,A,A-1,red,1.00\n", 1, "unknown column `colour`");
    refused("slug,title,price_eur\na,A,1.00\n", 1, "the column `sku` is missing");
}

#[test]
fn a_row_with_more_or_fewer_fields_than_the_header_is_refused_with_its_line() {
    refused(
        &format!("{HEADER}\na,A,active,,A-1,,1,1.00,1.00\nb,B,active,,B-1,,1,1.00\n"),
        3,
        "8 field(s), but the header names 9",
    );
}

#[test]
fn a_row_that_is_not_utf8_is_refused_with_its_line() {
    let mut bytes = format!("{HEADER}\na,A,active,,A-1,,1,1.00,1.00\n").into_bytes();
    bytes.extend_from_slice(b"b,Caf\xe9,active,,B-1,,1,1.00,1.00\n");
    let problems = problems_of(&bytes);
    assert_eq!(problems, ["line 3: not UTF-8: save the file as UTF-8"]);
}

#[test]
fn a_price_with_a_comma_is_refused_with_its_line() {
    refused(&format!("{HEADER}\na,A,active,,A-1,,1,\"49,90\",1.00\n"), 2, "price_eur: `49,90` has a comma");
}

#[test]
fn a_negative_stock_is_refused_with_its_line() {
    refused(&format!("{HEADER}\na,A,active,,A-1,,-3,1.00,1.00\n"), 2, "stock `-3` is negative");
}

#[test]
fn an_unknown_currency_is_refused_on_the_header_line() {
    refused(
        "slug,title,sku,price_eur,price_xyz\na,A,A-1,1.00,2.00\n",
        1,
        "column `price_xyz`: `XYZ` is not a currency",
    );
}

#[test]
fn a_sku_on_two_products_is_refused_on_the_second_line() {
    refused(
        &format!(
            "{HEADER}\na,A,active,,A-1,,1,1.00,1.00\nb,B,active,,B-1,,1,1.00,1.00\nc,C,active,,A-1,,1,1.00,1.00\n"
        ),
        4,
        "SKU `A-1` is already on line 2",
    );
}

#[test]
fn missing_required_fields_are_each_named() {
    let problems =
        problems(&format!("{HEADER}\n,A,active,,A-1,,1,1.00,1.00\nb,,active,,B-1,,1,1.00,1.00\nc,C,active,,,,1,,\n"));
    assert_eq!(
        problems,
        [
            "line 2: `slug` is missing",
            "line 3: `title` is missing (the first row of a product fills it)",
            "line 4: `sku` is missing",
            "line 4: no price: fill at least one price_<currency> column",
        ]
    );
}

#[test]
fn what_the_domain_refuses_is_reported_on_the_variants_line() {
    // A variant without the product's option: the API would refuse the product the same way.
    let problems =
        problems(&format!("{HEADER}\nshirt,Shirt,active,Size=S|M,S-S,Size=S,1,1.00,1.00\nshirt,,,,S-M,,1,1.00,1.00\n"));
    assert!(problems.len() == 1 && problems[0].starts_with("line 3: option_values"), "{problems:#?}");
}

#[test]
fn every_bad_row_of_a_file_is_reported_at_once_and_no_product_is_accepted() {
    let problems = problems(&format!(
        "{HEADER}\ngood,Good,active,,G-1,,1,1.00,1.00\nbad,Bad,active,,B-1,,-1,1.00,1.00\nworse,Worse,soon,,W-1,,1,\"1,00\",1.00\n"
    ));
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].starts_with("line 3: stock"), "{problems:#?}");
    assert!(problems[1..].iter().all(|p| p.starts_with("line 4: ")), "{problems:#?}");
}

#[test]
fn json_rows_read_like_csv_rows_and_fractional_numbers_are_refused() {
    let rows = json!([{"slug": "a", "title": "A", "sku": "A-1", "stock": 3, "price_eur": "1.50", "price_jpy": 150}]);
    let entries = read(Format::Json, rows.to_string().as_bytes()).expect("valid rows").products;
    let prices: Vec<_> = entries[0].product.variants[0].prices.iter().map(|p| p.amount).collect();
    assert_eq!((prices, entries[0].stock[0].1), (vec![150, 150], Some(3)));
    let float = json!([{"slug": "a", "title": "A", "sku": "A-1", "price_eur": 1.5}]);
    let error = read(Format::Json, float.to_string().as_bytes()).expect_err("a float price");
    assert!(error.to_string().contains("item 1: `price_eur` is 1.5: write it as a string"), "{error}");
}

#[test]
fn the_sample_with_categories_is_the_same_products_under_a_tree_parents_first() {
    let with_tree = read(Format::Csv, SAMPLE_WITH_CATEGORIES.as_bytes()).expect("the sample is valid");
    let tree: Vec<_> = with_tree
        .categories
        .iter()
        .map(|e| (e.line, e.category.slug.as_str(), e.category.name.as_str(), e.category.parent.as_deref()))
        .collect();
    assert_eq!(
        tree,
        [
            (2, "clothing", "Clothing", None),
            (3, "shirts", "Shirts", Some("clothing")),
            (4, "home", "Home", None),
            (5, "kitchen", "Kitchen & dining", Some("home")),
        ]
    );
    let without = read(Format::Csv, SAMPLE.as_bytes()).expect("a file without categories still reads");
    assert!(without.categories.is_empty());
    let products = |catalog: &super::Catalog| {
        catalog.products.iter().map(|e| (e.product.clone(), e.stock.clone())).collect::<Vec<_>>()
    };
    assert_eq!(products(&with_tree), products(&without));
}

/// A header with the category columns, and rows filling them: `slug,name,parent`.
fn categories_file(rows: &[&str]) -> String {
    let mut csv = format!("{HEADER},category_slug,category_name,category_parent\n");
    csv.push_str("a,A,active,,A-1,,1,1.00,1.00,,,\n");
    for row in rows {
        csv.push_str(&format!(",,,,,,,,,{row}\n"));
    }
    csv
}

#[test]
fn a_category_slug_on_two_rows_is_refused_on_the_second() {
    refused(&categories_file(&["shirts,Shirts,", "shirts,Tops,"]), 4, "category `shirts` is already on line 3");
}

#[test]
fn a_cycle_of_categories_is_refused_on_its_first_line() {
    refused(
        &categories_file(&["root,Root,", "a,A,c", "b,B,a", "c,C,b"]),
        4,
        "category `a` is its own ancestor: a → c → b → a",
    );
    refused(&categories_file(&["self,Self,self"]), 3, "category `self` is its own ancestor: self → self");
}

#[test]
fn bad_category_rows_are_refused_with_their_line_and_column() {
    let problems = problems(&categories_file(&["Shirts!,Shirts,", "tops,,", ",Orphan name,"]));
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].starts_with("line 3: category_slug `Shirts!`: must be"), "{problems:#?}");
    assert!(problems[1].starts_with("line 4: category_name: "), "{problems:#?}");
    assert!(problems[2].starts_with("line 5: `category_slug` is missing"), "{problems:#?}");
    refused(
        &format!("{HEADER},category_slug,category_name,category_parent\nb,B,active,,B-1,,1,1.00,1.00,tops,Tops,\n"),
        2,
        "a category row leaves the product columns empty, but fills `slug`, `title`, `status`, `sku`, `stock`, `price_eur`, `price_usd`",
    );
}

#[test]
fn a_file_of_categories_alone_needs_no_product_columns_and_round_trips() {
    let catalog = read(Format::Csv, b"category_slug,category_name,category_parent\nhome,Home,\nbath,Bath,home\n")
        .expect("a tree alone");
    assert_eq!((catalog.categories.len(), catalog.products.len()), (2, 0));
    for format in [Format::Csv, Format::Json] {
        let again = read(format, format.write(&catalog).as_bytes()).expect("what is written reads back");
        let docs = |c: &super::Catalog| c.categories.iter().map(|e| e.category.clone()).collect::<Vec<_>>();
        assert_eq!(docs(&again), docs(&catalog), "{format:?}");
    }
    refused("category_name\nHome\n", 1, "the column `category_slug` is missing");
}

/// A client that answers each request with the next of `replies` and records what it was sent.
#[derive(Debug)]
struct Scripted {
    replies: Mutex<Vec<ApiReply>>,
    sent: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl ApiClient for Scripted {
    async fn send(&self, request: ApiRequest<'_>) -> anyhow::Result<ApiReply> {
        self.sent.lock().expect("not poisoned").push(format!("{} {}", request.method, request.path));
        Ok(self.replies.lock().expect("not poisoned").remove(0))
    }
}

fn reply(status: StatusCode, retry_after: Option<u64>, body: Value) -> ApiReply {
    ApiReply { status, etag: Some("\"1\"".into()), retry_after: retry_after.map(Duration::from_secs), body }
}

#[tokio::test(start_paused = true)]
async fn throttled_calls_are_retried_after_what_retry_after_asks() {
    let client = std::sync::Arc::new(Scripted {
        replies: Mutex::new(vec![
            reply(StatusCode::TOO_MANY_REQUESTS, Some(2), Value::Null),
            reply(StatusCode::SERVICE_UNAVAILABLE, None, Value::Null),
            reply(StatusCode::OK, None, json!({"sku": "A-1", "on_hand": 7})),
        ]),
        sent: Mutex::default(),
    });
    let api = CatalogApi::new(client.clone(), RetryPolicy::default());
    let started = tokio::time::Instant::now();
    assert_eq!(api.stock("A-1").await.expect("answered in the end"), (7, "\"1\"".to_owned()));
    assert_eq!(client.sent.lock().expect("not poisoned").len(), 3);
    // 2 s as asked, then (nothing asked) the policy's wait for a second retry: twice the first.
    assert_eq!(started.elapsed(), Duration::from_secs(2) + RetryPolicy::default().backoff.nominal(1));
}

#[tokio::test(start_paused = true)]
async fn retries_stop_after_the_policys_attempts_with_the_apis_problem() {
    let attempts = 3;
    let throttled = || reply(StatusCode::TOO_MANY_REQUESTS, Some(1), json!({"detail": "slow down"}));
    let client = std::sync::Arc::new(Scripted { replies: Mutex::new(vec![throttled(); 5]), sent: Mutex::default() });
    let api = CatalogApi::new(client.clone(), RetryPolicy { attempts, ..RetryPolicy::default() });
    let error = api.stock("A-1").await.expect_err("still throttled");
    assert!(error.to_string().contains("429 Too Many Requests: slow down"), "{error}");
    assert_eq!(client.sent.lock().expect("not poisoned").len(), 3);
}

#[tokio::test]
async fn an_https_client_builds_on_the_trees_crypto_and_other_schemes_are_refused() {
    assert!(super::client::Http::new("https://api.shop.example/", "t".into()).is_ok());
    let error = super::client::Http::new("ftp://shop.example", "t".into()).expect_err("not http");
    assert!(error.to_string().contains("--api must be an http(s) URL"), "{error}");
}
