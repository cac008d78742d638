//! The AWS SDK's clients on nanoshop's one HTTPS client ([`crate::https_client`]).
//!
//! Each AWS SDK client otherwise builds the SDK's default HTTPS client (`default-https-client`):
//! hyper with HTTP/2 (h2), proxies read from the environment, and the system's trust store, read
//! at the first connection (on this machine ~290 files). A Lambda package needs none of it:
//! Lambda sets no proxy, AWS's endpoints speak HTTP/1.1 and chain to roots the bundled Mozilla set
//! holds, and every package already links that client for its own calls. Built for Lambda
//! ([`crate::startup::aws_config`]), every SDK client uses this one instead, and the default client
//! is not compiled in (0.11 MiB less in each zipped package, and no trust store read during init;
//! docs/benchmarks.md). Containers and `nanoshop serve` keep the SDK's default client (feature
//! `sdk-default-client` of this crate, which the `nanoshop` package turns on), proxies included.
//!
//! What the SDK asks of an HTTP client and how it is met, as its own client meets it: the connect
//! timeout of the client's settings bounds making each connection whole (DNS, TCP and the TLS
//! handshake), its read timeout the wait for the answer's head, and a connector (with its
//! connection pool) is built once per distinct pair of them. Each request's connection is handed
//! to the SDK, which closes it after a transient failure (a 5xx, a timeout) instead of sending its
//! retry down the same one. Failures are classified as the SDK's client classifies them, so its
//! retries treat them alike: a connection that could not be made or broke is `io`, a timeout is
//! `timeout`, a request hyper refused is `user`, anything else `other`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connection::{CaptureSmithyConnection, ConnectionMetadata};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use http::Uri;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{HttpConnector as TcpConnector, capture_connection};
use hyper_util::rt::TokioExecutor;
use rustls::ClientConfig;

/// The HTTP client to give an AWS SDK configuration (`SdkConfig::builder().http_client(..)`).
///
/// # Errors
/// The TLS configuration cannot be built ([`crate::https_client`]).
pub fn sdk_http_client() -> anyhow::Result<SharedHttpClient> {
    Ok(SharedHttpClient::new(SdkHttpClient { tls: crate::https_client::tls_config()?, connectors: Mutex::default() }))
}

/// Timeouts of one connector: (connect, read).
type Timeouts = (Option<Duration>, Option<Duration>);

/// The TLS configuration, and the connectors built so far, one per pair of timeouts (an SDK
/// client asks for one per request; a function's DynamoDB and Secrets Manager clients ask with the
/// same settings).
#[derive(Debug)]
struct SdkHttpClient {
    tls: ClientConfig,
    connectors: Mutex<Vec<(Timeouts, SharedHttpConnector)>>,
}

impl HttpClient for SdkHttpClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        let timeouts = (settings.connect_timeout(), settings.read_timeout());
        // A poisoned lock only means another thread panicked while pushing: the list is whole.
        let mut connectors = self.connectors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, connector)) = connectors.iter().find(|(t, _)| *t == timeouts) {
            return connector.clone();
        }
        let connect =
            Bounded { inner: crate::https_client::https_connector(self.tls.clone(), None), limit: timeouts.0 };
        let client = Client::builder(TokioExecutor::new()).build(connect);
        let connector = SharedHttpConnector::new(Connector { client, read_timeout: timeouts.1 });
        connectors.push((timeouts, connector.clone()));
        connector
    }
}

/// One connection pool, and how long to wait for an answer's head.
#[derive(Debug, Clone)]
struct Connector {
    client: Client<Bounded, SdkBody>,
    read_timeout: Option<Duration>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let mut request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(err) => return HttpConnectorFuture::ready(Err(ConnectorError::user(err.into()))),
        };
        // The SDK's connection-poisoning interceptor leaves this in the request: it is how it
        // closes the connection after a transient failure.
        let connection = capture_connection(&mut request);
        if let Some(smithy) = request.extensions().get::<CaptureSmithyConnection>() {
            smithy.set_connection_retriever(move || {
                connection.connection_metadata().as_ref()?;
                let connection = connection.clone();
                let poison = move || {
                    if let Some(connected) = connection.connection_metadata().as_ref() {
                        connected.poison();
                    }
                };
                Some(ConnectionMetadata::builder().proxied(false).poison_fn(poison).build())
            });
        }
        let (client, read_timeout) = (self.client.clone(), self.read_timeout);
        HttpConnectorFuture::new(async move {
            let answer = client.request(request);
            let answer = match read_timeout {
                Some(limit) => match tokio::time::timeout(limit, answer).await {
                    Ok(answer) => answer,
                    Err(elapsed) => return Err(ConnectorError::timeout(elapsed.into())),
                },
                None => answer.await,
            };
            match answer {
                Ok(response) => HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|err| ConnectorError::other(err.into(), None)),
                Err(err) => Err(classify(err)),
            }
        })
    }
}

