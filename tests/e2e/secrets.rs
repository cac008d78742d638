//! Secrets read at run time (`nanoshop_api::secrets`), against moto's Secrets Manager: a rotated
//! webhook secret takes effect with no restart, forged events cannot multiply reads, an
//! unreachable Secrets Manager is 503 `not_configured` (never an empty key), and a missing or
//! placeholder secret or Stripe key refuses work instead of doing it unsafely. Also: the
//! provider's own words never reach a client; and `scripts/connect-stripe.py` (run by
//! `make deploy`) keeps an endpoint registered at this stack's URL, in the key's mode, for the
//! handled events, and judges signing secrets as the webhook does.

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

/// One request the Stripe stand-in answered.
#[derive(Debug, Clone)]
struct Call {
    method: String,
    /// With the query.
    path: String,
    /// The secret key it was made with (HTTP basic auth's user).
    key: String,
    form: Vec<(String, String)>,
}

impl Call {
    fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path == path
    }
}

/// The stand-in's endpoints (each with the secret Stripe showed once) and the requests it answered.
#[derive(Debug, Default)]
struct Endpoints {
    endpoints: Vec<Value>,
    calls: Vec<Call>,
}

type Stand = Arc<std::sync::Mutex<Endpoints>>;

/// An endpoint as the stand-in holds it, as this script registers them: subscribed to the handled
/// events, pinned to the API version nanoshop reads, marked with the secret it was made for.
fn endpoint(id: &str, url: &str, livemode: bool, secret_id: &str, signing: &str) -> Value {
    json!({
        "id": id, "object": "webhook_endpoint", "url": url, "livemode": livemode, "status": "enabled",
        "enabled_events": webhook::HANDLED_EVENT_TYPES, "api_version": webhook::STRIPE_API_VERSION,
        "description": format!("nanoshop {secret_id}"), "metadata": {"nanoshop_secret_id": secret_id},
        "secret": signing,
    })
}

fn live(key: &str) -> bool {
    key.starts_with("sk_live_") || key.starts_with("rk_live_")
}

/// A stand-in for Stripe's webhook-endpoint API (localstripe has no `/v1/webhook_endpoints`):
/// creates (each endpoint in the mode of the key that creates it, with a fresh signing secret shown
/// only then), retrieves, updates `enabled_events`, deletes (404 for an unknown id), and lists the
/// key's mode's endpoints, as Stripe does. Unlike Stripe, it retrieves an endpoint of the other mode
/// too (Stripe answers 404), so that the script's own `livemode` check is what a test sees.
async fn stripe_endpoints(existing: Vec<Value>) -> (String, Stand) {
    use axum::extract::{OriginalUri, State};
    use axum::http::HeaderMap;
    use axum::response::IntoResponse;
    async fn answer(
        State(stand): State<Stand>,
        method: Method,
        uri: OriginalUri,
        headers: HeaderMap,
        body: String,
    ) -> axum::response::Response {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        let decoded =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, auth.trim_start_matches("Basic "))
                .unwrap_or_default();
        let key = String::from_utf8_lossy(&decoded).trim_end_matches(':').to_owned();
        let form = url_pairs(&body);
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str()).to_owned();
        let mut stand = stand.lock().unwrap();
        stand.calls.push(Call { method: method.to_string(), path, key: key.clone(), form: form.clone() });
        let shown = |e: &Value| {
            let mut e = e.clone();
            e.as_object_mut().unwrap().remove("secret");
            e
        };
        let missing = || {
            let error = json!({"error": {"type": "invalid_request_error", "code": "resource_missing"}});
            (StatusCode::NOT_FOUND, axum::Json(error)).into_response()
        };
        let id = uri.path().strip_prefix("/v1/webhook_endpoints/").map(str::to_owned);
        let position = id.as_ref().and_then(|id| stand.endpoints.iter().position(|e| e["id"] == json!(id)));
        let events =
            || form.iter().filter(|(k, _)| k == "enabled_events[]").map(|(_, v)| v.clone()).collect::<Vec<_>>();
        match (method.as_str(), id, position) {
            ("GET", None, _) => {
                let data: Vec<Value> =
                    stand.endpoints.iter().filter(|e| e["livemode"] == json!(live(&key))).map(shown).collect();
                axum::Json(json!({"object": "list", "data": data, "has_more": false})).into_response()
            }
            ("POST", None, _) => {
                let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
                let metadata: serde_json::Map<String, Value> = form
                    .iter()
                    .filter_map(|(k, v)| Some((k.strip_prefix("metadata[")?.strip_suffix(']')?.to_owned(), json!(v))))
                    .collect();
                let created = json!({
                    "id": format!("we_made{}", stand.calls.len()), "object": "webhook_endpoint",
                    "url": field("url"), "livemode": live(&key), "status": "enabled",
                    "enabled_events": events(), "api_version": field("api_version"),
                    "description": field("description"), "metadata": metadata, "secret": signing_secret(),
                });
                stand.endpoints.push(created.clone());
                axum::Json(created).into_response()
            }
            ("GET", Some(_), Some(at)) => axum::Json(shown(&stand.endpoints[at])).into_response(),
            ("POST", Some(_), Some(at)) => {
                if form.iter().any(|(k, _)| k == "enabled_events[]") {
                    stand.endpoints[at]["enabled_events"] = json!(events());
                }
                axum::Json(shown(&stand.endpoints[at])).into_response()
            }
            ("DELETE", Some(id), Some(at)) => {
                stand.endpoints.remove(at);
                axum::Json(json!({"id": id, "object": "webhook_endpoint", "deleted": true})).into_response()
            }
            _ => missing(),
        }
    }
    let stand: Stand = Arc::new(std::sync::Mutex::new(Endpoints { endpoints: existing, calls: Vec::new() }));
    let app = Router::new().fallback(answer).with_state(stand.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), stand)
}

