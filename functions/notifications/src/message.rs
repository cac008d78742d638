//! What a shopper is told, and the e-mail that tells it: which order events send mail
//! ([`MailKind`]), who sends it ([`Sender`]), and the rendered message ([`Mail`]).

use nanoshop_domain::order::OrderEventType;
use nanoshop_domain::settings::StoreSettings;
use serde::{Deserialize, Serialize};

/// The order e-mails. All are transactional: a customer who opted out of marketing still gets
/// them, and so does a guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// The confirmation: lines, totals, tax, shipping, and the link to the order.
    Placed,
    /// A payment attempt was refused; the order can still be paid.
    PaymentFailed,
    /// Shipped: carrier, tracking number and link.
    Fulfilled,
    /// Money given back: how much.
    Refunded,
    Cancelled,
    Expired,
}

/// The `detail-type`s of the order events that send mail: what the function's EventBridge rule
/// subscribes to (`infra/template.yaml`, checked by `tests/e2e/infra/triggers.rs`).
pub const EVENT_TYPES: &[&str] =
    &["order.placed", "order.payment_failed", "order.fulfilled", "order.refunded", "order.cancelled", "order.expired"];

impl MailKind {
    pub const ALL: [MailKind; 6] = [
        MailKind::Placed,
        MailKind::PaymentFailed,
        MailKind::Fulfilled,
        MailKind::Refunded,
        MailKind::Cancelled,
        MailKind::Expired,
    ];

    /// The mail an event sends, if any. `order.paid` sends none: the shopper has the
    /// confirmation, and the next news is the shipment.
    pub fn of(event: OrderEventType) -> Option<MailKind> {
        match event {
            OrderEventType::Placed => Some(MailKind::Placed),
            OrderEventType::PaymentFailed => Some(MailKind::PaymentFailed),
            OrderEventType::Fulfilled => Some(MailKind::Fulfilled),
            OrderEventType::Refunded => Some(MailKind::Refunded),
            OrderEventType::Cancelled => Some(MailKind::Cancelled),
            OrderEventType::Expired => Some(MailKind::Expired),
            OrderEventType::Paid => None,
        }
    }

    /// The stem of the kind's templates: `<stem>.subject.txt`, `<stem>.txt`, `<stem>.html`.
    pub fn template(self) -> &'static str {
        match self {
            MailKind::Placed => "order_placed",
            MailKind::PaymentFailed => "order_payment_failed",
            MailKind::Fulfilled => "order_fulfilled",
            MailKind::Refunded => "order_refunded",
            MailKind::Cancelled => "order_cancelled",
            MailKind::Expired => "order_expired",
        }
    }
}

/// Who the store's mail comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sender {
    /// The store's name, shown as the sender and in every message.
    pub name: String,
    /// The postal address in the footer, one line each (consumer law asks for it in many places).
    pub address: Vec<String>,
    /// The address mail is sent from (an SES-verified identity when deployed).
    pub from: String,
    /// Where a shopper's reply goes, when not to `from`.
    pub reply_to: Option<String>,
}

impl Sender {
    /// The sender as the store's settings (`PUT /settings`) describe it: the name, address and
    /// reply-to set there win over the function's `STORE_NAME`, `STORE_ADDRESS` and
    /// `MAIL_REPLY_TO`, which stay as the fallback for what a store has not set. `from` is never
    /// taken from settings: it must be an identity the mail service has verified, a deployment's
    /// business, not an admin's.
    pub fn with_settings(&self, settings: &StoreSettings) -> Sender {
        let address = settings.store_address_lines();
        Sender {
            name: settings.store_name.clone().unwrap_or_else(|| self.name.clone()),
            address: if address.is_empty() { self.address.clone() } else { address },
            from: self.from.clone(),
            reply_to: settings.reply_to.as_ref().map(ToString::to_string).or_else(|| self.reply_to.clone()),
        }
    }
}

/// One rendered e-mail, ready for a [`crate::deliver::Mailer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The order event it answers: the message's identity for exactly-once delivery.
    pub event_id: String,
    pub kind: MailKind,
    pub to: String,
    pub from_name: String,
    pub from: String,
    pub reply_to: Option<String>,
    /// One line: whatever the templates or the data held, line breaks are folded to spaces.
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables() -> Sender {
        Sender {
            name: "From Variables".into(),
            address: vec!["Variable Street 1".into()],
            from: "shop@example.com".into(),
            reply_to: Some("variables@example.com".into()),
        }
    }

    #[test]
    fn what_the_settings_set_wins_over_the_variables_field_by_field() {
        let settings = StoreSettings {
            store_name: Some("Kaffeehaus".into()),
            store_address: Some("Hauptstraße 1\n10115 Berlin".into()),
            reply_to: Some("hilfe@kaffeehaus.example".parse().expect("email")),
            ..StoreSettings::default()
        };
        let sender = variables().with_settings(&settings);
        assert_eq!(
            sender,
            Sender {
                name: "Kaffeehaus".into(),
                address: vec!["Hauptstraße 1".into(), "10115 Berlin".into()],
                from: "shop@example.com".into(),
                reply_to: Some("hilfe@kaffeehaus.example".into()),
            }
        );
        let only_name = StoreSettings { store_name: Some("Kaffeehaus".into()), ..StoreSettings::default() };
        let sender = variables().with_settings(&only_name);
        assert_eq!(sender.name, "Kaffeehaus");
        assert_eq!(sender.address, ["Variable Street 1"]);
        assert_eq!(sender.reply_to.as_deref(), Some("variables@example.com"));
        assert_eq!(variables().with_settings(&StoreSettings::default()), variables());
    }

    #[test]
    fn the_subscribed_event_types_are_exactly_those_that_send_mail() {
        let all = [
            OrderEventType::Placed,
            OrderEventType::Paid,
            OrderEventType::PaymentFailed,
            OrderEventType::Fulfilled,
            OrderEventType::Cancelled,
            OrderEventType::Refunded,
            OrderEventType::Expired,
        ];
        let mailing: Vec<&str> = all.iter().filter(|t| MailKind::of(**t).is_some()).map(|t| t.as_str()).collect();
        let mut subscribed = EVENT_TYPES.to_vec();
        let mut mailing = mailing;
        subscribed.sort_unstable();
        mailing.sort_unstable();
        assert_eq!(subscribed, mailing);
    }
}
