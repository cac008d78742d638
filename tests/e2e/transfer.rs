//! Catalog import and export (`nanoshop::transfer`) against whole stores: the documented samples,
//! idempotency, an export reimported into an empty store (the category tree too), a tree whose
//! parent the store lacks, the CLI's refusal of a bad file; and ([`serve_round_trip`]) 1,000
//! products through `nanoshop serve` on DynamoDB Local, timed and counted.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use axum::http::Method;

use nanoshop::transfer::client::{Http, InProcess};
use nanoshop::transfer::export::export;
use nanoshop::transfer::import::{ImportReport, import};
use nanoshop::transfer::progress::Progress;
use nanoshop::transfer::{CatalogApi, Format, RetryPolicy};

use crate::support::{TestApp, workspace_binary};

mod serve_round_trip;

const SAMPLE: &str = include_str!("../../docs/examples/catalog.csv");
const SAMPLE_WITH_CATEGORIES: &str = include_str!("../../docs/examples/catalog-with-categories.csv");

/// The app's catalog API, called in process as `nanoshop import` calls the local store.
fn in_process(t: &TestApp) -> CatalogApi {
    CatalogApi::new(Arc::new(InProcess::new(t.app.clone(), t.admin.clone())), RetryPolicy::default())
}

async fn import_text(api: &CatalogApi, format: Format, text: &str) -> ImportReport {
    let entries = nanoshop::transfer::read(format, text.as_bytes()).unwrap();
    import(api, entries, &Progress::hidden("importing", 0)).await.unwrap()
}

async fn export_text(api: &CatalogApi, format: Format) -> String {
    format.write(&export(api, |n| Progress::hidden("exporting", n)).await.unwrap())
}

#[tokio::test]
async fn the_sample_imports_with_its_stock_and_a_second_import_writes_nothing() {
    let t = TestApp::new();
    let api = in_process(&t);
    let first = import_text(&api, Format::Csv, SAMPLE).await;
    assert_eq!((first.created, first.updated, first.unchanged, first.stock_set), (3, 0, 0, 5), "{first:?}");
    assert_eq!(t.stock("LS-M").await.0, 20);
    assert_eq!(t.stock("MUG-SLATE").await.0, 2);
    let shirt = t.get("/products/linen-shirt", None).await;
    assert_eq!(shirt.body["variants"][2]["prices"][1], serde_json::json!({"amount": 5795, "currency": "USD"}));

    let writes_before = t.counting.counts().writes();
    let again = import_text(&in_process(&t), Format::Csv, SAMPLE).await;
    assert_eq!((again.created, again.updated, again.unchanged, again.stock_set, again.writes), (0, 0, 3, 0, 0));
    assert_eq!(t.counting.counts().writes(), writes_before, "the store saw no write");
}

#[tokio::test]
async fn an_import_updates_only_what_changed_conditionally() {
    let t = TestApp::new();
    import_text(&in_process(&t), Format::Csv, SAMPLE).await;
    let changed = SAMPLE.replace("LS-L,,Size=L,300,8,52.50", "LS-L,,Size=L,300,9,53.00");
    let report = import_text(&in_process(&t), Format::Csv, &changed).await;
    assert_eq!((report.created, report.updated, report.unchanged, report.stock_set), (0, 1, 2, 1), "{report:?}");
    assert_eq!(report.writes, 2, "one PATCH, one PUT");
    let shirt = t.get("/products/linen-shirt", None).await;
    assert_eq!(shirt.body["variants"][2]["prices"][0]["amount"], 5300);
    assert_eq!((shirt.body["version"].as_u64(), t.stock("LS-L").await.0), (Some(2), 9));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_into_an_empty_store_reproduces_the_catalog() {
    let source = TestApp::new();
    nanoshop::seed::seed(&source.app, &source.admin).await.unwrap();
    import_text(
        &in_process(&source),
        Format::Csv,
        SAMPLE.replace("linen-shirt", "linen-shirt-2").replace("LS-", "LS2-").as_str(),
    )
    .await;
    for format in [Format::Csv, Format::Json] {
        let exported = export_text(&in_process(&source), format).await;
        let target = TestApp::new();
        // The JSON file goes over HTTP, as `--api` sends it; the CSV one in process.
        let (url, _stop) = serve_over_http(&target).await;
        let target_api = match format {
            Format::Json => {
                CatalogApi::new(Arc::new(Http::new(&url, target.admin.clone()).unwrap()), RetryPolicy::default())
            }
            Format::Csv => in_process(&target),
        };
        import_text(&target_api, format, &exported).await;
        assert_eq!(export_text(&target_api, format).await, exported, "{format:?}");
        // Beyond the file: each product as the API serves it, every editable field, and stock.
        for slug in ["linen-shirt", "stoneware-mug", "gift-card-sample", "linen-shirt-2", "chino-trousers"] {
            let (a, b) = (
                source.get(&format!("/products/{slug}"), Some(&source.admin)).await,
                target.get(&format!("/products/{slug}"), Some(&target.admin)).await,
            );
            for field in ["title", "description", "status", "categories", "tags", "options", "variants"] {
                assert_eq!(a.body[field], b.body[field], "{format:?} {slug} {field}");
            }
        }
        for sku in ["LS-S", "MUG-SAND", "GIFT-25", "LS2-L", "TOWEL"] {
            assert_eq!(source.stock(sku).await, target.stock(sku).await, "{format:?} {sku}");
        }
    }
}

/// The category tree as `GET /categories` answers it: slug, name and parent of each category,
/// nested as the API nests them.
async fn category_tree(t: &TestApp) -> serde_json::Value {
    fn strip(nodes: &serde_json::Value) -> serde_json::Value {
        nodes
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| serde_json::json!([n["slug"], n["name"], n["parent"], strip(&n["children"])]))
            .collect()
    }
    strip(&t.get("/categories", None).await.body["items"])
}

