//! `GET /products?q=`: the word index. A rare word in a large catalog is one round, pages are
//! full with a working cursor, prefixes match, and a changed or archived product is not found by
//! the word it lost.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Utc;
use nanoshop_api::testing::TestRequest;
use nanoshop_domain::catalog::{Product, ProductOption, ProductStatus, UncheckedProduct, UncheckedVariant};
use nanoshop_domain::ids::ProductId;
use nanoshop_schema::catalog::{product_key, search_word_key};
use nanoshop_store::counting::CountingStore;
use nanoshop_store::embedded::EmbeddedStore;
use nanoshop_store::port::GSI1_PK;
use nanoshop_store::{Query, Store, Table, Update};
use serde_json::{Value, json};

use super::products::product;
use super::{Catalog, catalog, catalog_on};
use crate::repo::CatalogRepository;

/// A valid product of one variant, `SKU` from its slug, with this title and tags.
fn unchecked(slug: &str, title: &str, tags: &[&str], variants: usize) -> UncheckedProduct {
    let sizes: Vec<String> = (0..variants).map(|i| format!("S{i}")).collect();
    UncheckedProduct {
        slug: slug.into(),
        title: title.into(),
        status: ProductStatus::Active,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        options: vec![ProductOption { name: "Size".into(), values: sizes.clone() }],
        variants: sizes
            .iter()
            .map(|size| UncheckedVariant {
                sku: format!("{slug}-{size}").to_uppercase(),
                options: [("Size".to_owned(), size.clone())].into(),
                prices: vec![(1000, "EUR".into())],
                ..UncheckedVariant::default()
            })
            .collect(),
        ..UncheckedProduct::default()
    }
}

/// Stores `count` products titled `Cotton shirt {i}` through the repository, oldest first.
async fn seed_shirts(store: &Arc<dyn Store>, from: usize, count: usize) {
    let repo = CatalogRepository::new(store.clone());
    for i in from..from + count {
        let p = Product::create(
            ProductId::generate(),
            unchecked(&format!("shirt-{i}"), "Cotton shirt", &[], 1),
            Utc::now(),
        )
        .unwrap();
        repo.create_product(&p).await.unwrap();
    }
}

fn slugs(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap().to_owned()).collect()
}

impl Catalog {
    async fn search(&self, query: &str) -> Value {
        TestRequest::get(format!("/products?{query}")).send(&self.app).await.assert_status(StatusCode::OK).clone()
    }
}

#[tokio::test]
async fn a_word_of_one_product_in_two_thousand_is_found_in_one_round_of_three_calls() {
    let embedded: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
    // The rare product is the oldest: a scan of the newest-first listing meets it last.
    let repo = CatalogRepository::new(embedded.clone());
    let rare = Product::create(ProductId::generate(), unchecked("rare", "Zephyr scarf", &["wool"], 1), Utc::now());
    repo.create_product(&rare.unwrap()).await.unwrap();
    seed_shirts(&embedded, 0, 2000).await;
    let counting = Arc::new(CountingStore::new(embedded));
    let catalog = catalog_on(counting.clone());

    counting.take();
    let page = catalog.search("q=zephyr").await;
    assert_eq!(slugs(&page), ["rare"]);
    assert_eq!(page["next_cursor"], Value::Null, "nothing more to find");
    let calls = counting.take();
    assert_eq!(
        (calls.query, calls.batch_get, calls.total()),
        (1, 2, 3),
        "one query of the word's index items, one read of the products and one of their stock: {calls:?}"
    );

    // A common word fills its page in the same three calls.
    let page = catalog.search("q=shirt&limit=100").await;
    assert_eq!(slugs(&page).len(), 100);
    assert_eq!(slugs(&page)[0], "shirt-1999", "newest first");
    assert!(page["next_cursor"].is_string());
    assert_eq!(counting.take().total(), 3);
    // By a tag, and by a prefix of it.
    assert_eq!(slugs(&catalog.search("q=WOO").await), ["rare"]);
}

