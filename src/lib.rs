//! `nanoshop`: every function in one local process, and the CLI around it.
//!
//! - [`local`]: the data dir and its secrets, and [`local::app`], the router that mounts every
//!   function on one store with the local-only routes (`/dev/token` and the simulator's
//!   `/dev/payments/…/confirm` unless `--public`, uploads)
//!   and the storefront; and what `serve` refuses (a non-loopback address without `--public`,
//!   live Stripe keys).
//! - [`events`]: order events relayed locally, to `events.jsonl` and memory.
//! - [`local_images`]: presigned-style image uploads into the data dir.
//! - [`payments`]: the payment simulator's routes and the delivery of its signed events.
//! - [`seed`]: the demo catalog, written through the public API.
//! - [`transfer`]: catalog import and export (CSV, JSON) through the API, local or deployed.
//! - [`openapi`]: the OpenAPI document, generated from the functions' route tables.
//! - [`docs`]: `/docs`, that document rendered by Redoc (vendored, compiled in).
//!
//! `main.rs` is the CLI: `serve`, `seed`, `import`, `export`, `token`, `openapi`.

pub mod docs;
pub mod events;
pub mod local;
pub mod local_images;
pub mod openapi;
pub mod payments;
pub mod seed;
pub mod transfer;
