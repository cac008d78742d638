//! The HTTP/1.1 server for everything that is not Lambda: the functions in container mode and
//! `nanoshop serve`. In AWS, API Gateway stands in front and bounds what reaches a function; here
//! nothing does, so the server sets the bounds `axum::serve` leaves open:
//!
//! - a request head (request line and headers) of at most [`MAX_HEAD_BYTES`], and at most
//!   100 headers (hyper's default, left as it is: setting it, even to 100, moves the headers from
//!   the stack to the heap on every request); more is answered 431 and the connection closed;
//! - the head must arrive within [`HEAD_READ_TIMEOUT`], so a client that trickles its headers (or
//!   sends none) cannot hold a connection, and a file descriptor, for ever;
//! - the whole request, body included, must be answered within [`REQUEST_TIMEOUT`], else 408: a
//!   client trickling its body is cut off too. API Gateway's own limit, so a function answers the
//!   same in a container as in AWS (where Lambda's timeout is shorter still).
//!
//! Bodies are bounded by the router's own limit ([`crate::MAX_BODY_BYTES`]). On shutdown the
//! listener closes at once and in-flight requests finish, for at most [`REQUEST_TIMEOUT`].

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::ApiError;

/// The largest request head accepted: API Gateway's HTTP API allows 10 KiB of headers; this leaves
/// room for a long URL and an 8 KiB bearer token (the most the verifier reads).
pub const MAX_HEAD_BYTES: usize = 24 * 1024;
/// How long a client may take to send a request head once it starts one or connects.
pub const HEAD_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may take from its head to its answer (API Gateway's integration timeout).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The time limits of [`serve_with`]; [`serve`] uses the constants above.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub head_read_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { head_read_timeout: HEAD_READ_TIMEOUT, request_timeout: REQUEST_TIMEOUT }
    }
}

fn connection_builder(limits: Limits) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.head_read_timeout).max_buf_size(MAX_HEAD_BYTES);
    builder
}

/// Answers 408 problem+json when the request (reading its body included) outlasts `limit`.
async fn within(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!("the request was not completed within {} s", limit.as_secs()),
        )
        .into_response(),
    }
}

/// Whether an accept error is about one connection (gone before we took it), not the listener.
fn only_that_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted)
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and waits for
/// the connections in flight to finish their current request. Nothing a client does stops it: a
/// failed accept (out of file descriptors, say) is logged and retried after a pause, and a broken
/// connection ends only that connection.
pub async fn serve(listener: TcpListener, router: Router, shutdown: impl Future<Output = ()>) {
    serve_with(listener, router, shutdown, Limits::default()).await;
}

/// [`serve`] with other time limits (tests use short ones).
pub async fn serve_with(listener: TcpListener, router: Router, shutdown: impl Future<Output = ()>, limits: Limits) {
    let router = router.layer(axum::middleware::from_fn_with_state(limits.request_timeout, within));
    let (stop, stopping) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    let mut connections = JoinSet::new();
    let builder = connection_builder(limits);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) if only_that_connection(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, say: give connections in flight a moment to end.
                    tracing::warn!(error = %e, "accepting a connection failed; pausing");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Reap finished connections so the set holds only live ones.
        while connections.try_join_next().is_some() {}
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let service = TowerToHyperService::new(router.clone());
        let mut stopping = stopping.clone();
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                // A client's doing (a malformed or slow request, a reset): hyper has answered
                // what could be answered.
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    drop(stop);
    let finished =
        tokio::time::timeout(limits.request_timeout, async { while connections.join_next().await.is_some() {} }).await;
    if finished.is_err() {
        tracing::warn!(left = connections.len(), "connections still open after the request timeout; closing them");
        connections.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    async fn send(addr: std::net::SocketAddr, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        stream.write_all(request).await.expect("writes");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[tokio::test]
    async fn shutdown_lets_the_request_in_flight_finish_then_stops_accepting() {
        // The handler says when it has the request, so shutdown starts with it surely in flight,
        // and when it has finished, so the test can tell whether `serve` waited for it.
        let arrived = std::sync::Arc::new(tokio::sync::Notify::new());
        let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (arrival, finish) = (arrived.clone(), finished.clone());
        let router = Router::new().route(
            "/slow",
            get(move || async move {
                arrival.notify_one();
                tokio::time::sleep(Duration::from_millis(300)).await;
                finish.store(true, std::sync::atomic::Ordering::SeqCst);
                "done"
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("has an address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, router, async {
            let _ = stopped.await;
        }));

        let in_flight = tokio::spawn(send(addr, b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        tokio::time::timeout(Duration::from_secs(10), arrived.notified()).await.expect("the request arrives");
        stop.send(()).expect("the server listens for shutdown");

        tokio::time::timeout(Duration::from_secs(5), server).await.expect("serve returns").expect("no panic");
        assert!(finished.load(std::sync::atomic::Ordering::SeqCst), "serve returned before the request finished");
        let answer = in_flight.await.expect("the client task ends");
        assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("done"), "{answer}");
        assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed after shutdown");
    }

    #[tokio::test]
    async fn a_body_trickled_past_the_request_timeout_is_408_problem_json() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("has an address");
        let router = Router::new().route("/", axum::routing::post(|body: String| async move { body }));
        let limits = Limits { head_read_timeout: Duration::from_secs(5), request_timeout: Duration::from_millis(300) };
        let server = tokio::spawn(serve_with(listener, router, std::future::pending(), limits));
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        stream.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab").await.expect("writes");
        let started = Instant::now();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("application/problem+json") && answer.contains("request_timeout"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(4), "answered by the request timeout, not the read timeout");
        // A request within the limit is served as before.
        let ok = send(addr, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi").await;
        assert!(ok.starts_with("HTTP/1.1 200") && ok.ends_with("hi"), "{ok}");
        server.abort();
    }

    #[tokio::test]
    async fn an_oversized_request_head_is_431_and_a_normal_one_is_served() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("has an address");
        let router = Router::new().route("/", get(|| async { "ok" }));
        let server = tokio::spawn(serve(listener, router, std::future::pending()));
        let big = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(MAX_HEAD_BYTES));
        assert!(send(addr, big.as_bytes()).await.starts_with("HTTP/1.1 431"));
        let fits =
            format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n", "a".repeat(16 * 1024));
        assert!(send(addr, fits.as_bytes()).await.starts_with("HTTP/1.1 200"));
        server.abort();
    }
}