#[tokio::test]
async fn words_match_by_prefix_each_product_once_and_every_word_must_match() {
    let catalog = catalog();
    let mut linen = product("linen-shirt", "active");
    linen["title"] = json!("Linen shirt");
    catalog.create(&linen).await;
    let mut set = product("linens", "active");
    set["title"] = json!("Linens set");
    set["tags"] = json!(["linen", "lino"]);
    catalog.create(&set).await;
    let mut mug = product("mug", "active");
    mug["title"] = json!("Stoneware mug");
    catalog.create(&mug).await;

    let catalog = &catalog;
    let found = |q: &'static str| async move { slugs(&catalog.search(&format!("q={q}")).await) };
    // `linen` (shorter) before `linens`; the set has `linen`, `linens` and `lino` and shows once.
    assert_eq!(found("lin").await, ["linens", "linen-shirt"]);
    assert_eq!(found("linen").await, ["linens", "linen-shirt"]);
    assert_eq!(found("LINENS").await, ["linens"]);
    assert_eq!(found("inen").await, Vec::<String>::new(), "words match from their start");
    assert_eq!(found("lin%20shirt").await, ["linen-shirt"], "every word of the query");
    assert_eq!(found("shirt%20linens").await, Vec::<String>::new());
    assert_eq!(found("stone").await, ["mug"]);
}

