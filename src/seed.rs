//! The demo catalog `nanoshop serve` seeds into an empty store (and `nanoshop seed` on demand).
//!
//! It is written through the public API as an admin, so the demo data passes exactly the
//! validation a merchant's own data does.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Sends one request to the app and returns the JSON body of a 2xx answer.
async fn call(app: &Router, token: &str, method: Method, path: &str, body: &Value) -> anyhow::Result<Value> {
    let request = Request::builder()
        .method(method.clone())
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(body)?))?;
    let response = app.clone().oneshot(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    let value: Value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes)? };
    anyhow::ensure!(status.is_success(), "{method} {path} answered {status}: {value}");
    Ok(value)
}

/// Whether the store already has products of any status.
async fn has_products(app: &Router, token: &str) -> anyhow::Result<bool> {
    for status in ["active", "draft", "archived"] {
        let page = call(app, token, Method::GET, &format!("/products?limit=1&status={status}"), &Value::Null).await?;
        if page["items"].as_array().is_some_and(|items| !items.is_empty()) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn eur_usd(eur: i64, usd: i64) -> Value {
    json!([{"amount": eur, "currency": "EUR"}, {"amount": usd, "currency": "USD"}])
}

/// Products of the demo store: (body, stock per variant).
fn products() -> Vec<(Value, Vec<i64>)> {
    let sizes = ["S", "M", "L"];
    let sized = |prefix: &str, eur: i64, usd: i64| -> Value {
        sizes.iter().map(|s| json!({"sku": format!("{prefix}-{s}"), "options": {"Size": s}, "prices": eur_usd(eur, usd), "weight_grams": 300})).collect()
    };
    vec![
        (
            json!({"slug": "linen-shirt", "title": "Linen shirt", "description": "A breathable shirt of European linen.", "status": "active",
                   "categories": ["shirts"], "tags": ["summer", "linen"], "options": [{"name": "Size", "values": sizes}], "variants": sized("LS", 4900, 5400)}),
            vec![12, 20, 8],
        ),
        (
            json!({"slug": "oxford-shirt", "title": "Oxford shirt", "description": "Heavy cotton oxford weave, button-down collar.", "status": "active",
                   "categories": ["shirts"], "tags": ["cotton", "classic"], "options": [{"name": "Size", "values": sizes}], "variants": sized("OX", 5900, 6500)}),
            vec![5, 9, 3],
        ),
        (
            json!({"slug": "chino-trousers", "title": "Chino trousers", "description": "Garment-dyed twill chinos.", "status": "active",
                   "categories": ["trousers"], "tags": ["cotton"], "options": [{"name": "Size", "values": sizes}], "variants": sized("CH", 7900, 8900)}),
            vec![7, 7, 7],
        ),
        (
            json!({"slug": "stoneware-mug", "title": "Stoneware mug", "description": "Hand-glazed, 350 ml.", "status": "active",
                   "categories": ["kitchen"], "tags": ["ceramic", "gift"],
                   "options": [{"name": "Colour", "values": ["Sand", "Slate"]}],
                   "variants": [
                       {"sku": "MUG-SAND", "options": {"Colour": "Sand"}, "prices": eur_usd(1800, 2000), "weight_grams": 400},
                       {"sku": "MUG-SLATE", "options": {"Colour": "Slate"}, "prices": eur_usd(1800, 2000), "weight_grams": 400}]}),
            vec![30, 2],
        ),
        (
            json!({"slug": "linen-tea-towel", "title": "Linen tea towel", "description": "Absorbent, gets softer with every wash.", "status": "active",
                   "categories": ["kitchen"], "tags": ["linen", "gift"],
                   "variants": [{"sku": "TOWEL", "prices": eur_usd(1200, 1400), "weight_grams": 120}]}),
            vec![50],
        ),
        (
            json!({"slug": "gift-card-sample", "title": "Sample gift card (draft)", "description": "Not for sale yet.", "status": "draft",
                   "tags": ["gift"], "variants": [{"sku": "GIFT-25", "prices": eur_usd(2500, 2500)}]}),
            vec![0],
        ),
    ]
}

/// Seeds the demo store unless it already has products. Returns how many products it created.
///
/// # Errors
/// A seed request was refused (a bug in the demo data) or the store failed.
pub async fn seed(app: &Router, admin_token: &str) -> anyhow::Result<usize> {
    if has_products(app, admin_token).await? {
        return Ok(0);
    }
    let settings = json!({
        "currencies": ["EUR", "USD"],
        "prices_include_tax": true,
        "tax_rates": [{"country": "DE", "rate": "0.19"}, {"country": "FR", "rate": "0.20"}, {"country": "NL", "rate": "0.21"},
                      {"country": "AT", "rate": "0.20"}, {"country": "US", "region": "CA", "rate": "0.0725"}, {"country": "US", "rate": "0"}],
        "shipping_zones": [
            {"name": "EU", "countries": ["DE", "FR", "NL", "AT"], "methods": [
                {"id": "standard", "name": "Standard (3–5 days)", "prices": [{"amount": 490, "currency": "EUR"}, {"amount": 550, "currency": "USD"}],
                 "free_over": [{"amount": 7500, "currency": "EUR"}]},
                {"id": "express", "name": "Express (1–2 days)", "prices": [{"amount": 1290, "currency": "EUR"}, {"amount": 1400, "currency": "USD"}]}]},
            {"name": "United States", "countries": ["US"], "methods": [
                {"id": "standard", "name": "Standard (5–8 days)", "prices": [{"amount": 900, "currency": "EUR"}, {"amount": 995, "currency": "USD"}],
                 "free_over": [{"amount": 15000, "currency": "USD"}]}]}
        ]
    });
    call(app, admin_token, Method::PUT, "/settings", &settings).await?;
    for (slug, name, parent) in [
        ("apparel", "Apparel", None),
        ("shirts", "Shirts", Some("apparel")),
        ("trousers", "Trousers", Some("apparel")),
        ("home", "Home", None),
        ("kitchen", "Kitchen", Some("home")),
    ] {
        call(app, admin_token, Method::PUT, &format!("/categories/{slug}"), &json!({"name": name, "parent": parent}))
            .await?;
    }
    let products = products();
    let count = products.len();
    for (body, stock) in products {
        call(app, admin_token, Method::POST, "/products", &body).await?;
        let skus = body["variants"]
            .as_array()
            .map(|v| v.iter().filter_map(|v| v["sku"].as_str().map(str::to_owned)).collect::<Vec<_>>())
            .unwrap_or_default();
        for (sku, on_hand) in skus.iter().zip(stock) {
            call(app, admin_token, Method::PUT, &format!("/inventory/{sku}"), &json!({"on_hand": on_hand})).await?;
        }
    }
    Ok(count)
}
