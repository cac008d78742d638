//! nanoshop's storage: one narrow port shaped after the DynamoDB operations the functions use,
//! and the adapters that implement it.
//!
//! - [`port`]: the [`Store`] trait, items, conditions, updates, transactions, queries.
//! - [`embedded`]: an in-process adapter, in memory or persisted to a file (redb), for
//!   `nanoshop serve` and tests.
//! - [`dynamo`]: the DynamoDB adapter, and the table definitions `nanoshop` creates locally.
//! - [`counting`]: a decorator that counts round trips, for tests and benchmarks.
//! - [`faults`]: a decorator that fails, times out or throttles scripted calls, for fault tests.
//! - [`conformance`]: the cases every adapter must pass; an adapter that passes them is correct by
//!   definition, and a behaviour they do not pin is a gap in the suite.

pub mod conformance;
pub mod counting;
pub mod dynamo;
pub mod embedded;
pub mod faults;
pub mod port;

pub use port::{
    CancelReason, Condition, Index, Item, Key, PageKey, Query, QueryPage, Store, StoreError, StoreResult, Table,
    Update, Value, Write,
};
