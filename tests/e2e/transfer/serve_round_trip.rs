//! The bar, as a merchant runs it: two `nanoshop serve` processes, each on DynamoDB Local
//! tables of its own; `nanoshop import FILE --api … --token …` fills one with 1,000 products with
//! stock under a category tree, `nanoshop export --api …` reads it back, and the export imported
//! into the other (empty) store and exported again is the same file. Every process is the real
//! binary. DynamoDB Local is reached through a proxy in this test that counts the calls each step
//! makes, so the time and the DynamoDB calls per product are measured where they happen; they are
//! printed (`--nocapture`) and quoted in docs/import-export.md.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::Response;
use http_body_util::BodyExt;

use crate::support::workspace_binary;

const PRODUCTS: usize = 1000;
/// The most one CLI step may take before the test gives up on it: far beyond the ~30 s an import
/// takes on a busy 2-core machine, short enough that a hang fails instead of stalling `make test`.
const STEP_TIMEOUT: Duration = Duration::from_secs(300);

/// DynamoDB calls by operation (`GetItem`, `TransactWriteItems`, …).
type Calls = BTreeMap<String, u64>;

/// DynamoDB Local behind a loopback proxy that counts each call by its `X-Amz-Target` operation.
struct CountingProxy {
    url: String,
    calls: Arc<Mutex<Calls>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

#[derive(Clone)]
struct Forward {
    target: String,
    client: reqwest::Client,
    calls: Arc<Mutex<Calls>>,
}

impl CountingProxy {
    async fn start(target: &str) -> Self {
        let calls = Arc::new(Mutex::new(Calls::new()));
        let state = Forward {
            target: target.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            calls: calls.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new().fallback(forward).with_state(state);
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Self { url, calls, _stop: stop }
    }

    /// The calls counted since the last `take`.
    fn take(&self) -> Calls {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

/// Passes one call on to DynamoDB Local as it came, and its answer back as it came.
async fn forward(State(to): State<Forward>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let operation = parts.headers.get("x-amz-target").and_then(|t| t.to_str().ok()).and_then(|t| t.rsplit('.').next());
    *to.calls.lock().unwrap().entry(operation.unwrap_or("?").to_owned()).or_default() += 1;
    let bytes = body.collect().await.unwrap().to_bytes();
    let mut headers = parts.headers;
    for hop in [header::HOST, header::CONTENT_LENGTH, header::CONNECTION, header::TRANSFER_ENCODING] {
        headers.remove(hop);
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let answer = to
        .client
        .request(parts.method, format!("{}{path}", to.target))
        .headers(headers)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if ![header::CONTENT_LENGTH, header::CONNECTION, header::TRANSFER_ENCODING].contains(name) {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(answer.bytes().await.unwrap())).unwrap()
}

/// A `nanoshop serve` process on DynamoDB tables `<prefix>-*` at `dynamodb`, created at start.
struct Serve {
    child: Child,
    url: String,
    data: PathBuf,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

impl Serve {
    fn start(dynamodb: &str, prefix: &str) -> Self {
        let data = std::env::temp_dir().join(format!("nanoshop-{prefix}"));
        // A process id comes round again: a run that failed earlier may have left this behind.
        let _ = std::fs::remove_dir_all(&data);
        let mut child = Command::new(workspace_binary("nanoshop"))
            .args(["serve", "--addr", "127.0.0.1:0", "--no-seed", "--storefront", "/nonexistent", "--data-dir"])
            .arg(&data)
            .args(["--dynamodb-endpoint", dynamodb, "--table-prefix", prefix, "--create-tables"])
            .env("RUST_LOG", "warn,nanoshop::serving=info")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // The log is drained to its end on a thread of its own, so the server never blocks on it.
        let (found, address) = std::sync::mpsc::channel();
        let log = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(log).lines().map_while(Result::ok) {
                if let Some((_, rest)) = line.split_once("serving at ") {
                    let _ = found.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
                }
            }
        });
        // Creating the tables comes first, and DynamoDB Local is slow to make them.
        let url = address.recv_timeout(Duration::from_secs(120));
        let serve = Self { child, url: url.clone().unwrap_or_default(), data };
        assert!(url.is_ok(), "nanoshop serve on DynamoDB Local did not say where it serves");
        serve
    }

    /// `nanoshop <command> --api <this server> --token <admin token> <args>`, run off the async
    /// runtime (which keeps serving the proxy meanwhile): (stdout, stderr, time).
    async fn transfer(&self, command: &str, args: &[&str]) -> (String, String, Duration) {
        let token = cli(&["token", "--admin", "--data-dir", self.data.to_str().unwrap()]).0.trim().to_owned();
        let mut all: Vec<String> = [command, "--api", &self.url, "--token", &token].map(str::to_owned).into();
        all.extend(args.iter().map(|a| (*a).to_owned()));
        tokio::task::spawn_blocking(move || cli(&all.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap()
    }
}

/// `nanoshop` with `args`, which must succeed within [`STEP_TIMEOUT`]: (stdout, stderr, time).
fn cli(args: &[&str]) -> (String, String, Duration) {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let started = Instant::now();
    let dir = std::env::temp_dir().join(format!("nanoshop-cli-{}-{run}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Output into files, not pipes: nothing to drain while waiting.
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = Command::new(workspace_binary("nanoshop"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > STEP_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = started.elapsed();
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    let (stdout, stderr) = (read(&out), read(&err));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.is_some(), "nanoshop {args:?} took more than {STEP_TIMEOUT:?}:\n{stderr}");
    assert!(status.is_some_and(|s| s.success()), "nanoshop {args:?} failed:\n{stderr}");
    (stdout, stderr, elapsed)
}

/// A catalog of `count` products under a tree of two departments with five categories each: every
/// fourth product with two sizes, the rest with one variant; all with stock, a category and a
/// tag, prices in EUR (and USD for most); some drafts.
fn generated_catalog(count: usize) -> String {
    let mut csv = "slug,title,status,categories,tags,options,sku,option_values,stock,\
                   category_slug,category_name,category_parent,price_eur,price_usd\n"
        .to_owned();
    for department in 0..2 {
        csv.push_str(&format!(",,,,,,,,,dept-{department},Department {department},,,\n"));
    }
    for category in 0..10 {
        csv.push_str(&format!(",,,,,,,,,cat-{category},Category {category},dept-{},,\n", category % 2));
    }
    for i in 0..count {
        let (status, category) = (if i % 7 == 0 { "draft" } else { "active" }, format!("cat-{}", i % 10));
        let (eur, usd) = (format!("{}.{:02}", 10 + i % 90, i % 100), format!("{}.95", 12 + i % 90));
        if i % 4 == 0 {
            for (n, size) in ["S", "M"].iter().enumerate() {
                let sku = format!("P{i:04}-{size}");
                let head = if n == 0 {
                    format!("p-{i:04},Product {i},{status},{category},bulk,Size=S|M")
                } else {
                    format!("p-{i:04},,,,,")
                };
                csv.push_str(&format!("{head},{sku},Size={size},{},,,,{eur},{usd}\n", (i + n) % 50));
            }
        } else {
            csv.push_str(&format!("p-{i:04},Product {i},{status},{category},bulk,,P{i:04},,{},,,,{eur},\n", i % 50));
        }
    }
    csv
}

#[allow(clippy::cast_precision_loss, clippy::float_arithmetic)]
fn per_product(calls: &Calls) -> f64 {
    calls.values().sum::<u64>() as f64 / PRODUCTS as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_products_round_trip_through_nanoshop_serve_on_dynamodb_local() {
    let Ok(dynamodb) = std::env::var("NANOSHOP_DYNAMODB_LOCAL") else {
        assert!(
            std::env::var("NANOSHOP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
            "NANOSHOP_DYNAMODB_LOCAL is not set: run `make test`"
        );
        return;
    };
    let started = Instant::now();
    let proxy = CountingProxy::start(&dynamodb).await;
    let prefix = |name: &str| format!("e2e-transfer-{name}-{}", std::process::id());
    let (source, target) = (Serve::start(&proxy.url, &prefix("source")), Serve::start(&proxy.url, &prefix("target")));
    let dir = std::env::temp_dir().join(prefix("files"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();

    let generated = path("generated.csv");
    std::fs::write(&generated, generated_catalog(PRODUCTS)).unwrap();
    let (_, fill_log, fill_time) = source.transfer("import", &[&generated]).await;
    assert!(
        fill_log.contains(&format!("{PRODUCTS} created")) && fill_log.contains("12 categories: 12 created"),
        "{fill_log}"
    );
    proxy.take();

    let exported = path("exported.csv");
    let (_, export_log, export_time) = source.transfer("export", &["-o", &exported]).await;
    let export_calls = proxy.take();
    let exported_text = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(
        exported_text.lines().count(),
        1 + 12 + PRODUCTS + PRODUCTS / 4,
        "a header, a row per category and one per variant: {export_log}"
    );

    let (_, import_log, import_time) = target.transfer("import", &[&exported]).await;
    let import_calls = proxy.take();
    // The server kept the shop in DynamoDB: each product created is a transaction there.
    assert!(import_calls.get("TransactWriteItems").is_some_and(|n| *n >= PRODUCTS as u64), "{import_calls:?}");
    assert!(
        import_log.contains(&format!("imported {PRODUCTS} products: {PRODUCTS} created"))
            && import_log.contains("12 categories: 12 created"),
        "{import_log}"
    );

    let again = path("again.csv");
    target.transfer("export", &["-o", &again]).await;
    // The file holds every editable field of every product and variant, each price, the tree and
    // each SKU's stock on hand: the same file is the same catalog.
    assert!(std::fs::read_to_string(&again).unwrap() == exported_text, "the target holds exactly the source's catalog");
    // And the generated file's own rows came through: a draft with two sizes, its prices and stock.
    let row = |start: &str| exported_text.lines().find(|l| l.starts_with(start)).unwrap_or_default().to_owned();
    assert_eq!(row("p-0000,"), "p-0000,Product 0,,draft,cat-0,bulk,Size=S|M,P0000-S,S,Size=S,,0,,,,10.00,12.95");
    assert_eq!(row(",,,,,,,,,,,,cat-3,"), ",,,,,,,,,,,,cat-3,Category 3,dept-1,,");
    let _ = std::fs::remove_dir_all(&dir);

    eprintln!(
        "round trip of {PRODUCTS} products through nanoshop serve on DynamoDB Local: filled the source in \
         {fill_time:.1?}; export {export_time:.1?} ({:.2} DynamoDB calls/product: {export_calls:?}), \
         import into an empty store {import_time:.1?} ({:.2} calls/product: {import_calls:?}); \
         the whole test {:.1?}",
        per_product(&export_calls),
        per_product(&import_calls),
        started.elapsed(),
    );
}
