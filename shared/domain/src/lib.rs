//! nanoshop's domain: the types and rules every function shares, with no I/O at all.
//!
//! - [`money`]: currencies with Stripe's exponents and checked integer money.
//! - [`ids`]: prefixed, time-sortable ids, one type per kind.
//! - [`catalog`]: products, variants, options, categories and stock levels, valid by construction.
//! - [`settings`]: currencies, tax rates and shipping zones of a store.
//! - [`validation`]: field errors collected so a client sees every problem at once.
//!
//! This crate must not depend on anything that does I/O (no AWS SDK, no axum, no tokio);
//! `ARCHITECTURE.md` names the check that enforces it.

pub mod catalog;
pub mod ids;
pub mod money;
pub mod settings;
pub mod validation;

pub use money::{Currency, Money, MoneyError};
pub use validation::{FieldError, ValidationErrors};
