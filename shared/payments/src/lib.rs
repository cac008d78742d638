//! Payments: the port the checkout, webhook and orders functions charge, cancel and refund
//! through, its adapters, and the verification of Stripe's signed webhook events.
//!
//! - [`port`]: [`PaymentGateway`] and its types; amounts are [`nanoshop_domain::Money`], exactly
//!   what is charged.
//! - [`webhook`]: `Stripe-Signature` verification and the few event shapes nanoshop acts on.
//! - [`simulator`]: the local payment processor of `nanoshop serve`, which signs its events
//!   exactly as Stripe does.
//! - [`stripe`]: the Stripe adapter (async-stripe). Its feature `testing` adds
//!   `StripeGateway::confirm_with_test_card`, for tests against localstripe or Stripe's test mode.

pub mod port;
pub mod simulator;
pub mod stripe;
pub mod webhook;

pub use port::{CreateIntent, Intent, IntentStatus, NotConfigured, PaymentError, PaymentGateway, Refund};
pub use simulator::Simulator;
// `self::`: the module `stripe` shares its name with async-stripe's crate.
pub use self::stripe::StripeGateway;
