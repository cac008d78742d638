//! The retry and error mapping against a fake Stripe that answers what each test scripts; the
//! behaviour against a real Stripe emulator is in `tests/localstripe.rs`.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use nanoshop_domain::Currency;
use nanoshop_domain::ids::OrderId;

use super::*;
use crate::port::IntentStatus;

#[derive(Default)]
struct Script {
    answers: Vec<(u16, String)>,
    seen: Vec<(HeaderMap, String)>,
}

type Shared = Arc<Mutex<Script>>;

async fn answer(State(script): State<Shared>, headers: HeaderMap, body: String) -> (StatusCode, String) {
    let mut script = script.lock().expect("lock");
    script.seen.push((headers, body));
    let (status, body) = if script.answers.is_empty() { (500, String::new()) } else { script.answers.remove(0) };
    (StatusCode::from_u16(status).expect("status"), body)
}

async fn fake_stripe(answers: Vec<(u16, &str)>) -> (StripeGateway, Shared) {
    let (addr, script) = fake_stripe_at(answers).await;
    let gateway =
        StripeGateway::new("sk_test_fake", "pk_test_fake".into(), Some(&format!("http://{addr}"))).expect("gateway");
    (gateway, script)
}

async fn fake_stripe_at(answers: Vec<(u16, &str)>) -> (std::net::SocketAddr, Shared) {
    let script: Shared = Arc::new(Mutex::new(Script {
        answers: answers.into_iter().map(|(s, b)| (s, b.to_owned())).collect(),
        seen: vec![],
    }));
    let app = Router::new().route("/v1/payment_intents", post(answer)).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, script)
}