/// `scripts/connect-stripe.py` with the venv's Python, against `moto` and the stand-in at `stripe`
/// (as `STRIPE_API_BASE`).
async fn connect_stripe(moto: &str, stripe: &str, url: &str, secret_id: &str) -> std::process::Output {
    run_connect_stripe(moto, stripe, url, secret_id, false).await
}

/// The venv's Python.
fn python() -> String {
    let cache = std::env::var("NANOSHOP_CACHE")
        .unwrap_or_else(|_| format!("{}/.cache/nanoshop", std::env::var("HOME").unwrap_or_default()));
    format!("{cache}/venv/bin/python")
}

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/connect-stripe.py");

/// The script, with the stand-in either as `STRIPE_API_BASE` or, `as_stripe`, in the place of
/// Stripe's own API (the script sends a live key nowhere else: a live-mode test needs that).
async fn run_connect_stripe(
    moto: &str,
    stripe: &str,
    url: &str,
    secret_id: &str,
    as_stripe: bool,
) -> std::process::Output {
    let mut command = std::process::Command::new(python());
    let args = ["--webhook-url", url, "--secret-id", secret_id, "--region", "eu-west-1"];
    if as_stripe {
        const AS_STRIPE: &str = "import importlib.util, sys\n\
            spec = importlib.util.spec_from_file_location('connect_stripe', sys.argv[1])\n\
            script = importlib.util.module_from_spec(spec)\n\
            spec.loader.exec_module(script)\n\
            script.STRIPE_API = sys.argv[2]\n\
            sys.argv = [sys.argv[1]] + sys.argv[3:]\n\
            script.main()\n";
        command.args(["-c", AS_STRIPE, SCRIPT, stripe]).args(args).env_remove("STRIPE_API_BASE");
    } else {
        command.arg(SCRIPT).args(args).env("STRIPE_API_BASE", stripe);
    }
    command.env("AWS_ENDPOINT_URL", moto).env("AWS_ACCESS_KEY_ID", "test").env("AWS_SECRET_ACCESS_KEY", "test");
    // Off the runtime's thread: the Stripe stand-in answers the script on it.
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("whsec_") && !stderr.contains("sk_test_") && !stderr.contains("sk_live_"),
        "a secret was printed: {stderr}"
    );
    output
}

