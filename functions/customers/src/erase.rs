//! What an erasure (`DELETE /me`) leaves of an order: the merchant's books keep what was sold,
//! for how much and when; nothing says who bought it or where it went.

use chrono::{DateTime, Utc};
use nanoshop_domain::address::Address;
use nanoshop_domain::order::Order;

/// `order` without its personal data, as its next version at `now`.
///
/// Dropped: the e-mail (empty), the customer id (so no listing or lookup leads back to the
/// person), the billing address, the payment's client secret, and every line of the shipping
/// address but its country and region: those two stay because the tax charged depends on them,
/// and neither names a person. Kept: lines, totals, refunds, fulfilments, statuses, dates, the
/// discount code and the payment intent id (the processor's records are the processor's own to
/// erase).
pub fn anonymised(order: &Order, now: DateTime<Utc>) -> Order {
    let mut next = order.clone();
    next.email = String::new();
    next.customer_id = None;
    next.shipping_address = Address {
        name: String::new(),
        line1: String::new(),
        line2: None,
        city: String::new(),
        postal_code: String::new(),
        region: order.shipping_address.region.clone(),
        country: order.shipping_address.country.clone(),
        phone: None,
    };
    next.billing_address = None;
    next.payment.client_secret = None;
    next.version = order.version + 1;
    next.updated_at = now;
    next
}
