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

/// The value of `name` parsed, or `default` when it is unset or blank.
///
/// # Errors
/// `"{name}: {why}"` when it is set but does not parse, so a typo stops start-up rather than
/// quietly meaning the default.
pub fn parsed_or<T>(name: &str, default: T) -> anyhow::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match optional(name) {
        None => Ok(default),
        Some(value) => value.parse().map_err(|e| anyhow::anyhow!("{name}: {e}")),
    }
}
