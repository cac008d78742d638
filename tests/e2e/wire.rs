//! Hostile input on the wire: what the in-process tests cannot send, because it never becomes an
//! `http::Request` (oversized or endless headers, lying or missing lengths, smuggling attempts,
//! bytes that are not HTTP). Sent over raw TCP to the real `nanoshop serve` binary, whose HTTP
//! stack is the one every function binary runs in HTTP mode (`nanoshop_api::run`).
//!
//! Each answer must be a 4xx (or the connection closed without one), never a 5xx, and afterwards
//! the server must still be running and still answer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::workspace_binary;

pub(crate) struct Server {
    child: Child,
    addr: SocketAddr,
    pub(crate) data: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

impl Server {
    fn start() -> Self {
        Self::start_with(&["--addr", "127.0.0.1:0"], &[])
    }

    /// `nanoshop serve` without seed or storefront, on a data dir of its own, with `args` (which
    /// must name an `--addr`) and `env` added; waits until it answers.
    pub(crate) fn start_with(args: &[&str], env: &[(&str, &str)]) -> Self {
        static SERVERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let data = std::env::temp_dir().join(format!("nanoshop-wire-{}-{n}", std::process::id()));
        // Port 0: the server binds a free port itself and logs it, so no other test can take the
        // port between our choosing it and the server binding it.
        let mut child = Command::new(workspace_binary("nanoshop"))
            .args(["serve", "--no-seed", "--storefront", "/nonexistent", "--data-dir"])
            .arg(&data)
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn,nanoshop::serving=info")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let addr = match served_at(child.stdout.take().expect("stdout is piped")) {
            Ok(addr) => addr,
            Err(why) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{why}");
            }
        };
        // A server on every interface is reached on this machine through loopback.
        let addr = if addr.ip().is_unspecified() { SocketAddr::from(([127, 0, 0, 1], addr.port())) } else { addr };
        let server = Self { child, addr, data };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.exchange(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").0 != Some(200) {
            assert!(Instant::now() < deadline, "nanoshop serve did not come up on {addr}");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// Sends `request` as is and reads until the server closes or goes quiet: the status of the
    /// first response (None when it closed, or stayed silent, without one) and everything it sent.
    pub(crate) fn exchange(&self, request: &[u8]) -> (Option<u16>, String) {
        self.exchange_waiting(request, Duration::from_secs(15))
    }

    /// [`Server::exchange`], giving up on the first byte after `first_byte`. A busy machine may be
    /// slow to answer at all, so that wait is long unless silence is a fine answer; after the first
    /// byte, a quiet connection means the answer is complete (it may be kept alive).
    fn exchange_waiting(&self, request: &[u8], first_byte: Duration) -> (Option<u16>, String) {
        let Ok(mut stream) = TcpStream::connect(self.addr) else { return (None, String::new()) };
        stream.set_read_timeout(Some(first_byte)).unwrap();
        // The server may answer and close before all of a huge request is written: that is fine.
        let _ = stream.write_all(request);
        let mut answer = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            if answer.is_empty() {
                stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            }
            answer.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text.strip_prefix("HTTP/1.1 ").and_then(|rest| rest.get(..3)).and_then(|s| s.parse().ok());
        (status, text)
    }
}

/// The address in the server's "nanoshop is serving at http://…" log line. The log is drained
/// to the end on a thread of its own, so the server never blocks on a full pipe.
fn served_at(log: std::process::ChildStdout) -> Result<SocketAddr, String> {
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(log)).map_while(Result::ok) {
            if let Some((_, rest)) = line.split_once("serving at http://") {
                let _ = found.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
            }
        }
    });
    let addr = address
        .recv_timeout(Duration::from_secs(30))
        .map_err(|e| format!("nanoshop serve did not log where it serves: {e}"))?;
    addr.parse().map_err(|e| format!("{addr:?} is not an address: {e}"))
}

/// The statuses a case may be answered with; `None` is a connection closed, or left silent,
/// without an answer.
type Allowed = &'static [Option<u16>];

