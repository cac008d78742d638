//! The catalog as it grows (`make bench`, `scripts/bench.sh scale`): products seeded into
//! DynamoDB Local through the store port, 10,000 and then 100,000 (`NANOSHOP_SCALE_SIZES`), and
//! at each size the first listing page, a category listing, and a search for a common and for a
//! rare word, each timed (median of `NANOSHOP_SCALE_RUNS` runs, in process through the catalog's
//! router, so the figure is the function's work and DynamoDB Local's, not HTTP's), with its
//! DynamoDB calls (the counting adapter) and the read capacity they consume. The figures go to
//! `NANOSHOP_SCALE_OUT` as JSON for `bench/scale_report.py`. Ignored in `make test`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures_util::StreamExt;
use nanoshop_catalog::repo::CatalogRepository;
use nanoshop_domain::catalog::{Product, ProductStatus, UncheckedProduct, UncheckedVariant};
use nanoshop_domain::ids::ProductId;
use nanoshop_store::port::{Condition, Item, Key, Query, QueryPage, Store, StoreResult, Table, Update, Value, Write};
use serde_json::json;
use tower::ServiceExt;

use crate::dynamodb::dynamodb_local;
use crate::support::TestApp;

/// Read capacity as DynamoDB charges it, counted from what each read returned: a strongly
/// consistent read (gets and batch gets, as the adapter makes them) costs 1 unit per 4 KB of each
/// item, and 1 for a key that is missing; an index query (eventually consistent) ½ unit per 4 KB
/// of all the items it read together, ½ at least. Item sizes are DynamoDB's: names plus values.
#[derive(Debug)]
struct CapacityStore {
    inner: Arc<dyn Store>,
    /// In half units.
    halves: AtomicU64,
}

fn item_size(item: &Item) -> u64 {
    let size: usize = item
        .0
        .iter()
        .map(|(name, value)| {
            name.len()
                + match value {
                    Value::S(s) => s.len(),
                    Value::N(n) => n.to_string().len().div_ceil(2) + 1,
                    Value::Bool(_) => 1,
                }
        })
        .sum();
    size as u64
}

const UNIT: u64 = 4096;

impl CapacityStore {
    fn new(inner: Arc<dyn Store>) -> Self {
        Self { inner, halves: AtomicU64::new(0) }
    }

    /// Read capacity consumed since the last call, in half units (integers: no floats here).
    fn take(&self) -> u64 {
        self.halves.swap(0, Ordering::Relaxed)
    }

    fn strong(&self, items: &[Item], keys: usize) {
        let found: u64 = items.iter().map(|i| item_size(i).div_ceil(UNIT).max(1)).sum();
        let missing = (keys - items.len()) as u64;
        self.halves.fetch_add(2 * (found + missing), Ordering::Relaxed);
    }
}

#[async_trait]
impl Store for CapacityStore {
    async fn get(&self, table: Table, key: &Key) -> StoreResult<Option<Item>> {
        let item = self.inner.get(table, key).await?;
        self.strong(item.as_slice(), 1);
        Ok(item)
    }

    async fn batch_get(&self, table: Table, keys: &[Key]) -> StoreResult<Vec<Item>> {
        let items = self.inner.batch_get(table, keys).await?;
        self.strong(&items, keys.len());
        Ok(items)
    }

    async fn query(&self, query: &Query) -> StoreResult<QueryPage> {
        let page = self.inner.query(query).await?;
        let bytes: u64 = page.items.iter().map(item_size).sum();
        let units = bytes.div_ceil(UNIT).max(1);
        // Half units for an eventually consistent index query, whole ones on the table.
        self.halves.fetch_add(if query.index.is_some() { units } else { 2 * units }, Ordering::Relaxed);
        Ok(page)
    }

    async fn put(&self, table: Table, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        self.inner.put(table, item, condition).await
    }

    async fn update(&self, table: Table, update: Update) -> StoreResult<Item> {
        self.inner.update(table, update).await
    }

    async fn delete(&self, table: Table, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        self.inner.delete(table, key, condition).await
    }

    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        self.inner.transact(writes).await
    }
}

const ADJECTIVES: [&str; 10] = ["classic", "light", "heavy", "soft", "slim", "wide", "warm", "cool", "bold", "plain"];
/// `cotton` is one product's material in ten: the common word.
const MATERIALS: [&str; 10] =
    ["cotton", "linen", "wool", "silk", "denim", "leather", "canvas", "hemp", "fleece", "jersey"];
const NOUNS: [&str; 10] = ["shirt", "scarf", "jacket", "bag", "cap", "sock", "dress", "coat", "belt", "glove"];
const CATEGORIES: usize = 20;