#[tokio::test]
async fn the_category_tree_round_trips_and_a_second_import_writes_nothing() {
    let source = TestApp::new();
    let first = import_text(&in_process(&source), Format::Csv, SAMPLE_WITH_CATEGORIES).await;
    assert_eq!((first.categories_created, first.created), (4, 3), "{first:?}");
    let tree = serde_json::json!([
        ["clothing", "Clothing", null, [["shirts", "Shirts", "clothing", []]]],
        ["home", "Home", null, [["kitchen", "Kitchen & dining", "home", []]]],
    ]);
    assert_eq!(category_tree(&source).await, tree);
    let again = import_text(&in_process(&source), Format::Csv, SAMPLE_WITH_CATEGORIES).await;
    assert_eq!((again.categories_unchanged, again.writes), (4, 0), "{again:?}");

    // A category renamed and moved in the store is put back as the file has it, parents first.
    let moved = source
        .json(
            Method::PUT,
            "/categories/kitchen",
            Some(&source.admin),
            &serde_json::json!({"name": "Cooking", "parent": "clothing"}),
        )
        .await;
    assert_eq!(moved.status, 200);
    let fixed = import_text(&in_process(&source), Format::Csv, SAMPLE_WITH_CATEGORIES).await;
    assert_eq!((fixed.categories_updated, fixed.writes), (1, 1), "{fixed:?}");
    assert_eq!(category_tree(&source).await, tree);

    for format in [Format::Csv, Format::Json] {
        let exported = export_text(&in_process(&source), format).await;
        let target = TestApp::new();
        import_text(&in_process(&target), format, &exported).await;
        assert_eq!(category_tree(&target).await, tree, "{format:?}");
        assert_eq!(export_text(&in_process(&target), format).await, exported, "{format:?}");
    }
}

#[tokio::test]
async fn a_parent_neither_in_the_file_nor_in_the_store_refuses_the_file_before_any_write() {
    let t = TestApp::new();
    let file = SAMPLE_WITH_CATEGORIES.replace(",kitchen,Kitchen & dining,home,", ",kitchen,Kitchen & dining,house,");
    let catalog = nanoshop::transfer::read(Format::Csv, file.as_bytes()).expect("the file alone is a valid tree");
    let error = import(&in_process(&t), catalog, &Progress::hidden("importing", 0)).await.expect_err("no `house`");
    assert!(
        format!("{error:#}").contains(
            "line 5: category `kitchen`: its parent `house` is neither a category of the file nor of the store"
        ),
        "{error:#}"
    );
    assert_eq!(t.counting.counts().writes(), 0, "nothing was written: {error:#}");

    // Once the store has the parent, the same file imports under it.
    let house = t.json(Method::PUT, "/categories/house", Some(&t.admin), &serde_json::json!({"name": "House"})).await;
    assert_eq!(house.status, 201);
    let report = import_text(&in_process(&t), Format::Csv, &file).await;
    assert_eq!((report.categories_created, report.created), (4, 3), "{report:?}");
}