fn chunked(total: usize) -> Vec<u8> {
    let mut body = Vec::new();
    let chunk = vec![b'x'; 8192];
    for _ in 0..total / chunk.len() {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(&chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    body
}

#[test]
fn hostile_bytes_on_the_wire_get_a_4xx_or_a_closed_connection_and_the_server_lives_on() {
    let mut server = Server::start();
    let head = |extra: &str| format!("GET /products HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n");
    let post = |headers: &str, body: &[u8]| {
        let mut request = format!(
            "POST /carts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{headers}Connection: close\r\n\r\n"
        )
        .into_bytes();
        request.extend_from_slice(body);
        request
    };
    let many_headers: String = (0..500).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    // Each case: what it is, the bytes, and the statuses docs/api.md (or HTTP) allows.
    let cases: Vec<(&str, Vec<u8>, Allowed)> = vec![
        (
            "a 1 MiB chunked body (no length to refuse up front)",
            post("Transfer-Encoding: chunked\r\n", &chunked(1 << 20)),
            &[Some(413)],
        ),
        ("a declared 1 TiB body", post("Content-Length: 1099511627776\r\n", b"{}"), &[Some(413)]),
        ("a negative length", post("Content-Length: -1\r\n", b"{}"), &[Some(400), None]),
        ("two different lengths", post("Content-Length: 2\r\nContent-Length: 3\r\n", b"{}x"), &[Some(400), None]),
        (
            "length and chunked at once (request smuggling)",
            post("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n"),
            &[Some(400), None],
        ),
        ("a 200 KiB header", head(&format!("X-Big: {}\r\n", "a".repeat(200 * 1024))).into_bytes(), &[Some(431)]),
        (
            "a 30 KiB URL",
            format!("GET /products?q={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(30 * 1024)).into_bytes(),
            &[Some(431), Some(414)],
        ),
        ("500 headers", head(&many_headers).into_bytes(), &[Some(431)]),
        (
            "an 8 KiB bearer token",
            head(&format!("Authorization: Bearer {}\r\n", "a".repeat(8192))).into_bytes(),
            &[Some(401)],
        ),
        (
            "a header value that is not UTF-8",
            b"GET /products HTTP/1.1\r\nHost: x\r\nX-Bin: \xff\xfe\r\nConnection: close\r\n\r\n".to_vec(),
            &[Some(200), Some(400)],
        ),
        (
            "a path that is not UTF-8",
            b"GET /products/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            &[Some(400), Some(404)],
        ),
        (
            "a query that is not UTF-8",
            b"GET /products?q=%ff%fe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            &[Some(400)],
        ),
        ("a request line that is not HTTP", b"HELLO THERE\r\n\r\n".to_vec(), &[Some(400), None]),
        ("binary noise", (0..=255u8).cycle().take(4096).collect(), &[Some(400), None]),
        (
            "HTTP/2 preface on a plain HTTP/1 port",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
            &[Some(400), Some(505), None],
        ),
        (
            "a body that stops short of its length",
            post("Content-Length: 100\r\n", b"{\"currency\":"),
            &[Some(400), None],
        ),
    ];
    let mut wrong = Vec::new();
    for (name, request, allowed) in &cases {
        // Where silence is allowed (a request the server is still waiting on), do not wait long.
        let first_byte = if allowed.contains(&None) { Duration::from_secs(2) } else { Duration::from_secs(15) };
        let (status, answer) = server.exchange_waiting(request, first_byte);
        if !allowed.contains(&status) {
            wrong.push(format!(
                "{name}: answered {status:?}, allowed {allowed:?}\n{}",
                answer.lines().next().unwrap_or("")
            ));
        }
        if status.is_some_and(|s| s >= 500) {
            wrong.push(format!("{name}: a server error\n{answer}"));
        }
        // A refusal from our code is problem+json; one from the HTTP layer may have no body.
        if status.is_some_and(|s| s == 413 || s == 401) && !answer.contains("application/problem+json") {
            wrong.push(format!("{name}: not problem+json\n{answer}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    let (status, _) = server.exchange(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, Some(200), "the server still answers after every case");

    // A client that starts a request and never finishes its headers (slowloris) is cut off once
    // the head read timeout passes, instead of holding the connection for ever.
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET /products HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
    let limit = nanoshop_api::serve::HEAD_READ_TIMEOUT + Duration::from_secs(5);
    slow.set_read_timeout(Some(limit)).unwrap();
    let mut answer = Vec::new();
    let closed = slow.read_to_end(&mut answer).is_ok();
    let answer = String::from_utf8_lossy(&answer);
    assert!(closed, "a half-sent request head still holds its connection after {limit:?}");
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(server.child.try_wait().unwrap().is_none(), "the server is still running");
}
