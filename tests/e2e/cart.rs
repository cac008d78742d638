//! The cart function end to end: guest carts, pricing from the catalog, discounts, shipping and
//! tax, claims, concurrency and round trips.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Reply, TestApp};

/// A store selling in EUR and USD, shipping to DE and FR, 19 % VAT included in prices, with
/// `count` single-variant products `P0..` at 10.00 EUR, 5 in stock each.
pub async fn shop(t: &TestApp, count: usize) {
    let settings = json!({
        "currencies": ["EUR", "USD"], "prices_include_tax": true,
        "tax_rates": [{"country": "DE", "rate": "0.19"}, {"country": "FR", "rate": "0.20"}],
        "shipping_zones": [{"name": "EU", "countries": ["DE", "FR"], "methods": [
            {"id": "standard", "name": "Standard", "prices": [{"amount": 490, "currency": "EUR"}], "free_over": [{"amount": 5000, "currency": "EUR"}]},
            {"id": "express", "name": "Express", "prices": [{"amount": 1290, "currency": "EUR"}]}]}]
    });
    let put = t.json(Method::PUT, "/settings", Some(&t.admin), &settings).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    for i in 0..count {
        let body = json!({"slug": format!("p-{i}"), "title": format!("Product {i}"), "status": "active",
                          "variants": [{"sku": format!("P{i}"), "prices": [{"amount": 1000, "currency": "EUR"}]}]});
        t.create_product(&body).await;
        let stock = t.json(Method::PUT, &format!("/inventory/P{i}"), Some(&t.admin), &json!({"on_hand": 5})).await;
        assert_eq!(stock.status, StatusCode::OK);
    }
}

pub struct GuestCart {
    pub id: String,
    pub token: String,
}