/// `nanoshop` with `args` on the data dir `data`: (success, stdout, stderr).
fn nanoshop(data: &Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(workspace_binary("nanoshop"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

#[test]
fn the_cli_refuses_a_bad_file_whole_and_round_trips_a_good_one_locally() {
    let dir = std::env::temp_dir().join(format!("nanoshop-transfer-cli-{}", std::process::id()));
    // A process id comes round again: a run that failed earlier may have left a store here.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let bad = dir.join("bad.csv");
    // A good product first: it must not be imported either, the file is all or nothing.
    std::fs::write(
        &bad,
        format!("{}fine,Fine,active,,,,,F-1,,,,1,1.00,\nbroken,Broken,active,,,,,B-1,,,,-2,\"1,00\",\n", SAMPLE),
    )
    .unwrap();
    let (ok, _, stderr) = nanoshop(&data, &["import", bad.to_str().unwrap()]);
    assert!(!ok, "a bad file is refused: {stderr}");
    assert!(stderr.contains("line 9: price_eur: `1,00` has a comma"), "{stderr}");
    assert!(stderr.contains("line 9: stock `-2` is negative"), "{stderr}");
    let (ok, exported, stderr) = nanoshop(&data, &["export"]);
    assert!(ok, "{stderr}");
    assert_eq!(exported.lines().count(), 1, "nothing was imported, only the header is exported:\n{exported}");

    let (ok, _, stderr) =
        nanoshop(&data, &["import", concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/catalog.csv")]);
    assert!(ok && stderr.contains("3 created"), "{stderr}");
    let out = dir.join("out.json");
    let (ok, _, stderr) = nanoshop(&data, &["export", "--format", "json", "-o", out.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = nanoshop(&dir.join("empty"), &["import", out.to_str().unwrap()]);
    assert!(ok && stderr.contains("3 created") && stderr.contains("stock set on 5 SKUs"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `t`'s app served over HTTP on a free loopback port, by the server `nanoshop serve` runs; its
/// base URL, and the sender that stops it when dropped.
async fn serve_over_http(t: &TestApp) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(nanoshop_api::serve(listener, t.app.clone(), async move {
        let _ = stopped.await;
    }));
    (format!("http://{addr}"), stop)
}

#[tokio::test]
async fn reindex_through_the_api_lists_and_finds_products_an_older_version_stored() {
    use nanoshop_store::{Query, Store, Table, Update};

    let t = TestApp::new();
    let api = in_process(&t);
    import_text(&api, Format::Csv, SAMPLE_WITH_CATEGORIES).await;
    let listed = |body: &serde_json::Value| body["items"].as_array().unwrap().len();
    let category =
        t.get("/products?limit=1", None).await.body["items"][0]["categories"][0].as_str().unwrap().to_owned();
    let before = listed(&t.get(&format!("/products?category={category}&limit=100"), None).await.body);
    assert!(before > 0);
    // As an older version left them: no index items, no marks.
    let store: &dyn Store = t.counting.as_ref();
    let mut products = Vec::new();
    for status in ["draft", "active", "archived"] {
        let page = t.get(&format!("/products?status={status}&limit=100"), Some(&t.admin)).await;
        products.extend(page.body["items"].as_array().unwrap().iter().cloned());
    }
    for p in &products {
        let id = p["id"].as_str().unwrap();
        let page = store.query(&Query::new(Table::Catalog, format!("PRODUCT#{id}"))).await.unwrap();
        for item in page.items.iter().filter(|i| i.s("sk") != Some("PRODUCT")) {
            store.delete(Table::Catalog, &item.key().unwrap(), None).await.unwrap();
        }
        let key = nanoshop_schema::catalog::product_key(&id.parse().unwrap());
        store
            .update(Table::Catalog, Update::new(key).remove("search_indexed").remove("categories_indexed"))
            .await
            .unwrap();
    }
    assert_eq!(listed(&t.get(&format!("/products?category={category}&limit=100"), None).await.body), 0);
    let first = t.get("/products?limit=1", None).await;
    let word = first.body["items"][0]["title"].as_str().unwrap().split(' ').next().unwrap().to_lowercase();
    assert_eq!(listed(&t.get(&format!("/products?q={word}"), None).await.body), 0);

    assert_eq!(api.resave_all().await.unwrap(), products.len());
    assert_eq!(listed(&t.get(&format!("/products?category={category}&limit=100"), None).await.body), before);
    assert!(listed(&t.get(&format!("/products?q={word}"), None).await.body) > 0, "found by `{word}` again");
}
