//! The templates and what they are given.
//!
//! Every template is compiled into the binary ([`BUILTIN`]), so a deployment needs no files; a
//! merchant overrides any of them by name without rebuilding ([`Templates::with_overrides`]: a
//! folder, or sources read from anywhere, such as an S3 prefix). Overrides are compiled at start-up
//! so a broken one stops the function there, not in the middle of an order.
//!
//! `.html` templates are auto-escaped: a product title or a customer's name is shown as text and
//! can never become markup. `.txt` templates (the plain-text part and the subject) are not, since
//! nothing interprets them.
//!
//! Amounts reach a template as money (`{amount, currency}` in minor units) and times as RFC 3339
//! strings; the filters `money`, `date` and `datetime` write them for the store's `locale`
//! ([`crate::format`]: `{{ order.total | money }}` is `1.234,50 €` for a German store,
//! `{{ order.placed_on | date }}` `7. Dezember 2026`), so an override can never get a separator
//! wrong, and no template does arithmetic on amounts.

use std::path::Path;

use chrono::{DateTime, Utc};
use minijinja::{Environment, ErrorKind, State, Value};
use nanoshop_domain::address::Address;
use nanoshop_domain::locale::Locale;
use nanoshop_domain::money::Money;
use nanoshop_domain::order::{Order, PaymentStatus, RefundState};
use serde::Serialize;

use crate::message::{Mail, MailKind, Sender};

/// The compiled-in templates, by the name a template includes or extends them with.
pub const BUILTIN: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("base.txt", include_str!("../templates/base.txt")),
    ("lines.html", include_str!("../templates/lines.html")),
    ("lines.txt", include_str!("../templates/lines.txt")),
    ("order_placed.subject.txt", include_str!("../templates/order_placed.subject.txt")),
    ("order_placed.txt", include_str!("../templates/order_placed.txt")),
    ("order_placed.html", include_str!("../templates/order_placed.html")),
    ("order_payment_failed.subject.txt", include_str!("../templates/order_payment_failed.subject.txt")),
    ("order_payment_failed.txt", include_str!("../templates/order_payment_failed.txt")),
    ("order_payment_failed.html", include_str!("../templates/order_payment_failed.html")),
    ("order_fulfilled.subject.txt", include_str!("../templates/order_fulfilled.subject.txt")),
    ("order_fulfilled.txt", include_str!("../templates/order_fulfilled.txt")),
    ("order_fulfilled.html", include_str!("../templates/order_fulfilled.html")),
    ("order_refunded.subject.txt", include_str!("../templates/order_refunded.subject.txt")),
    ("order_refunded.txt", include_str!("../templates/order_refunded.txt")),
    ("order_refunded.html", include_str!("../templates/order_refunded.html")),
    ("order_cancelled.subject.txt", include_str!("../templates/order_cancelled.subject.txt")),
    ("order_cancelled.txt", include_str!("../templates/order_cancelled.txt")),
    ("order_cancelled.html", include_str!("../templates/order_cancelled.html")),
    ("order_expired.subject.txt", include_str!("../templates/order_expired.subject.txt")),
    ("order_expired.txt", include_str!("../templates/order_expired.txt")),
    ("order_expired.html", include_str!("../templates/order_expired.html")),
];

/// A template could not be read, compiled or rendered.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template override {name}: {source}")]
    Read {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("template {name}: {source}")]
    Compile {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("rendering {name}: {source}")]
    Render {
        name: String,
        #[source]
        source: minijinja::Error,
    },
}

