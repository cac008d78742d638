//! Least privilege, proven from behaviour: every function runs its scenarios against a store that
//! records which tables and actions it really uses, and each function's declared `ACCESS` list
//! (from which its IAM policy in `infra/template.yaml` is derived and checked) must cover exactly
//! that: nothing used is missing (a production AccessDenied), nothing declared is unused.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use nanoshop_store::port::{Action, TableAccess};
use nanoshop_store::{Condition, Item, Key, Query, QueryPage, Store, StoreResult, Table, Update, Write};
use serde_json::json;

use crate::cart::{cart_scenario, guest_cart, shop};
use crate::checkout::{checkout, confirm, purchase_scenario};
use crate::support::TestApp;
use nanoshop_payments::{PaymentError, PaymentGateway};

/// Declared for paths this script does not walk, each with why it is needed.
const RARE: &[(&str, Table, Action)] = &[
    // A retry that takes over an idempotency key from a request that died after reserving reads
    // the order that request created (lease expiry, 30 s: too slow for this test).
    ("checkout", Table::Orders, Action::GetItem),
    // The order e-mails: flagging an address the mail service refused for good (the local mailer
    // writes files and refuses nothing), reading a claim that a backend did not return with its
    // failed condition, and giving a claim back after a send that failed for now.
    ("notifications", Table::Orders, Action::PutItem),
    ("notifications", Table::Idempotency, Action::GetItem),
    ("notifications", Table::Idempotency, Action::DeleteItem),
];

type Used = Arc<Mutex<BTreeMap<&'static str, BTreeSet<(Table, Action, bool)>>>>;

#[derive(Debug)]
struct Recorder {
    function: &'static str,
    inner: Arc<dyn Store>,
    used: Used,
}

impl Recorder {
    fn note(&self, table: Table, action: Action, index: bool) {
        self.used.lock().unwrap().entry(self.function).or_default().insert((table, action, index));
    }
}

#[async_trait]
impl Store for Recorder {
    async fn get(&self, table: Table, key: &Key) -> StoreResult<Option<Item>> {
        self.note(table, Action::GetItem, false);
        self.inner.get(table, key).await
    }
    async fn batch_get(&self, table: Table, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.note(table, Action::BatchGetItem, false);
        self.inner.batch_get(table, keys).await
    }
    async fn batch_get_across(&self, keys: &[(Table, Key)]) -> StoreResult<Vec<(Table, Item)>> {
        for (table, _) in keys {
            self.note(*table, Action::BatchGetItem, false);
        }
        self.inner.batch_get_across(keys).await
    }
    async fn query(&self, query: &Query) -> StoreResult<QueryPage> {
        self.note(query.table, Action::Query, query.index.is_some());
        self.inner.query(query).await
    }
    async fn put(&self, table: Table, item: Item, condition: Option<Condition>) -> StoreResult<()> {
        self.note(table, Action::PutItem, false);
        self.inner.put(table, item, condition).await
    }
    async fn update(&self, table: Table, update: Update) -> StoreResult<Item> {
        self.note(table, Action::UpdateItem, false);
        self.inner.update(table, update).await
    }
    async fn delete(&self, table: Table, key: &Key, condition: Option<Condition>) -> StoreResult<()> {
        self.note(table, Action::DeleteItem, false);
        self.inner.delete(table, key, condition).await
    }
    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        for w in &writes {
            let action = match w {
                Write::Put { .. } => Action::PutItem,
                Write::Update { .. } => Action::UpdateItem,
                Write::Delete { .. } => Action::DeleteItem,
                Write::Check { .. } => Action::ConditionCheckItem,
            };
            self.note(w.table(), action, false);
        }
        self.inner.transact(writes).await
    }
}

/// The simulator, but the first intent and every refund fail at the provider.
#[derive(Debug)]
struct Flaky(Arc<nanoshop_payments::simulator::Simulator>, std::sync::atomic::AtomicBool);

#[async_trait]
impl PaymentGateway for Flaky {
    async fn create_intent(
        &self,
        r: &nanoshop_payments::CreateIntent,
    ) -> Result<nanoshop_payments::Intent, PaymentError> {
        if self.1.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.0.create_intent(r).await
        } else {
            Err(PaymentError::Unavailable("provider down".into()))
        }
    }
    async fn cancel_intent(&self, id: &str) -> Result<(), PaymentError> {
        self.0.cancel_intent(id).await
    }
    async fn refund(
        &self,
        _: &str,
        _: nanoshop_domain::Money,
        _: &str,
    ) -> Result<nanoshop_payments::Refund, PaymentError> {
        Err(PaymentError::Unavailable("provider down".into()))
    }
    fn publishable_key(&self) -> String {
        self.0.publishable_key()
    }
}

