//! `GET /products?category=`: the category index. A rare category among thousands of products
//! is one round, the index holds exactly the categories a product names in its status, and a
//! product stored before the index is listed once reindexed.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Utc;
use nanoshop_api::testing::TestRequest;
use nanoshop_domain::catalog::{Product, ProductStatus, UncheckedProduct, UncheckedVariant};
use nanoshop_domain::ids::ProductId;
use nanoshop_schema::catalog::{CATEGORY_ENTRY_PREFIX, product_key};
use nanoshop_store::counting::CountingStore;
use nanoshop_store::embedded::EmbeddedStore;
use nanoshop_store::port::GSI1_PK;
use nanoshop_store::{Query, Store, Table, Update};
use serde_json::{Value, json};

use super::products::product;
use super::{Catalog, catalog_on};
use crate::repo::CatalogRepository;

fn in_categories(slug: &str, categories: &[&str]) -> Product {
    let input = UncheckedProduct {
        slug: slug.into(),
        title: format!("Product {slug}"),
        status: ProductStatus::Active,
        categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        variants: vec![UncheckedVariant {
            sku: slug.to_uppercase(),
            prices: vec![(1000, "EUR".into())],
            ..UncheckedVariant::default()
        }],
        ..UncheckedProduct::default()
    };
    Product::create(ProductId::generate(), input, Utc::now()).unwrap()
}

fn slugs(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap().to_owned()).collect()
}

impl Catalog {
    async fn put_category(&self, slug: &str, parent: Option<&str>) {
        TestRequest::put(format!("/categories/{slug}"))
            .bearer(&self.auth.admin())
            .json(&json!({"name": slug, "parent": parent}))
            .send(&self.app)
            .await
            .assert_status(StatusCode::CREATED);
    }

    async fn list(&self, query: &str) -> Value {
        TestRequest::get(format!("/products?{query}")).send(&self.app).await.assert_status(StatusCode::OK).clone()
    }
}