/// The store's templates, compiled once.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Only the compiled-in templates.
    pub fn builtin() -> Self {
        Self::with_sources(std::iter::empty()).unwrap_or_else(|e| unreachable!("the built-in templates compile: {e}"))
    }

    /// The built-in templates, each replaced by the file of the same name in `dir` where there is
    /// one (names not in [`BUILTIN`] are ignored: a stray file cannot add a template).
    ///
    /// # Errors
    /// An override that cannot be read or does not compile.
    pub fn with_overrides(dir: &Path) -> Result<Self, TemplateError> {
        let mut sources = Vec::new();
        for (name, _) in BUILTIN {
            match std::fs::read_to_string(dir.join(name)) {
                Ok(source) => sources.push(((*name).to_owned(), source)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(TemplateError::Read { name: (*name).to_owned(), source }),
            }
        }
        Self::with_sources(sources)
    }

    /// The built-in templates with `overrides` (name, source) in place of those they name.
    ///
    /// # Errors
    /// An override that does not compile.
    pub fn with_sources(overrides: impl IntoIterator<Item = (String, String)>) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_filter("money", money_filter);
        env.add_filter("date", |state: &State, at: &str| date_filter(state, at, crate::format::date));
        env.add_filter("datetime", |state: &State, at: &str| date_filter(state, at, crate::format::date_time));
        for (name, source) in BUILTIN {
            env.add_template(name, source).map_err(|source| TemplateError::Compile { name: (*name).into(), source })?;
        }
        for (name, source) in overrides {
            if BUILTIN.iter().any(|(n, _)| *n == name) {
                env.add_template_owned(name.clone(), source)
                    .map_err(|source| TemplateError::Compile { name, source })?;
            }
        }
        let templates = Self { env };
        // Render every kind once now, so an override that compiles but names a value that does not
        // exist fails at start-up rather than on a shopper's order.
        for kind in MailKind::ALL {
            templates.render_parts(kind, &MailContext::example())?;
        }
        Ok(templates)
    }

    /// The subject, plain text and HTML of `kind` for `context`.
    ///
    /// # Errors
    /// A template failed to render (a bug in an override that the start-up check missed).
    pub fn render_parts(
        &self,
        kind: MailKind,
        context: &MailContext,
    ) -> Result<(String, String, String), TemplateError> {
        let render = |suffix: &str| {
            let name = format!("{}{suffix}", kind.template());
            self.env
                .get_template(&name)
                .and_then(|t| t.render(minijinja::value::Serde(context)))
                .map_err(|source| TemplateError::Render { name, source })
        };
        let subject = one_line(&render(".subject.txt")?);
        Ok((subject, render(".txt")?, render(".html")?))
    }

    /// The e-mail `kind` about `order`, from `sender`, to the order's address.
    ///
    /// # Errors
    /// A template failed to render.
    pub fn compose(&self, event_id: &str, kind: MailKind, context: &MailContext) -> Result<Mail, TemplateError> {
        let (subject, text, html) = self.render_parts(kind, context)?;
        Ok(Mail {
            event_id: event_id.to_owned(),
            kind,
            to: context.to.clone(),
            from_name: context.store.name.clone(),
            from: context.store.from.clone(),
            reply_to: context.store.reply_to.clone(),
            subject,
            text,
            html,
        })
    }
}

/// The locale a template is rendered for: the context's `locale`, `en-US` if it has none.
fn locale_of(state: &State) -> Locale {
    state.lookup("locale").and_then(|l| l.as_str().and_then(|l| l.parse().ok())).unwrap_or_default()
}

/// `{{ m | money }}`: a `{amount, currency}` money value for the store's locale.
fn money_filter(state: &State, value: &Value) -> Result<String, minijinja::Error> {
    let invalid = || minijinja::Error::new(ErrorKind::InvalidOperation, "money expects {amount, currency}");
    let amount = value.get_attr("amount")?.as_i64().ok_or_else(invalid)?;
    let currency = value.get_attr("currency")?;
    let currency = currency.as_str().and_then(|c| c.parse().ok()).ok_or_else(invalid)?;
    Ok(crate::format::money(Money::new(amount, currency), locale_of(state)))
}

/// `{{ t | date }}` and `{{ t | datetime }}`: an RFC 3339 time for the store's locale, in UTC.
fn date_filter(
    state: &State,
    at: &str,
    write: fn(DateTime<Utc>, Locale) -> String,
) -> Result<String, minijinja::Error> {
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, format!("not an RFC 3339 time: {e}")))?;
    Ok(write(at.with_timezone(&Utc), locale_of(state)))
}

