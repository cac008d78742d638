//! nanoshop's domain: the types and rules every function shares, with no I/O at all.
//!
//! - [`address`]: postal addresses.
//! - [`email`]: e-mail addresses, checked once and stored lower-case.
//! - [`money`]: currencies with Stripe's exponents and checked integer money.
//! - [`ids`]: prefixed, time-sortable ids, one type per kind.
//! - [`catalog`]: products, variants, options, categories and stock levels, valid by construction.
//! - [`order`]: orders and how payment events and time move them, stock movements included.
//! - [`quote`]: a cart priced against a catalog snapshot, shared by cart and checkout.
//! - [`settings`]: currencies, tax rates and shipping zones of a store, and what its mails say.
//! - [`locale`]: the closed list of locales a store writes to shoppers in.
//! - [`cart`]: cart lines and their limits, and how a guest cart merges into a customer's.
//! - [`discount`]: discount codes, their validation, and why a code is refused for a cart.
//! - [`pricing`]: the one function that prices a cart: discount, shipping, tax and total.
//! - [`validation`]: field errors collected so a client sees every problem at once.
//!
//! This crate must not depend on anything that does I/O (no AWS SDK, no axum, no tokio);
//! `ARCHITECTURE.md` names the check that enforces it.

pub mod address;
pub mod cart;
pub mod catalog;
pub mod customer;
pub mod discount;
pub mod email;
pub mod ids;
pub mod locale;
pub mod money;
pub mod order;
pub mod pricing;
pub mod quote;
pub mod settings;
pub mod validation;

mod newtype;

pub use money::{Currency, Money, MoneyError};
pub use validation::{FieldError, ValidationErrors};