/// The HTTPS connector with `limit` on making each connection whole: DNS, TCP and the TLS
/// handshake (the TCP connector's own timeout covers only the TCP connect).
#[derive(Debug, Clone)]
struct Bounded {
    inner: HttpsConnector<TcpConnector>,
    limit: Option<Duration>,
}

/// Connecting took longer than the client's connect timeout.
#[derive(Debug, thiserror::Error)]
#[error("no connection within the connect timeout ({0:?})")]
struct ConnectTimedOut(Duration);

impl tower::Service<Uri> for Bounded {
    type Response = <HttpsConnector<TcpConnector> as tower::Service<Uri>>::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let (connecting, limit) = (self.inner.call(uri), self.limit);
        Box::pin(async move {
            match limit {
                Some(limit) => tokio::time::timeout(limit, connecting).await.map_err(|_| ConnectTimedOut(limit))?,
                None => connecting.await,
            }
        })
    }
}

/// The SDK's kind of a failure to get an answer, as its own HTTP client decides it.
fn classify(err: hyper_util::client::legacy::Error) -> ConnectorError {
    let hyper = source::<hyper::Error>(&err);
    if source::<ConnectTimedOut>(&err).is_some() || hyper.is_some_and(hyper::Error::is_timeout) {
        return ConnectorError::timeout(err.into());
    }
    if hyper.is_some_and(hyper::Error::is_user) {
        return ConnectorError::user(err.into());
    }
    let broke = hyper.is_some_and(|e| e.is_closed() || e.is_canceled() || e.is_incomplete_message());
    if err.is_connect() || broke || source::<std::io::Error>(&err).is_some() {
        return ConnectorError::io(err.into());
    }
    ConnectorError::other(err.into(), None)
}

