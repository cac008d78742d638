//! The Lambda path of `nanoshop_api::run`: the real function binaries, started with
//! `AWS_LAMBDA_RUNTIME_API` pointing at a stand-in for Lambda's Runtime API, answer API Gateway
//! (HTTP API, payload 2.0) events. What the local server and the containers never exercise.
//!
//! The same stand-in times cold starts for `make bench` (an ignored test, run on release binaries
//! against DynamoDB Local): process start to the first poll for work (what Lambda reports as
//! Init Duration) and to the first answer, and the process's peak resident memory.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path as FsPath, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use nanoshop_store::dynamo::{DynamoStore, TableNames, local_client};

use crate::support::workspace_binary;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// An API Gateway HTTP API (payload 2.0) event; its request id is `req-{id}`.
fn event(method: &str, path: &str, id: usize) -> Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"host": "api.example", "x-request-id": format!("lambda-{id}")},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example", "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "e2e"},
            "requestId": format!("req-{id}"), "routeKey": "$default", "stage": "$default",
            "time": "27/Nov/2026:00:00:00 +0000", "timeEpoch": 1_795_000_000_000u64
        },
        "isBase64Encoded": false
    })
}

/// Ends the function's process however the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What the function told the Runtime API about one invocation.
#[derive(Debug)]
struct Answer {
    id: String,
    /// Posted to `/response`, not `/error`.
    ok: bool,
    body: Value,
}

#[derive(Clone)]
struct Runtime {
    /// Handed out first to last, one per poll.
    events: Arc<Mutex<VecDeque<Value>>>,
    /// When the function first polled for work: the end of its init.
    first_poll: Arc<Mutex<Option<Instant>>>,
    answers: mpsc::UnboundedSender<Answer>,
}

/// A stand-in for Lambda's Runtime API on a local port.
struct StandIn {
    addr: SocketAddr,
    first_poll: Arc<Mutex<Option<Instant>>>,
    answers: mpsc::UnboundedReceiver<Answer>,
    server: tokio::task::JoinHandle<()>,
}

impl StandIn {
    async fn start(events: Vec<Value>) -> Self {
        let (tx, answers) = mpsc::unbounded_channel();
        let first_poll = Arc::new(Mutex::new(None));
        let runtime =
            Runtime { events: Arc::new(Mutex::new(events.into())), first_poll: first_poll.clone(), answers: tx };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .with_state(runtime);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, first_poll, answers, server }
    }

    async fn answer(&mut self) -> Answer {
        tokio::time::timeout(Duration::from_secs(60), self.answers.recv())
            .await
            .expect("the function answers within a minute")
            .expect("the stand-in runs")
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(rt): State<Runtime>) -> impl IntoResponse {
    rt.first_poll.lock().unwrap().get_or_insert_with(Instant::now);
    let event = rt.events.lock().unwrap().pop_front();
    let Some(event) = event else {
        // Nothing more to hand out: hold the poll as Lambda does while idle.
        tokio::time::sleep(Duration::from_secs(60)).await;
        return (HeaderMap::new(), String::new());
    };
    let id = event["requestContext"]["requestId"].as_str().unwrap_or("req-0").to_owned();
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
    headers.insert("lambda-runtime-deadline-ms", "9999999999999".parse().unwrap());
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:123456789012:function:nanoshop".parse().unwrap(),
    );
    (headers, event.to_string())
}

async fn respond(State(rt): State<Runtime>, Path(id): Path<String>, body: String) -> impl IntoResponse {
    let _ = rt.answers.send(Answer { id, ok: true, body: serde_json::from_str(&body).unwrap_or(Value::Null) });
    axum::http::StatusCode::ACCEPTED
}

async fn fail(State(rt): State<Runtime>, Path(id): Path<String>, body: String) -> impl IntoResponse {
    let _ = rt.answers.send(Answer { id, ok: false, body: serde_json::from_str(&body).unwrap_or(Value::Null) });
    axum::http::StatusCode::ACCEPTED
}

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k","alg":"ES256","use":"sig","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}"#;

/// A function binary as Lambda starts it: the runtime's variables, and every setting any of our
/// functions reads, with AWS at `aws` and Stripe at a closed local port (nothing leaves the machine).
fn lambda_process(binary: &FsPath, runtime_api: SocketAddr, aws: &str, tables: &TableNames) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", binary.file_name().unwrap())
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "group")
        // The region and key `local_client` uses: DynamoDB Local keeps one database per pair.
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_ENDPOINT_URL", aws)
        .env("CATALOG_TABLE", &tables.catalog)
        .env("CARTS_TABLE", &tables.carts)
        .env("ORDERS_TABLE", &tables.orders)
        .env("IDEMPOTENCY_TABLE", &tables.idempotency)
        .env("IMAGE_BUCKET", "b")
        .env("IMAGE_BASE_URL", "https://img.example")
        .env("CURSOR_SECRET", SECRET)
        .env("ORDER_TOKEN_SECRET", SECRET)
        .env("STRIPE_SECRET_KEY", "sk_test_lambda")
        .env("STRIPE_PUBLISHABLE_KEY", "pk_test_lambda")
        .env("STRIPE_WEBHOOK_SECRET", "whsec_lambda")
        .env("STRIPE_API_BASE", "http://127.0.0.1:9")
        .env("EVENT_BUS_NAME", "nanoshop")
        .env("AUTH_ISSUER", "https://issuer.example")
        .env("AUTH_AUDIENCE", "e2e")
        .env("AUTH_JWKS", JWKS)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    command
}