#[tokio::test]
async fn search_pages_are_full_and_the_cursor_walks_every_hit_once() {
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
    seed_shirts(&store, 0, 25).await;
    // Two matching words (`shirt`, `shirts`) must not show the product twice or cut a page short.
    let repo = CatalogRepository::new(store.clone());
    let both = Product::create(ProductId::generate(), unchecked("both", "Shirt of shirts", &[], 1), Utc::now());
    repo.create_product(&both.unwrap()).await.unwrap();
    let catalog = catalog_on(store);

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut query = "q=shir&limit=10".to_owned();
    loop {
        let page = catalog.search(&query).await;
        sizes.push(slugs(&page).len());
        seen.extend(slugs(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("q=shir&limit=10&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(sizes, [10, 10, 6], "full pages, and no empty one at the end");
    let mut want: Vec<String> = (0..25).rev().map(|i| format!("shirt-{i}")).collect();
    want.insert(0, "both".into());
    assert_eq!(seen, want, "`shirt` newest first, each once");

    // A search's cursor is not a listing's.
    let listing = catalog.search("limit=10").await;
    let cursor = listing["next_cursor"].as_str().unwrap();
    TestRequest::get(format!("/products?q=shir&limit=10&cursor={cursor}"))
        .send(&catalog.app)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_cursor");
}

/// The product's index items as stored: `(word, index partition)`.
async fn index_items(store: &dyn Store, id: &str) -> Vec<(String, String)> {
    let mut query = Query::new(Table::Catalog, format!("PRODUCT#{id}"));
    query.sort_prefix = Some("WORD#".into());
    let page = store.query(&query).await.unwrap();
    page.items
        .iter()
        .map(|i| (i.s("sk").unwrap().trim_start_matches("WORD#").to_owned(), i.s(GSI1_PK).unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn a_changed_or_archived_product_is_no_longer_found_by_its_old_word() {
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
    let catalog = catalog_on(store.clone());
    let mut body = product("scarf", "active");
    body["title"] = json!("Merino scarf");
    let id = catalog.create(&body).await["id"].as_str().unwrap().to_owned();
    assert_eq!(slugs(&catalog.search("q=merino").await), ["scarf"]);
    let active = |w: &str| (w.to_owned(), format!("SEARCH#active#{}", &w[..1]));
    assert_eq!(index_items(store.as_ref(), &id).await, [active("demo"), active("merino"), active("scarf")]);

    let admin = catalog.auth.admin();
    TestRequest::patch(format!("/products/{id}"))
        .bearer(&admin)
        .json(&json!({"title": "Alpaca scarf", "tags": ["winter"]}))
        .send(&catalog.app)
        .await
        .assert_status(StatusCode::OK);
    assert!(slugs(&catalog.search("q=merino").await).is_empty(), "the old word is gone");
    assert!(slugs(&catalog.search("q=demo").await).is_empty(), "so is the old tag");
    assert_eq!(slugs(&catalog.search("q=alpaca").await), ["scarf"]);
    assert_eq!(slugs(&catalog.search("q=wint").await), ["scarf"]);
    assert_eq!(
        index_items(store.as_ref(), &id).await,
        [active("alpaca"), active("scarf"), active("winter")],
        "the index holds exactly the product's words: the dropped ones deleted in the same write"
    );

    TestRequest::delete(format!("/products/{id}"))
        .bearer(&admin)
        .send(&catalog.app)
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert!(slugs(&catalog.search("q=alpaca").await).is_empty(), "archived");
    let archived = |w: &str| (w.to_owned(), format!("SEARCH#archived#{}", &w[..1]));
    assert_eq!(index_items(store.as_ref(), &id).await, [archived("alpaca"), archived("scarf"), archived("winter")]);
    let archived = TestRequest::get("/products?q=alpaca&status=archived").bearer(&admin).send(&catalog.app).await;
    assert_eq!(slugs(archived.assert_status(StatusCode::OK)), ["scarf"], "admins find it among the archived");
}

/// A product as it was stored before the index existed: its claims and item, without index items
/// or the item's mark.
async fn store_unindexed(store: &Arc<dyn Store>, slug: &str, title: &str) -> Product {
    let p = Product::create(ProductId::generate(), unchecked(slug, title, &[], 1), Utc::now()).unwrap();
    CatalogRepository::new(store.clone()).create_product(&p).await.unwrap();
    for word in p.search_words() {
        store.delete(Table::Catalog, &search_word_key(&p.id, &word), None).await.unwrap();
    }
    store.update(Table::Catalog, Update::new(product_key(&p.id)).remove("search_indexed")).await.unwrap();
    p
}

#[tokio::test]
async fn a_product_stored_before_the_index_is_found_after_a_save_or_a_reindex() {
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
    let saved = store_unindexed(&store, "old-lamp", "Brass lamp").await;
    store_unindexed(&store, "old-vase", "Glass vase").await;
    let catalog = catalog_on(store.clone());
    assert!(slugs(&catalog.search("q=brass").await).is_empty(), "not indexed yet");

    TestRequest::patch(format!("/products/{}", saved.id))
        .bearer(&catalog.auth.admin())
        .json(&json!({}))
        .send(&catalog.app)
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(slugs(&catalog.search("q=brass").await), ["old-lamp"], "a save indexes all its words");

    let repo = CatalogRepository::new(store);
    let done = repo.reindex_all().await.unwrap();
    assert_eq!((done.products, done.indexed), (2, 1), "only the vase still needed it");
    assert_eq!(slugs(&catalog.search("q=glass").await), ["old-vase"]);
    assert_eq!(repo.reindex_all().await.unwrap().indexed, 0, "running it again writes nothing");
}

#[tokio::test]
async fn a_change_rewriting_more_than_one_transaction_holds_is_refused_and_writes_nothing() {
    let catalog = catalog();
    let words = |from: usize| (from..from + 30).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
    let body = |prefix: &str, title: String| {
        let p = unchecked(prefix, &title, &[], 48);
        json!({
            "slug": "big", "title": p.title, "status": "active",
            "options": [{"name": "Size", "values": p.options[0].values}],
            "variants": p.variants.iter().map(|v| json!({
                "sku": v.sku, "options": v.options, "prices": [{"amount": 1000, "currency": "EUR"}]
            })).collect::<Vec<_>>(),
        })
    };
    let id = catalog.create(&body("a", words(0))).await["id"].as_str().unwrap().to_owned();
    // 1 product + 48 new SKUs + 48 released + 30 words put + 30 deleted = 157 writes.
    let mut swap = body("b", words(100));
    swap.as_object_mut().unwrap().remove("slug");
    let reply = TestRequest::patch(format!("/products/{id}"))
        .bearer(&catalog.auth.admin())
        .json(&swap)
        .send(&catalog.app)
        .await;
    reply.assert_field_error("validation_failed", "variants");
    assert_eq!(slugs(&catalog.search("q=w0").await), ["big"], "nothing changed");
    assert!(slugs(&catalog.search("q=w100").await).is_empty());
    let read = TestRequest::get(format!("/products/{id}")).send(&catalog.app).await;
    assert_eq!(read.assert_status(StatusCode::OK)["variants"][0]["sku"], "A-S0");
}
