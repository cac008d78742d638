//! The DynamoDB round trips of each endpoint (a batch read counts once), pinned: a change that
//! adds a call to an endpoint fails here, and the figures are the ones `docs/api.md` quotes.

use axum::http::StatusCode;
use nanoshop_api::testing::TestRequest;
use nanoshop_store::counting::Counts;
use serde_json::json;

use super::{berlin, hamburg, shop};

/// `get, batch_get, query, put, update, transact`, as one line of the table.
fn calls(c: Counts) -> [u64; 6] {
    assert_eq!(c.delete, 0, "deletes go through transactions");
    [c.get, c.batch_get, c.query, c.put, c.update, c.transact]
}

#[tokio::test]
async fn each_endpoint_makes_the_round_trips_it_is_documented_to() {
    let shop = shop().await;
    let (token, admin) = (shop.customer("cust_1"), shop.auth.admin());
    TestRequest::patch("/me").bearer(&token).json(&json!({"email": "ada@example.com"})).send(&shop.app).await;
    let home = shop.add_address(&token, json!({"address": berlin()})).await;
    let home = format!("/me/addresses/{}", home["id"].as_str().unwrap());
    shop.order("cust_1", "ada@example.com").await;

    let mut rows: Vec<(&str, [u64; 6])> = Vec::new();
    let mut measure = |name, reply: nanoshop_api::testing::Reply, status: StatusCode| {
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        rows.push((name, calls(shop.counting.take())));
    };
    shop.counting.take();
    let r = TestRequest::get("/me").bearer(&token).send(&shop.app).await;
    measure("GET /me", r, StatusCode::OK);
    let r = TestRequest::patch("/me").bearer(&token).json(&json!({"name": "Ada"})).send(&shop.app).await;
    measure("PATCH /me", r, StatusCode::OK);
    let r = TestRequest::get("/me/addresses").bearer(&token).send(&shop.app).await;
    measure("GET /me/addresses", r, StatusCode::OK);
    let r =
        TestRequest::post("/me/addresses").bearer(&token).json(&json!({"address": hamburg()})).send(&shop.app).await;
    measure("POST /me/addresses", r, StatusCode::CREATED);
    let r = TestRequest::patch(&home).bearer(&token).json(&json!({"label": "Home"})).send(&shop.app).await;
    measure("PATCH /me/addresses/{id}", r, StatusCode::OK);
    let r = TestRequest::patch(&home).bearer(&token).json(&json!({"default_billing": false})).send(&shop.app).await;
    measure("PATCH /me/addresses/{id} (a default)", r, StatusCode::OK);
    let r = TestRequest::delete(&home).bearer(&token).send(&shop.app).await;
    measure("DELETE /me/addresses/{id}", r, StatusCode::NO_CONTENT);
    let r = TestRequest::get("/me/export").bearer(&token).send(&shop.app).await;
    measure("GET /me/export", r, StatusCode::OK);
    let r = TestRequest::get("/customers/cust_1").bearer(&admin).send(&shop.app).await;
    measure("GET /customers/{sub}", r, StatusCode::OK);
    let r = TestRequest::get("/customers?email=ada@example.com").bearer(&admin).send(&shop.app).await;
    measure("GET /customers?email=", r, StatusCode::OK);
    let r = TestRequest::delete("/me").bearer(&token).send(&shop.app).await;
    measure("DELETE /me", r, StatusCode::NO_CONTENT);
    let r = TestRequest::delete("/me").bearer(&token).send(&shop.app).await;
    measure("DELETE /me (again)", r, StatusCode::NO_CONTENT);

    eprintln!("\nDynamoDB round trips per customers request (get, batch_get, query, put, update, transact):");
    for (name, c) in &rows {
        eprintln!("  {name:<38} {}  {c:?}", c.iter().sum::<u64>());
    }
    assert_eq!(
        rows,
        [
            ("GET /me", [1, 0, 0, 0, 0, 0]),
            ("PATCH /me", [1, 0, 0, 0, 1, 0]),
            ("GET /me/addresses", [0, 0, 1, 0, 0, 0]),
            ("POST /me/addresses", [1, 0, 0, 0, 0, 1]),
            ("PATCH /me/addresses/{id}", [0, 1, 0, 1, 0, 0]),
            ("PATCH /me/addresses/{id} (a default)", [0, 1, 0, 0, 0, 1]),
            ("DELETE /me/addresses/{id}", [0, 1, 0, 0, 0, 1]),
            // The account, then the orders' listing and the orders (one order here).
            ("GET /me/export", [0, 1, 2, 0, 0, 0]),
            ("GET /customers/{sub}", [0, 1, 2, 0, 0, 0]),
            ("GET /customers?email=", [0, 0, 1, 0, 0, 0]),
            // The listing, the order, its anonymising transaction; the account, its deletion.
            ("DELETE /me", [0, 1, 2, 0, 0, 2]),
            ("DELETE /me (again)", [0, 0, 2, 0, 0, 0]),
        ]
    );
}
