//! Reading configuration from the environment, the same way in every function: a variable that is
//! unset or blank is missing, and a missing required one stops start-up with its name.

use anyhow::Context;

/// The value of `name`.
///
/// # Errors
/// `"{name} is not set"` when it is unset or blank.
pub fn required(name: &str) -> anyhow::Result<String> {
    optional(name).with_context(|| format!("{name} is not set"))
}

/// The value of `name`, if it is set and not blank.
pub fn optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