/// Product `i`: three words, one of [`CATEGORIES`] categories, one variant. Product 0 alone has
/// the rare word, and as the oldest it is the last a newest-first listing would reach.
fn product(i: usize) -> Product {
    let title = if i == 0 {
        "Zephyr silk scarf".to_owned()
    } else {
        format!("{} {} {}", ADJECTIVES[i % 10], MATERIALS[(i / 10) % 10], NOUNS[(i / 100) % 10])
    };
    let input = UncheckedProduct {
        slug: format!("p-{i}"),
        title,
        status: ProductStatus::Active,
        categories: vec![format!("cat-{}", i % CATEGORIES)],
        variants: vec![UncheckedVariant {
            sku: format!("P{i}"),
            prices: vec![(1000 + i64::try_from(i % 500).unwrap_or(0), "EUR".into())],
            ..UncheckedVariant::default()
        }],
        ..UncheckedProduct::default()
    };
    Product::create(ProductId::generate(), input, chrono::Utc::now()).unwrap()
}

/// Products `from..to`, in transactions of as many whole products as fit, several at once.
async fn seed(repo: &CatalogRepository, from: usize, to: usize) {
    const CHUNK: usize = 160;
    // Ids are made in order, so product 0 is the oldest.
    let products: Vec<Product> = (from..to).map(product).collect();
    let mut writes =
        futures_util::stream::iter(products.chunks(CHUNK).map(|chunk| repo.create_products(chunk))).buffer_unordered(4);
    while let Some(result) = writes.next().await {
        result.unwrap();
    }
}

#[derive(Debug, serde::Serialize)]
struct Measured {
    name: &'static str,
    path: &'static str,
    median_us: u64,
    calls: u64,
    /// In half units.
    read_half_units: u64,
    items: usize,
    has_next: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "make bench: seeds up to 100,000 products into DynamoDB Local"]
async fn catalog_at_scale() {
    let sizes: Vec<usize> = std::env::var("NANOSHOP_SCALE_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let runs: usize = std::env::var("NANOSHOP_SCALE_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);
    let Some(dynamo) = dynamodb_local("scale").await else { return };
    let capacity = Arc::new(CapacityStore::new(dynamo));
    let t = TestApp::on(capacity.clone());
    for c in 0..CATEGORIES {
        let body = json!({"name": format!("Category {c}")});
        let put = t.json(axum::http::Method::PUT, &format!("/categories/cat-{c}"), Some(&t.admin), &body).await;
        assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    }
    let repo = CatalogRepository::new(capacity.clone());
    let probes: [(&str, &str); 4] = [
        ("first listing page", "/products"),
        ("category listing", "/products?category=cat-7"),
        ("search, common word", "/products?q=cotton"),
        ("search, rare word", "/products?q=zephyr"),
    ];
    let mut report = Vec::new();
    let mut seeded = 0;
    for size in sizes {
        let started = Instant::now();
        seed(&repo, seeded, size).await;
        let seeding = started.elapsed();
        eprintln!("seeded {} products in {} s", size - seeded, seeding.as_secs());
        seeded = size;
        let mut rows = Vec::new();
        for (name, path) in probes {
            let mut times = Vec::new();
            let mut last = (0, 0, 0, false);
            // One run unmeasured first, so each is timed warm.
            for run in 0..=runs {
                t.counting.take();
                capacity.take();
                let started = Instant::now();
                let reply = t.app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
                let status = reply.status();
                let body = axum::body::to_bytes(reply.into_body(), usize::MAX).await.unwrap();
                let elapsed = started.elapsed();
                assert_eq!(status, StatusCode::OK, "{path}");
                let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let items = page["items"].as_array().map_or(0, Vec::len);
                last = (t.counting.take().total(), capacity.take(), items, page["next_cursor"].is_string());
                if run > 0 {
                    times.push(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
                }
            }
            times.sort_unstable();
            let (calls, read_half_units, items, has_next) = last;
            let measured =
                Measured { name, path, median_us: times[times.len() / 2], calls, read_half_units, items, has_next };
            eprintln!(
                "  {size:>7} {name:<22} {:>8} µs  {calls} calls  {:>4}.{} RCU  {items} items{}",
                measured.median_us,
                read_half_units / 2,
                if read_half_units % 2 == 1 { 5 } else { 0 },
                if has_next { " + cursor" } else { "" }
            );
            rows.push(measured);
        }
        assert_eq!(rows[3].items, 1, "the rare word is found at {size}");
        assert_eq!(rows[2].items, 20, "a full page of the common word at {size}");
        assert_eq!(rows[1].items, 20, "a full page of the category at {size}");
        report.push(json!({"size": size, "seeding_s": seeding.as_secs(), "rows": rows}));
    }
    if let Ok(out) = std::env::var("NANOSHOP_SCALE_OUT") {
        std::fs::write(out, serde_json::to_string_pretty(&json!({"runs": runs, "sizes": report})).unwrap()).unwrap();
    }
}