/// A Stripe secret in moto holding `document`; its id.
async fn stripe_secret(moto: &str, name: &str, document: &Value) -> String {
    let id = format!("nanoshop/stripe-{name}-{:016x}", rand::random::<u64>());
    secrets_manager(moto).create_secret().name(&id).secret_string(document.to_string()).send().await.unwrap();
    id
}

async fn stored(moto: &str, id: &str) -> Value {
    let value = secrets_manager(moto).get_secret_value().secret_id(id).send().await.unwrap().secret_string.unwrap();
    serde_json::from_str(&value).unwrap()
}

fn succeeded(run: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "{stderr}");
    stderr
}

/// The endpoint the stand-in holds under `id`.
fn at_stripe(stand: &Stand, id: &str) -> Option<Value> {
    stand.lock().unwrap().endpoints.iter().find(|e| e["id"] == json!(id)).cloned()
}

fn calls(stand: &Stand) -> Vec<Call> {
    stand.lock().unwrap().calls.clone()
}

/// What the script stored points at an endpoint at `url`, in the mode `livemode`, and holds the
/// secret Stripe showed for it: the endpoint.
fn points_at_a_new_endpoint(document: &Value, stand: &Stand, url: &str, livemode: bool) -> Value {
    let id = document["webhook_endpoint_id"].as_str().expect("an endpoint id is stored");
    let made = at_stripe(stand, id).expect("the stored endpoint exists at Stripe");
    assert_eq!(made["url"], json!(url));
    assert_eq!(made["livemode"], json!(livemode));
    assert_eq!(document["webhook_url"], json!(url));
    assert_eq!(document["webhook_livemode"], json!(livemode));
    assert_eq!(document["webhook_secret"], made["secret"], "the new endpoint's signing secret is stored");
    assert!(webhook::check_signing_secret(made["secret"].as_str().unwrap()).is_ok());
    made
}

#[tokio::test]
async fn connect_stripe_registers_the_endpoint_once_and_merges_its_secret_into_the_stripe_secret() {
    let Some(moto) = moto() else { return };
    let keys = json!({"secret_key": "sk_test_connect", "publishable_key": "pk_test_connect"});
    let id = stripe_secret(&moto, "connect", &keys).await;
    let url = "https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/stripe";
    // At our URL: one left by the script's first version (its secret lost), so replaced; one made
    // by hand, so left alone. Elsewhere: another stack's.
    let mut stale = endpoint("we_old", url, false, &id, &signing_secret());
    stale["metadata"] = json!({});
    let mut foreign = endpoint("we_foreign", url, false, &id, &signing_secret());
    foreign["metadata"] = json!({});
    foreign["description"] = json!("by hand");
    let other = endpoint("we_other", "https://elsewhere.example/webhooks/stripe", false, "nanoshop/other", "whsec_x");
    let (stripe, stand) = stripe_endpoints(vec![stale, foreign, other]).await;

    let stderr = succeeded(&connect_stripe(&moto, &stripe, url, &id).await);
    let document = stored(&moto, &id).await;
    let made = points_at_a_new_endpoint(&document, &stand, url, false);
    let mut expected = keys.clone();
    for field in ["webhook_secret", "webhook_endpoint_id", "webhook_url", "webhook_livemode"] {
        expected[field] = document[field].clone();
    }
    assert_eq!(document, expected, "the keys are kept, the endpoint merged in");
    let seen = calls(&stand);
    let methods: Vec<(&str, &str)> = seen.iter().map(|c| (c.method.as_str(), c.path.as_str())).collect();
    assert_eq!(
        methods,
        [
            ("POST", "/v1/webhook_endpoints"),
            ("GET", "/v1/webhook_endpoints?limit=100"),
            ("DELETE", "/v1/webhook_endpoints/we_old")
        ],
        "created, then what it replaces deleted"
    );
    assert!(seen.iter().all(|c| c.key == "sk_test_connect"), "every call with the secret key");
    let form = &seen[0].form;
    assert!(form.contains(&("url".into(), url.into())), "{form:?}");
    assert!(form.contains(&("api_version".into(), webhook::STRIPE_API_VERSION.into())), "pinned: {form:?}");
    assert!(form.contains(&("metadata[nanoshop_secret_id]".into(), id.clone())), "{form:?}");
    let events: Vec<&str> = form.iter().filter(|(k, _)| k == "enabled_events[]").map(|(_, v)| v.as_str()).collect();
    assert_eq!(events, webhook::HANDLED_EVENT_TYPES, "exactly the events the webhook handles");
    assert!(at_stripe(&stand, "we_foreign").is_some() && at_stripe(&stand, "we_other").is_some());
    assert!(stderr.contains("we_foreign"), "the hand-made endpoint at our URL is named: {stderr}");

    // Unchanged: a second deploy looks the endpoint up and creates nothing.
    succeeded(&connect_stripe(&moto, &stripe, url, &id).await);
    let again: Vec<(String, String)> = calls(&stand)[3..].iter().map(|c| (c.method.clone(), c.path.clone())).collect();
    assert_eq!(again, [("GET".to_owned(), format!("/v1/webhook_endpoints/{}", made["id"].as_str().unwrap()))]);
    assert_eq!(stored(&moto, &id).await, document, "nothing stored");
}

