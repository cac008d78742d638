//! The notifications function: the e-mails a shopper gets about their order, sent from the order
//! events the orders relay publishes (`docs/events.md`), each exactly once.
//!
//! It is built the way an integrator's own function would be (`docs/extending.md`):
//!
//! - [`message`]: which events send mail ([`MailKind`]) and the rendered [`Mail`].
//! - [`render`]: the templates (minijinja, HTML auto-escaped), compiled in and overridable from
//!   a folder, and the context an order gives them ([`render::Templates`]).
//! - [`overrides`]: template overrides from an S3 prefix, read and bounded at start-up.
//! - [`format`]: money and dates as the store's locale writes them, for the templates' filters.

pub mod config;
pub mod deliver;
pub mod delivery;
pub mod format;
pub mod message;
pub mod overrides;
pub mod render;
pub mod ses;
pub mod smtp;

pub use deliver::{FileMailer, Mailer, SendError};
pub use delivery::{Instance, Notifier, NotifyError, OrderLinks, Outcome};
pub use message::{EVENT_TYPES, Mail, MailKind, Sender};
pub use ses::SesMailer;
pub use smtp::SmtpMailer;

pub const FUNCTION: &str = "notifications";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

use nanoshop_store::port::{Action, Table, TableAccess};

/// Every table the function touches and how: the order (read; written only to flag a refused
/// address), the store settings (read), and the mail claims. The warm-up describes the catalog
/// table.
pub const ACCESS: &[TableAccess] = &[
    TableAccess { table: Table::Orders, actions: &[Action::GetItem, Action::PutItem], index: false },
    TableAccess { table: Table::Catalog, actions: &[Action::GetItem, Action::DescribeTable], index: false },
    TableAccess {
        table: Table::Idempotency,
        actions: &[Action::GetItem, Action::PutItem, Action::UpdateItem, Action::DeleteItem],
        index: false,
    },
];
