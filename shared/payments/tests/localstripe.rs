//! The Stripe adapter against localstripe, a third-party Stripe emulator driven through the real
//! async-stripe client: intents, test cards, cancels, refunds, and localstripe's own signed
//! webhooks checked by our verification. `make test` starts localstripe and sets
//! `NANOSHOP_LOCALSTRIPE`; without it these tests fail rather than pass silently, unless
//! `NANOSHOP_SKIP_SERVICES=1` says the caller knowingly runs without it.
//!
//! What localstripe does not do, and so is not pinned here: it ignores `Idempotency-Key`, accepts
//! refunds whose total exceeds the payment (only a single refund over it is refused, by the
//! adapter's own check), and sends no `charge.refunded` or `payment_intent.canceled` events.

use std::time::{Duration, Instant};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use nanoshop_domain::ids::OrderId;
use nanoshop_domain::{Currency, Money};
use nanoshop_payments::webhook::{EventKind, WebhookError, verify};
use nanoshop_payments::{CreateIntent, IntentStatus, PaymentError, PaymentGateway, StripeGateway};
use tokio::sync::mpsc;

const WEBHOOK_SECRET: &str = "whsec_test";
const PAYS: &str = "4242424242424242";
const DECLINED: &str = "4000000000000341";
const NEEDS_3DS: &str = "4000002760003184";

fn localstripe() -> Option<String> {
    let Ok(url) = std::env::var("NANOSHOP_LOCALSTRIPE") else {
        assert!(
            std::env::var("NANOSHOP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
            "NANOSHOP_LOCALSTRIPE is not set: run `make test`, which starts localstripe, or set NANOSHOP_SKIP_SERVICES=1 to skip knowingly"
        );
        return None;
    };
    Some(url)
}

fn gateway(url: &str) -> StripeGateway {
    StripeGateway::new("sk_test_nanoshop", "pk_test_nanoshop".into(), Some(url)).expect("gateway")
}

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::EUR)
}

fn order(amount: i64) -> CreateIntent {
    CreateIntent { order_id: OrderId::generate(), amount: eur(amount), email: "a@b.example".into() }
}

