//! Secrets read at run time (`nanoshop_api::secrets`), against moto's Secrets Manager: a rotated
//! webhook secret takes effect with no restart, forged events cannot multiply reads, an
//! unreachable Secrets Manager is 503 `not_configured` (never an empty key), and a missing or
//! placeholder secret or Stripe key refuses work instead of doing it unsafely. Also: the
//! provider's own words never reach a client.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use nanoshop_api::secrets::{MIN_REREAD_INTERVAL, SecretsManagerClient};
use nanoshop_api::{Secret, SecretSource, Secrets, with_common_layers};
use nanoshop_payments::simulator::Simulator;
use nanoshop_payments::stripe::{FixedKey, KeySource, StripeGateway};
use nanoshop_payments::webhook;
use nanoshop_payments::{CreateIntent, Intent, PaymentError, PaymentGateway, Refund};
use nanoshop_payments_webhook::WebhookDeps;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::cart::{guest_cart, shop};
use crate::checkout::checkout;
use crate::support::TestApp;

fn moto() -> Option<String> {
    let Ok(url) = std::env::var("NANOSHOP_MOTO") else {
        assert!(
            std::env::var("NANOSHOP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
            "NANOSHOP_MOTO is not set: run `make test`"
        );
        return None;
    };
    Some(url)
}

fn secrets_manager(endpoint: &str) -> SecretsManagerClient {
    use aws_sdk_secretsmanager::config::{BehaviorVersion, Builder, Credentials, Region};
    let config = Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "e2e"))
        .endpoint_url(endpoint)
        .build();
    SecretsManagerClient::from_conf(config)
}

/// Secrets in moto for the functions to read at start, and the variables that point them there
/// (the cold-start benchmark in `lambda.rs`).
pub async fn bench_secret_ids(moto: &str) -> Vec<(String, String)> {
    let client = secrets_manager(moto);
    let run = format!("{:016x}", rand::random::<u64>());
    let stripe =
        json!({"secret_key": "sk_test_bench", "publishable_key": "pk_test_bench", "webhook_secret": signing_secret()});
    let mut vars = vec![("AWS_ENDPOINT_URL_SECRETS_MANAGER".to_owned(), moto.to_owned())];
    for (var, name, value) in [
        ("STRIPE_SECRET_ID", "stripe", stripe.to_string()),
        ("ORDER_TOKEN_SECRET_ID", "order-token", "t".repeat(8) + &signing_secret()),
        ("CURSOR_SECRET_ID", "cursor", "c".repeat(8) + &signing_secret()),
    ] {
        let id = format!("nanoshop/bench-{run}/{name}");
        client.create_secret().name(&id).secret_string(value).send().await.unwrap();
        vars.push((var.to_owned(), id));
    }
    vars
}

/// A signing secret as Stripe makes them: `whsec_` and 32 random characters.
fn signing_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::fill(&mut bytes);
    format!("whsec_{}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD_NO_PAD, bytes))
}

/// The webhook function as its binary builds it, on `t`'s store, with `secret`.
fn webhook_router(t: &TestApp, secret: Secret) -> Router {
    let store: Arc<dyn nanoshop_store::Store> = t.counting.clone();
    let payments = Arc::new(Simulator::new(signing_secret()));
    with_common_layers(nanoshop_payments_webhook::router(WebhookDeps { store, payments, secret }))
}

