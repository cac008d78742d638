//! The Lambda path of `nanoshop_api::run`: the real catalog binary, started with
//! `AWS_LAMBDA_RUNTIME_API` pointing at a stand-in for Lambda's Runtime API, answers API Gateway
//! (HTTP API, payload 2.0) events. What the local server and the containers never exercise.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// The binaries `cargo test --workspace` built beside this test.
fn workspace_binary(name: &str) -> Option<std::path::PathBuf> {
    let deps = std::env::current_exe().ok()?.parent()?.to_path_buf();
    let path = deps.parent()?.join(name);
    path.exists().then_some(path)
}

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

#[derive(Clone)]
struct Runtime {
    events: Arc<Mutex<Vec<Value>>>,
    responses: mpsc::UnboundedSender<(String, Value)>,
}

async fn next(State(rt): State<Runtime>) -> impl IntoResponse {
    let event = rt.events.lock().unwrap().pop();
    let Some(event) = event else {
        // Nothing more to hand out: hold the poll as Lambda does while idle.
        tokio::time::sleep(Duration::from_secs(60)).await;
        return (HeaderMap::new(), String::new());
    };
    let id = event["requestContext"]["requestId"].as_str().unwrap().to_owned();
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
    headers.insert("lambda-runtime-deadline-ms", "9999999999999".parse().unwrap());
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:123456789012:function:catalog".parse().unwrap(),
    );
    (headers, event.to_string())
}

async fn respond(State(rt): State<Runtime>, Path(id): Path<String>, body: String) -> impl IntoResponse {
    let _ = rt.responses.send((id, serde_json::from_str(&body).unwrap_or(Value::Null)));
    axum::http::StatusCode::ACCEPTED
}

#[tokio::test]
async fn the_catalog_binary_answers_api_gateway_events_under_the_lambda_runtime() {
    let Some(binary) = workspace_binary("catalog") else {
        panic!("the catalog binary is missing beside the tests: run `cargo test --workspace` (make test does)");
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    // Handed out last-first: /health, then a read that needs DynamoDB (unreachable here).
    let events = vec![event("GET", "/products", 2), event("GET", "/health", 1)];
    let runtime = Runtime { events: Arc::new(Mutex::new(events)), responses: tx };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
        .with_state(runtime);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let jwks = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k","alg":"ES256","use":"sig","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}"#;
    let started = Instant::now();
    let child = std::process::Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "catalog")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "group")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        // A closed local port: DynamoDB is unreachable, nothing leaves the machine.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("CATALOG_TABLE", "c")
        .env("CARTS_TABLE", "c")
        .env("ORDERS_TABLE", "o")
        .env("IDEMPOTENCY_TABLE", "i")
        .env("IMAGE_BUCKET", "b")
        .env("IMAGE_BASE_URL", "https://img.example")
        .env("CURSOR_SECRET", "0123456789abcdef0123456789abcdef")
        .env("AUTH_ISSUER", "https://issuer.example")
        .env("AUTH_AUDIENCE", "e2e")
        .env("AUTH_JWKS", jwks)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _child = KillOnDrop(child);

    let (id, health) = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.unwrap().unwrap();
    let cold = started.elapsed();
    assert_eq!(id, "req-1");
    assert_eq!(health["statusCode"], 200, "{health}");
    let body: Value = serde_json::from_str(health["body"].as_str().unwrap()).unwrap();
    assert_eq!((body["status"].as_str(), body["function"].as_str()), (Some("ok"), Some("catalog")));
    assert_eq!(health["headers"]["x-request-id"], "lambda-1", "the request id travels through Lambda too");

    let (id, products) = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await.unwrap().unwrap();
    assert_eq!(id, "req-2");
    assert_eq!(products["statusCode"], 503, "DynamoDB unreachable is a 503 problem, not a crash: {products}");
    assert_eq!(products["headers"]["content-type"], "application/problem+json");
    eprintln!("\ncatalog under the Lambda runtime: process start to the first response {cold:.2?} (debug build)");
    server.abort();
}
