//! The business metrics (`nanoshop_api::metrics`) are counted where the things they name happen:
//! an order placed, paid and refunded, and each webhook outcome, through the whole backend. Off
//! Lambda a count is a DEBUG event under the `nanoshop::metrics` target. One process-wide
//! subscriber hands each such event to the counts of the thread it happened on (the backend runs
//! on the test's thread: requests are `oneshot` calls on a current-thread runtime). The Lambda
//! form, an embedded-metric line on stdout, is checked on the webhook binary in
//! `tests/e2e/lambda.rs`.
//!
//! Not a subscriber set for the test's thread alone (`set_default`): tracing caches per callsite
//! whether any subscriber wants its events, and when other tests' threads reached the metric
//! callsite while that subscriber was being set or rebuilt, the cache kept the no-op answer and
//! the counts stayed 0 (1 run in 7 of the whole suite, and most runs under load). A global
//! subscriber is always asked.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::{Method, StatusCode};
use nanoshop_api::Metric;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

use crate::cart::{guest_cart, shop};
use crate::checkout::{checkout, confirm};
use crate::support::TestApp;

/// The counts, by metric name.
#[derive(Clone, Default)]
struct Counts(Arc<Mutex<BTreeMap<String, u64>>>);

impl Counts {
    fn of(&self, metric: Metric) -> u64 {
        self.0.lock().unwrap().get(metric.name()).copied().unwrap_or(0)
    }
}

/// The process-wide layer: each metric event goes to the counts its thread collects, if any.
struct ByThread;

thread_local! {
    static COLLECTING: RefCell<Option<Counts>> = const { RefCell::new(None) };
}

impl<S: tracing::Subscriber> Layer<S> for ByThread {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "nanoshop::metrics" {
            return;
        }
        #[derive(Default)]
        struct Fields(Option<String>, u64);
        impl Visit for Fields {
            fn record_str(&mut self, field: &Field, value: &str) {
                if field.name() == "metric" {
                    self.0 = Some(value.to_owned());
                }
            }
            fn record_u64(&mut self, field: &Field, value: u64) {
                if field.name() == "value" {
                    self.1 = value;
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let Some(metric) = fields.0 {
            COLLECTING.with(|c| {
                if let Some(counts) = c.borrow().as_ref() {
                    *counts.0.lock().unwrap().entry(metric).or_default() += fields.1;
                }
            });
        }
    }
}

/// Collects this thread's metric events into `counts` until the guard is dropped.
fn collect_on_this_thread(counts: &Counts) -> impl Drop {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(ByThread))
            .expect("no other global subscriber in the e2e binary");
    });
    COLLECTING.with(|c| *c.borrow_mut() = Some(counts.clone()));
    struct Stop;
    impl Drop for Stop {
        fn drop(&mut self) {
            COLLECTING.with(|c| *c.borrow_mut() = None);
        }
    }
    Stop
}

#[tokio::test]
async fn orders_placed_paid_and_refunded_and_webhook_outcomes_are_counted() {
    let counts = Counts::default();
    let _collecting = collect_on_this_thread(&counts);
    let t = TestApp::new();
    shop(&t, 1).await;

    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 2}])).await;
    let placed = checkout(&t, &cart, "metrics-1").await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(counts.of(Metric::OrdersPlaced), 1);
    assert_eq!(counts.of(Metric::OrdersPaid), 0, "placed is not paid");

    let intent = placed.body["payment"]["payment_intent_id"].as_str().unwrap();
    assert_eq!(confirm(&t, intent, "4242424242424242").await.body["status"], "succeeded");
    assert_eq!(counts.of(Metric::OrdersPaid), 1);
    assert!(counts.of(Metric::WebhookEventsApplied) >= 1, "the payment event changed the order");

    let id = placed.body["order"]["id"].as_str().unwrap();
    let path = format!("/orders/{id}/refunds");
    let refund = t
        .send(
            Method::POST,
            &path,
            Some(&t.admin),
            &[("idempotency-key", "m")],
            Some(r#"{"amount": {"amount": 500, "currency": "EUR"}}"#.into()),
        )
        .await;
    assert_eq!(refund.status, StatusCode::CREATED, "{}", refund.body);
    assert_eq!(counts.of(Metric::OrdersRefunded), 1);
    assert_eq!(counts.of(Metric::OrdersPaid), 1, "a refund pays nothing again");

    let forged = [("stripe-signature", "t=1,v1=00")];
    let refused = t.send(Method::POST, "/webhooks/stripe", None, &forged, Some(r#"{"id":"evt_x"}"#.into())).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(counts.of(Metric::WebhookSignatureFailures), 1);
    let not_utf8 = t.send(Method::POST, "/webhooks/stripe", None, &forged, Some(vec![0xff, 0xfe].into())).await;
    assert_eq!(not_utf8.code(), "malformed_event");
    assert_eq!(counts.of(Metric::WebhookEventsMalformed), 1);
}
