//! Orders for the tests of this module's files.

use chrono::Utc;

use super::*;
use crate::address::{Address, UncheckedAddress};
use crate::ids::OrderId;
use crate::money::{Currency, Money};

pub(super) fn eur(n: i64) -> Money {
    Money::new(n, Currency::EUR)
}

pub(super) fn order(status: OrderStatus, payment_status: PaymentStatus) -> Order {
    let now = Utc::now();
    Order {
        id: OrderId::generate(),
        number: "1".into(),
        status,
        payment_status,
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        email: "a@b.example".into(),
        customer_id: None,
        currency: Currency::EUR,
        lines: Vec::new(),
        totals: OrderTotals {
            subtotal: eur(1000),
            discount: eur(0),
            shipping: eur(0),
            tax: eur(0),
            total: eur(1000),
            refunded: eur(0),
        },
        shipping_address: Address::new(UncheckedAddress {
            name: "A".into(),
            line1: "B".into(),
            city: "C".into(),
            postal_code: "1".into(),
            country: "DE".into(),
            ..Default::default()
        })
        .expect("address"),
        billing_address: None,
        shipping_method: ChosenShipping { id: "standard".into(), name: "Standard".into(), price: eur(0) },
        discount_code: None,
        payment: Payment {
            provider: "stripe".into(),
            payment_intent_id: Some("pi_1".into()),
            client_secret: Some("pi_1_secret".into()),
            publishable_key: Some("pk_test_1".into()),
        },
        fulfillments: Vec::new(),
        refunds: Vec::new(),
        stock: StockState::Reserved,
        flags: Vec::new(),
        payment_error: None,
        expires_at: now,
        created_at: now,
        updated_at: now,
        version: 1,
        token_version: 0,
    }
}

pub(super) fn with_line(mut o: Order) -> Order {
    o.lines = vec![OrderLine {
        sku: "LS-S".parse().expect("sku"),
        title: "Linen shirt — S".into(),
        quantity: 2,
        unit_price: eur(500),
        line_total: eur(1000),
        discount: eur(0),
        tax: eur(0),
    }];
    o
}
