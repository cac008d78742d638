//! `/products`: creating, reading, patching and archiving, image uploads, and their errors.

use std::sync::Arc;

use axum::http::StatusCode;
use nanoshop_api::testing::{CUSTOMER, TestRequest};
use nanoshop_schema::catalog::{PRODUCT_ID, SKUS, slug_key};
use nanoshop_store::counting::CountingStore;
use nanoshop_store::embedded::EmbeddedStore;
use nanoshop_store::{Item, Store, Table};
use serde_json::{Value, json};

use super::{Catalog, catalog, catalog_on};

pub(super) fn product(slug: &str, status: &str) -> Value {
    json!({
        "slug": slug, "title": format!("Product {slug}"), "status": status, "tags": ["demo"],
        "options": [{"name": "Size", "values": ["S", "M"]}],
        "variants": [
            {"sku": format!("{slug}-S").to_uppercase(), "options": {"Size": "S"}, "prices": [{"amount": 4900, "currency": "EUR"}]},
            {"sku": format!("{slug}-M").to_uppercase(), "options": {"Size": "M"}, "prices": [{"amount": 5400, "currency": "EUR"}]}
        ]
    })
}

impl Catalog {
    /// Creates `body` as an admin; answers the product.
    pub(super) async fn create(&self, body: &Value) -> Value {
        let reply = TestRequest::post("/products").bearer(&self.auth.admin()).json(body).send(&self.app).await;
        reply.assert_status(StatusCode::CREATED).clone()
    }
}

#[tokio::test]
async fn an_admin_creates_a_product_that_anyone_reads_by_id_or_slug() {
    let catalog = catalog();
    let reply = TestRequest::post("/products")
        .bearer(&catalog.auth.admin())
        .json(&product("linen", "active"))
        .send(&catalog.app)
        .await;
    let created = reply.assert_status(StatusCode::CREATED);
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("prod_"), "{created}");
    assert_eq!(reply.header("location"), Some(format!("/products/{id}").as_str()));
    assert_eq!(reply.header("etag"), Some("\"1\""));

    for path in [format!("/products/{id}"), "/products/linen".to_owned()] {
        let read = TestRequest::get(&path).send(&catalog.app).await;
        assert_eq!(read.assert_status(StatusCode::OK)["id"], id, "{path}");
    }
    let listed = TestRequest::get("/products").send(&catalog.app).await;
    assert_eq!(listed.assert_status(StatusCode::OK)["items"][0]["id"], id);
}

#[tokio::test]
async fn a_draft_is_hidden_from_shoppers_and_listed_by_status_for_admins_only() {
    let catalog = catalog();
    let draft = catalog.create(&product("draft", "draft")).await;
    let id = draft["id"].as_str().unwrap();
    TestRequest::get(format!("/products/{id}"))
        .send(&catalog.app)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let shoppers = TestRequest::get("/products").send(&catalog.app).await;
    assert_eq!(shoppers.assert_status(StatusCode::OK)["items"], json!([]));

    let admin = TestRequest::get("/products?status=draft").bearer(&catalog.auth.admin()).send(&catalog.app).await;
    assert_eq!(admin.assert_status(StatusCode::OK)["items"][0]["id"], id);
    let customer = catalog.auth.customer(CUSTOMER);
    TestRequest::get("/products?status=draft")
        .bearer(&customer)
        .send(&catalog.app)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    TestRequest::get("/products?status=sold")
        .bearer(&catalog.auth.admin())
        .send(&catalog.app)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_status");
}

