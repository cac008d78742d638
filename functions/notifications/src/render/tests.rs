use chrono::{TimeZone, Utc};
use nanoshop_domain::address::{Address, UncheckedAddress};
use nanoshop_domain::ids::OrderId;
use nanoshop_domain::locale::Locale;
use nanoshop_domain::money::{Currency, Money};
use nanoshop_domain::order::{
    ChosenShipping, Fulfillment, FulfillmentStatus, Order, OrderLine, OrderStatus, OrderTotals, Payment, PaymentStatus,
    RefundRecord, RefundState, StockState,
};

use super::*;

fn money(n: i64, currency: Currency) -> Money {
    Money::new(n, currency)
}

/// A paid order of two lines in `currency`, bought by `name`, with a product called `title`.
pub(crate) fn order(currency: Currency, name: &str, title: &str) -> Order {
    let at = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).single().expect("date");
    let m = |n| money(n, currency);
    Order {
        id: OrderId::generate(),
        number: "1042".into(),
        status: OrderStatus::Paid,
        payment_status: PaymentStatus::Succeeded,
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        email: "ada@example.com".into(),
        customer_id: None,
        currency,
        lines: vec![
            OrderLine {
                sku: "LS-S".parse().expect("sku"),
                title: title.into(),
                quantity: 2,
                unit_price: m(1250),
                line_total: m(2500),
                discount: m(0),
                tax: m(399),
            },
            OrderLine {
                sku: "MUG".parse().expect("sku"),
                title: "Mug".into(),
                quantity: 1,
                unit_price: m(990),
                line_total: m(990),
                discount: m(0),
                tax: m(158),
            },
        ],
        totals: OrderTotals {
            subtotal: m(3490),
            discount: m(0),
            shipping: m(490),
            tax: m(557),
            total: m(3980),
            refunded: m(0),
        },
        shipping_address: Address::new(UncheckedAddress {
            name: name.into(),
            line1: "Unter den Linden 1".into(),
            city: "Berlin".into(),
            postal_code: "10117".into(),
            country: "DE".into(),
            ..Default::default()
        })
        .expect("address"),
        billing_address: None,
        shipping_method: ChosenShipping { id: "standard".into(), name: "Standard".into(), price: m(490) },
        discount_code: None,
        payment: Payment {
            provider: "stripe".into(),
            payment_intent_id: Some("pi_1".into()),
            client_secret: None,
            publishable_key: None,
        },
        fulfillments: Vec::new(),
        refunds: Vec::new(),
        stock: StockState::Committed,
        flags: Vec::new(),
        payment_error: None,
        expires_at: at,
        created_at: at,
        updated_at: at,
        version: 2,
        token_version: 0,
    }
}

pub(crate) fn sender() -> Sender {
    Sender {
        name: "Linen & Co".into(),
        address: vec!["Hauptstraße 5".into(), "10115 Berlin".into()],
        from: "orders@linen.example".into(),
        reply_to: Some("help@linen.example".into()),
    }
}

fn render(kind: MailKind, order: &Order) -> Mail {
    render_in(Locale::EnUs, kind, order)
}

fn render_in(locale: Locale, kind: MailKind, order: &Order) -> Mail {
    let link = Some("https://linen.example/#/order/x?token=t".into());
    let context = MailContext::new(order, &sender(), locale, true, link);
    Templates::builtin().compose("oevt_1", kind, &context).expect("renders")
}

