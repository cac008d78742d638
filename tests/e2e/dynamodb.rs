//! The functions' repository code against DynamoDB Local: the same scenarios as on the embedded
//! store, on fresh tables each.

use std::sync::Arc;

use nanoshop_store::dynamo::{DynamoStore, TableNames, local_client};
use nanoshop_store::{Key, Store, Table};

use crate::cart::{cart_scenario, concurrent_adds};
use crate::catalog::{catalog_scenario, search_scenario};
use crate::support::TestApp;

/// The backend on fresh tables in DynamoDB Local, or `None` when the caller knowingly runs
/// without services.
async fn on_dynamodb_local(name: &str) -> Option<TestApp> {
    Some(TestApp::on(dynamodb_local(name).await?))
}

/// Fresh tables in DynamoDB Local, or `None` when the caller knowingly runs without services.
pub(crate) async fn dynamodb_local(name: &str) -> Option<Arc<DynamoStore>> {
    let endpoint = dynamodb_local_endpoint()?;
    let store = DynamoStore::new(local_client(&endpoint).await, tables(name));
    store.create_tables().await.unwrap();
    Some(Arc::new(store))
}

/// DynamoDB Local's URL, or `None` when the caller knowingly runs without services.
fn dynamodb_local_endpoint() -> Option<String> {
    let Ok(endpoint) = std::env::var("NANOSHOP_DYNAMODB_LOCAL") else {
        assert!(
            std::env::var("NANOSHOP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
            "NANOSHOP_DYNAMODB_LOCAL is not set: run `make test`"
        );
        return None;
    };
    Some(endpoint)
}

fn tables(name: &str) -> TableNames {
    TableNames::with_prefix(&format!("e2e-{name}-{}", std::process::id()))
}

/// The AWS configuration of a function built for Lambda (feature `lambda-env`, every
/// `cargo lambda build`) is made from Lambda's variables alone and sends through nanoshop's HTTPS
/// client (`nanoshop_api::sdk_http`); the store built on it signs and sends real requests: it
/// creates its tables and reads from them.
#[tokio::test]
async fn the_lambda_builds_aws_configuration_reaches_dynamodb() {
    let Some(endpoint) = dynamodb_local_endpoint() else { return };
    let lambda = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIALAMBDA"),
        ("AWS_SECRET_ACCESS_KEY", "lambda-secret"),
        ("AWS_SESSION_TOKEN", "lambda-session"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
    ];
    let aws = nanoshop_api::startup::from_lambda_environment(|name| {
        lambda.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    })
    .expect("nanoshop's HTTPS client");
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), tables("lambda-env"));
    store.create_tables().await.expect("tables created with the Lambda build's configuration");
    let missing = Key::new("PRODUCT#none", "PRODUCT");
    assert_eq!(store.get(Table::Catalog, &missing).await.unwrap(), None);
}

#[tokio::test]
async fn catalog_works_end_to_end_on_dynamodb_local() {
    if let Some(t) = on_dynamodb_local("catalog").await {
        catalog_scenario(&t).await;
    }
}

#[tokio::test]
async fn search_finds_a_rare_word_in_one_query_and_fills_its_pages_on_dynamodb_local() {
    if let Some(t) = on_dynamodb_local("search").await {
        search_scenario(&t).await;
    }
}

#[tokio::test]
async fn carts_work_end_to_end_on_dynamodb_local() {
    if let Some(t) = on_dynamodb_local("cart").await {
        cart_scenario(&t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_adds_all_land_on_dynamodb_local() {
    if let Some(t) = on_dynamodb_local("adds").await {
        concurrent_adds(Arc::new(t)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_failed_codes_all_count_on_dynamodb_local() {
    if let Some(t) = on_dynamodb_local("codes").await {
        crate::limits::concurrent_failed_codes(Arc::new(t)).await;
    }
}

#[tokio::test]
async fn a_cart_becomes_a_paid_order_on_dynamodb_local() {
    if let Some(t) = on_dynamodb_local("purchase").await {
        crate::checkout::purchase_scenario(&t).await;
    }
}

#[tokio::test]
async fn the_sweep_pages_past_150_orders_it_cannot_close_on_dynamodb_local() {
    if let Some(store) = dynamodb_local("sweep").await {
        let (t, gateway) = crate::orders::with_stuck_intents(store);
        crate::orders::the_sweep_pages_past_what_it_cannot_close(&t, &gateway).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_buyers_for_ten_units_make_ten_orders_on_dynamodb_local() {
    if let Some(t) = on_dynamodb_local("oversell").await {
        crate::checkout::no_oversell(Arc::new(t), 1).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn carts_of_several_skus_never_reserve_partially_on_dynamodb_local() {
    if let Some(t) = on_dynamodb_local("partial").await {
        crate::checkout::no_oversell(Arc::new(t), 3).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_requests_with_one_key_make_one_order_on_dynamodb_local() {
    if let Some(t) = on_dynamodb_local("onekey").await {
        crate::checkout::concurrent_same_key(Arc::new(t)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mixed_shopping_load_keeps_every_invariant_on_dynamodb_local() {
    if let Some(t) = on_dynamodb_local("load").await {
        crate::load::mixed_load(Arc::new(t), "DynamoDB Local", crate::load::ops_per_client(10)).await;
    }
}

#[tokio::test]
async fn customer_accounts_work_end_to_end_on_dynamodb_local() {
    if let Some(t) = on_dynamodb_local("customers").await {
        crate::cart::shop(&t, 1).await;
        let cart = t.customer_cart().await;
        let bought = t.customer_checkout(&cart.body, "customers-ddb").await;
        assert_eq!(bought.status, axum::http::StatusCode::CREATED, "{}", bought.body);
        crate::customers::customers_scenario(&t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_account_changes_lose_nothing_on_dynamodb_local() {
    if let Some(t) = on_dynamodb_local("accounts").await {
        crate::customers::concurrent_account_changes(Arc::new(t)).await;
    }
}
