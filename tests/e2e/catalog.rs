//! The catalog function end to end, as a merchant's admin and a storefront use it.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{TestApp, product};

/// The catalog's main flows; run on the embedded store here and on DynamoDB Local in `dynamodb`.
pub async fn catalog_scenario(t: &TestApp) {
    // Create: 201, Location, ETag, prices and zero stock.
    let created = t.json(Method::POST, "/products", Some(&t.admin), &product("linen-shirt", "LS", "active")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.headers.get(header::LOCATION).unwrap(), &format!("/products/{id}"));
    assert_eq!(created.etag(), "\"1\"");
    assert_eq!(
        created.body["variants"][1]["prices"],
        json!([{"amount": 5400, "currency": "EUR"}, {"amount": 6000, "currency": "USD"}])
    );
    assert_eq!(created.body["variants"][0]["available"], 0);

    // Stock shows on the product.
    let stock = t.json(Method::PUT, "/inventory/LS-S", Some(&t.admin), &json!({"on_hand": 12})).await;
    assert_eq!(stock.status, StatusCode::OK, "{}", stock.body);
    assert_eq!(stock.body, json!({"sku": "LS-S", "on_hand": 12, "reserved": 0, "available": 12}));
    let by_slug = t.get("/products/linen-shirt", None).await;
    assert_eq!(by_slug.status, StatusCode::OK);
    assert_eq!(by_slug.body["id"], id.as_str());
    assert_eq!(by_slug.body["variants"][0]["available"], 12);
    assert_eq!(t.get("/inventory/LS-S", Some(&t.admin)).await.body["on_hand"], 12);
    assert_eq!(t.get("/inventory/LS-S", Some(&t.customer)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.get("/inventory/NOPE", Some(&t.admin)).await.status, StatusCode::NOT_FOUND);

    // Patch: a stale If-Match is 412 and changes nothing; a fresh one merges.
    let stale = t
        .send(
            Method::PATCH,
            &format!("/products/{id}"),
            Some(&t.admin),
            &[("if-match", "\"7\"")],
            Some(json!({"title": "Lost"}).to_string().into()),
        )
        .await;
    assert_eq!((stale.status, stale.code()), (StatusCode::PRECONDITION_FAILED, "version_conflict"));
    let patched = t
        .send(
            Method::PATCH,
            &format!("/products/{id}"),
            Some(&t.admin),
            &[("if-match", "\"1\""), ("content-type", "application/merge-patch+json")],
            Some(json!({"title": "Linen shirt", "slug": "linen-shirt-2", "tags": null}).to_string().into()),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(
        (patched.body["title"].as_str(), patched.body["tags"].clone(), patched.etag()),
        (Some("Linen shirt"), json!([]), "\"2\"".to_owned())
    );
    assert_eq!(t.get("/products/linen-shirt", None).await.status, StatusCode::NOT_FOUND, "the old slug is released");
    assert_eq!(t.get("/products/linen-shirt-2", None).await.status, StatusCode::OK);

    // Slugs and SKUs are unique across the store.
    let taken = t.json(Method::POST, "/products", Some(&t.admin), &product("linen-shirt-2", "OTHER", "active")).await;
    assert_eq!((taken.status, taken.code()), (StatusCode::CONFLICT, "slug_taken"));
    let taken = t.json(Method::POST, "/products", Some(&t.admin), &product("other", "LS", "active")).await;
    assert_eq!((taken.status, taken.code()), (StatusCode::CONFLICT, "sku_taken"));
    let freed = t.json(Method::POST, "/products", Some(&t.admin), &product("linen-shirt", "LS2", "draft")).await;
    assert_eq!(freed.status, StatusCode::CREATED, "a released slug can be claimed again: {}", freed.body);

    // Drafts are for admins only; archive hides a product from everyone but admins.
    let draft_id = freed.body["id"].as_str().unwrap().to_owned();
    assert_eq!(t.get(&format!("/products/{draft_id}"), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/products/{draft_id}"), Some(&t.admin)).await.status, StatusCode::OK);
    let archived = t.send(Method::DELETE, &format!("/products/{id}"), Some(&t.admin), &[], None).await;
    assert_eq!(archived.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get(&format!("/products/{id}"), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/products/{id}"), Some(&t.admin)).await.body["status"], "archived");
    assert_eq!(
        t.send(Method::DELETE, &format!("/products/{id}"), Some(&t.admin), &[], None).await.status,
        StatusCode::NO_CONTENT,
        "archiving twice is fine"
    );
    let listed = t.get("/products?status=archived", Some(&t.admin)).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn catalog_works_end_to_end_on_the_embedded_store() {
    catalog_scenario(&TestApp::new()).await;
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn listing_pages_newest_first_with_tamper_checked_cursors() {
    let t = TestApp::new();
    let mut created = Vec::new();
    for i in 0..25 {
        let status = if i % 5 == 4 { "draft" } else { "active" };
        created.push((
            t.create_product(&product(&format!("p-{i}"), &format!("P{i}"), status)).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
            status,
        ));
    }
    let mut want: Vec<String> = created.iter().filter(|(_, s)| *s == "active").map(|(id, _)| id.clone()).collect();
    want.reverse();

    let mut seen = Vec::new();
    let mut path = "/products?limit=7".to_owned();
    let mut cursors = Vec::new();
    loop {
        let page = t.get(&path, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body["items"].as_array().unwrap().len() <= 7);
        seen.extend(ids(&page.body));
        match page.body["next_cursor"].as_str() {
            Some(c) => {
                cursors.push(c.to_owned());
                path = format!("/products?limit=7&cursor={c}");
            }
            None => break,
        }
    }
    assert_eq!(seen, want, "20 active products, newest first, each once");
    assert_eq!(cursors.len(), 2);

    // A tampered cursor, and a cursor of another listing, are refused.
    let mut tampered = cursors[0].clone();
    let flip = if tampered.ends_with('A') { 'B' } else { 'A' };
    tampered.pop();
    tampered.push(flip);
    let bad = t.get(&format!("/products?limit=7&cursor={tampered}"), None).await;
    assert_eq!((bad.status, bad.code()), (StatusCode::BAD_REQUEST, "invalid_cursor"));
    let other = t.get(&format!("/products?limit=7&q=product&cursor={}", cursors[0]), None).await;
    assert_eq!((other.status, other.code()), (StatusCode::BAD_REQUEST, "invalid_cursor"));

    // Only admins list by status.
    assert_eq!(t.get("/products?status=draft", None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(ids(&t.get("/products?status=draft&limit=100", Some(&t.admin)).await.body).len(), 5);
}

#[tokio::test]
async fn search_and_categories_filter_the_listing() {
    let t = TestApp::new();
    for (slug, name, parent) in
        [("apparel", "Apparel", None), ("shirts", "Shirts", Some("apparel")), ("home", "Home", None)]
    {
        let r = t
            .json(Method::PUT, &format!("/categories/{slug}"), Some(&t.admin), &json!({"name": name, "parent": parent}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let mut linen = product("linen-shirt", "LS", "active");
    linen["title"] = json!("Linen shirt");
    linen["categories"] = json!(["shirts"]);
    linen["tags"] = json!(["summer"]);
    t.create_product(&linen).await;
    let mut mug = product("mug", "MUG", "active");
    mug["title"] = json!("Stoneware mug");
    mug["categories"] = json!(["home"]);
    t.create_product(&mug).await;

    let titles = |v: &Value| {
        v["items"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(titles(&t.get("/products?q=linen", None).await.body), ["Linen shirt"]);
    assert_eq!(
        titles(&t.get("/products?q=SUMM", None).await.body),
        ["Linen shirt"],
        "tags match by word prefix, any case"
    );
    assert!(titles(&t.get("/products?q=wool", None).await.body).is_empty());
    assert_eq!(
        titles(&t.get("/products?category=apparel", None).await.body),
        ["Linen shirt"],
        "a parent category includes its children"
    );
    assert_eq!(titles(&t.get("/products?category=home&q=mug", None).await.body), ["Stoneware mug"]);

    let tree = t.get("/categories", None).await;
    assert_eq!(tree.body["items"][0]["slug"], "apparel");
    assert_eq!(tree.body["items"][0]["children"][0]["slug"], "shirts");
    let cycle = t
        .json(Method::PUT, "/categories/apparel", Some(&t.admin), &json!({"name": "Apparel", "parent": "shirts"}))
        .await;
    assert_eq!((cycle.status, cycle.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
}

#[tokio::test]
async fn settings_show_the_public_part_to_everyone_and_all_to_admins() {
    let t = TestApp::new();
    let body = json!({
        "currencies": ["EUR", "USD"], "prices_include_tax": true,
        "tax_rates": [{"country": "DE", "rate": "0.19"}],
        "shipping_zones": [{"name": "EU", "countries": ["DE", "FR"], "methods": [
            {"id": "standard", "name": "Standard", "prices": [{"amount": 490, "currency": "EUR"}], "free_over": [{"amount": 5000, "currency": "EUR"}]}]}]
    });
    let put = t.json(Method::PUT, "/settings", Some(&t.admin), &body).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.etag(), "\"1\"");
    let public = t.get("/settings", None).await;
    assert_eq!(
        public.body,
        json!({"currencies": ["EUR", "USD"], "default_currency": "EUR", "countries": ["DE", "FR"], "prices_include_tax": true})
    );
    let full = t.get("/settings", Some(&t.admin)).await;
    assert_eq!(full.body["tax_rates"], json!([{"country": "DE", "region": null, "rate": "0.19"}]));
    let stale =
        t.send(Method::PUT, "/settings", Some(&t.admin), &[("if-match", "\"0\"")], Some(body.to_string().into())).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
}

#[tokio::test]
async fn every_documented_route_is_served_and_described() {
    let t = TestApp::new();
    let doc = t.get("/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    for (_, routes) in nanoshop::openapi::routes() {
        for route in routes {
            assert!(
                doc.body["paths"][nanoshop::openapi::document_path(route.path)][route.method.to_lowercase()]
                    .is_object(),
                "{} {} is not in the OpenAPI document",
                route.method,
                route.path
            );
            let path = route
                .path
                .replace("{id_or_slug}", "x")
                .replace("{id}", "prod_01J00000000000000000000000")
                .replace("{slug}", "x")
                .replace("{sku}", "X");
            let method = Method::from_bytes(route.method.as_bytes()).unwrap();
            let reply = t.send(method, &path, Some(&t.admin), &[], None).await;
            let unrouted = reply.code() == "method_not_allowed"
                || reply.body["detail"].as_str().is_some_and(|d| d.starts_with("no route matches"));
            assert!(!unrouted, "{} {} is documented but not routed: {}", route.method, route.path, reply.body);
        }
    }
    // Each operation says what it answers, and every schema it names exists.
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path} documents no success");
            assert!(responses.contains_key("404") && responses.contains_key("500"), "{method} {path} errors");
        }
    }
    let text = doc.body.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(doc.body["components"]["schemas"][name].is_object(), "`{name}` is referenced but not defined");
    }
    let health = t.get("/health", None).await;
    assert_eq!(health.body["status"], "ok");
    assert!(health.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn catalog_reads_make_few_round_trips() {
    let t = TestApp::new();
    let id = t.create_product(&product("counted", "CNT", "active")).await["id"].as_str().unwrap().to_owned();
    t.json(Method::PUT, "/inventory/CNT-S", Some(&t.admin), &json!({"on_hand": 3})).await;
    let mut rows = Vec::new();
    let mut measure =
        |name: &'static str, counts: nanoshop_store::counting::Counts| rows.push((name, counts.total(), counts));
    t.counting.take();
    t.get(&format!("/products/{id}"), None).await;
    measure("GET /products/{id}", t.counting.take());
    t.get("/products/counted", None).await;
    measure("GET /products/{slug}", t.counting.take());
    t.get("/products", None).await;
    measure("GET /products", t.counting.take());
    t.get("/products?q=counted", None).await;
    measure("GET /products?q=", t.counting.take());
    t.get("/categories", None).await;
    measure("GET /categories", t.counting.take());
    t.get("/settings", None).await;
    measure("GET /settings", t.counting.take());
    t.get("/inventory/CNT-S", Some(&t.admin)).await;
    measure("GET /inventory/{sku}", t.counting.take());
    t.json(Method::PUT, "/inventory/CNT-S", Some(&t.admin), &json!({"on_hand": 4})).await;
    measure("PUT /inventory/{sku}", t.counting.take());
    t.create_product(&product("counted-2", "CNT2", "active")).await;
    measure("POST /products", t.counting.take());
    t.json(Method::PATCH, &format!("/products/{id}"), Some(&t.admin), &json!({"title": "Counted"})).await;
    measure("PATCH /products/{id}", t.counting.take());
    eprintln!("\nDynamoDB round trips per catalog request (batch gets count once):");
    for (name, total, c) in &rows {
        eprintln!(
            "  {name:<24} {total}  (get {}, batch_get {}, query {}, put {}, update {}, transact {})",
            c.get, c.batch_get, c.query, c.put, c.update, c.transact
        );
    }
    let totals: Vec<(&str, u64)> = rows.iter().map(|(n, t, _)| (*n, *t)).collect();
    assert_eq!(
        totals,
        [
            ("GET /products/{id}", 2),
            ("GET /products/{slug}", 2),
            ("GET /products", 2),
            ("GET /products?q=", 3),
            ("GET /categories", 1),
            ("GET /settings", 1),
            ("GET /inventory/{sku}", 1),
            ("PUT /inventory/{sku}", 2),
            ("POST /products", 2),
            ("PATCH /products/{id}", 3),
        ]
    );
}

#[tokio::test]
async fn the_app_serves_real_http_with_request_ids() {
    let t = TestApp::new();
    t.create_product(&product("over-http", "HTTP", "active")).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, t.app.clone()).into_future());
    let http = reqwest::Client::new();

    let reply = http.get(format!("http://{addr}/products")).header("x-request-id", "trace-me.1").send().await.unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["x-request-id"], "trace-me.1", "a well-formed client request id is kept");
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["items"][0]["slug"], "over-http");

    // A body over 64 KiB is refused as problem+json before any handler sees it.
    let chunks = oversized_json(80 * 1024);
    let reply = http
        .post(format!("http://{addr}/products"))
        .bearer_auth(&t.admin)
        .header("content-type", "application/json")
        .body(reqwest::Body::from(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 413);
    assert_eq!(reply.headers()["content-type"], "application/problem+json");
    server.abort();
}

fn oversized_json(len: usize) -> Vec<u8> {
    let mut body = b"{\"slug\": \"".to_vec();
    body.resize(len, b'a');
    body
}

/// Search through the word index, on the embedded store here and on DynamoDB Local in
/// `dynamodb`: a word of one product among 600 (the oldest, beyond the five pages of 100 the
/// listing reads per request) is one query; a common word fills every page and its cursor walks
/// each hit once; prefixes match; a renamed or archived product is not found by its old word.
pub async fn search_scenario(t: &TestApp) {
    use nanoshop_catalog::repo::CatalogRepository;
    use nanoshop_domain::catalog::{Product, ProductStatus, UncheckedProduct, UncheckedVariant};
    use nanoshop_domain::ids::ProductId;

    // A small tree: `tops` and `scarves` under `clothing`.
    for (slug, parent) in [("clothing", None), ("tops", Some("clothing")), ("scarves", Some("clothing"))] {
        let r = t
            .json(Method::PUT, &format!("/categories/{slug}"), Some(&t.admin), &json!({"name": slug, "parent": parent}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let shop = |slug: String, title: &str, categories: &[&str]| {
        let input = UncheckedProduct {
            slug: slug.clone(),
            title: title.to_owned(),
            status: ProductStatus::Active,
            categories: categories.iter().map(|c| (*c).to_owned()).collect(),
            variants: vec![UncheckedVariant {
                sku: slug.to_uppercase(),
                prices: vec![(4900, "EUR".into())],
                ..UncheckedVariant::default()
            }],
            ..UncheckedProduct::default()
        };
        Product::create(ProductId::generate(), input, chrono::Utc::now()).unwrap()
    };
    let repo = CatalogRepository::new(t.counting.clone());
    let rare = shop("rare".into(), "Zephyr scarf", &["scarves"]);
    repo.create_products(std::slice::from_ref(&rare)).await.unwrap();
    // Every third shirt is in `tops`, every fifth in `clothing` itself (so some are in both).
    let categories_of = |i: usize| match (i.is_multiple_of(3), i.is_multiple_of(5)) {
        (true, true) => vec!["tops", "clothing"],
        (true, false) => vec!["tops"],
        (false, true) => vec!["clothing"],
        (false, false) => vec![],
    };
    let shirts: Vec<Product> =
        (0..600).map(|i| shop(format!("shirt-{i}"), "Cotton shirt", &categories_of(i))).collect();
    repo.create_products(&shirts).await.unwrap();

    let slugs = |v: &Value| {
        v["items"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    t.counting.take();
    let found = t.get("/products?q=zephyr", None).await;
    assert_eq!((slugs(&found.body), &found.body["next_cursor"]), (vec!["rare".to_owned()], &Value::Null));
    let calls = t.counting.take();
    assert_eq!((calls.query, calls.batch_get, calls.total()), (1, 2, 3), "{calls:?}");
    assert_eq!(slugs(&t.get("/products?q=ZEP", None).await.body), ["rare"], "a prefix, any case");
    assert!(slugs(&t.get("/products?q=ephyr", None).await.body).is_empty(), "words match from their start");

    let mut seen = Vec::new();
    let mut path = "/products?q=cotton&limit=100".to_owned();
    t.counting.take();
    loop {
        let page = t.get(&path, None).await;
        let page_slugs = slugs(&page.body);
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(page_slugs.len(), 100, "a page with a cursor is full");
                path = format!("/products?q=cotton&limit=100&cursor={cursor}");
            }
            None => {
                assert_eq!(page_slugs.len(), 100, "600 hits are six full pages, with no empty seventh");
                seen.extend(page_slugs);
                break;
            }
        }
        seen.extend(page_slugs);
        assert_eq!(t.counting.take().total(), 3, "each page one round: query, products, stock");
    }
    let want: Vec<String> = (0..600).rev().map(|i| format!("shirt-{i}")).collect();
    assert_eq!(seen, want, "newest first, each once");

    // A category listing reads the category index: the rare category's one product at once, and
    // the parent's pages full, merged from its own partition and its children's.
    t.counting.take();
    let scarves = t.get("/products?category=scarves", None).await;
    assert_eq!((slugs(&scarves.body), &scarves.body["next_cursor"]), (vec!["rare".to_owned()], &Value::Null));
    let calls = t.counting.take();
    assert_eq!(
        (calls.query, calls.batch_get, calls.total()),
        (2, 2, 4),
        "the tree, the category's index, its products and their stock: {calls:?}"
    );
    let mut seen = Vec::new();
    let mut path = "/products?category=clothing&limit=50".to_owned();
    loop {
        let page = t.get(&path, None).await;
        let page_slugs = slugs(&page.body);
        assert_eq!(t.counting.take().total(), 6, "the tree, three partitions, products, stock");
        seen.extend(page_slugs.iter().cloned());
        let Some(cursor) = page.body["next_cursor"].as_str() else { break };
        assert_eq!(page_slugs.len(), 50, "a page with a cursor is full");
        path = format!("/products?category=clothing&limit=50&cursor={cursor}");
    }
    let mut want: Vec<String> =
        (0..600).rev().filter(|i| !categories_of(*i).is_empty()).map(|i| format!("shirt-{i}")).collect();
    want.push("rare".into());
    assert_eq!(seen, want, "newest first, each once, a product in a category and its parent too");
    let listing_cursor = t.get("/products?limit=1", None).await.body["next_cursor"].as_str().unwrap().to_owned();
    let crossed = t.get(&format!("/products?category=clothing&cursor={listing_cursor}"), None).await;
    assert_eq!(crossed.status, StatusCode::BAD_REQUEST, "a listing's cursor is not a category listing's");

    let id = rare.id.as_str();
    let renamed =
        t.json(Method::PATCH, &format!("/products/{id}"), Some(&t.admin), &json!({"title": "Boreal scarf"})).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert!(slugs(&t.get("/products?q=zephyr", None).await.body).is_empty(), "the old word is gone");
    assert_eq!(slugs(&t.get("/products?q=boreal", None).await.body), ["rare"]);
    let archived = t.send(Method::DELETE, &format!("/products/{id}"), Some(&t.admin), &[], None).await;
    assert_eq!(archived.status, StatusCode::NO_CONTENT);
    assert!(slugs(&t.get("/products?q=boreal", None).await.body).is_empty(), "archived");
    assert!(slugs(&t.get("/products?category=scarves", None).await.body).is_empty(), "archived, out of its category");
    let admin = t.get("/products?q=boreal&status=archived", Some(&t.admin)).await;
    assert_eq!(slugs(&admin.body), ["rare"]);
}

#[tokio::test]
async fn search_finds_a_rare_word_in_one_query_and_fills_its_pages() {
    search_scenario(&TestApp::new()).await;
}
