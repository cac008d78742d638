//! Serving a router: on AWS Lambda behind API Gateway, or on a TCP port everywhere else. The same
//! `main.rs` works in both, so a function is tested locally exactly as it is deployed.

use std::io::IsTerminal as _;
use std::net::SocketAddr;

use anyhow::Context as _;
use axum::Router;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Set by the Lambda runtime in every function's environment; its presence is how we know.
pub(crate) const LAMBDA_RUNTIME_API: &str = "AWS_LAMBDA_RUNTIME_API";

fn in_lambda() -> bool {
    std::env::var_os(LAMBDA_RUNTIME_API).is_some()
}

/// Serves `router` until the process is told to stop.
///
/// - In Lambda (`AWS_LAMBDA_RUNTIME_API` set): API Gateway HTTP API events, via `lambda_http`.
/// - Elsewhere: HTTP/1 on `BIND_ADDR` (default `0.0.0.0:$PORT`, `PORT` default 8080), with the
///   limits of [`crate::serve()`]; on SIGTERM or Ctrl-C it stops accepting and lets in-flight
///   requests finish.
///
/// # Errors
/// If the address is invalid or cannot be bound, or the Lambda runtime fails.
pub async fn run(router: Router) -> anyhow::Result<()> {
    if in_lambda() {
        return lambda_http::run(router).await.map_err(|e| anyhow::anyhow!(e).context("the Lambda runtime failed"));
    }
    let addr = bind_addr(std::env::var("BIND_ADDR").ok(), std::env::var("PORT").ok())?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(%addr, "listening");
    crate::serve(listener, router, shutdown_signal()).await;
    Ok(())
}

fn bind_addr(bind: Option<String>, port: Option<String>) -> anyhow::Result<SocketAddr> {
    let addr = match (bind, port) {
        (Some(bind), _) => bind,
        (None, port) => format!("0.0.0.0:{}", port.as_deref().unwrap_or("8080")),
    };
    addr.parse().with_context(|| format!("`{addr}` is not a socket address (check BIND_ADDR and PORT)"))
}

/// Completes on SIGTERM (how containers are stopped) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down; finishing in-flight requests");
}

/// Installs the process' tracing subscriber: JSON lines in Lambda (CloudWatch stamps each line,
/// so no timestamp of our own), human-readable elsewhere. `RUST_LOG` filters, default `info`
/// (see [`log_filter`] for what it accepts).
///
/// Does nothing if a subscriber is already installed, so tests and a local server that hosts
/// several functions can call it freely.
pub fn init_tracing() {
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let registry = tracing_subscriber::registry().with(filter);
    // Already installed is fine (see above); there is nothing else `try_init` can fail on.
    let _already_installed = if in_lambda() {
        let lines = tracing_subscriber::fmt::layer().json().with_current_span(true).with_span_list(false);
        registry.with(lines.without_time().with_ansi(false)).try_init()
    } else {
        // Colour only for a person at a terminal: not in pipes, files or container logs, and not
        // when NO_COLOR is set to anything but the empty string (no-color.org).
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        registry.with(tracing_subscriber::fmt::layer().with_ansi(colour)).try_init()
    };
}

/// async-stripe-webhook logs an ERROR for every event it cannot read into its own generated types,
/// which is every event rendered for another Stripe API version (and every localstripe event). Our
/// own parser reads those (`nanoshop_payments::webhook`), so that ERROR is noise that would train
/// an operator to ignore errors. Kept off unless `RUST_LOG` names the crate.
const QUIET_BY_DEFAULT: (&str, LevelFilter) = ("stripe_webhook::webhook", LevelFilter::OFF);