/// A subject is one header line: line breaks and runs of blanks become one space. No-break spaces
/// stay: they are what keeps `39,80 €` together.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() && c != '\u{a0}' && c != '\u{202f}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Everything a template is given. Every field is always there (empty when it does not apply), so
/// templates can test a value without guarding against its absence.
#[derive(Debug, Clone, Serialize)]
pub struct MailContext {
    /// The recipient (not shown by the built-in templates).
    #[serde(skip)]
    pub to: String,
    /// The store's locale (`de-DE`), which the `money`, `date` and `datetime` filters write for.
    pub locale: Locale,
    pub store: Sender,
    pub customer: CustomerView,
    pub order: OrderView,
    pub shipment: ShipmentView,
    pub refund: RefundView,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomerView {
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineView {
    pub sku: String,
    pub title: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub line_total: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub id: String,
    pub number: String,
    pub lines: Vec<LineView>,
    pub subtotal: Money,
    /// Zero (`discount.amount` false) when there was no discount.
    pub discount: Money,
    pub discount_code: String,
    pub shipping: Money,
    pub shipping_method: String,
    pub tax: Money,
    pub prices_include_tax: bool,
    pub total: Money,
    pub refunded: Money,
    pub shipping_address: Vec<String>,
    pub placed_on: DateTime<Utc>,
    /// When an unpaid order expires.
    pub pay_by: DateTime<Utc>,
    pub paid: bool,
    pub payment_error: String,
    /// The order's page for the shopper, with its order token; empty when no storefront is set.
    pub link: String,
}

/// The latest shipment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ShipmentView {
    pub carrier: String,
    pub tracking_number: String,
    /// Only an `http(s)` URL: anything else (`javascript:`) is dropped, escaping or not.
    pub tracking_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RefundView {
    /// The latest settled refund.
    pub amount: Money,
    /// Everything refunded for the order so far.
    pub total: Money,
}

/// A link a template may put in an `href`: only `http` and `https`.
fn web_link(url: &str) -> String {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") { url.trim().to_owned() } else { String::new() }
}

fn address_lines(a: &Address) -> Vec<String> {
    let mut lines = vec![a.name.clone(), a.line1.clone()];
    lines.extend(a.line2.clone());
    let region = a.region.as_deref().map(|r| format!(", {r}")).unwrap_or_default();
    lines.push(format!("{} {}{region}", a.postal_code, a.city));
    lines.push(a.country.to_string());
    lines
}

impl MailContext {
    /// The context of a mail about `order` as it is now, for a store writing in `locale`; `link` is
    /// the shopper's order page (with its token) or `None`.
    pub fn new(order: &Order, store: &Sender, locale: Locale, prices_include_tax: bool, link: Option<String>) -> Self {
        let totals = &order.totals;
        let shipment = order.fulfillments.last().map_or_else(ShipmentView::default, |f| ShipmentView {
            carrier: f.carrier.clone().unwrap_or_default(),
            tracking_number: f.tracking_number.clone().unwrap_or_default(),
            tracking_url: f.tracking_url.as_deref().map(web_link).unwrap_or_default(),
        });
        let latest_refund = order
            .refunds
            .iter()
            .filter(|r| r.state == RefundState::Succeeded)
            .max_by_key(|r| r.created_at)
            .map_or(totals.refunded, |r| r.amount);
        MailContext {
            to: order.email.clone(),
            locale,
            store: store.clone(),
            customer: CustomerView { name: order.shipping_address.name.clone() },
            order: OrderView {
                id: order.id.to_string(),
                number: order.number.clone(),
                lines: order
                    .lines
                    .iter()
                    .map(|l| LineView {
                        sku: l.sku.to_string(),
                        title: l.title.clone(),
                        quantity: l.quantity,
                        unit_price: l.unit_price,
                        line_total: l.line_total,
                    })
                    .collect(),
                subtotal: totals.subtotal,
                discount: totals.discount,
                discount_code: order.discount_code.clone().unwrap_or_default(),
                shipping: totals.shipping,
                shipping_method: order.shipping_method.name.clone(),
                tax: totals.tax,
                prices_include_tax,
                total: totals.total,
                refunded: totals.refunded,
                shipping_address: address_lines(&order.shipping_address),
                placed_on: order.created_at,
                pay_by: order.expires_at,
                paid: matches!(
                    order.payment_status,
                    PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded
                ),
                payment_error: order.payment_error.clone().unwrap_or_default(),
                link: link.as_deref().map(web_link).unwrap_or_default(),
            },
            shipment,
            refund: RefundView { amount: latest_refund, total: totals.refunded },
        }
    }

    /// A context with every field filled, to check templates at start-up.
    fn example() -> Self {
        let eur = |amount| Money::new(amount, nanoshop_domain::Currency::EUR);
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let line = LineView {
            sku: "SKU-1".into(),
            title: "Product".into(),
            quantity: 1,
            unit_price: eur(100),
            line_total: eur(100),
        };
        MailContext {
            to: "shopper@example.com".into(),
            locale: Locale::default(),
            store: Sender {
                name: "Store".into(),
                address: vec!["Street 1".into()],
                from: "store@example.com".into(),
                reply_to: Some("help@example.com".into()),
            },
            customer: CustomerView { name: "Shopper".into() },
            order: OrderView {
                id: "ord_1".into(),
                number: "1".into(),
                lines: vec![line],
                subtotal: eur(100),
                discount: eur(10),
                discount_code: "CODE".into(),
                shipping: eur(100),
                shipping_method: "Standard".into(),
                tax: eur(19),
                prices_include_tax: true,
                total: eur(200),
                refunded: eur(0),
                shipping_address: vec!["Shopper".into(), "Street 2".into()],
                placed_on: at,
                pay_by: at,
                paid: true,
                payment_error: "declined".into(),
                link: "https://shop.example/#/order/ord_1".into(),
            },
            shipment: ShipmentView {
                carrier: "DHL".into(),
                tracking_number: "1".into(),
                tracking_url: "https://track.example/1".into(),
            },
            refund: RefundView { amount: eur(100), total: eur(100) },
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