#[tokio::test]
async fn connect_stripe_re_registers_an_endpoint_that_is_gone() {
    let Some(moto) = moto() else { return };
    let url = "https://gone.execute-api.eu-west-1.amazonaws.com/webhooks/stripe";
    let old = signing_secret();
    let document = json!({"secret_key": "sk_test_gone", "publishable_key": "pk_test_gone", "webhook_secret": old,
        "webhook_endpoint_id": "we_deleted_in_the_dashboard", "webhook_url": url, "webhook_livemode": false});
    let id = stripe_secret(&moto, "gone", &document).await;
    let (stripe, stand) = stripe_endpoints(Vec::new()).await;

    succeeded(&connect_stripe(&moto, &stripe, url, &id).await);
    let now = stored(&moto, &id).await;
    points_at_a_new_endpoint(&now, &stand, url, false);
    assert_ne!(now["webhook_secret"], json!(old));
    assert!(calls(&stand)[0].is("GET", "/v1/webhook_endpoints/we_deleted_in_the_dashboard"));
    assert_eq!(calls(&stand).iter().filter(|c| c.is("POST", "/v1/webhook_endpoints")).count(), 1);
}

#[tokio::test]
async fn connect_stripe_registers_a_re_created_stacks_new_url_and_leaves_the_old_endpoint() {
    let Some(moto) = moto() else { return };
    let (old_url, new_url) = (
        "https://first.execute-api.eu-west-1.amazonaws.com/webhooks/stripe",
        "https://second.execute-api.eu-west-1.amazonaws.com/webhooks/stripe",
    );
    let old = signing_secret();
    let document = json!({"secret_key": "sk_test_moved", "publishable_key": "pk_test_moved", "webhook_secret": old,
        "webhook_endpoint_id": "we_first", "webhook_url": old_url, "webhook_livemode": false});
    let id = stripe_secret(&moto, "moved", &document).await;
    let (stripe, stand) = stripe_endpoints(vec![endpoint("we_first", old_url, false, &id, &old)]).await;

    let stderr = succeeded(&connect_stripe(&moto, &stripe, new_url, &id).await);
    let now = stored(&moto, &id).await;
    points_at_a_new_endpoint(&now, &stand, new_url, false);
    // Another stack sharing this secret may still be at the old URL: left, and named.
    assert!(at_stripe(&stand, "we_first").is_some(), "an endpoint at another URL is not deleted");
    assert!(stderr.contains("we_first") && stderr.contains("StripeSecretId"), "{stderr}");
}