#[tokio::test]
async fn the_catalog_binary_answers_api_gateway_events_under_the_lambda_runtime() {
    let binary = workspace_binary("catalog");
    // /health, then a read that needs DynamoDB (a closed local port here).
    let mut runtime = StandIn::start(vec![event("GET", "/health", 1), event("GET", "/products", 2)]).await;
    let started = Instant::now();
    let child =
        lambda_process(&binary, runtime.addr, "http://127.0.0.1:9", &TableNames::with_prefix("e2e")).spawn().unwrap();
    let _child = KillOnDrop(child);

    let health = runtime.answer().await;
    let cold = started.elapsed();
    assert_eq!((health.id.as_str(), health.ok), ("req-1", true));
    let health = health.body;
    assert_eq!(health["statusCode"], 200, "{health}");
    let body: Value = serde_json::from_str(health["body"].as_str().unwrap()).unwrap();
    assert_eq!((body["status"].as_str(), body["function"].as_str()), (Some("ok"), Some("catalog")));
    assert_eq!(health["headers"]["x-request-id"], "lambda-1", "the request id travels through Lambda too");

    let products = runtime.answer().await;
    assert_eq!((products.id.as_str(), products.ok), ("req-2", true));
    let products = products.body;
    assert_eq!(products["statusCode"], 503, "DynamoDB unreachable is a 503 problem, not a crash: {products}");
    assert_eq!(products["headers"]["content-type"], "application/problem+json");
    eprintln!("\ncatalog under the Lambda runtime: process start to the first response {cold:.2?} (debug build)");
}

/// Peak resident memory of a running process, from `/proc/<pid>/status`, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/<pid>/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn percentile<T: Copy>(sorted: &[T], p: usize) -> T {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// KiB as MiB with one decimal, without floating point.
fn mib(kib: u64) -> String {
    format!("{}.{} MiB", kib / 1024, kib % 1024 * 10 / 1024)
}

/// `make bench`: every function binary in `NANOSHOP_BENCH_BIN_DIR`, started `NANOSHOP_BENCH_RUNS`
/// times under the stand-in Runtime API with its first event, against fresh tables in DynamoDB
/// Local (so the warm-up call at init is a real round trip). Each answer must be a success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: `make bench` runs it on release binaries"]
async fn cold_starts_under_the_lambda_runtime() {
    let dir = PathBuf::from(std::env::var("NANOSHOP_BENCH_BIN_DIR").expect("NANOSHOP_BENCH_BIN_DIR"));
    let aws = std::env::var("NANOSHOP_DYNAMODB_LOCAL").expect("NANOSHOP_DYNAMODB_LOCAL");
    let runs: usize = std::env::var("NANOSHOP_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let tables = TableNames::with_prefix(&format!("bench-{}", std::process::id()));
    DynamoStore::new(local_client(&aws).await, tables.clone()).create_tables().await.unwrap();

    let functions =
        ["catalog", "cart", "checkout", "payments-webhook", "orders", "orders-expirer", "orders-events-relay"];
    // What each is first asked to do: the HTTP functions answer /health (their init already made
    // the warm-up call), the expirer sweeps the empty tables, the relay takes an empty batch.
    let first_event = |name: &str, run: usize| match name {
        "orders-expirer" => (json!({"source": "aws.scheduler", "detail-type": "Scheduled Event"}), "one sweep"),
        "orders-events-relay" => (json!({"Records": []}), "an empty stream batch"),
        _ => (event("GET", "/health", run), "GET /health"),
    };
    // As deployed, the secrets come from Secrets Manager at start (moto here) when it is up; as
    // plain variables otherwise.
    let secret_ids = match std::env::var("NANOSHOP_MOTO") {
        Ok(moto) => Some(crate::secrets::bench_secret_ids(&moto).await),
        Err(_) => None,
    };
    let source = if secret_ids.is_some() { "Secrets Manager (moto)" } else { "variables" };
    eprintln!(
        "Lambda cold start, {runs} runs each, secrets from {source} (process start to the first poll = init, and to the first answer):"
    );
    for name in functions {
        let binary = dir.join(name);
        let (mut init, mut first, mut peak) = (Vec::new(), Vec::new(), Vec::new());
        let what = first_event(name, 0).1;
        for run in 0..runs {
            let mut runtime = StandIn::start(vec![first_event(name, run).0]).await;
            let started = Instant::now();
            let mut command = lambda_process(&binary, runtime.addr, &aws, &tables);
            if let Some(ids) = &secret_ids {
                command.envs(ids.iter().map(|(k, v)| (k, v)));
            }
            let child = command.spawn().unwrap();
            let pid = child.id();
            let _child = KillOnDrop(child);
            let answer = runtime.answer().await;
            let answered = started.elapsed();
            assert!(answer.ok, "{name} failed its first event: {}", answer.body);
            if answer.body.get("statusCode").is_some() {
                assert_eq!(answer.body["statusCode"], 200, "{name}: {}", answer.body);
            }
            let polled = runtime.first_poll.lock().unwrap().expect("polled before answering");
            init.push(polled.duration_since(started));
            first.push(answered);
            peak.push(peak_rss_kib(pid));
        }
        init.sort();
        first.sort();
        peak.sort();
        eprintln!(
            "  {name:<20} init p50 {:>7.1?} | first answer p50 {:>7.1?}, max {:>7.1?} | peak RSS p50 {:>8} | {what}",
            percentile(&init, 50),
            percentile(&first, 50),
            first[first.len() - 1],
            mib(percentile(&peak, 50)),
        );
    }
}
