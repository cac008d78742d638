use std::sync::atomic::AtomicBool;

use std::sync::Mutex;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use axum::Router;
use secrecy::ExposeSecret;
use tower::ServiceExt;

use super::*;

#[derive(Debug)]
struct Fake {
    value: Arc<Mutex<String>>,
    up: Arc<AtomicBool>,
}

#[async_trait]
impl SecretFetcher for Fake {
    async fn fetch(&self) -> anyhow::Result<String> {
        anyhow::ensure!(self.up.load(Ordering::SeqCst), "unreachable");
        Ok(self.value.lock().unwrap().clone())
    }
}

fn fake(value: &str, up: bool) -> (Arc<RemoteSecret>, Arc<Mutex<String>>, Arc<AtomicBool>) {
    let value = Arc::new(Mutex::new(value.to_owned()));
    let up = Arc::new(AtomicBool::new(up));
    (RemoteSecret::new(Box::new(Fake { value: value.clone(), up: up.clone() })), value, up)
}

fn expose(s: Option<SecretString>) -> Option<String> {
    s.map(|s| s.expose_secret().to_owned())
}

#[tokio::test(start_paused = true)]
async fn a_changed_secret_is_read_again_at_most_once_a_minute() {
    let (remote, value, _) = fake(r#"{"webhook_secret": "one", "secret_key": "sk"}"#, true);
    let hook = Secret::remote(remote.clone(), Some("webhook_secret"));
    let key = Secret::remote(remote.clone(), Some("secret_key"));
    assert_eq!(expose(hook.get().await).as_deref(), Some("one"));
    assert_eq!(expose(key.get().await).as_deref(), Some("sk"), "one read serves every field");
    assert_eq!(remote.reads(), 1);

    *value.lock().unwrap() = r#"{"webhook_secret": "two", "secret_key": "sk"}"#.into();
    assert!(hook.reread().await, "the first re-read is not held back by the start-up read");
    assert_eq!(expose(hook.cached()).as_deref(), Some("two"));
    for _ in 0..5 {
        assert!(!hook.reread().await);
        assert!(!key.reread().await);
    }
    assert_eq!(remote.reads(), 2, "no more than one re-read within the interval");

    tokio::time::advance(MIN_REREAD_INTERVAL).await;
    *value.lock().unwrap() = r#"{"webhook_secret": "three"}"#.into();
    assert!(hook.reread().await);
    assert_eq!(remote.reads(), 3);
    assert_eq!(expose(key.cached()), None, "a field that went away is missing, not empty");
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_store_leaves_the_secret_missing_and_is_retried_after_the_interval() {
    let (remote, _, up) = fake("a plain secret", false);
    let secret = Secret::remote(remote.clone(), None);
    assert_eq!(expose(secret.get().await), None, "the start-up read");
    assert_eq!(expose(secret.get().await), None, "the first retry, at once");
    up.store(true, Ordering::SeqCst);
    assert_eq!(expose(secret.get().await), None, "the next retry waits for the interval");
    assert_eq!(remote.reads(), 2);
    tokio::time::advance(MIN_REREAD_INTERVAL).await;
    assert_eq!(expose(secret.get().await).as_deref(), Some("a plain secret"));
    assert_eq!(remote.reads(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_router_waits_for_its_secret_answering_503_not_configured_meanwhile() {
    use axum::body::Body;
    use axum::routing::get;
    use http::{Request, StatusCode};

    let (remote, _, up) = fake("k".repeat(32).as_str(), false);
    let secret = Secret::remote(remote.clone(), None);
    let app = when_configured(move || {
        let secret = secret.clone();
        async move {
            let key = hmac_key(&secret, "test").await?;
            let len = key.len();
            Some(Router::new().route("/x", get(move || async move { len.to_string() })))
        }
    })
    .await;
    let status = |path: &'static str| {
        let app = app.clone();
        async move { app.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap().status() }
    };
    assert_eq!(status("/x").await, StatusCode::SERVICE_UNAVAILABLE, "Secrets Manager is down");
    up.store(true, Ordering::SeqCst);
    tokio::time::advance(MIN_REREAD_INTERVAL).await;
    assert_eq!(status("/x").await, StatusCode::OK, "built once the secret can be read");
    assert_eq!(status("/nope").await, StatusCode::NOT_FOUND, "with the problem+json fallback");
    let reads = remote.reads();
    assert_eq!(status("/x").await, StatusCode::OK);
    assert_eq!(remote.reads(), reads, "built once, not per request");
}

#[tokio::test(start_paused = true)]
async fn a_short_key_fixed_in_the_source_builds_the_router_after_the_reread_interval_without_a_restart() {
    use axum::body::Body;
    use axum::routing::get;
    use http::{Request, StatusCode};

    let (remote, value, _) = fake("too short", true);
    let secret = Secret::remote(remote.clone(), None);
    let app = when_configured(move || {
        let secret = secret.clone();
        async move {
            hmac_key(&secret, "test").await?;
            Some(Router::new().route("/x", get(|| async { "built" })))
        }
    })
    .await;
    let status = || {
        let app = app.clone();
        async move { app.oneshot(Request::get("/x").body(Body::empty()).unwrap()).await.unwrap().status() }
    };
    assert_eq!(status().await, StatusCode::SERVICE_UNAVAILABLE, "a short key");
    *value.lock().unwrap() = "k".repeat(32);
    assert_eq!(status().await, StatusCode::SERVICE_UNAVAILABLE, "not read again within the interval");
    let reads = remote.reads();
    tokio::time::advance(MIN_REREAD_INTERVAL).await;
    assert_eq!(status().await, StatusCode::OK, "the fixed key is read again and used");
    assert_eq!(remote.reads(), reads + 1);
}

#[test]
fn fields_are_read_from_json_and_blank_values_are_missing() {
    assert_eq!(expose(pick(r#"{"a": "x"}"#, Some("a"))).as_deref(), Some("x"));
    assert_eq!(expose(pick(r#"{"a": ""}"#, Some("a"))), None);
    assert_eq!(expose(pick(r#"{"a": 1}"#, Some("a"))), None);
    assert_eq!(expose(pick("not json", Some("a"))), None);
    assert_eq!(expose(pick(" ", None)), None);
    assert_eq!(expose(pick("whole", None)).as_deref(), Some("whole"));
}

#[test]
fn debug_never_shows_a_value() {
    let secret = Secret::fixed("do-not-print");
    assert!(!format!("{secret:?}").contains("do-not-print"));
    let source = SecretSource::Value(Some("do-not-print".into()));
    assert!(!format!("{source:?}").contains("do-not-print"));
}
