//! The catalog's repository code against DynamoDB Local: the same scenario as on the embedded store.

use std::sync::Arc;

use nanoshop_store::dynamo::{DynamoStore, TableNames, local_client};

use crate::catalog::catalog_scenario;
use crate::support::TestApp;

#[tokio::test]
async fn catalog_works_end_to_end_on_dynamodb_local() {
    let Ok(endpoint) = std::env::var("NANOSHOP_DYNAMODB_LOCAL") else {
        assert!(
            std::env::var("NANOSHOP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
            "NANOSHOP_DYNAMODB_LOCAL is not set: run `make test`"
        );
        return;
    };
    let prefix = format!("e2e-{}", std::process::id());
    let store = DynamoStore::new(local_client(&endpoint).await, TableNames::with_prefix(&prefix));
    store.create_tables().await.unwrap();
    catalog_scenario(&TestApp::on(Arc::new(store))).await;
}