async fn deliver(router: &Router, payload: &str, signature: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/webhooks/stripe")
        .header("stripe-signature", signature)
        .body(Body::from(payload.to_owned()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn sign(payload: &str, secret: &str) -> String {
    webhook::sign(payload, secret, chrono::Utc::now().timestamp())
}

/// A pending order of one P0 (14.90 EUR) and the `payment_intent.succeeded` event that pays it.
async fn pending_order(t: &TestApp, key: &str) -> (String, String) {
    let cart = guest_cart(t, json!([{"sku": "P0", "quantity": 1}])).await;
    let reply = checkout(t, &cart, key).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["order"]["id"].as_str().unwrap().to_owned();
    let intent = reply.body["payment"]["payment_intent_id"].as_str().unwrap().to_owned();
    let sim = Simulator::new(signing_secret());
    let request = CreateIntent {
        order_id: id.parse().unwrap(),
        amount: nanoshop_domain::Money::new(1490, nanoshop_domain::Currency::EUR),
        email: "ada@example.com".into(),
    };
    let made = sim.create_intent(&request).await.unwrap();
    let events = sim.confirm(&made.id, "4242424242424242").unwrap();
    let mut event: Value = serde_json::from_str(&events[0].payload).unwrap();
    event["data"]["object"]["id"] = json!(intent);
    (id, event.to_string())
}

#[tokio::test]
async fn a_rotated_webhook_secret_is_applied_without_a_restart_and_forgeries_read_it_at_most_once_a_minute() {
    let Some(moto) = moto() else { return };
    let client = secrets_manager(&moto);
    let id = format!("nanoshop/stripe-e2e-{:016x}", rand::random::<u64>());
    let (old, new) = (signing_secret(), signing_secret());
    let document =
        |webhook_secret: &str| json!({"secret_key": "sk_test_e2e", "webhook_secret": webhook_secret}).to_string();
    client.create_secret().name(&id).secret_string(document(&old)).send().await.unwrap();

    let t = TestApp::new();
    shop(&t, 1).await;
    let secrets = Secrets::new(Some(client.clone()));
    let secret = secrets.open(&SecretSource::SecretsManager { id: id.clone(), field: Some("webhook_secret") });
    secrets.load().await;
    let router = webhook_router(&t, secret.clone());
    assert_eq!(secret.reads(), 1, "read once at start");

    let (first, first_event) = pending_order(&t, "first").await;
    let (status, body) = deliver(&router, &first_event, &sign(&first_event, &old)).await;
    assert_eq!((status, body["outcome"].as_str()), (StatusCode::OK, Some("applied")), "{body}");
    assert_eq!(t.order(&first).await.status.as_str(), "paid");
    assert_eq!(secret.reads(), 1, "a secret that works is not read again");

    // Rotated in Secrets Manager, as `put-secret-value` does; the function is not restarted.
    client.put_secret_value().secret_id(&id).secret_string(document(&new)).send().await.unwrap();
    let (second, second_event) = pending_order(&t, "second").await;
    let (status, body) = deliver(&router, &second_event, &sign(&second_event, &new)).await;
    assert_eq!((status, body["outcome"].as_str()), (StatusCode::OK, Some("applied")), "{body}");
    assert_eq!(t.order(&second).await.status.as_str(), "paid");
    assert_eq!(secret.reads(), 2, "one re-read picked up the new secret");

    // Stripe delivers the first event again, now signed with the new secret: accepted, not
    // applied twice.
    let (status, body) = deliver(&router, &first_event, &sign(&first_event, &new)).await;
    assert_eq!((status, body["outcome"].as_str()), (StatusCode::OK, Some("duplicate")), "{body}");
    assert_eq!(t.stock("P0").await, (3, 0, 3), "two units sold, each once");

    // Forged events: each is refused, and together they cost no further read within the minute.
    for n in 0..5 {
        let (status, body) = deliver(&router, &second_event, &sign(&second_event, &signing_secret())).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_signature")), "{n}");
    }
    assert_eq!(secret.reads(), 2, "no more than one re-read per {MIN_REREAD_INTERVAL:?}");
    // The old secret no longer works once the new one is read.
    let (status, _) = deliver(&router, &first_event, &sign(&first_event, &old)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(t.order(&first).await.status.as_str(), "paid");
}

#[tokio::test]
async fn an_unreachable_secrets_manager_is_503_not_configured_never_an_empty_key() {
    // A closed port: Secrets Manager cannot be reached at start.
    let client = secrets_manager("http://127.0.0.1:9");
    let t = TestApp::new();
    shop(&t, 1).await;
    let secrets = Secrets::new(Some(client));
    let secret =
        secrets.open(&SecretSource::SecretsManager { id: "nanoshop/stripe".into(), field: Some("webhook_secret") });
    secrets.load().await;
    assert!(secret.cached().is_none());
    let router = webhook_router(&t, secret.clone());
    let (order, event) = pending_order(&t, "k").await;
    // Signed with the empty key: what a function that served with "no secret" would accept.
    for signature in [sign(&event, ""), sign(&event, &signing_secret())] {
        let (status, body) = deliver(&router, &event, &signature).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("not_configured")),
            "{body}"
        );
    }
    assert_eq!(t.order(&order).await.status.as_str(), "pending_payment", "nothing applied");
    assert!(secret.reads() <= 2, "retried, but not on every request: {}", secret.reads());
}

#[tokio::test]
async fn a_missing_placeholder_or_guessable_webhook_secret_is_503_and_changes_nothing() {
    let t = TestApp::new();
    shop(&t, 1).await;
    let (order, event) = pending_order(&t, "k").await;
    for (name, secret) in [
        ("missing", Secret::missing()),
        ("the old deploy.md placeholder", Secret::fixed("whsec_replace_after_step_4")),
        ("a documented placeholder", Secret::fixed("whsec_...")),
        ("too short", Secret::fixed("whsec_test")),
        ("guessable", Secret::fixed("whsec_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")),
    ] {
        let router = webhook_router(&t, secret.clone());
        let known = secret.cached().map(|s| secrecy::ExposeSecret::expose_secret(&s).to_owned()).unwrap_or_default();
        // Anyone who read the placeholder can sign with it.
        let (status, body) = deliver(&router, &event, &sign(&event, &known)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("not_configured")),
            "{name}: {body}"
        );
    }
    assert_eq!(t.order(&order).await.status.as_str(), "pending_payment");
    assert_eq!(t.stock("P0").await, (5, 1, 4), "the reservation is untouched");
}

#[tokio::test]
async fn checkout_without_a_usable_stripe_key_is_503_and_reserves_nothing() {
    for (name, key) in
        [("missing", None), ("placeholder", Some("sk_live_…")), ("publishable as secret", Some("pk_test_abc"))]
    {
        let store = Arc::new(nanoshop_store::embedded::EmbeddedStore::in_memory());
        let key = Arc::new(FixedKey(key.map(Into::into)));
        let publishable: Arc<dyn KeySource> = Arc::new(FixedKey(Some("pk_test_e2e".into())));
        let stripe = StripeGateway::with_keys(key, Some(publishable), Some("http://127.0.0.1:9")).unwrap();
        let t = TestApp::with(store, Some(Arc::new(stripe)));
        shop(&t, 1).await;
        let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 2}])).await;
        let reply = checkout(&t, &cart, "no-key").await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::SERVICE_UNAVAILABLE, "not_configured"),
            "{name}: {}",
            reply.body
        );
        assert_eq!(t.stock("P0").await, (5, 0, 5), "{name}: nothing reserved");
    }
}

