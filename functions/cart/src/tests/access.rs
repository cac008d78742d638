//! Who may open a cart (`docs/api.md`, "Who may call what"): a guest cart by its `X-Cart-Token`, a
//! customer's by its owner's JWT; neither credential is 401, a credential that does not open the
//! cart is 404, so cart ids cannot be probed.

use axum::http::{Method, StatusCode};
use nanoshop_api::Access;
use nanoshop_api::testing::{CUSTOMER, TestRequest};
use serde_json::{Value, json};

use super::shop;
use crate::ROUTES;

/// A request body each cart route accepts, by method and path.
fn sample_body(method: &str, path: &str) -> Option<Value> {
    match (method, path) {
        ("GET" | "DELETE", _) => None,
        ("POST", "/carts/{id}/items") => Some(json!({"sku": "P1", "quantity": 1})),
        ("PATCH", "/carts/{id}/items/{sku}") => Some(json!({"quantity": 2})),
        ("PUT", "/carts/{id}/discount") => Some(json!({"code": "NOSUCHCODE"})),
        ("PUT", "/carts/{id}/shipping") => Some(json!({"address": {
            "name": "Ada Lovelace", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "DE"
        }})),
        other => panic!("no sample body for {other:?}: add one"),
    }
}

/// Every route a cart token or its owner opens: 401 with neither, 404 with a token or a JWT that
/// does not open the cart, answered with the right token.
#[tokio::test]
async fn cart_routes_open_with_the_carts_token_only() {
    let shop = shop().await;
    let cart = shop.guest_cart(json!([{"sku": "P0", "quantity": 1}])).await;
    let other = shop.guest_cart(json!([])).await;
    let customer = shop.auth.customer(CUSTOMER);
    for route in ROUTES.iter().filter(|r| r.access == Access::CartTokenOrOwner) {
        let label = format!("{} {}", route.method, route.path);
        let path = route.path.replace("{id}", &cart.id).replace("{sku}", "P0");
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let request = |token: Option<&str>, jwt: Option<&str>| {
            let mut request = TestRequest::new(method.clone(), &path);
            if let Some(body) = sample_body(route.method, route.path) {
                request = request.json(&body);
            }
            if let Some(token) = token {
                request = request.header("x-cart-token", token);
            }
            if let Some(jwt) = jwt {
                request = request.bearer(jwt);
            }
            request
        };
        let anonymous = request(None, None).send(&shop.app).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{label}: {}", anonymous.body);
        let wrong_token = request(Some(&other.token), None).send(&shop.app).await;
        assert_eq!(
            wrong_token.status,
            StatusCode::NOT_FOUND,
            "{label} with another cart's token: {}",
            wrong_token.body
        );
        let stranger = request(None, Some(&customer)).send(&shop.app).await;
        assert_eq!(stranger.status, StatusCode::NOT_FOUND, "{label} with a customer's JWT: {}", stranger.body);
        let owner = request(Some(&cart.token), None).send(&shop.app).await;
        assert!(
            owner.status.is_success() || owner.code() == "invalid_discount",
            "{label} with the cart's token: {} {}",
            owner.status,
            owner.body
        );
    }
    let unknown = TestRequest::get("/carts/cart_01M9730DAH83EZ1SZBA819VNSW").send(&shop.app).await;
    unknown.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn a_customers_cart_opens_with_its_owners_jwt_and_not_its_token() {
    let shop = shop().await;
    let owner = shop.auth.customer(CUSTOMER);
    let created = TestRequest::post("/carts").bearer(&owner).json(&json!({"currency": "EUR"})).send(&shop.app).await;
    let body = created.assert_status(StatusCode::CREATED);
    let (id, token) = (body["id"].as_str().unwrap(), body["token"].as_str().unwrap());
    let path = format!("/carts/{id}");
    assert_eq!(body["customer_id"], CUSTOMER, "{body}");

    TestRequest::get(&path).bearer(&owner).send(&shop.app).await.assert_status(StatusCode::OK);
    let by_token = TestRequest::get(&path).header("x-cart-token", token).send(&shop.app).await;
    by_token.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let someone = shop.auth.customer("cust_2");
    TestRequest::get(&path).bearer(&someone).send(&shop.app).await.assert_problem(StatusCode::NOT_FOUND, "not_found");

    let again = TestRequest::post("/carts").bearer(&owner).json(&json!({"currency": "EUR"})).send(&shop.app).await;
    assert_eq!(again.assert_status(StatusCode::OK)["id"], id, "one active cart per customer");
    let mine = TestRequest::get("/me/cart").bearer(&owner).send(&shop.app).await;
    assert_eq!(mine.assert_status(StatusCode::OK)["id"], id);
}

#[tokio::test]
async fn the_customers_own_cart_needs_a_jwt_and_is_404_until_there_is_one() {
    let shop = shop().await;
    TestRequest::get("/me/cart").send(&shop.app).await.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let customer = shop.auth.customer(CUSTOMER);
    let none = TestRequest::get("/me/cart").bearer(&customer).send(&shop.app).await;
    none.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let forged = TestRequest::get("/me/cart").bearer(&format!("{customer}x")).send(&shop.app).await;
    forged.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn a_claim_needs_both_the_jwt_and_the_guest_token_and_then_the_token_opens_nothing() {
    let shop = shop().await;
    let cart = shop.guest_cart(json!([{"sku": "P0", "quantity": 2}])).await;
    let customer = shop.auth.customer(CUSTOMER);
    let guest_only = cart.request(Method::POST, "/claim").send(&shop.app).await;
    guest_only.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let jwt_only = TestRequest::post(format!("/carts/{}/claim", cart.id)).bearer(&customer).send(&shop.app).await;
    jwt_only.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");

    let claimed = cart.request(Method::POST, "/claim").bearer(&customer).send(&shop.app).await;
    let body = claimed.assert_status(StatusCode::OK);
    assert_eq!((body["customer_id"].as_str(), body["items"][0]["quantity"].as_u64()), (Some(CUSTOMER), Some(2)));
    let by_token = cart.request(Method::GET, "").send(&shop.app).await;
    by_token.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let mine = TestRequest::get("/me/cart").bearer(&customer).send(&shop.app).await;
    assert_eq!(mine.assert_status(StatusCode::OK)["id"], cart.id);
}
