//! End-to-end tests of the whole backend: every function mounted as `nanoshop serve` mounts them,
//! called through HTTP requests, on the embedded store and on DynamoDB Local; image uploads
//! against the local signer and against SeaweedFS's real SigV4 checks.
//!
//! One test binary with modules (not a file per test), so the workspace links it once.
#![allow(clippy::unwrap_used)]

mod access;
mod bad_input;
mod cart;
mod catalog;
mod checkout;
mod customers;
mod deployed;
mod docs;
mod dynamodb;
mod faults;
mod hostile;
mod images;
mod infra;
mod lambda;
mod layering;
mod limits;
mod load;
mod localstripe;
mod log_filter;
mod metrics;
mod notifications;
mod oidc;
mod orders;
mod scale;
mod secrets;
mod serve;
mod support;
mod transfer;
mod wire;
