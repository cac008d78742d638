//! The id of the request being served, readable anywhere below the middleware that sets it.
//!
//! The bottom of the kit: [`error`](crate::error) reads it to put the id in every problem body and
//! log line, and [`http`](crate::http)'s request-id middleware sets it. It depends on nothing else
//! in the crate, so neither of those has to depend on the other for it.

use std::sync::Arc;

tokio::task_local! {
    /// The id of the request the current task is serving; set by
    /// [`with_common_layers`](crate::with_common_layers).
    pub(crate) static REQUEST_ID: Arc<str>;
}

/// The id of the request being served, or `"unknown"` outside one.
///
/// It is a task-local: a task spawned from a handler (`tokio::spawn`) does not inherit it, so
/// pass the id along explicitly if such a task reports errors.
pub fn request_id() -> String {
    REQUEST_ID.try_with(|id| id.to_string()).unwrap_or_else(|_| "unknown".to_owned())
}