#[tokio::test]
async fn a_bad_token_is_401_even_on_a_public_route() {
    let catalog = catalog();
    let reply = TestRequest::get("/products").bearer("not-a-jwt").send(&catalog.app).await;
    reply.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn invalid_products_are_422_naming_the_field() {
    let catalog = catalog();
    let admin = catalog.auth.admin();
    let mut untitled = product("untitled", "active");
    untitled["title"] = json!("");
    let reply = TestRequest::post("/products").bearer(&admin).json(&untitled).send(&catalog.app).await;
    reply.assert_field_error("validation_failed", "title");

    let mut unknown = product("unknown", "active");
    unknown["colour"] = json!("red");
    let reply = TestRequest::post("/products").bearer(&admin).json(&unknown).send(&catalog.app).await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
}

#[tokio::test]
async fn a_taken_slug_or_sku_is_a_409() {
    let catalog = catalog();
    catalog.create(&product("linen", "active")).await;
    let admin = catalog.auth.admin();
    let reply =
        TestRequest::post("/products").bearer(&admin).json(&product("linen", "active")).send(&catalog.app).await;
    reply.assert_problem(StatusCode::CONFLICT, "slug_taken");
    let mut same_skus = product("linen", "active");
    same_skus["slug"] = json!("other");
    let reply = TestRequest::post("/products").bearer(&admin).json(&same_skus).send(&catalog.app).await;
    reply.assert_problem(StatusCode::CONFLICT, "sku_taken");
}

#[tokio::test]
async fn a_patch_applies_at_the_current_version_and_a_stale_one_is_412() {
    let catalog = catalog();
    let id = catalog.create(&product("linen", "active")).await["id"].as_str().unwrap().to_owned();
    let admin = catalog.auth.admin();
    let path = format!("/products/{id}");
    let patched = TestRequest::patch(&path)
        .bearer(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"title": "Linen shirt"}))
        .send(&catalog.app)
        .await;
    assert_eq!(patched.assert_status(StatusCode::OK)["title"], "Linen shirt");
    assert_eq!(patched.header("etag"), Some("\"2\""));

    let stale = TestRequest::patch(&path)
        .bearer(&admin)
        .header("if-match", "\"1\"")
        .json(&json!({"title": "Lost"}))
        .send(&catalog.app)
        .await;
    stale.assert_problem(StatusCode::PRECONDITION_FAILED, "version_conflict");
    let missing = TestRequest::patch("/products/prod_01JF8Z3Q6V1N2K4M5P7R9T0W2X")
        .bearer(&admin)
        .json(&json!({"title": "x"}))
        .send(&catalog.app)
        .await;
    missing.assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn an_archived_product_is_gone_for_shoppers() {
    let catalog = catalog();
    let id = catalog.create(&product("linen", "active")).await["id"].as_str().unwrap().to_owned();
    let path = format!("/products/{id}");
    let archived = TestRequest::delete(&path).bearer(&catalog.auth.admin()).send(&catalog.app).await;
    assert_eq!(archived.status, StatusCode::NO_CONTENT, "{}", archived.body);
    TestRequest::get(&path).send(&catalog.app).await.assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn an_image_upload_is_presigned_for_an_allowed_type_only() {
    let catalog = catalog();
    let id = catalog.create(&product("linen", "active")).await["id"].as_str().unwrap().to_owned();
    let path = format!("/products/{id}/images");
    let admin = catalog.auth.admin();
    let upload = TestRequest::post(&path)
        .bearer(&admin)
        .json(&json!({"content_type": "image/png", "content_length": 1024}))
        .send(&catalog.app)
        .await;
    let body = upload.assert_status(StatusCode::CREATED);
    assert!(body["upload"]["url"].as_str().is_some_and(|u| u.starts_with("https://images.test/")), "{body}");

    let svg = TestRequest::post(&path)
        .bearer(&admin)
        .json(&json!({"content_type": "image/svg+xml", "content_length": 1024}))
        .send(&catalog.app)
        .await;
    svg.assert_field_error("validation_failed", "content_type");
}

/// A read by slug is the claim, then one batch of the product and its stock; a claim written
/// before claims listed SKUs, or one whose list is behind the product's SKUs, costs a third read
/// and still answers every variant's stock.
#[tokio::test]
async fn a_read_by_slug_is_two_calls_and_a_claim_without_the_skus_three() {
    let counting = Arc::new(CountingStore::new(Arc::new(EmbeddedStore::in_memory())));
    let catalog = catalog_on(counting.clone());
    let admin = catalog.auth.admin();
    catalog.create(&product("lamp", "active")).await;
    TestRequest::put("/inventory/LAMP-M").bearer(&admin).json(&json!({"on_hand": 7})).send(&catalog.app).await;
    let available = |read: &Value| {
        read["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["sku"].clone(), v["available"].clone()))
            .collect::<Vec<_>>()
    };
    let expected = [(json!("LAMP-S"), json!(0)), (json!("LAMP-M"), json!(7))];

    counting.take();
    let read = TestRequest::get("/products/lamp").send(&catalog.app).await;
    assert_eq!(available(read.assert_status(StatusCode::OK)), expected);
    let calls = counting.take();
    assert_eq!((calls.get, calls.batch_get, calls.total()), (1, 1, 2), "{calls:?}");

    // The claim as stored before it listed SKUs, then one listing a SKU fewer than the product has.
    for skus in [None, Some("LAMP-S")] {
        let mut claim =
            Item::new(&slug_key(&"lamp".parse().unwrap())).with(PRODUCT_ID, read.body["id"].as_str().unwrap());
        if let Some(skus) = skus {
            claim = claim.with(SKUS, skus);
        }
        counting.put(Table::Catalog, claim, None).await.unwrap();
        counting.take();
        let read = TestRequest::get("/products/lamp").send(&catalog.app).await;
        assert_eq!(available(read.assert_status(StatusCode::OK)), expected, "claim listing {skus:?}");
        assert_eq!(counting.take().total(), 3, "claim listing {skus:?}");
    }

    // A save lists the SKUs again, variants added included.
    let mut body = product("lamp", "active");
    body["options"][0]["values"] = json!(["S", "M", "L"]);
    body["variants"]
        .as_array_mut()
        .unwrap()
        .push(json!({"sku": "LAMP-L", "options": {"Size": "L"}, "prices": [{"amount": 5900, "currency": "EUR"}]}));
    let id = read.body["id"].as_str().unwrap().to_owned();
    TestRequest::patch(format!("/products/{id}"))
        .bearer(&admin)
        .json(&body)
        .send(&catalog.app)
        .await
        .assert_status(StatusCode::OK);
    counting.take();
    let read = TestRequest::get("/products/lamp").send(&catalog.app).await;
    assert_eq!(available(read.assert_status(StatusCode::OK)).len(), 3);
    assert_eq!(counting.take().total(), 2);
}
