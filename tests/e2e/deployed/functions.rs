//! The function binaries started as deployed: with exactly the environment the transformed
//! template gives each (resolved to the local stack, [`Deployed`]), plus what the platform adds
//! (the Lambda runtime's variables, credentials, and endpoints that send AWS and Stripe calls to
//! the local services). In Lambda mode each polls a stand-in Runtime API and is handed API
//! Gateway events shaped as the template's route sends them; in container mode it serves HTTP on
//! `PORT`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::provision::Deployed;
use crate::lambda::{self, KillOnDrop, StandIn};
use crate::support::workspace_binary;

/// What each binary is given by a deployment: what its configuration type reads, less what only
/// a container or `nanoshop serve` sets, plus `RUST_LOG` (the one place that knows is
/// `tests/e2e/infra`, which checks the template's text against the same list).
pub(crate) fn reads(bin: &str) -> BTreeSet<String> {
    crate::infra::deployed_environment(bin)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Under the stand-in Runtime API, as Lambda runs it.
    Lambda,
    /// Serving HTTP on `PORT`, as a container runs it (docs/containers.md).
    Container,
}

/// A request as a client sends it to the API.
pub(crate) struct Call<'r> {
    pub(crate) method: &'r str,
    pub(crate) path: &'r str,
    pub(crate) headers: Vec<(&'r str, String)>,
    pub(crate) body: Option<Value>,
    /// A bearer token (`Authorization`).
    pub(crate) token: Option<&'r str>,
}

impl<'r> Call<'r> {
    pub(crate) fn new(method: &'r str, path: &'r str) -> Self {
        Self { method, path, headers: Vec::new(), body: None, token: None }
    }

    pub(crate) fn header(mut self, name: &'r str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub(crate) fn raw(mut self, body: String) -> Self {
        self.body = Some(Value::String(body));
        self
    }

    pub(crate) fn token(mut self, token: &'r str) -> Self {
        self.token = Some(token);
        self
    }

    fn body_text(&self) -> Option<String> {
        self.body.as_ref().map(|b| b.as_str().map_or_else(|| b.to_string(), str::to_owned))
    }
}

/// A function's answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

/// One function binary, running.
pub(crate) struct Running {
    pub(crate) id: String,
    pub(crate) bin: String,
    runtime: Option<StandIn>,
    port: Option<u16>,
    child: KillOnDrop,
    log: PathBuf,
    invocations: usize,
}

impl Running {
    /// Starts function `id` of `deployed` in `mode` with the environment the template gives it.
    pub(crate) async fn start(deployed: &Deployed<'_>, id: &str, mode: Mode) -> Self {
        let bin = deployed.binary_of(id);
        let binary = workspace_binary(&bin);
        let environment = deployed.environment(id);
        let log = std::env::temp_dir().join(format!("{}-{bin}-{mode:?}.log", deployed.run));
        let (mut command, runtime, port) = match mode {
            Mode::Lambda => {
                let runtime = StandIn::start(Vec::new()).await;
                (lambda::runtime_process(&binary, runtime.addr), Some(runtime), None)
            }
            Mode::Container => {
                let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
                let mut command = Command::new(&binary);
                command.env_clear().env("PORT", port.to_string());
                (command, None, Some(port))
            }
        };
        command.envs(deployed.aws.process_env()).envs(&environment);
        // Stripe's API, here localstripe: a test endpoint the template never sets.
        if environment.contains_key("STRIPE_SECRET_ID") {
            command.env("STRIPE_API_BASE", &deployed.aws.localstripe);
        }
        let file = std::fs::File::create(&log).unwrap();
        command.stdout(Stdio::from(file.try_clone().unwrap())).stderr(Stdio::from(file));
        let child = KillOnDrop(command.spawn().unwrap_or_else(|e| panic!("{}: {e}", binary.display())));
        let mut running = Self { id: id.to_owned(), bin, runtime, port, child, log, invocations: 0 };
        if mode == Mode::Container {
            running.wait_until_listening().await;
        }
        running
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.0.id()
    }

    pub(crate) fn port(&self) -> u16 {
        self.port.expect("a container-mode function")
    }

