//! A bounded, mixed shopping load on the whole backend: browse 70 %, cart 20 %, checkout 10 %,
//! from 16 concurrent clients; afterwards every stock and order invariant must hold. The short
//! form runs in `make test`, on the embedded store here and on DynamoDB Local in `dynamodb.rs`;
//! `LOAD_OPS` (operations per client) makes it longer, as `make bench` does.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use nanoshop_domain::order::{Order, OrderStatus, StockState};
use serde_json::json;

use crate::cart::{guest_cart, shop};
use crate::checkout::{checkout, confirm};
use crate::support::TestApp;

const CLIENTS: usize = 16;
const SKUS: usize = 5;
const STOCK: i64 = 30;

/// A small deterministic generator per client, so a failing run can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Operations per client: `LOAD_OPS`, or `default` for the short form.
pub fn ops_per_client(default: usize) -> usize {
    std::env::var("LOAD_OPS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mixed_shopping_load_keeps_every_invariant() {
    mixed_load(Arc::new(TestApp::new()), "the embedded store", ops_per_client(25)).await;
}

/// Runs the mixed load with `ops` operations per client on `t` (an empty shop), prints its
/// figures, and checks every invariant against the store afterwards.
pub async fn mixed_load(t: Arc<TestApp>, backend: &str, ops: usize) {
    shop(&t, SKUS).await;
    for i in 0..SKUS {
        t.json(Method::PUT, &format!("/inventory/P{i}"), Some(&t.admin), &json!({"on_hand": STOCK})).await;
    }
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let t = t.clone();
            tokio::spawn(async move {
                let mut rng = Lcg(c as u64 + 1);
                let mut latencies = Vec::with_capacity(ops);
                let mut server_errors = Vec::new();
                let mut placed = Vec::new();
                for op in 0..ops {
                    let begin = Instant::now();
                    let roll = rng.next(100);
                    let sku = format!("P{}", rng.next(SKUS as u64));
                    let status = if roll < 70 {
                        let path = if roll.is_multiple_of(2) {
                            "/products?limit=10".to_owned()
                        } else {
                            format!("/products/p-{}", &sku[1..])
                        };
                        t.get(&path, None).await.status
                    } else if roll < 90 {
                        let cart = guest_cart(&t, json!([{"sku": sku, "quantity": 1 + rng.next(2)}])).await;
                        cart.send(&t, Method::GET, "", None).await.status
                    } else {
                        let cart = guest_cart(&t, json!([{"sku": sku, "quantity": 1 + rng.next(3)}])).await;
                        let reply = checkout(&t, &cart, &format!("load-{c}-{op}")).await;
                        if reply.status == StatusCode::CREATED {
                            placed.push(reply.body["order"]["id"].as_str().unwrap_or_default().to_owned());
                            let intent =
                                reply.body["payment"]["payment_intent_id"].as_str().unwrap_or_default().to_owned();
                            // Most pay, some are declined, some walk away (their stock stays reserved).
                            match rng.next(10) {
                                0..=5 => drop(confirm(&t, &intent, "4242424242424242").await),
                                6 => drop(confirm(&t, &intent, "4000000000000002").await),
                                _ => {}
                            }
                        }
                        reply.status
                    };
                    if status.is_server_error() {
                        server_errors.push(status);
                    }
                    latencies.push(begin.elapsed());
                }
                (latencies, server_errors, placed)
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut placed = BTreeSet::new();
    for client in clients {
        let (l, errors, ids) = client.await.unwrap();
        assert!(errors.is_empty(), "server errors under load: {errors:?}");
        latencies.extend(l);
        placed.extend(ids);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |percent: usize| latencies[(latencies.len() * percent / 100).min(latencies.len() - 1)];
    let per_second = latencies.len() as u128 * 1000 / elapsed.as_millis().max(1);
    eprintln!(
        "\nmixed load on {backend}: {} operations from {CLIENTS} clients in {elapsed:.2?} ({per_second} op/s), \
         p50 {:.2?}, p99 {:.2?}, 0 server errors, {} orders",
        latencies.len(),
        at(50),
        at(99),
        placed.len()
    );

    t.local.tick().await;
    // Every order, from the admin listing; it must hold exactly the orders the clients were given.
    let orders = every_order(&t).await;
    let listed: BTreeSet<String> = orders.iter().map(|o| o.id.to_string()).collect();
    assert_eq!(listed, placed, "the order listing against the orders checkout answered");
    for i in 0..SKUS {
        let sku = format!("P{i}");
        let units =
            |o: &Order| o.lines.iter().filter(|l| l.sku.as_str() == sku).map(|l| i64::from(l.quantity)).sum::<i64>();
        let sold: i64 = orders.iter().filter(|o| o.stock == StockState::Committed).map(units).sum();
        let held: i64 = orders.iter().filter(|o| o.stock == StockState::Reserved).map(units).sum();
        let (on_hand, reserved, available) = t.stock(&sku).await;
        assert_eq!((on_hand, reserved, available), (STOCK - sold, held, STOCK - sold - held), "{sku}");
        assert!(available >= 0, "{sku} oversold");
    }
    for o in &orders {
        let consistent = match o.status {
            OrderStatus::PendingPayment => o.stock == StockState::Reserved,
            OrderStatus::Paid | OrderStatus::Fulfilled => o.stock == StockState::Committed,
            OrderStatus::Expired | OrderStatus::Cancelled => o.stock == StockState::Released,
        };
        assert!(consistent, "order {} is {:?} with stock {:?}", o.id, o.status, o.stock);
    }
}

/// Every order as stored, found through the admin listing page by page.
async fn every_order(t: &TestApp) -> Vec<Order> {
    let mut orders = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/orders?limit=100&cursor={c}"),
            None => "/orders?limit=100".to_owned(),
        };
        let page = t.get(&path, Some(&t.admin)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for item in page.body["items"].as_array().unwrap() {
            orders.push(t.order(item["id"].as_str().unwrap()).await);
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return orders,
        }
    }
}