/// A key that changes when the test says, counting re-reads.
#[derive(Debug, Default)]
struct Rotating {
    current: Mutex<Option<String>>,
    next: Mutex<Option<String>>,
    rereads: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl KeySource for Rotating {
    fn cached(&self) -> Option<SecretString> {
        self.current.lock().expect("lock").clone().map(SecretString::from)
    }
    async fn get(&self) -> Option<SecretString> {
        self.cached()
    }
    async fn reread(&self) -> bool {
        self.rereads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match self.next.lock().expect("lock").take() {
            Some(next) => {
                *self.current.lock().expect("lock") = Some(next);
                true
            }
            None => false,
        }
    }
}

fn rotating(current: Option<&str>, next: Option<&str>) -> Arc<Rotating> {
    Arc::new(Rotating {
        current: Mutex::new(current.map(str::to_owned)),
        next: Mutex::new(next.map(str::to_owned)),
        rereads: Default::default(),
    })
}

fn bearer(headers: &HeaderMap) -> String {
    headers["authorization"].to_str().expect("ascii").to_owned()
}

#[tokio::test]
async fn a_refused_key_is_read_again_and_the_call_sent_once_more_with_the_new_one() {
    let unauthorized = error("invalid_request_error", "Invalid API Key provided: sk_test_****_old");
    let (addr, script) = fake_stripe_at(vec![(401, &unauthorized), (200, INTENT)]).await;
    let key = rotating(Some("sk_test_old_key"), Some("sk_test_new_key"));
    let gateway = StripeGateway::with_keys(key.clone(), None, Some(&format!("http://{addr}"))).expect("gateway");
    let intent = gateway.create_intent(&request()).await.expect("the new key works");
    assert_eq!(intent.id, "pi_1");
    let seen = &script.lock().expect("lock").seen;
    assert_eq!(seen.len(), 2);
    assert!(bearer(&seen[0].0).contains("sk_test_old_key"));
    assert!(bearer(&seen[1].0).contains("sk_test_new_key"), "the client was rebuilt for the new key");
}

#[tokio::test]
async fn a_refused_key_that_did_not_change_is_not_configured_and_hides_stripes_message() {
    let unauthorized = error("invalid_request_error", "Invalid API Key provided: sk_test_****_old");
    let (addr, script) = fake_stripe_at(vec![(401, &unauthorized), (401, &unauthorized), (200, INTENT)]).await;
    let key = rotating(Some("sk_test_old_key"), None);
    let gateway = StripeGateway::with_keys(key.clone(), None, Some(&format!("http://{addr}"))).expect("gateway");
    let err = gateway.create_intent(&request()).await.expect_err("refused");
    assert!(err.is_not_configured(), "{err:?}");
    assert!(!format!("{err:?} {err}").contains("****"), "{err:?}");
    assert_eq!(script.lock().expect("lock").seen.len(), 1, "no retry with a key Stripe refused");
    assert_eq!(key.rereads.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn without_a_usable_key_nothing_is_sent_and_the_gateway_is_not_ready() {
    let (addr, script) = fake_stripe_at(vec![(200, INTENT)]).await;
    let base = format!("http://{addr}");
    for key in [None, Some("sk_live_…"), Some("sk_test_replace_me"), Some("pk_test_abcdef"), Some("")] {
        let gateway = StripeGateway::with_keys(rotating(key, None), None, Some(&base)).expect("gateway");
        assert!(gateway.ready().await.expect_err("not ready").is_not_configured(), "{key:?}");
        let err = gateway.create_intent(&request()).await.expect_err("not sent");
        assert!(err.is_not_configured(), "{key:?}: {err:?}");
    }
    let publishable = Some(rotating(None, None) as Arc<dyn KeySource>);
    let gateway =
        StripeGateway::with_keys(rotating(Some("sk_test_good"), None), publishable, Some(&base)).expect("gateway");
    assert!(gateway.ready().await.expect_err("no publishable key").is_not_configured());
    assert!(script.lock().expect("lock").seen.is_empty());
}

/// A Secrets Manager secret as the functions read it (`nanoshop_api::Secret`), whose value
/// the test changes.
#[derive(Debug)]
struct Source(Arc<Mutex<String>>);

#[async_trait]
impl nanoshop_api::secrets::SecretFetcher for Source {
    async fn fetch(&self) -> anyhow::Result<String> {
        Ok(self.0.lock().expect("lock").clone())
    }
}

#[tokio::test(start_paused = true)]
async fn a_placeholder_key_fixed_in_the_source_is_used_after_the_reread_interval_without_a_restart() {
    use nanoshop_api::secrets::{MIN_REREAD_INTERVAL, RemoteSecret};
    let (addr, script) = fake_stripe_at(vec![(200, INTENT)]).await;
    let document = |sk: &str, pk: &str| serde_json::json!({"secret_key": sk, "publishable_key": pk}).to_string();
    let value = Arc::new(Mutex::new(document("sk_test_replace_me", "replace_me")));
    let remote = RemoteSecret::new(Box::new(Source(value.clone())));
    let key = |field| Arc::new(nanoshop_api::Secret::remote(remote.clone(), Some(field))) as Arc<dyn KeySource>;
    let gateway =
        StripeGateway::with_keys(key("secret_key"), Some(key("publishable_key")), Some(&format!("http://{addr}")))
            .expect("gateway");
    assert!(gateway.ready().await.expect_err("a placeholder").is_not_configured());
    assert!(gateway.create_intent(&request()).await.expect_err("a placeholder").is_not_configured());

    *value.lock().expect("lock") = document("sk_test_fixed_key", "replace_me");
    assert!(gateway.ready().await.expect_err("not read again yet").is_not_configured());
    let reads = remote.reads();
    tokio::time::advance(MIN_REREAD_INTERVAL).await;
    assert!(
        gateway.ready().await.expect_err("the publishable key is still a placeholder").is_not_configured(),
        "a secret key alone does not make checkout ready"
    );
    assert_eq!(remote.reads(), reads + 1, "the placeholder was read again once the interval passed");

    *value.lock().expect("lock") = document("sk_test_fixed_key", "pk_test_fixed");
    tokio::time::advance(MIN_REREAD_INTERVAL).await;
    gateway.ready().await.expect("both keys fixed, no restart");
    assert_eq!(gateway.publishable_key(), "pk_test_fixed");
    // The network from here on: real time again, so the client's timeouts mean what they say.
    tokio::time::resume();
    gateway.create_intent(&request()).await.expect("sent with the fixed key");
    let seen = &script.lock().expect("lock").seen;
    assert_eq!(seen.len(), 1, "nothing was sent with the placeholder");
    assert!(bearer(&seen[0].0).contains("sk_test_fixed_key"));
    assert!(remote.reads() <= reads + 2, "at most one read per interval: {}", remote.reads());
}

#[test]
fn a_base_url_is_https_or_http_to_this_machine() {
    for ok in [
        "https://api.stripe.com",
        "https://stripe.example/v1",
        "http://127.0.0.1:8420",
        "http://localhost:1",
        "http://[::1]:8420/",
    ] {
        assert!(check_base(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://api.stripe.com",
        "http://10.0.0.1:8420",
        "http://127.0.0.1.evil.example",
        "ftp://127.0.0.1",
        "not a url",
        "http://user@127.0.0.1",
        "https://",
    ] {
        assert!(check_base(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_live_key_goes_to_stripe_only_and_placeholders_are_refused() {
    for (key, base, ok) in [
        ("sk_live_51Habcdef", None, true),
        ("sk_live_51Habcdef", Some("https://api.stripe.com"), true),
        ("sk_live_51Habcdef", Some("https://api.stripe.com/"), true),
        ("sk_live_51Habcdef", Some("https://stripe.example"), false),
        ("rk_live_51Habcdef", Some("http://127.0.0.1:8420"), false),
        ("sk_test_51Habcdef", Some("http://127.0.0.1:8420"), true),
        ("rk_test_51Habcdef", Some("https://stripe.example"), true),
        ("sk_live_…", None, false),
        ("sk_live_...", None, false),
        ("sk_test_replace_me_later", None, false),
        ("sk_test_", None, false),
        ("pk_live_51Habcdef", None, false),
        ("whsec_51Habcdef", None, false),
    ] {
        let result = check_key(key, base);
        assert_eq!(result.is_ok(), ok, "{key} to {base:?}: {result:?}");
        if let Err(e) = result {
            assert!(!e.to_string().contains("51Habcdef"), "the error shows the key: {e}");
        }
    }
    assert!(StripeGateway::new("sk_live_51Habcdef", "pk_live_1".into(), Some("http://127.0.0.1:8420")).is_err());
    assert!(StripeGateway::with_keys(rotating(None, None), None, Some("http://stripe.example")).is_err());
}

fn request() -> CreateIntent {
    CreateIntent { order_id: OrderId::generate(), amount: Money::new(1999, Currency::EUR), email: "a@b.example".into() }
}

const INTENT: &str = r#"{"id": "pi_1", "object": "payment_intent", "amount": 1999, "currency": "eur",
    "status": "requires_payment_method", "client_secret": "pi_1_secret_x"}"#;

fn error(kind: &str, message: &str) -> String {
    format!(r#"{{"error": {{"type": "{kind}", "message": "{message}"}}}}"#)
}

#[tokio::test]
async fn server_errors_are_retried_with_the_same_idempotency_key() {
    let api_error = error("api_error", "Something went wrong");
    let (gateway, script) = fake_stripe(vec![(500, &api_error), (503, "<html>busy</html>"), (200, INTENT)]).await;
    let req = request();
    let intent = gateway.create_intent(&req).await.expect("third attempt succeeds");
    assert_eq!(intent.id, "pi_1");
    assert_eq!(intent.client_secret, "pi_1_secret_x");
    assert_eq!((intent.amount, intent.status), (req.amount, IntentStatus::RequiresPaymentMethod));

    let seen = &script.lock().expect("lock").seen;
    assert_eq!(seen.len(), 3);
    for (headers, body) in seen {
        assert_eq!(headers["idempotency-key"], req.idempotency_key().as_str());
        assert!(body.contains("amount=1999") && body.contains("currency=eur"), "{body}");
        assert!(body.contains(&format!("metadata[{ORDER_ID_METADATA}]={}", req.order_id)), "{body}");
    }
}

#[test]
fn the_worst_case_budget_is_every_attempt_timing_out_plus_the_backoff() {
    assert_eq!([BACKOFF.delay(0), BACKOFF.delay(1)], [Duration::from_millis(100), Duration::from_millis(400)]);
    let waits = (0..ATTEMPTS - 1).map(|retry| BACKOFF.delay(retry)).sum::<Duration>();
    assert_eq!(WORST_CASE_BUDGET, ATTEMPT_TIMEOUT * ATTEMPTS + waits);
    assert_eq!(worst_case_budget(3, Duration::from_secs(8), &BACKOFF), Duration::from_millis(24_500));
}

#[tokio::test]
async fn three_transient_failures_are_unavailable() {
    let busy = error("invalid_request_error", "Too many requests");
    let (gateway, script) = fake_stripe(vec![(429, &busy), (429, &busy), (429, &busy), (200, INTENT)]).await;
    let err = gateway.create_intent(&request()).await.expect_err("gives up");
    assert!(matches!(err, PaymentError::Unavailable(_)), "{err:?}");
    assert_eq!(script.lock().expect("lock").seen.len(), ATTEMPTS as usize);
}

#[tokio::test]
async fn client_errors_are_refused_with_stripes_message_and_not_retried() {
    let invalid = error("invalid_request_error", "Amount must be at least €0.50 eur");
    let (gateway, script) = fake_stripe(vec![(400, &invalid), (200, INTENT)]).await;
    let err = gateway.create_intent(&request()).await.expect_err("refused");
    let PaymentError::Refused(message) = err else { panic!("{err:?}") };
    assert_eq!(message, "Amount must be at least €0.50 eur");
    assert_eq!(script.lock().expect("lock").seen.len(), 1);
}

#[tokio::test]
async fn an_unreadable_success_is_unavailable_and_not_retried() {
    let (gateway, script) = fake_stripe(vec![(200, r#"{"id": "pi_1"}"#), (200, INTENT)]).await;
    assert!(matches!(gateway.create_intent(&request()).await, Err(PaymentError::Unavailable(_))));
    assert_eq!(script.lock().expect("lock").seen.len(), 1);
}

#[tokio::test]
async fn an_intent_for_another_amount_under_the_orders_key_is_refused() {
    let other = INTENT.replace("1999", "2000");
    let (gateway, _) = fake_stripe(vec![(200, &other)]).await;
    assert!(matches!(gateway.create_intent(&request()).await, Err(PaymentError::Refused(_))));
}

#[test]
fn a_bad_base_url_is_a_configuration_error() {
    assert!(StripeGateway::new("sk_test_valid1", "pk".into(), Some("not a url")).is_err());
    assert!(StripeGateway::new("sk_test\n", "pk".into(), None).is_err());
    let gateway = StripeGateway::new("sk_test_secret_value", "pk_test_1".into(), None).expect("gateway");
    assert!(!format!("{gateway:?}").contains("sk_test_secret_value"));
    assert_eq!(gateway.publishable_key(), "pk_test_1");
}

/// The port's error for one error answer to a create, and how many requests the gateway sent
/// (the next answer, a success, is there for a retry to find).
async fn refusal(status: u16, body: &str) -> (PaymentError, usize) {
    let (gateway, script) = fake_stripe(vec![(status, body), (200, INTENT)]).await;
    let err = gateway.create_intent(&request()).await.expect_err("an error answer");
    let sent = script.lock().expect("lock").seen.len();
    (err, sent)
}

#[tokio::test]
async fn a_card_decline_is_refused_with_stripes_message_whatever_else_the_error_holds() {
    // A decline as Stripe writes it: beside its own fields, the error carries the objects it
    // concerns. Those are not read (vendor/async-stripe), so one of a shape the generated
    // types would not parse still leaves the error readable.
    let decline = r#"{"error": {"type": "card_error", "code": "card_declined",
        "decline_code": "insufficient_funds", "message": "Your card has insufficient funds.",
        "charge": "ch_1", "advice_code": "try_again_later", "network_decline_code": "51",
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "request_log_url": "https://dashboard.stripe.com/test/logs/req_1",
        "payment_intent": {"id": "pi_1", "object": "payment_intent", "status": "requires_payment_method"},
        "payment_method": {"id": "pm_1", "object": "payment_method", "type": "card"}}}"#;
    let (err, sent) = refusal(402, decline).await;
    let PaymentError::Refused(message) = err else { panic!("{err:?}") };
    assert_eq!((message.as_str(), sent), ("Your card has insufficient funds.", 1));
}

#[tokio::test]
async fn an_error_without_a_message_is_refused_with_its_code_else_its_type() {
    let missing = r#"{"error": {"type": "invalid_request_error", "code": "parameter_missing", "param": "amount"}}"#;
    let (err, sent) = refusal(400, missing).await;
    let PaymentError::Refused(message) = err else { panic!("{err:?}") };
    assert_eq!((message.as_str(), sent), ("parameter_missing", 1));

    // A code this release of async-stripe does not know is kept as Stripe wrote it.
    let unknown = r#"{"error": {"type": "invalid_request_error", "code": "brand_new_code", "param": "x"}}"#;
    let (err, _) = refusal(400, unknown).await;
    assert!(matches!(&err, PaymentError::Refused(m) if m == "brand_new_code"), "{err:?}");

    let bare = r#"{"error": {"type": "idempotency_error", "message": null}}"#;
    let (err, _) = refusal(400, bare).await;
    assert!(matches!(&err, PaymentError::Refused(m) if m == "idempotency_error"), "{err:?}");
}

#[tokio::test]
async fn a_rate_limit_is_transient_with_stripes_status_and_message() {
    let busy = r#"{"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests"}}"#;
    let (gateway, script) = fake_stripe(vec![(429, busy), (200, INTENT)]).await;
    assert_eq!(gateway.create_intent(&request()).await.expect("the retry succeeds").id, "pi_1");
    assert_eq!(script.lock().expect("lock").seen.len(), 2);

    let (gateway, _) = fake_stripe(vec![(429, busy); 3]).await;
    let err = gateway.create_intent(&request()).await.expect_err("gives up");
    let PaymentError::Unavailable(source) = err else { panic!("{err:?}") };
    assert_eq!(source.to_string(), "Stripe answered 429: Too many requests");
}

#[tokio::test]
async fn an_error_body_without_a_type_is_not_a_stripe_error_and_is_retried() {
    // As upstream: `type` is the one field an error must have; without it the answer is taken
    // as a server error (a proxy, a crashed emulator).
    let (gateway, script) =
        fake_stripe(vec![(400, r#"{"error": {"message": "no type"}}"#), (502, "{}"), (200, INTENT)]).await;
    assert_eq!(gateway.create_intent(&request()).await.expect("the third attempt succeeds").id, "pi_1");
    assert_eq!(script.lock().expect("lock").seen.len(), 3);
}
