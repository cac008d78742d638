//! Bad input of every kind gets a 4xx problem+json with a useful code, and writes nothing.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, product};

#[tokio::test]
async fn bad_requests_get_problems_and_change_nothing() {
    let t = TestApp::new();
    let existing = t.create_product(&product("linen-shirt", "LS", "active")).await;
    let id = existing["id"].as_str().unwrap().to_owned();
    let store = t.embedded.clone().unwrap();
    let before = store.snapshot();

    let admin = Some(t.admin.as_str());
    let customer = Some(t.customer.as_str());
    let body = |v: serde_json::Value| Some(Body::from(v.to_string()));
    let with_price = |amount: serde_json::Value, currency: &str| {
        let mut p = product("fresh", "FRESH", "active");
        p["variants"][0]["prices"] = json!([{"amount": amount, "currency": currency}]);
        p
    };
    let huge = "x".repeat(70 * 1024);
    let deep = format!("{{\"tags\": {}{}}}", "[".repeat(200), "]".repeat(200));
    type Case<'a> =
        (&'a str, Method, String, Option<&'a str>, Vec<(&'a str, &'a str)>, Option<Body>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            Method::POST,
            "/products".into(),
            admin,
            vec![],
            Some(Body::from("{\"slug\": ")),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "wrong type",
            Method::POST,
            "/products".into(),
            admin,
            vec![],
            body(json!({"slug": 7, "title": "x", "variants": []})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "unknown field",
            Method::POST,
            "/products".into(),
            admin,
            vec![],
            body(json!({"slug": "a", "title": "x", "variants": [], "price": 1})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "no content type",
            Method::POST,
            "/products".into(),
            admin,
            vec![("content-type", "text/plain")],
            body(product("fresh", "FRESH", "active")),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "unknown currency",
            Method::POST,
            "/products".into(),
            admin,
            vec![],
            body(with_price(json!(100), "XYZ")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "lower-case currency",
            Method::POST,
            "/products".into(),
            admin,
            vec![],
            body(with_price(json!(100), "eur")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "negative price",
            Method::POST,
            "/products".into(),
            admin,
            vec![],
            body(with_price(json!(-1), "EUR")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "overflowing price",
            Method::POST,
            "/products".into(),
            admin,
            vec![],
            body(with_price(json!(9223372036854775808u64), "EUR")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "float price",
            Method::POST,
            "/products".into(),
            admin,
            vec![],
            body(with_price(json!(19.99), "EUR")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "duplicate SKU in product",
            Method::POST,
            "/products".into(),
            admin,
            vec![],
            body({
                let mut p = product("fresh", "FRESH", "active");
                p["variants"][1]["sku"] = json!("FRESH-S");
                p
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "SKU of another product",
            Method::POST,
            "/products".into(),
            admin,
            vec![],
            body(product("fresh", "LS", "active")),
            StatusCode::CONFLICT,
            "sku_taken",
        ),
        (
            "invalid slug",
            Method::POST,
            "/products".into(),
            admin,
            vec![],
            body(product("Not A Slug", "FRESH", "active")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "oversize body",
            Method::POST,
            "/products".into(),
            admin,
            vec![],
            body(json!({"slug": huge})),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "deep nesting",
            Method::PATCH,
            format!("/products/{id}"),
            admin,
            vec![],
            Some(Body::from(deep)),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "no token",
            Method::POST,
            "/products".into(),
            None,
            vec![],
            body(product("fresh", "FRESH", "active")),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "forged token",
            Method::POST,
            "/products".into(),
            Some("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
            vec![],
            body(product("fresh", "FRESH", "active")),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "customer on admin route",
            Method::POST,
            "/products".into(),
            customer,
            vec![],
            body(product("fresh", "FRESH", "active")),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            "bad cursor",
            Method::GET,
            "/products?cursor=bm90LWEtY3Vyc29y.AAAA".into(),
            None,
            vec![],
            None,
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
        ),
        (
            "limit too large",
            Method::GET,
            "/products?limit=1000".into(),
            None,
            vec![],
            None,
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            "patch a missing product",
            Method::PATCH,
            "/products/prod_01J00000000000000000000000".into(),
            admin,
            vec![],
            body(json!({"title": "x"})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "patch to an invalid product",
            Method::PATCH,
            format!("/products/{id}"),
            admin,
            vec![],
            body(json!({"variants": []})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "patch with a non-object",
            Method::PATCH,
            format!("/products/{id}"),
            admin,
            vec![],
            body(json!([1, 2])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "garbage If-Match",
            Method::PATCH,
            format!("/products/{id}"),
            admin,
            vec![("if-match", "yesterday")],
            body(json!({"title": "x"})),
            StatusCode::BAD_REQUEST,
            "invalid_if_match",
        ),
        (
            "negative stock",
            Method::PUT,
            "/inventory/LS-S".into(),
            admin,
            vec![],
            body(json!({"on_hand": -1})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "stock of an unknown SKU",
            Method::PUT,
            "/inventory/NOPE".into(),
            admin,
            vec![],
            body(json!({"on_hand": 1})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "settings with a float rate",
            Method::PUT,
            "/settings".into(),
            admin,
            vec![],
            body(
                json!({"currencies": ["EUR"], "prices_include_tax": true, "tax_rates": [{"country": "DE", "rate": 0.19}]}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "settings with a bad country",
            Method::PUT,
            "/settings".into(),
            admin,
            vec![],
            body(
                json!({"currencies": ["EUR"], "prices_include_tax": true, "tax_rates": [{"country": "Germany", "rate": "0.19"}]}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "category with unknown parent",
            Method::PUT,
            "/categories/shirts".into(),
            admin,
            vec![],
            body(json!({"name": "Shirts", "parent": "nope"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "image of the wrong type",
            Method::POST,
            format!("/products/{id}/images"),
            admin,
            vec![],
            body(json!({"content_type": "image/svg+xml", "content_length": 100})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "image too large",
            Method::POST,
            format!("/products/{id}/images"),
            admin,
            vec![],
            body(json!({"content_type": "image/png", "content_length": 10 * 1024 * 1024 + 1})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "invalid UTF-8",
            Method::POST,
            "/products".into(),
            admin,
            vec![],
            Some(Body::from(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'])),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        ("unknown route", Method::GET, "/nope".into(), None, vec![], None, StatusCode::NOT_FOUND, "not_found"),
        (
            "wrong method",
            Method::PUT,
            "/products".into(),
            admin,
            vec![],
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    assert!(cases.len() >= 20);
    for (name, method, path, token, headers, body, status, code) in cases {
        let reply = t.send(method, &path, token, &headers, body).await;
        assert_eq!((reply.status, reply.code()), (status, code), "{name}: {}", reply.body);
        assert_eq!(
            reply.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{name}"
        );
        assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{name}: a problem needs a detail");
        assert!(
            reply.body["request_id"].as_str().is_some_and(|r| !r.is_empty() && r != "unknown"),
            "{name}: {}",
            reply.body
        );
    }
    assert!(store.snapshot() == before, "a refused request changed the store");
}
