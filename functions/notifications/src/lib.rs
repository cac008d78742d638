//! The notifications function: the e-mails a shopper gets about their order, sent from the order
//! events the orders relay publishes (`docs/events.md`), each exactly once.
//!
//! It is built the way an integrator's own function would be (`docs/extending.md`):
//!
//! - [`message`]: which events send mail ([`MailKind`]) and the rendered [`Mail`].
//! - [`render`]: the templates (minijinja, HTML auto-escaped), compiled in and overridable from
//!   a folder, and the context an order gives them ([`render::Templates`]).

pub mod deliver;
pub mod delivery;
pub mod message;
pub mod render;
pub mod ses;
pub mod smtp;

pub use deliver::{FileMailer, Mailer, SendError};
pub use delivery::{Instance, Notifier, NotifyError, OrderLinks, Outcome};
pub use message::{Mail, MailKind, Sender};
pub use ses::SesMailer;
pub use smtp::SmtpMailer;

pub const FUNCTION: &str = "notifications";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