/// The product's category entries as stored: `(category, index partition)`.
async fn entries(store: &dyn Store, id: &str) -> Vec<(String, String)> {
    let mut query = Query::new(Table::Catalog, format!("PRODUCT#{id}"));
    query.sort_prefix = Some(CATEGORY_ENTRY_PREFIX.into());
    let page = store.query(&query).await.unwrap();
    page.items
        .iter()
        .map(|i| {
            let category = i.s("sk").unwrap().trim_start_matches(CATEGORY_ENTRY_PREFIX).to_owned();
            (category, i.s(GSI1_PK).unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_rare_category_among_two_thousand_products_is_listed_in_one_round_of_four_calls() {
    let embedded: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
    let repo = CatalogRepository::new(embedded.clone());
    // The rare products are the oldest: a scan of the newest-first listing meets them last.
    repo.create_products(&[in_categories("rare-1", &["lamps"]), in_categories("rare-2", &["desk-lamps"])])
        .await
        .unwrap();
    let common: Vec<Product> = (0..2000).map(|i| in_categories(&format!("shirt-{i}"), &["shirts"])).collect();
    repo.create_products(&common).await.unwrap();
    let counting = Arc::new(CountingStore::new(embedded));
    let catalog = catalog_on(counting.clone());
    catalog.put_category("lamps", None).await;
    catalog.put_category("desk-lamps", Some("lamps")).await;
    catalog.put_category("shirts", None).await;

    counting.take();
    let page = catalog.list("category=desk-lamps").await;
    assert_eq!((slugs(&page), &page["next_cursor"]), (vec!["rare-2".to_owned()], &Value::Null));
    let calls = counting.take();
    assert_eq!(
        (calls.query, calls.batch_get, calls.total()),
        (2, 2, 4),
        "the tree, the category's index, its products and their stock: {calls:?}"
    );
    let page = catalog.list("category=lamps").await;
    assert_eq!(slugs(&page), ["rare-2", "rare-1"], "with its child's, newest first");
    assert_eq!(counting.take().total(), 5, "one more query, for the child");

    let page = catalog.list("category=shirts&limit=100").await;
    assert_eq!(slugs(&page).len(), 100);
    assert_eq!(slugs(&page)[0], "shirt-1999", "newest first");
    assert!(page["next_cursor"].is_string());
    assert_eq!(counting.take().total(), 4, "a full page of a common category costs the same");
}

#[tokio::test]
async fn the_index_holds_exactly_the_categories_a_product_names_in_its_status() {
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
    let catalog = catalog_on(store.clone());
    for slug in ["hats", "wool", "sale"] {
        catalog.put_category(slug, None).await;
    }
    let mut body = product("beanie", "active");
    body["categories"] = json!(["hats", "wool"]);
    let id = catalog.create(&body).await["id"].as_str().unwrap().to_owned();
    let active = |c: &str| (c.to_owned(), format!("CATEGORY#active#{c}"));
    assert_eq!(entries(store.as_ref(), &id).await, [active("hats"), active("wool")]);
    assert_eq!(slugs(&catalog.list("category=wool").await), ["beanie"]);

    let admin = catalog.auth.admin();
    TestRequest::patch(format!("/products/{id}"))
        .bearer(&admin)
        .json(&json!({"categories": ["hats", "sale"]}))
        .send(&catalog.app)
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(
        entries(store.as_ref(), &id).await,
        [active("hats"), active("sale")],
        "the dropped category's entry deleted in the same write"
    );
    assert!(slugs(&catalog.list("category=wool").await).is_empty());
    assert_eq!(slugs(&catalog.list("category=sale").await), ["beanie"]);

    TestRequest::delete(format!("/products/{id}"))
        .bearer(&admin)
        .send(&catalog.app)
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let archived = |c: &str| (c.to_owned(), format!("CATEGORY#archived#{c}"));
    assert_eq!(entries(store.as_ref(), &id).await, [archived("hats"), archived("sale")]);
    assert!(slugs(&catalog.list("category=hats").await).is_empty(), "archived");
    let listed = TestRequest::get("/products?category=hats&status=archived").bearer(&admin).send(&catalog.app).await;
    assert_eq!(slugs(listed.assert_status(StatusCode::OK)), ["beanie"], "admins list it among the archived");
}

#[tokio::test]
async fn a_product_stored_before_the_category_index_is_listed_after_a_save_or_a_reindex() {
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::in_memory());
    let repo = CatalogRepository::new(store.clone());
    let (lamp, vase) = (in_categories("old-lamp", &["home"]), in_categories("old-vase", &["home"]));
    repo.create_products(&[lamp.clone(), vase.clone()]).await.unwrap();
    // As a version without the category index stored them: no entries, no mark.
    for p in [&lamp, &vase] {
        for (category, _) in entries(store.as_ref(), p.id.as_str()).await {
            let key = nanoshop_schema::catalog::category_entry_key(&p.id, &category.parse().unwrap());
            store.delete(Table::Catalog, &key, None).await.unwrap();
        }
        store.update(Table::Catalog, Update::new(product_key(&p.id)).remove("categories_indexed")).await.unwrap();
    }
    let catalog = catalog_on(store.clone());
    catalog.put_category("home", None).await;
    assert!(slugs(&catalog.list("category=home").await).is_empty(), "not indexed yet");

    TestRequest::patch(format!("/products/{}", lamp.id))
        .bearer(&catalog.auth.admin())
        .json(&json!({}))
        .send(&catalog.app)
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(slugs(&catalog.list("category=home").await), ["old-lamp"], "a save indexes its categories");

    let done = repo.reindex_all().await.unwrap();
    assert_eq!((done.products, done.indexed), (2, 1), "only the vase still needed it");
    assert_eq!(slugs(&catalog.list("category=home").await), ["old-vase", "old-lamp"]);
    assert_eq!(repo.reindex_all().await.unwrap().indexed, 0, "running it again writes nothing");
}