/// A provider that refuses every payment in words that are nobody's business but the merchant's.
#[derive(Debug)]
struct Chatty;

const PROVIDER_TEXT: &str = "Your account cannot currently make live charges (key sk_live_****4242)";

#[async_trait]
impl PaymentGateway for Chatty {
    async fn create_intent(&self, _: &CreateIntent) -> Result<Intent, PaymentError> {
        Err(PaymentError::Refused(PROVIDER_TEXT.into()))
    }
    async fn cancel_intent(&self, _: &str) -> Result<(), PaymentError> {
        Err(PaymentError::Refused(PROVIDER_TEXT.into()))
    }
    async fn refund(&self, _: &str, _: nanoshop_domain::Money, _: &str) -> Result<Refund, PaymentError> {
        Err(PaymentError::Refused(PROVIDER_TEXT.into()))
    }
    fn publishable_key(&self) -> String {
        "pk_test_chatty".into()
    }
}

#[tokio::test]
async fn a_providers_refusal_is_a_502_without_the_providers_words() {
    let store = Arc::new(nanoshop_store::embedded::EmbeddedStore::in_memory());
    let t = TestApp::with(store, Some(Arc::new(Chatty)));
    shop(&t, 1).await;
    let cart = guest_cart(&t, json!([{"sku": "P0", "quantity": 1}])).await;
    let reply = checkout(&t, &cart, "refused").await;
    assert_eq!((reply.status, reply.code()), (StatusCode::BAD_GATEWAY, "payment_provider_unavailable"));
    let body = reply.body.to_string();
    assert!(!body.contains("4242") && !body.contains("live charges"), "the provider's text reached the client: {body}");
    assert_eq!(t.stock("P0").await, (5, 0, 5), "nothing stays reserved");
}

/// What the Stripe stand-in saw: each request's method, path, authorization and form body.
type Seen = Arc<std::sync::Mutex<Vec<(String, String, String, String)>>>;