#[tokio::test]
async fn connect_stripe_registers_a_live_endpoint_when_the_keys_go_live() {
    let Some(moto) = moto() else { return };
    let url = "https://golive.execute-api.eu-west-1.amazonaws.com/webhooks/stripe";
    // The stand-in shows the test-mode endpoint to the live key (the script's own `livemode` check
    // sees it), or answers 404 as Stripe does.
    for shown in [true, false] {
        let test_secret = signing_secret();
        // The merchant swapped the test keys for live ones and kept the rest.
        let document = json!({"secret_key": "sk_live_golive", "publishable_key": "pk_live_golive",
            "webhook_secret": test_secret, "webhook_endpoint_id": "we_test", "webhook_url": url,
            "webhook_livemode": false});
        let id = stripe_secret(&moto, "golive", &document).await;
        let test_endpoint = endpoint("we_test", url, false, &id, &test_secret);
        let (stripe, stand) = stripe_endpoints(if shown { vec![test_endpoint] } else { Vec::new() }).await;

        succeeded(&run_connect_stripe(&moto, &stripe, url, &id, true).await);
        let now = stored(&moto, &id).await;
        points_at_a_new_endpoint(&now, &stand, url, true);
        assert_ne!(now["webhook_secret"], json!(test_secret), "live events are signed with the live endpoint's secret");
        assert!(calls(&stand).iter().all(|c| c.key == "sk_live_golive"));
        assert_eq!(at_stripe(&stand, "we_test").is_some(), shown, "the test-mode endpoint is the test mode's business");

        // Live and unchanged: nothing more is created.
        succeeded(&run_connect_stripe(&moto, &stripe, url, &id, true).await);
        assert_eq!(calls(&stand).iter().filter(|c| c.is("POST", "/v1/webhook_endpoints")).count(), 1, "{shown}");
    }
}

#[tokio::test]
async fn connect_stripe_updates_an_endpoint_whose_events_drifted() {
    let Some(moto) = moto() else { return };
    let url = "https://drift.execute-api.eu-west-1.amazonaws.com/webhooks/stripe";
    let signing = signing_secret();
    let document = json!({"secret_key": "sk_test_drift", "publishable_key": "pk_test_drift", "webhook_secret": signing,
        "webhook_endpoint_id": "we_drift", "webhook_url": url, "webhook_livemode": false});
    let id = stripe_secret(&moto, "drift", &document).await;
    // Someone edited the subscription in the Dashboard: disputes dropped, a type added.
    let mut drifted = endpoint("we_drift", url, false, &id, &signing);
    drifted["enabled_events"] = json!([
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.processing",
        "charge.refunded",
        "customer.created"
    ]);
    let (stripe, stand) = stripe_endpoints(vec![drifted]).await;

    succeeded(&connect_stripe(&moto, &stripe, url, &id).await);
    let seen = calls(&stand);
    let methods: Vec<(&str, &str)> = seen.iter().map(|c| (c.method.as_str(), c.path.as_str())).collect();
    assert_eq!(methods, [("GET", "/v1/webhook_endpoints/we_drift"), ("POST", "/v1/webhook_endpoints/we_drift")]);
    assert_eq!(at_stripe(&stand, "we_drift").unwrap()["enabled_events"], json!(webhook::HANDLED_EVENT_TYPES));
    assert_eq!(stored(&moto, &id).await, document, "the same endpoint and secret");
}

#[tokio::test]
async fn connect_stripe_re_registers_an_endpoint_pinned_to_another_api_version() {
    let Some(moto) = moto() else { return };
    let url = "https://pinned.execute-api.eu-west-1.amazonaws.com/webhooks/stripe";
    let signing = signing_secret();
    let document = json!({"secret_key": "sk_test_pinned", "publishable_key": "pk_test_pinned", "webhook_secret": signing,
        "webhook_endpoint_id": "we_unpinned", "webhook_url": url, "webhook_livemode": false});
    let id = stripe_secret(&moto, "pinned", &document).await;
    // The script's first version pinned nothing: the account's default version.
    let mut unpinned = endpoint("we_unpinned", url, false, &id, &signing);
    unpinned["api_version"] = Value::Null;
    let (stripe, stand) = stripe_endpoints(vec![unpinned]).await;

    succeeded(&connect_stripe(&moto, &stripe, url, &id).await);
    let made = points_at_a_new_endpoint(&stored(&moto, &id).await, &stand, url, false);
    assert_eq!(made["api_version"], json!(webhook::STRIPE_API_VERSION));
    assert!(at_stripe(&stand, "we_unpinned").is_none(), "ours, at this URL, in this mode: replaced");
}