/// The first error of type `E` in `err`'s chain of sources, `err` included.
fn source<'a, E: std::error::Error + 'static>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a E> {
    std::iter::successors(Some(err), |e| e.source()).find_map(|e| e.downcast_ref::<E>())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use aws_smithy_runtime_api::client::connection::CaptureSmithyConnection;
    use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnector, HttpConnectorSettings};
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
    use aws_smithy_types::body::SdkBody;
    use http_body_util::BodyExt as _;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::SdkHttpClient;

    fn client() -> SdkHttpClient {
        SdkHttpClient { tls: crate::https_client::tls_config().unwrap(), connectors: Default::default() }
    }

    /// `client`'s connector for a connect timeout and a read timeout.
    fn connector(client: &SdkHttpClient, connect: Duration, read: Option<Duration>) -> impl HttpConnector {
        let mut settings = HttpConnectorSettings::builder().connect_timeout(connect);
        settings.set_read_timeout(read);
        let components = RuntimeComponentsBuilder::for_tests().build().unwrap();
        client.http_connector(&settings.build(), &components)
    }

    const CONNECT: Duration = Duration::from_secs(2);

    fn post(url: &str, body: &'static str) -> HttpRequest {
        let request = http::Request::builder().method("POST").uri(url).body(SdkBody::from(body)).unwrap();
        HttpRequest::try_from(request).unwrap()
    }

    /// A server that reads one request and gives `answer` (or nothing, if `None`), returning what
    /// it read.
    async fn server(answer: Option<&'static str>) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut read = vec![0; 4096];
            let n = socket.read(&mut read).await.unwrap();
            match answer {
                Some(answer) => socket.write_all(answer.as_bytes()).await.unwrap(),
                None => tokio::time::sleep(Duration::from_secs(5)).await,
            }
            String::from_utf8_lossy(&read[..n]).into_owned()
        });
        (url, task)
    }

    /// A keep-alive server answering every request with an empty 200: its URL, and how many
    /// connections it has accepted.
    async fn keep_alive_server() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut read = vec![0; 4096];
                    while socket.read(&mut read).await.is_ok_and(|n| n > 0) {
                        if socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        (url, accepted)
    }

    #[tokio::test]
    async fn a_request_and_its_answer_go_through_whole() {
        let (url, server) = server(Some("HTTP/1.1 201 Created\r\nx-amz-id: 7\r\ncontent-length: 5\r\n\r\nhello")).await;
        let client = client();
        let response = connector(&client, CONNECT, None).call(post(&url, "{\"a\":1}")).await.expect("an answer");
        assert_eq!(response.status().as_u16(), 201);
        assert_eq!(response.headers().get("x-amz-id"), Some("7"));
        let body = response.into_body().collect().await.expect("the body").to_bytes();
        assert_eq!(&body[..], b"hello");
        let request = server.await.unwrap();
        assert!(request.starts_with("POST / HTTP/1.1\r\n"), "{request}");
        assert!(request.ends_with("\r\n\r\n{\"a\":1}"), "{request}");
    }

    #[tokio::test]
    async fn no_server_is_an_io_failure_the_sdk_retries() {
        let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        let client = client();
        let err =
            connector(&client, CONNECT, None).call(post(&format!("http://127.0.0.1:{port}/"), "")).await.unwrap_err();
        assert!(err.is_io(), "{err:?}");
    }

    #[tokio::test]
    async fn an_answer_slower_than_the_read_timeout_is_a_timeout() {
        let (url, _server) = server(None).await;
        let client = client();
        let request = post(&url, "");
        let err = connector(&client, CONNECT, Some(Duration::from_millis(200))).call(request).await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
    }

    /// The connect timeout covers the TLS handshake, not only the TCP connect: a server that
    /// accepts and then says nothing times out as the SDK's own client would.
    #[tokio::test]
    async fn a_handshake_slower_than_the_connect_timeout_is_a_timeout() {
        let (url, _server) = server(None).await;
        let client = client();
        let https = url.replacen("http://", "https://", 1);
        let connecting = connector(&client, Duration::from_millis(200), None).call(post(&https, ""));
        let err = tokio::time::timeout(Duration::from_secs(3), connecting).await.expect("bounded").unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
    }

    #[tokio::test]
    async fn a_connection_closed_before_the_answer_is_an_io_failure() {
        let (url, server) = server(Some("")).await;
        let client = client();
        let err = connector(&client, CONNECT, None).call(post(&url, "")).await.unwrap_err();
        server.await.unwrap();
        assert!(err.is_io(), "{err:?}");
    }

    /// Two requests, the first carrying the SDK's connection capture: the second reuses the first's
    /// connection, unless the SDK poisoned it (as it does after a transient failure).
    async fn connections_for_two_requests(poison: bool) -> usize {
        let (url, accepted) = keep_alive_server().await;
        let client = client();
        let connector = connector(&client, CONNECT, None);
        let capture = CaptureSmithyConnection::new();
        let mut first = post(&url, "");
        first.add_extension(capture.clone());
        let answer = connector.call(first).await.expect("the first answer");
        answer.into_body().collect().await.expect("its body");
        let connection = capture.get().expect("the first request's connection, handed to the SDK");
        if poison {
            connection.poison();
        }
        let answer = connector.call(post(&url, "")).await.expect("the second answer");
        answer.into_body().collect().await.expect("its body");
        accepted.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn a_connection_the_sdk_poisons_is_not_used_again() {
        assert_eq!(connections_for_two_requests(false).await, 1, "kept alive and used again");
        assert_eq!(connections_for_two_requests(true).await, 2, "poisoned: the retry gets a new connection");
    }

    #[test]
    fn one_connector_per_pair_of_timeouts() {
        let client = client();
        let _ = (
            connector(&client, CONNECT, None),
            connector(&client, CONNECT, None),
            connector(&client, CONNECT, Some(Duration::from_secs(1))),
        );
        assert_eq!(client.connectors.lock().unwrap().len(), 2);
    }
}