/// The text a reader of the HTML part sees: tags dropped, entities decoded (attributes are gone).
pub(crate) fn visible(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    decode(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `html` with the entities the escaper writes decoded, as a mail client reads an attribute.
pub(crate) fn decode(html: &str) -> String {
    [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#x27;", "'"), ("&#x2f;", "/"), ("&minus;", "-"), ("&amp;", "&")]
        .iter()
        .fold(html.to_owned(), |t, (entity, c)| t.replace(entity, c))
}

/// Asserts that `needle` is in both the text part and what the HTML part shows.
fn both(mail: &Mail, needle: &str) {
    assert!(mail.text.contains(needle), "text part lacks {needle:?}:\n{}", mail.text);
    let seen = visible(&mail.html);
    assert!(seen.contains(needle) || decode(&mail.html).contains(needle), "html part lacks {needle:?}:\n{seen}");
}

#[test]
fn the_confirmation_lists_lines_totals_tax_shipping_and_the_order_link() {
    let mail = render(MailKind::Placed, &order(Currency::EUR, "Ada Lovelace", "Linen shirt — S"));
    assert_eq!(mail.subject, "Linen & Co: order #1042 received");
    assert_eq!((mail.to.as_str(), mail.from.as_str()), ("ada@example.com", "orders@linen.example"));
    for needle in [
        "Ada Lovelace",
        "#1042",
        "Linen shirt — S",
        "LS-S",
        "€12.50",
        "€25.00",
        "€9.90",
        "€34.90",
        "€4.90",
        "Standard",
        "€5.57",
        "€39.80",
        "November 26, 2026",
        "Unter den Linden 1",
        "https://linen.example/#/order/x?token=t",
        "Hauptstraße 5",
        "help@linen.example",
    ] {
        both(&mail, needle);
    }
    assert!(!mail.text.contains('<'), "the text part has no markup:\n{}", mail.text);
}

#[test]
fn money_follows_the_orders_currency() {
    let yen = render(MailKind::Placed, &order(Currency::JPY, "Ada", "Shirt"));
    both(&yen, "¥3,980");
    both(&yen, "¥1,250");
    let dinar = render(MailKind::Placed, &order("KWD".parse().expect("currency"), "Ada", "Shirt"));
    both(&dinar, "KWD\u{a0}3.980");
}

#[test]
fn a_german_store_s_mail_writes_money_and_dates_the_german_way_in_both_parts() {
    let mut o = order(Currency::EUR, "Ada", "Shirt");
    o.totals.total = money(123_450, Currency::EUR);
    let mail = render_in(Locale::DeDe, MailKind::Placed, &o);
    both(&mail, "1.234,50\u{a0}€");
    both(&mail, "12,50\u{a0}€");
    both(&mail, "26. November 2026");
    assert!(!mail.text.contains("EUR") && !mail.html.contains("EUR"), "{}", mail.text);
    (o.status, o.payment_status) = (OrderStatus::PendingPayment, PaymentStatus::Failed);
    let failed = render_in(Locale::FrFr, MailKind::PaymentFailed, &o);
    both(&failed, "1\u{202f}234,50\u{a0}€");
    both(&failed, "26 novembre 2026 à 10:00 UTC");
    let yen = render_in(Locale::DeDe, MailKind::Placed, &order(Currency::JPY, "Ada", "Shirt"));
    both(&yen, "3.980\u{a0}¥");
}

#[test]
fn a_merchants_template_formats_with_the_filters_and_a_bad_value_fails_at_start() {
    let ok = Templates::with_sources([(
        "order_placed.subject.txt".to_owned(),
        "{{ order.total | money }} am {{ order.placed_on | date }}".to_owned(),
    )])
    .expect("compiles and renders");
    let context = MailContext::new(&order(Currency::EUR, "Ada", "Shirt"), &sender(), Locale::DeDe, true, None);
    let mail = ok.compose("oevt_1", MailKind::Placed, &context).expect("renders");
    assert_eq!(mail.subject, "39,80\u{a0}€ am 26. November 2026");
    let broken =
        Templates::with_sources([("order_placed.subject.txt".to_owned(), "{{ order.number | money }}".to_owned())]);
    assert!(broken.expect_err("money of a string").to_string().contains("order_placed.subject.txt"));
}

#[test]
fn a_failed_payment_says_why_and_until_when_the_order_can_be_paid() {
    let mut o = order(Currency::EUR, "Ada", "Shirt");
    (o.status, o.payment_status, o.payment_error) =
        (OrderStatus::PendingPayment, PaymentStatus::Failed, Some("Your card was declined.".into()));
    let mail = render(MailKind::PaymentFailed, &o);
    assert_eq!(mail.subject, "Linen & Co: the payment for order #1042 did not go through");
    both(&mail, "Your card was declined.");
    both(&mail, "€39.80");
    both(&mail, "November 26, 2026 at 10:00\u{a0}AM UTC");
    both(&mail, "https://linen.example/#/order/x?token=t");
}

#[test]
fn the_shipment_mail_names_carrier_tracking_number_and_link() {
    let mut o = order(Currency::EUR, "Ada", "Shirt");
    o.fulfillments.push(Fulfillment {
        id: "f1".into(),
        lines: vec![],
        carrier: Some("DHL".into()),
        tracking_number: Some("JJD0099".into()),
        tracking_url: Some("https://track.example/JJD0099".into()),
        created_at: o.created_at,
    });
    let mail = render(MailKind::Fulfilled, &o);
    assert_eq!(mail.subject, "Linen & Co: order #1042 is on its way");
    both(&mail, "DHL");
    both(&mail, "JJD0099");
    both(&mail, "https://track.example/JJD0099");
    assert!(decode(&mail.html).contains(r#"href="https://track.example/JJD0099""#), "{}", mail.html);
}

#[test]
fn a_tracking_link_that_is_not_a_web_address_is_left_out() {
    let mut o = order(Currency::EUR, "Ada", "Shirt");
    o.fulfillments.push(Fulfillment {
        id: "f1".into(),
        lines: vec![],
        carrier: None,
        tracking_number: None,
        tracking_url: Some("javascript:alert(1)".into()),
        created_at: o.created_at,
    });
    let mail = render(MailKind::Fulfilled, &o);
    assert!(!mail.html.contains("javascript"), "{}", mail.html);
    assert!(!mail.text.contains("javascript"), "{}", mail.text);
}

#[test]
fn the_refund_mail_gives_the_amount_refunded() {
    let mut o = order(Currency::EUR, "Ada", "Shirt");
    let refund = |id: &str, n: i64, minutes: i64| RefundRecord {
        id: id.into(),
        amount: money(n, Currency::EUR),
        reason: None,
        restock: vec![],
        state: RefundState::Succeeded,
        provider_refund_id: Some(format!("re_{id}")),
        cancels_order: false,
        created_at: o.created_at + chrono::TimeDelta::minutes(minutes),
    };
    o.refunds = vec![refund("a", 990, 1), refund("b", 500, 2)];
    o.totals.refunded = money(1490, Currency::EUR);
    let mail = render(MailKind::Refunded, &o);
    assert_eq!(mail.subject, "Linen & Co: refund for order #1042");
    both(&mail, "We have refunded €5.00");
    both(&mail, "€14.90 of €39.80");
}

#[test]
fn cancelled_and_expired_orders_say_whether_money_was_taken() {
    let mut o = order(Currency::EUR, "Ada", "Shirt");
    o.status = OrderStatus::Cancelled;
    o.payment_status = PaymentStatus::Refunded;
    let cancelled = render(MailKind::Cancelled, &o);
    assert_eq!(cancelled.subject, "Linen & Co: order #1042 cancelled");
    both(&cancelled, "refunded to your original payment method");
    o.payment_status = PaymentStatus::Pending;
    both(&render(MailKind::Cancelled, &o), "You have not been charged");
    o.status = OrderStatus::Expired;
    let expired = render(MailKind::Expired, &o);
    assert_eq!(expired.subject, "Linen & Co: order #1042 expired unpaid");
    both(&expired, "went back on sale");
}

#[test]
fn a_hostile_product_title_or_customer_name_cannot_inject_markup() {
    let title = r#"<script>alert("t")</script><img src=x onerror=alert(1)>"#;
    let name = r#"Eve"><a href="https://evil.example">click</a>"#;
    for kind in MailKind::ALL {
        let mut o = order(Currency::EUR, name, title);
        o.payment_error = Some("<b>declined</b>".into());
        let mail = render(kind, &o);
        for raw in ["<script", "<img", "<a href=\"https://evil", "<b>declined"] {
            assert!(!mail.html.contains(raw), "{kind:?}: {raw} got through:\n{}", mail.html);
        }
        assert!(mail.html.contains("Eve&quot;&gt;&lt;a href="), "{kind:?}: the name is shown as text:\n{}", mail.html);
        if kind == MailKind::Placed {
            assert!(mail.html.contains("&lt;script&gt;alert(&quot;t&quot;)&lt;&#x2f;script&gt;"), "{}", mail.html);
            assert!(mail.text.contains(title), "the text part shows the title as it is");
        }
    }
}

#[test]
fn a_subject_is_one_line_whatever_the_data() {
    let mut o = order(Currency::EUR, "Ada", "Shirt");
    o.number = "1042\r\nBcc: everyone@example.com".into();
    let mail = render(MailKind::Placed, &o);
    assert!(!mail.subject.contains(['\r', '\n']), "{:?}", mail.subject);
}

#[test]
fn a_merchants_template_replaces_the_builtin_one_of_the_same_name() {
    let dir = std::env::temp_dir().join(format!("nanoshop-templates-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("order_placed.subject.txt"), "Danke! Bestellung {{ order.number }}").expect("write");
    std::fs::write(dir.join("unknown.html"), "{{ nothing }}").expect("write");
    let templates = Templates::with_overrides(&dir).expect("compiles");
    let context = MailContext::new(&order(Currency::EUR, "Ada", "Shirt"), &sender(), Locale::EnUs, true, None);
    let mail = templates.compose("oevt_1", MailKind::Placed, &context).expect("renders");
    assert_eq!(mail.subject, "Danke! Bestellung 1042");
    assert!(mail.html.contains("Ada"), "the other templates stay the built-in ones");

    std::fs::write(dir.join("order_expired.html"), "{{ order.no_such_field }}").expect("write");
    let broken = Templates::with_overrides(&dir).expect_err("a template naming a value that does not exist");
    assert!(broken.to_string().contains("order_expired.html"), "{broken}");
    std::fs::write(dir.join("order_expired.html"), "{% if %}").expect("write");
    assert!(Templates::with_overrides(&dir).is_err(), "a template that does not compile");
    std::fs::remove_dir_all(&dir).expect("clean up");
}