pub async fn guest_cart(t: &TestApp, items: Value) -> GuestCart {
    let reply = t.json(Method::POST, "/carts", None, &json!({"currency": "EUR", "items": items})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    GuestCart {
        id: reply.body["id"].as_str().unwrap().to_owned(),
        token: reply.body["token"].as_str().unwrap().to_owned(),
    }
}

impl GuestCart {
    pub async fn send(&self, t: &TestApp, method: Method, path: &str, body: Option<Value>) -> Reply {
        let path = format!("/carts/{}{path}", self.id);
        let headers = [("x-cart-token", self.token.as_str())];
        t.send(method, &path, None, &headers, body.map(|b| b.to_string().into())).await
    }

    /// `POST /carts/{id}/claim` with this cart's token, as the holder of `jwt` (if any).
    pub async fn claim(&self, t: &TestApp, jwt: Option<&str>) -> Reply {
        let headers = [("x-cart-token", self.token.as_str())];
        t.send(Method::POST, &format!("/carts/{}/claim", self.id), jwt, &headers, None).await
    }
}

fn amount(v: &Value) -> i64 {
    v["amount"].as_i64().unwrap()
}

/// Guest cart → items → discount → shipping → claim after login, as a storefront does it.
pub async fn cart_scenario(t: &TestApp) {
    shop(t, 3).await;
    let cart = guest_cart(t, json!([{"sku": "P0", "quantity": 2}])).await;

    // Read with the token; anyone else sees nothing.
    let read = cart.send(t, Method::GET, "", None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert!(read.body.get("token").is_none(), "the token is shown only once");
    assert_eq!(amount(&read.body["totals"]["subtotal"]), 2000);
    assert_eq!(read.body["items"][0]["title"], "Product 0");
    assert_eq!(t.get(&format!("/carts/{}", cart.id), None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(t.get("/carts/cart_01M9730DAH83EZ1SZBA819VNSW", None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(t.get(&format!("/carts/{}", cart.id), Some(&t.customer)).await.status, StatusCode::NOT_FOUND);
    let other = guest_cart(t, json!([])).await;
    let wrong = t
        .send(Method::GET, &format!("/carts/{}", cart.id), None, &[("x-cart-token", other.token.as_str())], None)
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);

    // Lines merge by SKU; stock beyond what is available marks the line, outside the totals.
    let added = cart.send(t, Method::POST, "/items", Some(json!({"sku": "P0", "quantity": 1}))).await;
    assert_eq!(added.body["items"][0]["quantity"], 3, "{}", added.body);
    let added = cart.send(t, Method::POST, "/items", Some(json!({"sku": "P1", "quantity": 9}))).await;
    assert_eq!(added.body["items"][1]["available"], false);
    assert_eq!(added.body["items"][1]["unavailable_reason"], "insufficient_stock");
    assert_eq!(added.body["items"][1]["available_quantity"], 5);
    assert_eq!(amount(&added.body["totals"]["subtotal"]), 3000, "the unavailable line is left out");
    let set = cart.send(t, Method::PATCH, "/items/P1", Some(json!({"quantity": 4}))).await;
    assert_eq!(
        (set.body["items"][1]["available"].clone(), amount(&set.body["totals"]["subtotal"])),
        (json!(true), 7000)
    );
    let removed = cart.send(t, Method::PATCH, "/items/P1", Some(json!({"quantity": 0}))).await;
    assert_eq!(removed.body["items"].as_array().map(Vec::len), Some(1));

    // A percentage code; a wrong one is refused and changes nothing.
    let code = t
        .json(
            Method::POST,
            "/discounts",
            Some(&t.admin),
            &json!({"code": "spring10", "kind": "percentage", "percentage": "0.10"}),
        )
        .await;
    assert_eq!(code.status, StatusCode::CREATED, "{}", code.body);
    let bad = cart.send(t, Method::PUT, "/discount", Some(json!({"code": "WINTER99"}))).await;
    assert_eq!((bad.status, bad.code()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_discount"));
    let applied = cart.send(t, Method::PUT, "/discount", Some(json!({"code": "Spring10"}))).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.body);
    assert_eq!(applied.body["discount"]["code"], "SPRING10");
    assert_eq!(amount(&applied.body["discount"]["amount"]), 300);

    // Shipping to Germany: options for the address; tax included at 19 %.
    let address = json!({"name": "Ada", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "DE"});
    let nowhere = cart.send(t, Method::PUT, "/shipping", Some(json!({"address": {"name": "Ada", "line1": "1 Main St", "city": "Austin", "postal_code": "78701", "country": "US"}}))).await;
    assert_eq!((nowhere.status, nowhere.code()), (StatusCode::UNPROCESSABLE_ENTITY, "country_not_shipped"));
    let no_method =
        cart.send(t, Method::PUT, "/shipping", Some(json!({"address": address, "method": "teleport"}))).await;
    assert_eq!((no_method.status, no_method.code()), (StatusCode::UNPROCESSABLE_ENTITY, "shipping_method_unavailable"));
    let shipped = cart.send(t, Method::PUT, "/shipping", Some(json!({"address": address, "method": "standard"}))).await;
    assert_eq!(shipped.status, StatusCode::OK, "{}", shipped.body);
    let totals = &shipped.body["totals"];
    assert_eq!(shipped.body["shipping_options"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        (amount(&totals["subtotal"]), amount(&totals["discount"]), amount(&totals["shipping"])),
        (3000, 300, 490)
    );
    assert_eq!(amount(&totals["total"]), 3000 - 300 + 490, "prices include tax, so tax is not added");
    // 19 % contained in 27.00 of goods and 4.90 of shipping, each part rounded once.
    assert_eq!(amount(&totals["tax"]), 431 + 78);

    // Sign in and claim: the cart becomes the customer's, and the guest token stops working.
    let claim = cart.claim(t, Some(&t.customer)).await;
    assert_eq!(claim.status, StatusCode::OK, "{}", claim.body);
    assert_eq!(claim.body["customer_id"], "cust_1");
    let again = cart.claim(t, Some(&t.customer)).await;
    assert_eq!(
        (again.status, again.body["id"].clone()),
        (StatusCode::OK, claim.body["id"].clone()),
        "a repeated claim answers the same"
    );
    assert_eq!(
        cart.send(t, Method::GET, "", None).await.status,
        StatusCode::NOT_FOUND,
        "the guest token no longer opens a customer's cart"
    );
    let mine = t.get("/me/cart", Some(&t.customer)).await;
    assert_eq!((mine.status, mine.body["id"].as_str()), (StatusCode::OK, Some(cart.id.as_str())));

    // A second guest cart claimed into the existing one merges, capped by stock, and is gone.
    let second = guest_cart(t, json!([{"sku": "P0", "quantity": 4}, {"sku": "P2", "quantity": 1}])).await;
    let merged = second.claim(t, Some(&t.customer)).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    assert_eq!(merged.body["id"].as_str(), Some(cart.id.as_str()));
    assert_eq!(merged.body["items"][0]["quantity"], 5, "3 + 4 capped by the 5 in stock");
    assert_eq!(merged.body["items"][1]["sku"], "P2");
    assert_eq!(second.send(t, Method::GET, "", None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_guest_buys_into_a_cart_and_claims_it_on_the_embedded_store() {
    cart_scenario(&TestApp::new()).await;
}

/// 20 requests adding 20 different SKUs to one cart at once, on 4 threads: every line is there at
/// the end, because each change is conditional on the version it read and retried when it lost.
pub async fn concurrent_adds(t: std::sync::Arc<TestApp>) {
    shop(&t, 20).await;
    let cart = std::sync::Arc::new(guest_cart(&t, json!([])).await);
    let adds: Vec<_> = (0..20)
        .map(|i| {
            let (t, cart) = (t.clone(), cart.clone());
            tokio::spawn(async move {
                cart.send(&t, Method::POST, "/items", Some(json!({"sku": format!("P{i}"), "quantity": 1}))).await
            })
        })
        .collect();
    for add in adds {
        let reply = add.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let end = cart.send(&t, Method::GET, "", None).await;
    assert_eq!(end.body["items"].as_array().map(Vec::len), Some(20), "{}", end.body);
    assert_eq!(end.body["version"], 21, "one version per change, none lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_adds_all_land_on_the_embedded_store() {
    concurrent_adds(std::sync::Arc::new(TestApp::new())).await;
}

#[tokio::test]
async fn bad_cart_input_gets_problems_and_changes_nothing() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    let store = t.embedded.clone().unwrap();
    let before = store.snapshot();
    for (name, method, path, body, status, code) in [
        ("quantity 0", Method::POST, "/items", json!({"sku": "P0", "quantity": 0}), 422, "validation_failed"),
        ("quantity 100", Method::POST, "/items", json!({"sku": "P0", "quantity": 100}), 422, "validation_failed"),
        ("quantity -1", Method::POST, "/items", json!({"sku": "P0", "quantity": -1}), 422, "validation_failed"),
        (
            "quantity 2^63",
            Method::POST,
            "/items",
            json!({"sku": "P0", "quantity": 9223372036854775808u64}),
            422,
            "invalid_body",
        ),
        ("quantity 1.5", Method::POST, "/items", json!({"sku": "P0", "quantity": 1.5}), 422, "invalid_body"),
        ("line over 99", Method::POST, "/items", json!({"sku": "P0", "quantity": 99}), 422, "validation_failed"),
        ("unknown SKU", Method::POST, "/items", json!({"sku": "NOPE", "quantity": 1}), 422, "unknown_sku"),
        ("malformed SKU", Method::POST, "/items", json!({"sku": "no spaces", "quantity": 1}), 422, "validation_failed"),
        ("missing line", Method::PATCH, "/items/P9", json!({"quantity": 1}), 404, "not_found"),
        ("bad code", Method::PUT, "/discount", json!({"code": "?"}), 422, "invalid_discount"),
        (
            "bad address",
            Method::PUT,
            "/shipping",
            json!({"address": {"name": "", "line1": "x", "city": "x", "postal_code": "x", "country": "Germany"}}),
            422,
            "validation_failed",
        ),
        ("unknown field", Method::POST, "/items", json!({"sku": "P0", "quantity": 1, "price": 1}), 422, "invalid_body"),
    ] {
        let reply = cart.send(&t, method, path, Some(body)).await;
        assert_eq!((reply.status.as_u16(), reply.code()), (status, code), "{name}: {}", reply.body);
        assert_eq!(
            reply.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{name}"
        );
    }
    let creates = [
        (json!({"currency": "XYZ"}), 422, "validation_failed"),
        (json!({"currency": "JPY"}), 422, "unsupported_currency"),
        (json!({"currency": "EUR", "items": [{"sku": "NOPE", "quantity": 1}]}), 422, "unknown_sku"),
        (json!({"currency": "EUR", "items": [{"sku": "P0", "quantity": 0}]}), 422, "validation_failed"),
    ];
    for (body, status, code) in creates {
        let reply = t.json(Method::POST, "/carts", None, &body).await;
        assert_eq!((reply.status.as_u16(), reply.code()), (status, code), "{body}: {}", reply.body);
    }
    let no_token = t
        .send(
            Method::POST,
            &format!("/carts/{}/items", cart.id),
            None,
            &[],
            Some(json!({"sku": "P0", "quantity": 1}).to_string().into()),
        )
        .await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    let claim_without_login = cart.claim(&t, None).await;
    assert_eq!(claim_without_login.status, StatusCode::UNAUTHORIZED);
    // Signed in but without the guest's token: nothing to prove the cart is theirs to claim.
    let path = format!("/carts/{}/claim", cart.id);
    let claim_without_token = t.send(Method::POST, &path, Some(&t.customer), &[], None).await;
    assert_eq!(claim_without_token.status, StatusCode::UNAUTHORIZED, "{}", claim_without_token.body);
    assert!(store.snapshot() == before, "a refused cart request changed the store");
}

#[tokio::test]
async fn expired_carts_are_gone() {
    use nanoshop_store::{Store, Table};
    let t = TestApp::new();
    shop(&t, 1).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    let store = t.embedded.clone().unwrap();
    let key = nanoshop_store::Key::new(format!("CART#{}", cart.id), "CART");
    let item = store.get(Table::Carts, &key).await.unwrap().unwrap();
    store
        .put(Table::Carts, item.with(nanoshop_store::port::EXPIRES_AT, nanoshop_store::port::now_unix() - 1), None)
        .await
        .unwrap();
    assert_eq!(cart.send(&t, Method::GET, "", None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        cart.send(&t, Method::POST, "/items", Some(json!({"sku": "P0", "quantity": 1}))).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn cart_reads_take_two_round_trips_and_changes_three() {
    let t = TestApp::new();
    shop(&t, 2).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    t.json(
        Method::POST,
        "/discounts",
        Some(&t.admin),
        &json!({"code": "TEN", "kind": "percentage", "percentage": "0.10"}),
    )
    .await;
    cart.send(&t, Method::PUT, "/discount", Some(json!({"code": "TEN"}))).await;
    t.counting.take();
    cart.send(&t, Method::GET, "", None).await;
    let read = t.counting.take();
    cart.send(&t, Method::POST, "/items", Some(json!({"sku": "P1", "quantity": 1}))).await;
    let add = t.counting.take();
    cart.send(&t, Method::PATCH, "/items/P1", Some(json!({"quantity": 2}))).await;
    let set = t.counting.take();
    eprintln!("\nDynamoDB round trips per cart request (batch gets count once):");
    eprintln!("  GET /carts/{{id}}              {}", read.total());
    eprintln!("  POST /carts/{{id}}/items       {}", add.total());
    eprintln!("  PATCH /carts/{{id}}/items/{{sku}} {}", set.total());
    assert_eq!((read.get, read.batch_get, read.total()), (1, 1, 2));
    assert_eq!((add.get, add.batch_get, add.put, add.total()), (1, 1, 1, 3));
    assert_eq!(set.total(), 3);
}

#[tokio::test]
async fn shipping_options_show_what_they_cost_this_cart() {
    let t = TestApp::new();
    shop(&t, 1).await;
    t.json(Method::PUT, "/inventory/P0", Some(&t.admin), &json!({"on_hand": 50})).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 5}])).await;
    let address = json!({"name": "Ada", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "DE"});
    let reply = cart.send(&t, Method::PUT, "/shipping", Some(json!({"address": address}))).await;
    let price = |id: &str| {
        reply.body["shipping_options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == id)
            .map(|o| amount(&o["price"]))
            .unwrap()
    };
    assert_eq!((price("standard"), price("express")), (0, 1290), "standard is free from 50.00 EUR: {}", reply.body);
}
