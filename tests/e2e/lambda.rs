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

use crate::infra::{Template, one_or_many};
use crate::log_filter;
use crate::support::workspace_binary;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// An API Gateway HTTP API (payload 2.0) event; its request id is `req-{id}`.
pub(crate) fn event(method: &str, path: &str, id: usize) -> Value {
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

/// [`event`] with more headers and a body.
pub(crate) fn event_with_body(method: &str, path: &str, id: usize, headers: &[(&str, &str)], body: &str) -> Value {
    let mut event = event(method, path, id);
    for (name, value) in headers {
        event["headers"][*name] = json!(value);
    }
    event["body"] = json!(body);
    event
}

/// Ends the function's process however the test ends.
pub(crate) struct KillOnDrop(pub(crate) std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What the function told the Runtime API about one invocation.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) id: String,
    /// Posted to `/response`, not `/error`.
    pub(crate) ok: bool,
    pub(crate) body: Value,
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
pub(crate) struct StandIn {
    pub(crate) addr: SocketAddr,
    events: Arc<Mutex<VecDeque<Value>>>,
    first_poll: Arc<Mutex<Option<Instant>>>,
    answers: mpsc::UnboundedReceiver<Answer>,
    server: tokio::task::JoinHandle<()>,
}

impl StandIn {
    pub(crate) async fn start(events: Vec<Value>) -> Self {
        let (tx, answers) = mpsc::unbounded_channel();
        let first_poll = Arc::new(Mutex::new(None));
        let events = Arc::new(Mutex::new(events.into()));
        let runtime = Runtime { events: Arc::clone(&events), first_poll: first_poll.clone(), answers: tx };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .with_state(runtime);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, events, first_poll, answers, server }
    }

    /// Hands the function `event` (after those queued before it) and waits for its answer.
    pub(crate) async fn invoke(&mut self, event: Value) -> Answer {
        self.events.lock().unwrap().push_back(event);
        self.answer().await
    }

    pub(crate) async fn answer(&mut self) -> Answer {
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
    // Nothing to hand out: hold the poll as Lambda does while idle, until an event is queued.
    let idle = Instant::now();
    let event = loop {
        if let Some(event) = rt.events.lock().unwrap().pop_front() {
            break event;
        }
        if idle.elapsed() > Duration::from_secs(60) {
            return (HeaderMap::new(), String::new());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
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
    let mut command = runtime_process(binary, runtime_api);
    command
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
        .env("STRIPE_WEBHOOK_SECRET", "whsec_4fQk9TzL2mWx7RbN3cVh8JpD6yGs1Ea5")
        .env("STRIPE_API_BASE", "http://127.0.0.1:9")
        .env("EVENT_BUS_NAME", "nanoshop")
        .env("STORE_NAME", "nanoshop")
        .env("AUTH_ISSUER", "https://issuer.example")
        .env("AUTH_AUDIENCE", "e2e")
        .env("AUTH_JWKS", JWKS)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    command
}

/// A function binary with nothing in its environment but the variables the Lambda runtime sets.
pub(crate) fn runtime_process(binary: &FsPath, runtime_api: SocketAddr) -> Command {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", binary.file_name().unwrap())
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "group");
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

/// Runs function binary `bin` under the stand-in on `events` (AWS and Stripe at closed ports),
/// logging at `info` as deployed, and returns its answers with the lines it wrote to stdout: what
/// Lambda sends to the function's log group.
async fn run_and_capture_logs(bin: &str, events: Vec<Value>) -> (Vec<Answer>, Vec<String>) {
    run_with_aws_and_capture_logs(bin, events, "http://127.0.0.1:9", &TableNames::with_prefix("e2e"), &[]).await
}

/// [`run_and_capture_logs`] with AWS at `aws`, on `tables`, with `env` set over the defaults.
async fn run_with_aws_and_capture_logs(
    bin: &str,
    events: Vec<Value>,
    aws: &str,
    tables: &TableNames,
    env: &[(&str, &str)],
) -> (Vec<Answer>, Vec<String>) {
    let count = events.len();
    let mut runtime = StandIn::start(events).await;
    let mut command = lambda_process(&workspace_binary(bin), runtime.addr, aws, tables);
    command.envs(env.iter().copied()).env("RUST_LOG", "info").stdout(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });
    let child = KillOnDrop(child);
    let mut answers = Vec::new();
    for _ in 0..count {
        answers.push(runtime.answer().await);
    }
    // Every line of an invocation is written before its answer is posted; ending the process
    // closes the pipe.
    drop(child);
    let lines = reader.join().unwrap().lines().map(str::to_owned).collect();
    (answers, lines)
}

/// A function's 5xx answer writes a log line that every 5xx metric filter of the template counts
/// (and its 2xx answer one that none counts): the filters' patterns are run, with a CloudWatch
/// Logs pattern evaluator, over what the catalog binary writes under the Lambda runtime, in the
/// JSON format Lambda is told to expect, at a level Lambda keeps. (Every function logs its answers
/// through the same `nanoshop_api` layer.)
#[tokio::test]
async fn a_5xx_answer_writes_the_line_the_templates_5xx_metric_filters_count() {
    // /health answers 200; /products needs DynamoDB, at a closed port: 503.
    let (answers, lines) =
        run_and_capture_logs("catalog", vec![event("GET", "/health", 1), event("GET", "/products", 2)]).await;
    assert_eq!(answers[0].body["statusCode"], 200, "{:?}", answers[0]);
    assert_eq!(answers[1].body["statusCode"], 503, "{:?}", answers[1]);

    let template = Template::load();
    let catalog = template.function_properties("CatalogFunction");
    let kept = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
    let lowest_kept = kept
        .iter()
        .position(|l| catalog["LoggingConfig"]["ApplicationLogLevel"] == *l)
        .expect("CatalogFunction LoggingConfig.ApplicationLogLevel: the level below which Lambda drops lines");
    let survives = |line: &str| {
        let level = serde_json::from_str::<Value>(line).ok().and_then(|v| v["level"].as_str().map(str::to_uppercase));
        level.and_then(|l| kept.iter().position(|k| *k == l)).is_some_and(|at| at >= lowest_kept)
    };

    let filters: Vec<(&String, &str)> = template
        .resources_of("AWS::Logs::MetricFilter")
        .filter(|(_, f)| {
            one_or_many(&f["Properties"]["MetricTransformations"])
                .iter()
                .any(|t| t["MetricName"].as_str().is_some_and(|m| m.ends_with("-5xx")))
        })
        .map(|(id, f)| (id, f["Properties"]["FilterPattern"].as_str().unwrap()))
        .collect();
    assert!(filters.len() >= 5, "a 5xx filter per API function: {filters:?}");
    for (id, pattern) in filters {
        let counted: Vec<&String> = lines
            .iter()
            .filter(|line| log_filter::matches(pattern, line).unwrap_or_else(|e| panic!("{id}: {e}")))
            .collect();
        assert_eq!(
            counted.len(),
            1,
            "{id} `{pattern}` must count the one 5xx answer, and not the 200, among:\n{}",
            lines.join("\n")
        );
        assert!(counted[0].contains("503"), "{id} counted {}", counted[0]);
        assert!(survives(counted[0]), "{id}: Lambda drops {} below the function's ApplicationLogLevel", counted[0]);
    }
}

/// A webhook delivery refused for its signature writes the embedded-metric line the template's
/// signature alarm watches: the namespace, metric name and dimension the alarm names are the ones
/// the payments-webhook binary writes, with the function's name as Lambda gives it.
#[tokio::test]
async fn a_refused_webhook_signature_writes_the_metric_the_signature_alarm_watches() {
    let body = r#"{"id":"evt_1","object":"event","type":"payment_intent.succeeded","created":1795000000,"data":{"object":{}}}"#;
    let forged = event_with_body("POST", "/webhooks/stripe", 1, &[("stripe-signature", "t=1795000000,v1=00ff")], body);
    let (answers, lines) = run_and_capture_logs("payments-webhook", vec![forged]).await;
    assert_eq!(answers[0].body["statusCode"], 400, "{:?}", answers[0]);

    let template = Template::load();
    let alarms: Vec<&Value> = template
        .resources_of("AWS::CloudWatch::Alarm")
        .map(|(_, a)| &a["Properties"])
        .filter(|a| a["Dimensions"].to_string().contains(r#"{"Ref":"PaymentsWebhookFunction"}"#))
        .filter(|a| a["Namespace"].as_str().is_some_and(|n| !n.starts_with("AWS/")))
        .collect();
    assert_eq!(alarms.len(), 1, "one alarm on a metric the webhook emits itself");
    let alarm = alarms[0];
    let (namespace, metric) = (alarm["Namespace"].as_str().unwrap(), alarm["MetricName"].as_str().unwrap());
    let dimensions: Vec<String> =
        one_or_many(&alarm["Dimensions"]).iter().map(|d| d["Name"].as_str().unwrap().to_owned()).collect();

    let emitted: Vec<Value> = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| {
            one_or_many(&line["_aws"]["CloudWatchMetrics"]).iter().any(|directive| {
                directive["Namespace"] == namespace
                    && one_or_many(&directive["Metrics"]).iter().any(|m| m["Name"] == metric)
                    && directive["Dimensions"] == json!([dimensions])
            })
        })
        .collect();
    assert_eq!(emitted.len(), 1, "one {namespace}/{metric} line by {dimensions:?} among:\n{}", lines.join("\n"));
    let line = &emitted[0];
    assert!(line["_aws"]["Timestamp"].as_u64().is_some(), "EMF needs a timestamp: {line}");
    assert_eq!(line[metric], 1, "{line}");
    // The alarm's dimension is `!Ref PaymentsWebhookFunction`, the function's name: what Lambda
    // sets as AWS_LAMBDA_FUNCTION_NAME (lambda_process sets the binary's name).
    for dimension in &dimensions {
        assert_eq!(line[dimension.as_str()], "payments-webhook", "{line}");
    }
}

/// The expirer counts its heartbeat, the `ExpirySweeps` metric the template's heartbeat alarm
/// watches, for a sweep it completed, and none for a run without a usable Stripe key: the alarm
/// (missing data breaching) then tells the operator. Needs DynamoDB Local for the sweep that
/// completes (`NANOSHOP_DYNAMODB_LOCAL`).
#[tokio::test]
async fn the_expirer_counts_no_heartbeat_for_a_run_without_a_usable_stripe_key() {
    let Ok(aws) = std::env::var("NANOSHOP_DYNAMODB_LOCAL") else {
        eprintln!("skipped: NANOSHOP_DYNAMODB_LOCAL is not set");
        return;
    };
    let tables = TableNames::with_prefix(&format!("heartbeat-{}", std::process::id()));
    DynamoStore::new(local_client(&aws).await, tables.clone()).create_tables().await.unwrap();
    let template = Template::load();
    let alarm = template
        .resources_of("AWS::CloudWatch::Alarm")
        .map(|(_, a)| &a["Properties"])
        .find(|a| {
            a["Dimensions"].to_string().contains(r#"{"Ref":"OrdersExpirerFunction"}"#) && a["Namespace"] == "nanoshop"
        })
        .expect("the heartbeat alarm");
    let metric = alarm["MetricName"].as_str().unwrap();
    let scheduled = json!({"source": "aws.scheduler", "detail-type": "Scheduled Event"});
    for (key, heartbeats) in [("sk_test_lambda", 1), ("sk_test_replace_me", 0)] {
        let env = [("STRIPE_SECRET_KEY", key)];
        let (answers, lines) =
            run_with_aws_and_capture_logs("orders-expirer", vec![scheduled.clone()], &aws, &tables, &env).await;
        assert!(answers[0].ok, "{key}: {:?}", answers[0]);
        let counted = lines
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| {
                one_or_many(&line["_aws"]["CloudWatchMetrics"])
                    .iter()
                    .any(|d| one_or_many(&d["Metrics"]).iter().any(|m| m["Name"] == metric))
            })
            .count();
        assert_eq!(counted, heartbeats, "{key}: {metric} lines among:\n{}", lines.join("\n"));
    }
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

    let functions = [
        "catalog",
        "cart",
        "checkout",
        "payments-webhook",
        "orders",
        "orders-expirer",
        "orders-events-relay",
        "customers",
        "notifications",
    ];
    // What each is first asked to do: the HTTP functions answer /health (their init already made
    // the warm-up call), the expirer sweeps the empty tables, the relay takes an empty batch.
    let first_event = |name: &str, run: usize| match name {
        "orders-expirer" => (json!({"source": "aws.scheduler", "detail-type": "Scheduled Event"}), "one sweep"),
        "orders-events-relay" => (json!({"Records": []}), "an empty stream batch"),
        // Without MAIL_FROM the store sends no mail: start-up (templates compiled and rendered
        // once, the clients built) is what this measures.
        "notifications" => (
            json!({"detail": {"id": "oevt_01JD0000000000000000000000", "type": "order.paid", "order_id": "ord_01JD0000000000000000000000"}}),
            "an order event, mail not configured",
        ),
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
