//! Runs the conformance suite against every adapter: embedded (in memory and on file), DynamoDB
//! Local and moto. The DynamoDB backends need their servers (`make test` starts them); without the
//! endpoint variables those tests fail rather than pass silently, unless
//! `NANOSHOP_SKIP_SERVICES=1` says the caller knowingly runs without them.

use std::sync::Arc;

use nanoshop_store::conformance::run_all;
use nanoshop_store::dynamo::{DynamoStore, TableNames, local_client};
use nanoshop_store::embedded::EmbeddedStore;
use nanoshop_store::{Item, Key, Store, Table};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_in_memory() {
    run_all(Arc::new(EmbeddedStore::in_memory())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_on_file_and_survives_reopening() {
    let dir = std::env::temp_dir().join(format!("nanoshop-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("store.redb");
    let _ = std::fs::remove_file(&path);
    {
        let store = Arc::new(EmbeddedStore::open(&path).expect("open"));
        run_all(store.clone()).await;
        let key = Key::new("reopen", "probe");
        store.put(Table::Catalog, Item::new(&key).with("n", 7), None).await.expect("put");
    }
    let reopened = EmbeddedStore::open(&path).expect("reopen");
    let item = reopened.get(Table::Catalog, &Key::new("reopen", "probe")).await.expect("get");
    assert_eq!(item.and_then(|i| i.n("n")), Some(7), "data written before closing must be there after reopening");
    let _ = std::fs::remove_dir_all(&dir);
}

async fn dynamo_backend(endpoint_var: &str, prefix: &str) {
    let Ok(endpoint) = std::env::var(endpoint_var) else {
        assert!(
            std::env::var("NANOSHOP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
            "{endpoint_var} is not set: run `make test`, which starts the servers, or set NANOSHOP_SKIP_SERVICES=1 to skip knowingly"
        );
        return;
    };
    let store = DynamoStore::new(local_client(&endpoint).await, TableNames::with_prefix(prefix));
    store.create_tables().await.expect("create tables");
    run_all(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_local() {
    dynamo_backend("NANOSHOP_DYNAMODB_LOCAL", "conformance").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moto() {
    // moto runs through scripts/moto_serial.py, which applies one request at a time as DynamoDB
    // does; moto's own server races conditional writes.
    dynamo_backend("NANOSHOP_MOTO", "conformance").await;
}