/// `RUST_LOG` (default `info`), with [`QUIET_BY_DEFAULT`] unless it names that crate itself.
///
/// `RUST_LOG` is a comma-separated list of `target=level` directives and at most one bare `level`
/// (the default for every other target), as env_logger and tracing's `EnvFilter` read them: the
/// longest matching target prefix decides. Empty directives are skipped; a list that does not parse
/// (or is blank) falls back to `info`. Filters on spans or field values (`target[span]=level`)
/// are not supported: `tracing_subscriber::filter::Targets` reads these directives without a regex
/// engine, which `EnvFilter` would add to every function's package (issue 19).
fn log_filter(rust_log: Option<&str>) -> Targets {
    let directives =
        rust_log.map(|d| d.split(',').map(str::trim).filter(|d| !d.is_empty()).collect::<Vec<_>>().join(","));
    let filter = directives
        .as_deref()
        .filter(|d| !d.is_empty())
        .and_then(|d| d.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    if rust_log.is_some_and(|d| d.contains("stripe_webhook")) {
        filter
    } else {
        filter.with_target(QUIET_BY_DEFAULT.0, QUIET_BY_DEFAULT.1)
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    /// Whether `RUST_LOG=rust_log` lets an event of `level` from `target` through.
    fn shows(rust_log: Option<&str>, target: &str, level: Level) -> bool {
        log_filter(rust_log).would_enable(target, &level)
    }

    #[test]
    fn the_stripe_librarys_parse_errors_are_quiet_unless_asked_for() {
        for rust_log in [None, Some("info"), Some("debug,aws_smithy_runtime=warn"), Some("not a filter ===")] {
            assert!(!shows(rust_log, "stripe_webhook::webhook", Level::ERROR), "{rust_log:?}");
            assert!(shows(rust_log, "nanoshop_api", Level::INFO), "{rust_log:?}");
        }
        assert!(shows(Some("info,stripe_webhook=debug"), "stripe_webhook::webhook", Level::DEBUG));
        assert!(shows(Some("stripe_webhook::webhook=error"), "stripe_webhook::webhook", Level::ERROR));
    }

    #[test]
    fn rust_log_sets_a_default_level_and_levels_per_target_prefix() {
        // Unset, blank or unreadable: `info`.
        for rust_log in [None, Some(""), Some(" , "), Some("not a filter ==="), Some("nanoshop=loud")] {
            assert!(shows(rust_log, "nanoshop_checkout", Level::INFO), "{rust_log:?}");
            assert!(!shows(rust_log, "nanoshop_checkout", Level::DEBUG), "{rust_log:?}");
        }
        // What the bench and the e2e tests set: the longest matching prefix decides.
        let serving = Some("warn,nanoshop::serving=info");
        assert!(shows(serving, "nanoshop::serving", Level::INFO));
        assert!(!shows(serving, "nanoshop::import", Level::INFO));
        assert!(shows(serving, "nanoshop::import", Level::WARN));
        let quiet_sdk = Some("debug,aws_smithy_runtime=warn");
        assert!(shows(quiet_sdk, "nanoshop_store::dynamo", Level::DEBUG));
        assert!(!shows(quiet_sdk, "aws_smithy_runtime::client::orchestrator", Level::INFO));
        // Levels in any case, `off`, and an empty directive skipped rather than read as "trace
        // for every target" (what `Targets` alone would make of a trailing comma).
        assert!(!shows(Some("WARN"), "nanoshop_api", Level::INFO));
        assert!(!shows(Some("off"), "nanoshop_api", Level::ERROR));
        assert!(!shows(Some("info,"), "nanoshop_api", Level::TRACE));
        assert!(!shows(Some(",info"), "nanoshop_api", Level::DEBUG));
    }

    /// What `lambda_http` (patched, vendor/lambda_http/README.md) makes of a router's answer for
    /// API Gateway: UTF-8 text stays text, character for character; a body in another charset, or
    /// one that is not the UTF-8 it claims, is sent as its exact bytes (base64), never re-encoded
    /// or repaired.
    #[tokio::test]
    async fn lambda_answers_are_text_in_utf8_and_exact_bytes_otherwise() {
        use lambda_http::{Body, IntoResponse as _};
        async fn answered(content_type: &str, body: &[u8]) -> Body {
            let response = http::Response::builder()
                .header(http::header::CONTENT_TYPE, content_type)
                .body(axum::body::Body::from(body.to_vec()))
                .unwrap();
            response.into_response().await.into_body()
        }
        let json = "{\"title\":\"Café — 10 €\"}";
        for content_type in ["application/json", "application/problem+json", "text/plain; charset=UTF-8"] {
            assert_eq!(answered(content_type, json.as_bytes()).await, Body::Text(json.into()), "{content_type}");
        }
        let latin1 = b"caf\xe9";
        assert_eq!(answered("text/plain; charset=iso-8859-1", latin1).await, Body::Binary(latin1.to_vec()));
        let not_utf8 = b"{\"title\":\"caf\xe9\"}";
        assert_eq!(answered("application/json", not_utf8).await, Body::Binary(not_utf8.to_vec()));
    }

    #[test]
    fn the_bind_address_comes_from_bind_addr_then_port_then_8080() {
        let addr = |bind: Option<&str>, port: Option<&str>| {
            bind_addr(bind.map(Into::into), port.map(Into::into)).map(|a| a.to_string())
        };
        assert_eq!(addr(None, None).unwrap(), "0.0.0.0:8080");
        assert_eq!(addr(None, Some("3000")).unwrap(), "0.0.0.0:3000");
        assert_eq!(addr(Some("127.0.0.1:9000"), Some("3000")).unwrap(), "127.0.0.1:9000");
        assert!(addr(None, Some("http")).is_err());
        assert!(addr(Some("localhost"), None).is_err());
    }
}