#[tokio::test]
async fn connect_stripe_and_the_webhook_agree_on_which_signing_secrets_are_usable() {
    let good = "whsec_7Kq2xVb9LmZ4pR8sT1wY6nD3fH5jC0gA";
    let generated = signing_secret();
    let table: &[(&str, &str)] = &[
        ("", "missing"),
        (" \t\n", "missing"),
        ("sk_test_abc", "not_a_signing_secret"),
        ("WHSEC_7Kq2xVb9LmZ4pR8sT1wY6nD3fH5jC0gA", "not_a_signing_secret"),
        // Not white space to Rust's `trim` (Python's `strip()` removes it).
        ("\u{1f}whsec_7Kq2xVb9LmZ4pR8sT1wY6nD3fH5jC0gA", "not_a_signing_secret"),
        ("whsec_replace_after_step_4", "placeholder"),
        ("whsec_...", "placeholder"),
        ("whsec_test", "placeholder"),
        ("whsec_Xy3kP9qL2mN8vB4tR7wZ1cF", "placeholder"),
        ("whsec_MySecretValueForTheShop2024xyz", "placeholder"),
        ("whsec_ünïcödé_chars_are_not_generated_x", "placeholder"),
        ("whsec_Zm9vYmFyYmF6cXV4!!quuxcorgegrault", "placeholder"),
        ("whsec_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "low_entropy"),
        ("whsec_abababababababababababababababab", "low_entropy"),
        ("whsec_qwertyuiqwertyuiqwertyui", "low_entropy"),
        ("whsec_abcdefghijklmnopqrstuvwx", "low_entropy"),
        ("whsec_0123456789abcdefghijklmnop", "low_entropy"),
        ("whsec_aabbccddeeffggaabbccddee", "low_entropy"),
        ("whsec_Xy3kP9qL2mN8vB4tR7wZ1cFh", "ok"),
        (good, "ok"),
        (" whsec_7Kq2xVb9LmZ4pR8sT1wY6nD3fH5jC0gA \n", "ok"),
        (&generated, "ok"),
    ];
    let secrets: Vec<&str> = table.iter().map(|(secret, _)| *secret).collect();
    let expected: Vec<&str> = table.iter().map(|(_, verdict)| *verdict).collect();
    let rust: Vec<&str> = secrets
        .iter()
        .map(|secret| match webhook::check_signing_secret(secret) {
            Ok(()) => "ok",
            Err(webhook::UnusableSecret::Missing) => "missing",
            Err(webhook::UnusableSecret::NotASigningSecret) => "not_a_signing_secret",
            Err(webhook::UnusableSecret::Placeholder) => "placeholder",
            Err(webhook::UnusableSecret::LowEntropy) => "low_entropy",
        })
        .collect();
    assert_eq!(rust, expected, "the webhook's verdicts");

    let mut command = std::process::Command::new(python());
    command.args([SCRIPT, "--check-secret"]);
    command.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), json!(secrets).to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let script: Vec<String> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(script, expected, "the script's verdicts, in the same order");
}

#[tokio::test]
async fn connect_stripe_never_sends_a_live_key_to_another_base() {
    let Some(moto) = moto() else { return };
    let keys = json!({"secret_key": "sk_live_connect", "publishable_key": "pk_live_connect"});
    let id = stripe_secret(&moto, "live", &keys).await;
    let (stripe, stand) = stripe_endpoints(Vec::new()).await;
    let run = connect_stripe(&moto, &stripe, "https://x.example/webhooks/stripe", &id).await;
    assert!(!run.status.success());
    assert!(calls(&stand).is_empty(), "nothing was sent");
}

/// `a=1&b=2` as pairs, percent-decoded.
fn url_pairs(body: &str) -> Vec<(String, String)> {
    let decode = |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    body.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}
