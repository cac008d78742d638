//! A purchase against localstripe, a third-party Stripe emulator: checkout creates the
//! PaymentIntent through the real Stripe adapter, the card is confirmed at localstripe, and
//! localstripe's own signed webhook pays the order through the webhook function over HTTP.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use nanoshop_payments::stripe::StripeGateway;
use serde_json::json;

use crate::cart::{guest_cart, shop};
use crate::checkout::checkout;
use crate::support::TestApp;

fn localstripe() -> Option<String> {
    let Ok(url) = std::env::var("NANOSHOP_LOCALSTRIPE") else {
        assert!(
            std::env::var("NANOSHOP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
            "NANOSHOP_LOCALSTRIPE is not set: run `make test`"
        );
        return None;
    };
    Some(url)
}

/// Waits until the order reaches `wanted` (localstripe delivers webhooks asynchronously).
async fn until(
    t: &TestApp,
    id: &str,
    wanted: impl Fn(&nanoshop_domain::order::Order) -> bool,
) -> nanoshop_domain::order::Order {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let order = t.order(id).await;
        if wanted(&order) || Instant::now() > deadline {
            return order;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localstripe_payments_and_webhooks_settle_orders() {
    let Some(url) = localstripe() else { return };
    let stripe = Arc::new(StripeGateway::new("sk_test_nanoshop", "pk_test_nanoshop".into(), Some(&url)).unwrap());
    let store = Arc::new(nanoshop_store::embedded::EmbeddedStore::in_memory());
    let gateway = stripe.clone();
    let t = TestApp::build(store, move |_| Some(gateway), chrono::TimeDelta::minutes(30));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/webhooks/stripe", listener.local_addr().unwrap());
    let server = tokio::spawn(axum::serve(listener, t.app.clone()).into_future());
    let registered = reqwest::Client::new()
        .post(format!("{url}/_config/webhooks/nanoshop-e2e-{}", std::process::id()))
        .form(&[("url", endpoint.as_str()), ("secret", t.webhook_secret.as_str())])
        .send()
        .await
        .unwrap();
    assert!(registered.status().is_success());

    shop(&t, 2).await;
    let buy = |sku: &'static str, key: &'static str| {
        let t = &t;
        async move {
            let cart = guest_cart(t, json!([{"sku": sku, "quantity": 1}])).await;
            let reply = checkout(t, &cart, key).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
            assert!(reply.body["payment"]["payment_intent_id"].as_str().is_some_and(|pi| pi.starts_with("pi_")));
            (
                reply.body["order"]["id"].as_str().unwrap().to_owned(),
                reply.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (paid, paid_intent) = buy("P0", "ls-paid").await;
    stripe.confirm_with_test_card(&paid_intent, "4242424242424242").await.unwrap();
    let order = until(&t, &paid, |o| o.status.as_str() == "paid").await;
    assert_eq!(order.status.as_str(), "paid", "localstripe's signed event paid the order");
    assert_eq!(t.stock("P0").await, (4, 0, 4));

    let (declined, declined_intent) = buy("P1", "ls-declined").await;
    let _ = stripe.confirm_with_test_card(&declined_intent, "4000000000000341").await;
    let order = until(&t, &declined, |o| format!("{:?}", o.payment_status) == "Failed").await;
    assert_eq!(
        (order.status.as_str(), format!("{:?}", order.payment_status)),
        ("pending_payment", "Failed".to_owned())
    );
    assert_eq!(t.stock("P1").await, (5, 1, 4), "the declined order still holds its unit");
    server.abort();
}

/// Stripe's adapter, except that cancels are lost in flight (see `orders::CancelLost`).
#[derive(Debug)]
struct CancelLostAtStripe(Arc<StripeGateway>);

#[async_trait::async_trait]
impl nanoshop_payments::PaymentGateway for CancelLostAtStripe {
    async fn create_intent(
        &self,
        r: &nanoshop_payments::CreateIntent,
    ) -> Result<nanoshop_payments::Intent, nanoshop_payments::PaymentError> {
        self.0.create_intent(r).await
    }
    async fn cancel_intent(&self, _: &str) -> Result<(), nanoshop_payments::PaymentError> {
        Ok(())
    }
    async fn refund(
        &self,
        intent: &str,
        amount: nanoshop_domain::Money,
        key: &str,
    ) -> Result<nanoshop_payments::Refund, nanoshop_payments::PaymentError> {
        self.0.refund(intent, amount, key).await
    }
    fn publishable_key(&self) -> String {
        self.0.publishable_key()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_at_localstripe_never_exceed_the_payment_and_late_payments_are_refunded() {
    let Some(url) = localstripe() else { return };
    let stripe = Arc::new(StripeGateway::new("sk_test_nanoshop", "pk_test_nanoshop".into(), Some(&url)).unwrap());
    let store = Arc::new(nanoshop_store::embedded::EmbeddedStore::in_memory());
    let gateway: Arc<dyn nanoshop_payments::PaymentGateway> = Arc::new(CancelLostAtStripe(stripe.clone()));
    // Orders expire at once, so the sweep can race a payment; cancels are lost, as in a race.
    let t = Arc::new(TestApp::build(store, move |_| Some(gateway), chrono::TimeDelta::minutes(-1)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/webhooks/stripe", listener.local_addr().unwrap());
    let server = tokio::spawn(axum::serve(listener, t.app.clone()).into_future());
    reqwest::Client::new()
        .post(format!("{url}/_config/webhooks/nanoshop-e2e-refunds-{}", std::process::id()))
        .form(&[("url", endpoint.as_str()), ("secret", t.webhook_secret.as_str())])
        .send()
        .await
        .unwrap();
    shop(&t, 1).await;
    let buy = |key: &'static str| {
        let t = t.clone();
        async move {
            let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
            let reply = checkout(&t, &cart, key).await;
            (
                reply.body["order"]["id"].as_str().unwrap().to_owned(),
                reply.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned(),
            )
        }
    };

    // Paid before the sweep: then refunded in two racing parts and the rest.
    let (id, intent) = buy("ls-refunds").await;
    stripe.confirm_with_test_card(&intent, "4242424242424242").await.unwrap();
    let paid = until(&t, &id, |o| o.status.as_str() == "paid").await;
    assert_eq!(paid.status.as_str(), "paid");
    let refund = |key: String, amount: Option<i64>| {
        let t = t.clone();
        let id = id.clone();
        async move {
            let body = amount.map_or(json!({}), |a| json!({"amount": {"amount": a, "currency": "EUR"}}));
            t.send(
                axum::http::Method::POST,
                &format!("/orders/{id}/refunds"),
                Some(&t.admin),
                &[("idempotency-key", key.as_str())],
                Some(body.to_string().into()),
            )
            .await
        }
    };
    let racing: Vec<_> = (0..2).map(|i| tokio::spawn(refund(format!("race-{i}"), Some(1000)))).collect();
    let mut created = 0;
    for r in racing {
        if r.await.unwrap().status == StatusCode::CREATED {
            created += 1;
        }
    }
    assert_eq!(created, 1, "two refunds of 10.00 on 14.90 paid: one succeeds");
    let rest = refund("rest".into(), None).await;
    assert_eq!(rest.status, StatusCode::CREATED, "{}", rest.body);
    let order = t.order(&id).await;
    assert_eq!((order.totals.refunded.amount, format!("{:?}", order.payment_status)), (1490, "Refunded".to_owned()));
    let over = refund("over".into(), Some(1)).await;
    assert_eq!(over.status, StatusCode::CONFLICT, "nothing is left to refund: {}", over.body);

    // Expired before the payment: the sweep releases the stock; the late payment is refunded.
    let (late, late_intent) = buy("ls-late").await;
    t.local.tick().await;
    assert_eq!(t.order(&late).await.status.as_str(), "expired");
    stripe.confirm_with_test_card(&late_intent, "4242424242424242").await.unwrap();
    let order = until(&t, &late, |o| format!("{:?}", o.payment_status) == "Refunded").await;
    assert_eq!((order.status.as_str(), format!("{:?}", order.payment_status)), ("expired", "Refunded".to_owned()));
    assert!(order.flags.contains(&nanoshop_domain::order::OrderFlag::PaidAfterClose));
    server.abort();
}