    /// What the process wrote, for failure messages.
    pub(crate) fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process has ended, and how.
    pub(crate) fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.0.try_wait().unwrap()
    }

    async fn wait_until_listening(&mut self) {
        let started = Instant::now();
        let url = format!("http://127.0.0.1:{}/health", self.port());
        while reqwest::get(&url).await.is_err() {
            assert!(self.exited().is_none(), "{} did not start:\n{}", self.bin, self.logs());
            assert!(started.elapsed() < Duration::from_secs(30), "{} is not listening:\n{}", self.bin, self.logs());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Hands the function an event that is not an API request (a schedule's, a stream batch) and
    /// returns what it answered, or its error.
    pub(crate) async fn invoke(&mut self, event: Value) -> Result<Value, Value> {
        let runtime = self.runtime.as_mut().expect("only Lambda-mode functions take events");
        let answer = tokio::select! {
            answer = runtime.invoke(event) => Some(answer),
            () = exited(&mut self.child) => None,
        };
        let Some(answer) = answer else { panic!("{} exited:\n{}", self.bin, self.logs()) };
        if answer.ok { Ok(answer.body) } else { Err(answer.body) }
    }

    /// `call` as API Gateway delivers it to this function (Lambda mode) or over HTTP (container mode).
    pub(crate) async fn call(&mut self, deployed: &Deployed<'_>, call: Call<'_>) -> Reply {
        self.invocations += 1;
        if self.runtime.is_none() {
            return self.http(&call).await;
        }
        let event = route_event(deployed, &self.id, &call, self.invocations);
        let answer = match self.invoke(event).await {
            Ok(answer) => answer,
            Err(error) => panic!("{} failed {} {}: {error}\n{}", self.bin, call.method, call.path, self.logs()),
        };
        let text = answer["body"].as_str().unwrap_or("");
        Reply {
            status: u16::try_from(answer["statusCode"].as_u64().expect("statusCode")).unwrap(),
            body: serde_json::from_str(text).unwrap_or(Value::Null),
        }
    }

    /// `GET /health`, sent straight to the function (only the catalog's is routed by API Gateway).
    pub(crate) async fn health(&mut self) -> Reply {
        if self.runtime.is_none() {
            return self.http(&Call::new("GET", "/health")).await;
        }
        self.invocations += 1;
        let answer = self.invoke(lambda::event("GET", "/health", self.invocations)).await.unwrap();
        let body = serde_json::from_str(answer["body"].as_str().unwrap_or("")).unwrap_or(Value::Null);
        Reply { status: u16::try_from(answer["statusCode"].as_u64().unwrap()).unwrap(), body }
    }

    async fn http(&self, call: &Call<'_>) -> Reply {
        let url = format!("http://127.0.0.1:{}{}", self.port(), call.path);
        let mut request = reqwest::Client::new().request(call.method.parse().unwrap(), url);
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        if let Some(token) = call.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = call.body_text() {
            request = request.header("content-type", "application/json").body(body);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{}: {e}\n{}", self.bin, self.logs()));
        let status = response.status().as_u16();
        Reply { status, body: response.json().await.unwrap_or(Value::Null) }
    }
}

impl Drop for Running {
    /// The log is kept when the test fails, for its message; removed otherwise.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

async fn exited(child: &mut KillOnDrop) {
    while child.0.try_wait().unwrap().is_none() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The API Gateway (HTTP API, payload 2.0) event the template's route for `call` sends: its
/// route key, path parameters and query string, and, on a route with the JWT authorizer, the
/// claims the authorizer verified. The route must reach function `id` through its integration.
fn route_event(deployed: &Deployed<'_>, id: &str, call: &Call<'_>, number: usize) -> Value {
    let stack = deployed.stack;
    // API Gateway routes on the path; the query string travels beside it.
    let (path, query) = call.path.split_once('?').unwrap_or((call.path, ""));
    let segments: Vec<&str> = path.split('/').collect();
    let (route_id, route) = stack
        .resources_of("AWS::ApiGatewayV2::Route")
        .map(|(route_id, r)| (route_id, &r["Properties"]))
        .find(|(_, r)| {
            let key = r["RouteKey"].as_str().unwrap();
            let (method, path) = key.split_once(' ').unwrap();
            let parts: Vec<&str> = path.split('/').collect();
            method == call.method
                && parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(p, s)| p == s || p.starts_with('{'))
        })
        .unwrap_or_else(|| panic!("{}: no route for {} {}", stack.name, call.method, call.path));
    let integration = route["Target"]["Fn::Sub"].as_str().unwrap().trim_start_matches("integrations/${");
    let integration = &stack.resources[integration.trim_end_matches('}')]["Properties"];
    assert_eq!(
        Deployed::function_named(&integration["IntegrationUri"]).as_deref(),
        Some(id),
        "{route_id} ({}) does not reach {id}",
        route["RouteKey"]
    );
    let key = route["RouteKey"].as_str().unwrap();
    let path_parameters: BTreeMap<String, String> = key
        .split_once(' ')
        .unwrap()
        .1
        .split('/')
        .zip(&segments)
        .filter_map(|(p, s)| Some((p.strip_prefix('{')?.strip_suffix('}')?.to_owned(), (*s).to_owned())))
        .collect();
    let mut headers: Vec<(&str, String)> = call.headers.clone();
    if call.body.is_some() {
        headers.push(("content-type", "application/json".into()));
    }
    if let Some(token) = call.token {
        headers.push(("authorization", format!("Bearer {token}")));
    }
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let mut event = lambda::event_with_body(call.method, path, number, &headers, &call.body_text().unwrap_or_default());
    if !query.is_empty() {
        event["rawQueryString"] = json!(query);
        let parameters: BTreeMap<&str, &str> = query.split('&').filter_map(|p| p.split_once('=')).collect();
        event["queryStringParameters"] = json!(parameters);
    }
    if call.body.is_none() {
        event.as_object_mut().unwrap().remove("body");
    }
    event["routeKey"] = json!(key);
    event["requestContext"]["routeKey"] = json!(key);
    if !path_parameters.is_empty() {
        event["pathParameters"] = json!(path_parameters);
    }
    if route["AuthorizationType"] == "JWT" {
        let token =
            call.token.unwrap_or_else(|| panic!("{route_id} ({key}) takes a JWT: API Gateway refuses a call without"));
        event["requestContext"]["authorizer"] = json!({"jwt": {"claims": claims(token), "scopes": null}});
    }
    event
}

/// A JWT's claims as the HTTP API's authorizer passes them on: each as a string, a list as
/// `[a b]` (the signature already checked by the authorizer).
fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    let claims: serde_json::Map<String, Value> = serde_json::from_slice(&bytes).unwrap();
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    let flat = claims.iter().map(|(name, value)| {
        let value = match value {
            Value::Array(items) => format!("[{}]", items.iter().map(text).collect::<Vec<_>>().join(" ")),
            other => text(other),
        };
        (name.clone(), Value::String(value))
    });
    Value::Object(flat.collect())
}