async fn paid_intent(stripe: &StripeGateway, amount: i64) -> String {
    let intent = stripe.create_intent(&order(amount)).await.expect("created");
    let paid = stripe.confirm_with_test_card(&intent.id, PAYS).await.expect("paid");
    assert_eq!(paid.status, IntentStatus::Succeeded);
    intent.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intent_carries_the_order_id_amount_and_currency() {
    let Some(url) = localstripe() else { return };
    let stripe = gateway(&url);
    let req = order(5880);
    let intent = stripe.create_intent(&req).await.expect("created");
    assert!(intent.id.starts_with("pi_"), "{}", intent.id);
    assert!(intent.client_secret.starts_with(&format!("{}_secret_", intent.id)));
    assert_eq!((intent.amount, intent.status), (eur(5880), IntentStatus::RequiresPaymentMethod));

    // What Stripe stored, read around the adapter.
    let stored: serde_json::Value = reqwest::Client::new()
        .get(format!("{url}/v1/payment_intents/{}", intent.id))
        .basic_auth("sk_test_nanoshop", Some(""))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(stored["metadata"]["nanoshop_order_id"], req.order_id.as_str());
    assert_eq!((stored["amount"].as_i64(), stored["currency"].as_str()), (Some(5880), Some("eur")));
    assert_eq!(stripe.retrieve_intent(&intent.id).await.expect("retrieved"), intent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_cards_pay_are_declined_or_require_3d_secure() {
    let Some(url) = localstripe() else { return };
    let stripe = gateway(&url);

    let intent = stripe.create_intent(&order(1999)).await.expect("created");
    let paid = stripe.confirm_with_test_card(&intent.id, PAYS).await.expect("paid");
    assert_eq!((paid.status, paid.amount), (IntentStatus::Succeeded, eur(1999)));

    let intent = stripe.create_intent(&order(1999)).await.expect("created");
    let declined = stripe.confirm_with_test_card(&intent.id, DECLINED).await.expect_err("declined");
    let PaymentError::Refused(why) = declined else { panic!("{declined:?}") };
    assert!(why.contains("declined"), "{why}");
    let after = stripe.retrieve_intent(&intent.id).await.expect("retrieved");
    assert_eq!(after.status, IntentStatus::RequiresPaymentMethod, "a declined intent waits for another card");

    let intent = stripe.create_intent(&order(1999)).await.expect("created");
    let challenged = stripe.confirm_with_test_card(&intent.id, NEEDS_3DS).await.expect("confirmed");
    assert_eq!(challenged.status, IntentStatus::RequiresAction);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_is_idempotent_and_refused_once_paid() {
    let Some(url) = localstripe() else { return };
    let stripe = gateway(&url);
    let intent = stripe.create_intent(&order(700)).await.expect("created");
    stripe.cancel_intent(&intent.id).await.expect("canceled");
    assert_eq!(stripe.retrieve_intent(&intent.id).await.expect("retrieved").status, IntentStatus::Canceled);
    stripe.cancel_intent(&intent.id).await.expect("canceling a canceled intent is fine");

    let paid = paid_intent(&stripe, 700).await;
    assert!(matches!(stripe.cancel_intent(&paid).await, Err(PaymentError::Refused(_))));
    assert!(matches!(stripe.cancel_intent("pi_doesnotexist").await, Err(PaymentError::Refused(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_partial_and_full_and_never_over_what_was_paid() {
    let Some(url) = localstripe() else { return };
    let stripe = gateway(&url);

    let intent = paid_intent(&stripe, 1999).await;
    let partial = stripe.refund(&intent, eur(500), &format!("{intent}-r1")).await.expect("partial refund");
    assert!(partial.id.starts_with("re_"), "{}", partial.id);
    assert_eq!((partial.amount, partial.status.as_str()), (eur(500), "succeeded"));
    let rest = stripe.refund(&intent, eur(1499), &format!("{intent}-r2")).await.expect("the rest");
    assert_eq!(rest.amount, eur(1499));

    let intent = paid_intent(&stripe, 1999).await;
    let over = stripe.refund(&intent, eur(2000), &format!("{intent}-over")).await;
    assert!(matches!(over, Err(PaymentError::Refused(_))), "{over:?}");
    let usd = stripe.refund(&intent, Money::new(100, Currency::USD), &format!("{intent}-usd")).await;
    assert!(matches!(usd, Err(PaymentError::Refused(_))), "{usd:?}");
    let full = stripe.refund(&intent, eur(1999), &format!("{intent}-full")).await.expect("full refund");
    assert_eq!(full.amount, eur(1999));

    let unpaid = stripe.create_intent(&order(1999)).await.expect("created");
    let refused = stripe.refund(&unpaid.id, eur(100), &format!("{}-r", unpaid.id)).await;
    assert!(matches!(refused, Err(PaymentError::Refused(_))), "{refused:?}");
    let unknown = stripe.refund("pi_doesnotexist", eur(100), "pi_doesnotexist-r").await;
    assert!(matches!(unknown, Err(PaymentError::Refused(_))), "{unknown:?}");
}

/// localstripe signs its webhooks itself (HMAC-SHA256 with the registered secret, over its own
/// serialisation of the event): our verification must accept them as they come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localstripes_signed_webhooks_verify_and_read() {
    let Some(url) = localstripe() else { return };
    let stripe = gateway(&url);

    let (deliveries, mut received) = mpsc::unbounded_channel::<(String, Option<String>)>();
    let app = Router::new().route(
        "/webhooks/stripe",
        post(move |headers: HeaderMap, body: String| async move {
            let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let _ = deliveries.send((body, signature));
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}/webhooks/stripe", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    // localstripe sends every event to every registered webhook; the id keeps ours apart.
    let registered = reqwest::Client::new()
        .post(format!("{url}/_config/webhooks/nanoshop-payments-{}", std::process::id()))
        .form(&[("url", endpoint.as_str()), ("secret", WEBHOOK_SECRET)])
        .send()
        .await
        .expect("register webhook");
    assert!(registered.status().is_success(), "{}", registered.status());

    let paying = order(1999);
    let paid = stripe.create_intent(&paying).await.expect("created");
    stripe.confirm_with_test_card(&paid.id, PAYS).await.expect("paid");
    let declined = stripe.create_intent(&order(2500)).await.expect("created");
    stripe.confirm_with_test_card(&declined.id, DECLINED).await.expect_err("declined");

    let (mut succeeded, mut failed) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(20);
    while succeeded.is_none() || failed.is_none() {
        let wait = deadline.saturating_duration_since(Instant::now());
        let Ok(Some((body, signature))) = tokio::time::timeout(wait, received.recv()).await else {
            panic!("localstripe did not deliver both events (succeeded: {succeeded:?}, failed: {failed:?})");
        };
        let event = verify(&body, signature.as_deref(), WEBHOOK_SECRET)
            .unwrap_or_else(|e| panic!("localstripe's event does not verify: {e}\n{body}"));
        assert_eq!(verify(&body, signature.as_deref(), "whsec_other"), Err(WebhookError::BadSignature));
        match event.kind {
            EventKind::PaymentSucceeded(intent) if intent.intent_id == paid.id => succeeded = Some(intent),
            EventKind::PaymentFailed(intent) if intent.intent_id == declined.id => failed = Some(intent),
            _ => {} // other tests' events: localstripe broadcasts
        }
    }
    let succeeded = succeeded.expect("succeeded");
    assert_eq!(succeeded.order_id.as_ref(), Some(&paying.order_id));
    assert_eq!((succeeded.amount, succeeded.amount_received), (eur(1999), 1999));
    let failed = failed.expect("failed");
    assert_eq!((failed.amount, failed.amount_received), (eur(2500), 0));
    assert_eq!(failed.failure_message.as_deref(), Some("Your card was declined."));
}

/// No localstripe needed: nothing listens on port 9.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_down_is_unavailable_promptly() {
    let stripe = gateway("http://127.0.0.1:9");
    let started = Instant::now();
    let err = stripe.create_intent(&order(1999)).await.expect_err("nothing listens");
    assert!(matches!(err, PaymentError::Unavailable(_)), "{err:?}");
    assert!(matches!(stripe.cancel_intent("pi_x").await, Err(PaymentError::Unavailable(_))));
    assert!(matches!(stripe.refund("pi_x", eur(1), "k").await, Err(PaymentError::Unavailable(_))));
    // Three attempts each, 0.5 s of backoff each.
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}