/// A stand-in for Stripe's webhook-endpoint API (localstripe has no `/v1/webhook_endpoints`):
/// lists `existing`, deletes, and creates an endpoint answering `secret` as Stripe does.
async fn stripe_endpoints(existing: Value, secret: String) -> (String, Seen) {
    use axum::extract::{OriginalUri, State};
    use axum::http::HeaderMap;
    fn record(seen: &Seen, method: &str, uri: &OriginalUri, headers: &HeaderMap, body: String) {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        seen.lock().unwrap().push((method.to_owned(), uri.path().to_owned(), auth, body));
    }
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/v1/webhook_endpoints",
            axum::routing::get({
                let existing = existing.clone();
                move |State(seen): State<Seen>, uri: OriginalUri, headers: HeaderMap| async move {
                    record(&seen, "GET", &uri, &headers, String::new());
                    axum::Json(json!({"object": "list", "data": existing}))
                }
            })
            .post(
                move |State(seen): State<Seen>, uri: OriginalUri, headers: HeaderMap, body: String| async move {
                    record(&seen, "POST", &uri, &headers, body);
                    axum::Json(json!({"id": "we_new", "object": "webhook_endpoint", "secret": secret}))
                },
            ),
        )
        .route(
            "/v1/webhook_endpoints/{id}",
            axum::routing::delete(|State(seen): State<Seen>, uri: OriginalUri, headers: HeaderMap| async move {
                record(&seen, "DELETE", &uri, &headers, String::new());
                axum::Json(json!({"deleted": true}))
            }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

/// `scripts/connect-stripe.py` with the venv's Python, against `moto` and a Stripe at `stripe`.
async fn connect_stripe(moto: &str, stripe: &str, url: &str, secret_id: &str) -> std::process::Output {
    let cache = std::env::var("NANOSHOP_CACHE")
        .unwrap_or_else(|_| format!("{}/.cache/nanoshop", std::env::var("HOME").unwrap_or_default()));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/connect-stripe.py");
    let mut command = std::process::Command::new(format!("{cache}/venv/bin/python"));
    command
        .args([script, "--webhook-url", url, "--secret-id", secret_id, "--region", "eu-west-1"])
        .env("AWS_ENDPOINT_URL", moto)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("STRIPE_API_BASE", stripe);
    // Off the runtime's thread: the Stripe stand-in answers the script on it.
    tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()
}

#[tokio::test]
async fn connect_stripe_registers_the_endpoint_once_and_merges_its_secret_into_the_stripe_secret() {
    let Some(moto) = moto() else { return };
    let client = secrets_manager(&moto);
    let id = format!("nanoshop/stripe-connect-{:016x}", rand::random::<u64>());
    let keys = json!({"secret_key": "sk_test_connect", "publishable_key": "pk_test_connect"});
    client.create_secret().name(&id).secret_string(keys.to_string()).send().await.unwrap();
    let url = "https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/stripe";
    let signing = signing_secret();
    // An endpoint left at our URL by an earlier attempt: its secret is lost, so it is replaced.
    let stale = json!([{"id": "we_old", "url": url}, {"id": "we_other", "url": "https://elsewhere.example/hook"}]);
    let (stripe, seen) = stripe_endpoints(stale, signing.clone()).await;

    let run = connect_stripe(&moto, &stripe, url, &id).await;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains(&signing) && !stderr.contains("sk_test_connect"), "a secret was printed: {stderr}");

    let stored: Value =
        serde_json::from_str(&client.get_secret_value().secret_id(&id).send().await.unwrap().secret_string.unwrap())
            .unwrap();
    assert_eq!(
        stored,
        json!({"secret_key": "sk_test_connect", "publishable_key": "pk_test_connect", "webhook_secret": signing}),
        "the signing secret is merged in, the keys kept"
    );
    let calls = seen.lock().unwrap().clone();
    let methods: Vec<(&str, &str)> = calls.iter().map(|(m, p, _, _)| (m.as_str(), p.as_str())).collect();
    assert_eq!(
        methods,
        [
            ("GET", "/v1/webhook_endpoints"),
            ("DELETE", "/v1/webhook_endpoints/we_old"),
            ("POST", "/v1/webhook_endpoints")
        ]
    );
    let basic =
        format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "sk_test_connect:"));
    assert!(calls.iter().all(|(_, _, auth, _)| *auth == basic), "every call with the secret key");
    let form: Vec<(String, String)> = url_pairs(&calls[2].3);
    assert!(form.contains(&("url".into(), url.into())), "{form:?}");
    let events: Vec<&str> = form.iter().filter(|(k, _)| k == "enabled_events[]").map(|(_, v)| v.as_str()).collect();
    assert_eq!(events, webhook::HANDLED_EVENT_TYPES, "exactly the events the webhook handles");

    // Connected: a second deploy changes nothing at Stripe.
    let again = connect_stripe(&moto, &stripe, url, &id).await;
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(seen.lock().unwrap().len(), 3, "no further call to Stripe");

    // The secret it stored is one the webhook accepts.
    assert!(webhook::check_signing_secret(&signing).is_ok());
}

#[tokio::test]
async fn connect_stripe_never_sends_a_live_key_to_another_base() {
    let Some(moto) = moto() else { return };
    let client = secrets_manager(&moto);
    let id = format!("nanoshop/stripe-live-{:016x}", rand::random::<u64>());
    let keys = json!({"secret_key": "sk_live_connect", "publishable_key": "pk_live_connect"});
    client.create_secret().name(&id).secret_string(keys.to_string()).send().await.unwrap();
    let (stripe, seen) = stripe_endpoints(json!([]), signing_secret()).await;
    let run = connect_stripe(&moto, &stripe, "https://x.example/webhooks/stripe", &id).await;
    assert!(!run.status.success());
    assert!(seen.lock().unwrap().is_empty(), "nothing was sent");
}

/// `a=1&b=2` as pairs, percent-decoded.
fn url_pairs(body: &str) -> Vec<(String, String)> {
    let decode = |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    body.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}