/// What a declared list allows: (table, action, on the index?).
fn declared(access: &[TableAccess]) -> BTreeSet<(Table, Action, bool)> {
    access
        .iter()
        .flat_map(|a| {
            a.actions.iter().filter(|x| **x != Action::DescribeTable && !x.on_stream()).flat_map(move |x| {
                let on_index = (a.index && *x == Action::Query).then_some((a.table, *x, true));
                [Some((a.table, *x, false)), on_index].into_iter().flatten()
            })
        })
        .collect()
}

#[tokio::test]
async fn every_function_uses_exactly_the_tables_and_actions_it_declares() {
    let used: Used = Arc::default();
    let audited = || {
        let recorded = used.clone();
        let store_of: nanoshop::local::StoreOf = Arc::new(move |function, inner| {
            Arc::new(Recorder { function, inner, used: recorded.clone() }) as Arc<dyn Store>
        });
        let store = Arc::new(nanoshop_store::embedded::EmbeddedStore::in_memory());
        TestApp::build_audited(store, |_| None, chrono::TimeDelta::minutes(30), Some(store_of))
    };
    // Everything the functions do: catalog admin and reads, carts and claims, purchases and
    // declines, orders read, fulfilled, refunded, cancelled, and the sweep.
    cart_scenario(&audited()).await;
    let t = audited();
    purchase_scenario(&t).await;
    t.get("/products?q=product&category=apparel", None).await;
    t.get("/categories", None).await;
    t.json(Method::PUT, "/categories/x", Some(&t.admin), &json!({"name": "X"})).await;
    let code = t.json(Method::POST, "/discounts", Some(&t.admin), &json!({"code": "LIMITED", "kind": "percentage", "percentage": "0.1", "usage_limit": 5, "once_per_customer": true})).await;
    t.get("/discounts", Some(&t.admin)).await;
    t.json(
        Method::PATCH,
        &format!("/discounts/{}", code.body["id"].as_str().unwrap()),
        Some(&t.admin),
        &json!({"active": true}),
    )
    .await;
    let limited = guest_cart(&t, json!([{"sku": "P1", "quantity": 1}])).await;
    limited.send(&t, Method::PUT, "/discount", Some(json!({"code": "LIMITED"}))).await;
    let reply = checkout(&t, &limited, "audit-1").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let (id, intent) = (
        reply.body["order"]["id"].as_str().unwrap().to_owned(),
        reply.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned(),
    );
    confirm(&t, &intent, "4000000000000002").await;
    confirm(&t, &intent, "4242424242424242").await;
    t.get("/orders", Some(&t.admin)).await;
    t.get("/orders?status=paid", Some(&t.admin)).await;
    t.get(&format!("/orders/{id}"), Some(&t.admin)).await;
    let refund = t
        .send(
            Method::POST,
            &format!("/orders/{id}/refunds"),
            Some(&t.admin),
            &[("idempotency-key", "audit-r")],
            Some(
                json!({"amount": {"amount": 100, "currency": "EUR"}, "restock": [{"sku": "P1", "quantity": 1}]})
                    .to_string()
                    .into(),
            ),
        )
        .await;
    assert_eq!(refund.status, StatusCode::CREATED, "{}", refund.body);
    t.json(Method::POST, &format!("/orders/{id}/fulfillments"), Some(&t.admin), &json!({})).await;
    let pending = guest_cart(&t, json!([{"sku": "P1", "quantity": 1}])).await;
    let reply = checkout(&t, &pending, "audit-2").await;
    let pending_id = reply.body["order"]["id"].as_str().unwrap().to_owned();
    t.json(Method::POST, &format!("/orders/{pending_id}/cancel"), Some(&t.admin), &json!({})).await;
    t.local.tick().await;

    // Catalog: a slug and a SKU change (claims moved and released), a category under a parent.
    let product = t.create_product(&crate::support::product("renamed", "REN", "active")).await;
    let patch = json!({"slug": "renamed-2", "variants": [{"sku": "REN-X", "prices": [{"amount": 100, "currency": "EUR"}]}], "options": []});
    let patched =
        t.json(Method::PATCH, &format!("/products/{}", product["id"].as_str().unwrap()), Some(&t.admin), &patch).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    t.json(Method::PUT, "/categories/y", Some(&t.admin), &json!({"name": "Y", "parent": "x"})).await;

    // Cart: a customer whose last cart expired starts a new one (the old pointer is checked).
    let mine = t.customer_cart().await;
    let key = Key::new(format!("CART#{}", mine.body["id"].as_str().unwrap()), "CART");
    let item = t.store().get(Table::Carts, &key).await.unwrap().unwrap();
    t.store()
        .put(Table::Carts, item.with(nanoshop_store::port::EXPIRES_AT, nanoshop_store::port::now_unix() - 1), None)
        .await
        .unwrap();
    let fresh = t.customer_cart().await;
    assert_eq!(fresh.status, StatusCode::CREATED, "{}", fresh.body);
    // Checkout as a customer (the cart pointer is cleared).
    let bought = t.customer_checkout(&fresh.body, "audit-3").await;
    assert_eq!(bought.status, StatusCode::CREATED, "{}", bought.body);

    // Customers: a profile, an address book, the admin's lookup, an export and an erasure of the
    // customer who just bought (their orders anonymised).
    crate::customers::customers_scenario(&t).await;

    // The provider failing: checkout gives back a once-per-customer discount and the key;
    // a refund gives back its key.
    let down = {
        let recorded = used.clone();
        let store_of: nanoshop::local::StoreOf = Arc::new(move |function, inner| {
            Arc::new(Recorder { function, inner, used: recorded.clone() }) as Arc<dyn Store>
        });
        let store = Arc::new(nanoshop_store::embedded::EmbeddedStore::in_memory());
        TestApp::build_audited(
            store,
            |sim| Some(Arc::new(Flaky(sim, false.into())) as Arc<dyn PaymentGateway>),
            chrono::TimeDelta::minutes(-1),
            Some(store_of),
        )
    };
    shop(&down, 1).await;
    down.json(
        Method::POST,
        "/discounts",
        Some(&down.admin),
        &json!({"code": "ONCE", "kind": "percentage", "percentage": "0.1", "once_per_customer": true}),
    )
    .await;
    let cart = guest_cart(&down, json!([{"sku": "P0", "quantity": 1}])).await;
    cart.send(&down, Method::PUT, "/discount", Some(json!({"code": "ONCE"}))).await;
    let failed = checkout(&down, &cart, "fail-1").await;
    assert_eq!(failed.status, StatusCode::BAD_GATEWAY, "{}", failed.body);
    // Then the provider is back; the order is never paid and expires (this app's window is past).
    let retried = checkout(&down, &cart, "fail-1").await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.body);
    // A paid order whose refund fails at the provider gives its key back.
    let paid_cart = guest_cart(&down, json!([{"sku": "P0", "quantity": 1}])).await;
    let paid = checkout(&down, &paid_cart, "paid-1").await;
    let paid_id = paid.body["order"]["id"].as_str().unwrap().to_owned();
    confirm(&down, paid.body["payment"]["payment_intent_id"].as_str().unwrap(), "4242424242424242").await;
    let refund = down
        .send(
            Method::POST,
            &format!("/orders/{paid_id}/refunds"),
            Some(&down.admin),
            &[("idempotency-key", "r-down")],
            Some("{}".into()),
        )
        .await;
    assert_eq!(refund.status, StatusCode::BAD_GATEWAY, "{}", refund.body);
    // An order whose intent the provider refuses to cancel: the sweep moves it behind the others.
    let due = down.order(retried.body["order"]["id"].as_str().unwrap()).await;
    let refused = nanoshop_domain::order::Order {
        id: nanoshop_domain::ids::OrderId::generate(),
        payment: nanoshop_domain::order::Payment {
            payment_intent_id: Some("pi_unknown_to_the_provider".into()),
            ..due.payment.clone()
        },
        ..due.clone()
    };
    down.store().transact(nanoshop_schema::orders::order_writes(None, &refused).unwrap()).await.unwrap();
    down.local.tick().await;
    let expired = down.order(retried.body["order"]["id"].as_str().unwrap()).await;
    assert_eq!(expired.status.as_str(), "expired");
    assert_eq!(down.order(refused.id.as_str()).await.status.as_str(), "pending_payment");

    let used = used.lock().unwrap().clone();
    let mut problems = Vec::new();
    // The relay is left out: in AWS it reads the table's stream, locally the outbox itself.
    for (function, access) in [
        ("catalog", nanoshop_catalog::ACCESS),
        ("cart", nanoshop_cart::ACCESS),
        ("checkout", nanoshop_checkout::ACCESS),
        ("payments-webhook", nanoshop_payments_webhook::ACCESS),
        ("orders", nanoshop_orders::ACCESS),
        ("orders-expirer", nanoshop_orders::EXPIRER_ACCESS),
        ("customers", nanoshop_customers::ACCESS),
        ("notifications", nanoshop_notifications::ACCESS),
    ] {
        let allowed = declared(access);
        let actual = used.get(function).cloned().unwrap_or_default();
        for missing in actual.difference(&allowed) {
            problems.push(format!("{function} uses {missing:?} but does not declare it"));
        }
        for unused in allowed.difference(&actual) {
            // IAM grants an index's Query with the table's; a function may use only the index.
            let index_only =
                unused.1 == Action::Query && !unused.2 && actual.contains(&(unused.0, Action::Query, true));
            if !index_only && !RARE.contains(&(function, unused.0, unused.1)) {
                problems.push(format!("{function} declares {unused:?} but never uses it"));
            }
        }
    }
    assert!(problems.is_empty(), "access lists differ from behaviour:\n{}", problems.join("\n"));
}
