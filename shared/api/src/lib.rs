//! nanoshop's HTTP kit: everything a function needs between API Gateway (or a plain socket) and
//! its handlers, so every function answers the REST contract in `docs/api.md` the same way.
//!
//! - [`error`]: [`ApiError`], the one error type handlers return; it renders RFC 9457
//!   `application/problem+json` and logs opaque 500s once, with their cause and the request id.
//! - [`extract`]: extractors whose rejections are problem+json too: [`Json`], [`Query`],
//!   [`IfMatch`], [`Pagination`]; plus [`etag`] and the [`Page`] list envelope.
//! - [`bodies`]: bodies several functions read or write (addresses, money).
//! - [`capability`]: order tokens, HMACs of the order id, for guests to read their orders.
//! - [`config`]: required and optional environment variables, read one way everywhere.
//! - [`cursor`]: [`CursorCodec`], signed opaque list cursors bound to the listing they came from.
//! - [`auth`]: bearer JWT verification ([`Verifier`]) and the [`Caller`] / [`Admin`] extractors.
//! - [`secrets`]: [`Secret`], a secret from a variable or read from AWS Secrets Manager at run
//!   time (cached, re-read when it stops working, at most once a minute); [`when_configured`].
//! - [`http`]: [`with_common_layers`] (request id, tracing span, panic catching, body limit,
//!   problem+json 404/405) and [`health_router`].
//! - [`idempotency`]: `Idempotency-Key` records with leases, replays and takeovers.
//! - [`metrics`]: business counts ([`Metric`]) as CloudWatch embedded-metric lines in Lambda.
//! - [`run`](mod@run): [`run()`] serves a router on Lambda or on a TCP port; [`init_tracing`].
//! - [`startup`]: [`startup::Clients`], the AWS clients every function's `main` builds and warms.
//! - `testing` (feature `testing`): what each function crate's own router tests share.
//!
//! The modules depend one way, from the bottom up: [`request_id()`] (the task-local id) ←
//! [`error`] ← [`extract`] ← [`http`] ← the rest; `tests/e2e/layering.rs` keeps it so.
//!
//! A request flows: request-id middleware (sets [`request_id()`] for the rest of the request) →
//! span → panic catcher → body limit → router → extractors → handler → `ApiError` or a response.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod auth;
pub mod bodies;
pub mod capability;
pub mod config;
pub mod cursor;
pub mod error;
pub mod extract;
pub mod http;
mod https_client;
pub mod idempotency;
pub mod metrics;
mod request_id;
pub mod run;
pub mod sdk_http;
pub mod secrets;
pub mod serve;
pub mod startup;
#[cfg(feature = "testing")]
pub mod testing;

pub use auth::{Admin, AuthConfig, AuthError, Caller, Verifier};
pub use cursor::CursorCodec;
pub use error::{ApiError, Problem, Result};
pub use extract::MAX_BODY_BYTES;
pub use extract::{IfMatch, Json, Page, Pagination, PaginationQuery, Query, etag};
pub use http::{
    Access, Credential, Header, Route, SchemaFn, health_router, one_of, schema, with_common_layers,
    with_common_layers_and_fallback,
};
pub use https_client::https_client;
pub use metrics::Metric;
pub use request_id::request_id;
pub use run::{init_tracing, run, shutdown_signal};
pub use secrets::KeyRing;
pub use secrets::{Secret, SecretSource, Secrets, when_configured};
pub use serve::serve;
