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
//! What the SDK asks of an HTTP client and how it is met: the connect timeout of the client's
//! settings bounds each TCP connect, its read timeout the wait for the answer's head, and a
//! connector (with its connection pool) is built once per distinct pair of them. Failures are
//! classified as the SDK's own client classifies them, so its retries treat them alike: a
//! connection that could not be made or broke is `io`, a timeout is `timeout`, a request hyper
//! refused is `user`, anything else `other`.

use std::sync::Mutex;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
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
        let client = crate::https_client::client_with(self.tls.clone(), timeouts.0);
        let connector = SharedHttpConnector::new(Connector { client, read_timeout: timeouts.1 });
        connectors.push((timeouts, connector.clone()));
        connector
    }
}

/// One connection pool, and how long to wait for an answer's head.
#[derive(Debug, Clone)]
struct Connector {
    client: Client<HttpsConnector<TcpConnector>, SdkBody>,
    read_timeout: Option<Duration>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(err) => return HttpConnectorFuture::ready(Err(ConnectorError::user(err.into()))),
        };
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

/// The SDK's kind of a failure to get an answer, as its own HTTP client decides it.
fn classify(err: hyper_util::client::legacy::Error) -> ConnectorError {
    let hyper = source::<hyper::Error>(&err);
    if hyper.is_some_and(hyper::Error::is_timeout) {
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
    use std::time::Duration;

    use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnector, HttpConnectorSettings};
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
    use aws_smithy_types::body::SdkBody;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use http_body_util::BodyExt as _;

    use super::SdkHttpClient;

    fn client() -> SdkHttpClient {
        SdkHttpClient { tls: crate::https_client::tls_config().unwrap(), connectors: Default::default() }
    }

    fn settings(read_timeout: Option<Duration>) -> HttpConnectorSettings {
        let mut settings = HttpConnectorSettings::builder().connect_timeout(Duration::from_secs(2));
        settings.set_read_timeout(read_timeout);
        settings.build()
    }

    fn post(url: &str, body: &'static str) -> HttpRequest {
        let request = http::Request::builder().method("POST").uri(url).body(SdkBody::from(body)).unwrap();
        HttpRequest::try_from(request).unwrap()
    }

    fn connector(client: &SdkHttpClient, read_timeout: Option<Duration>) -> impl HttpConnector {
        let components = RuntimeComponentsBuilder::for_tests().build().unwrap();
        client.http_connector(&settings(read_timeout), &components)
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

    #[tokio::test]
    async fn a_request_and_its_answer_go_through_whole() {
        let (url, server) = server(Some("HTTP/1.1 201 Created\r\nx-amz-id: 7\r\ncontent-length: 5\r\n\r\nhello")).await;
        let client = client();
        let response = connector(&client, None).call(post(&url, "{\"a\":1}")).await.expect("an answer");
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
        let err = connector(&client, None).call(post(&format!("http://127.0.0.1:{port}/"), "")).await.unwrap_err();
        assert!(err.is_io(), "{err:?}");
    }

    #[tokio::test]
    async fn an_answer_slower_than_the_read_timeout_is_a_timeout() {
        let (url, _server) = server(None).await;
        let client = client();
        let err = connector(&client, Some(Duration::from_millis(200))).call(post(&url, "")).await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
    }

    #[tokio::test]
    async fn a_connection_closed_before_the_answer_is_an_io_failure() {
        let (url, server) = server(Some("")).await;
        let client = client();
        let err = connector(&client, None).call(post(&url, "")).await.unwrap_err();
        server.await.unwrap();
        assert!(err.is_io(), "{err:?}");
    }

    #[test]
    fn one_connector_per_pair_of_timeouts() {
        let client = client();
        let _ = (connector(&client, None), connector(&client, None), connector(&client, Some(Duration::from_secs(1))));
        assert_eq!(client.connectors.lock().unwrap().len(), 2);
    }
}
