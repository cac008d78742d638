//! Orders and the rules that move them: created `pending_payment` with their stock reserved,
//! then paid, expired or cancelled as payment events and time decide.
//!
//! Every transition is a function that returns the order's next state and the stock movement it
//! implies, or says why not. One file a concern:
//!
//! - `model.rs`: the [`Order`] as stored and served, and its parts.
//! - `payment.rs`: how payment events and time move it ([`Order::on_payment`], [`Order::expire`]).
//! - `actions.rs`: what the order API does to it: cancel, fulfil, refund ([`TransitionError`]).
//! - `events.rs`: the [`OrderEvent`]s a change produces ([`events`]).

mod actions;
mod events;
#[cfg(test)]
mod fixtures;
mod model;
mod payment;

pub use actions::{Action, CancelEffect, TransitionError};
pub use events::{OrderEvent, OrderEventType, events};
pub use model::{
    ChosenShipping, Fulfillment, FulfillmentStatus, Order, OrderFlag, OrderLine, OrderStatus, OrderTotals, Payment,
    PaymentStatus, RefundRecord, RefundState, StockState,
};
pub use payment::{DEFAULT_PAYMENT_WINDOW, PaymentEvent, PaymentOutcome, StockMove};
