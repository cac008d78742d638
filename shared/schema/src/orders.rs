//! The orders table, and the idempotency table's records.
//!
//! | table        | item              | pk                       | sk          | attributes                                        |
//! |--------------|-------------------|--------------------------|-------------|---------------------------------------------------|
//! | orders       | order             | `ORDER#{id}`             | `ORDER`     | `doc`: `Order`; `version`; while pending: `gsi1pk = ORDERS#PENDING`, `gsi1sk = {due}#{id}` (`due`: `expires_at`, or `next_attempt_at` once the sweep backs off), `next_attempt_at`, `sweep_attempts` |
//! | orders       | intent pointer    | `PAYMENT#{intent id}`    | `PAYMENT`   | `order_id`: finds the order of a charge event     |
//! | orders       | order number      | `ORDER_NUMBER#{number}`  | `ORDER_NUMBER` | `order_id`; `expires_at` (1 day): the number is taken |
//! | orders       | listing entry     | `ORDERS#{listing}`       | `{order id}` | `order_id`; listings `ALL`, `CUSTOMER#{sub}`, `EMAIL#{email}`, `STATUS#{status}` |
//! | orders       | outbox event      | `OUTBOX`                 | `{event id}` | `doc`: `OrderEvent`; `expires_at` (7 days)     |
//! | idempotency  | API request       | `IDEM#{route}#{key}`     | `IDEM`      | `doc`: `IdempotencyRecord`; `expires_at` (24 h)   |
//! | idempotency  | processed event   | `EVENT#{event id}`       | `EVENT`     | `expires_at` (30 days)                            |
//! | idempotency  | order e-mail      | `MAIL#{order event id}`  | `MAIL`      | `state` (`sending`, `sent`, `refused`), `owner`, `lease_until`; `expires_at` (30 days) |
//!
//! Listings are entries in the table itself, written in the same transaction as the order (see
//! [`order_writes`]): newest first is a descending query of one partition, then one batch read of
//! the orders. The table's one index is kept for what must be queried by time: pending orders sit
//! in the index partition `ORDERS#PENDING` sorted by when the expiry sweep should look at them, so
//! it queries exactly the overdue ones; paid and closed orders leave that partition. That time is
//! when the order expires, until the sweep fails to close it: the sweep then moves it later
//! ([`defer_sweep`]) without touching the order itself, and any later write of the order puts it
//! back at its expiry time.

use chrono::{DateTime, Utc};
use nanoshop_domain::ids::OrderId;
use nanoshop_domain::order::{Order, OrderStatus};
use nanoshop_store::port::{GSI1_PK, GSI1_SK, VERSION};
use nanoshop_store::{Item, Key};
use serde::{Deserialize, Serialize};

pub const ORDER_ID: &str = "order_id";
pub const PENDING: &str = "ORDERS#PENDING";
/// When the expiry sweep looks at a pending order again after it failed to close it (RFC 3339).
pub const NEXT_ATTEMPT_AT: &str = "next_attempt_at";
/// How many sweeps in a row failed to close a pending order (reset by any write of the order).
pub const SWEEP_ATTEMPTS: &str = "sweep_attempts";
/// How long an API idempotency record is kept: replays within 24 h answer the same (docs/api.md).
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 3600;
/// How long a processed Stripe event id is remembered; Stripe retries for up to three days.
pub const EVENT_TTL_SECS: i64 = 30 * 24 * 3600;

pub fn order_key(id: &OrderId) -> Key {
    Key::new(format!("ORDER#{id}"), "ORDER")
}

pub fn intent_key(intent_id: &str) -> Key {
    Key::new(format!("PAYMENT#{intent_id}"), "PAYMENT")
}

/// The claim of an order number, written with the order so two orders never share one.
pub fn order_number_key(number: &str) -> Key {
    Key::new(format!("ORDER_NUMBER#{number}"), "ORDER_NUMBER")
}

/// How long an order number's claim is kept. A number names the second its order was placed, so
/// only an order placed within clock skew of it could draw it again; a day is far beyond that.
pub const ORDER_NUMBER_CLAIM_SECS: i64 = 24 * 3600;

pub fn idempotency_key(route: &str, key: &str) -> Key {
    Key::new(format!("IDEM#{route}#{key}"), "IDEM")
}

pub fn event_key(event_id: &str) -> Key {
    Key::new(format!("EVENT#{event_id}"), "EVENT")
}

/// The notifications function's record of the e-mail of one order event (see
/// `nanoshop_notifications::delivery`): claimed before the send, so a redelivered event sends
/// nothing twice.
pub fn mail_key(order_event_id: &str) -> Key {
    Key::new(format!("MAIL#{order_event_id}"), "MAIL")
}

/// How long an order e-mail's record is kept: far past EventBridge's 24 h of retries and any
/// replay from the outbox (7 days).
pub const MAIL_TTL_SECS: i64 = 30 * 24 * 3600;

fn version(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The order as stored: its document, its version, and its place in the pending index while it
/// waits for payment.
///
/// # Errors
/// Never in practice: an order always serialises.
fn order_item(order: &Order) -> Result<Item, crate::CorruptItem> {
    let mut item =
        Item::new(&order_key(&order.id)).with(VERSION, version(order.version)).with(crate::DOC, crate::encode(order)?);
    if order.status == OrderStatus::PendingPayment {
        item = item.with(GSI1_PK, PENDING).with(GSI1_SK, pending_sort_key(order.expires_at, &order.id));
    }
    Ok(item)
}

/// A pending order's place in the index: when the sweep should next look at it, then its id.
/// RFC 3339 in UTC sorts as the time does.
fn pending_sort_key(due: DateTime<Utc>, id: &OrderId) -> String {
    format!("{}#{id}", due.to_rfc3339())
}

/// The expiry sweep's record of the pending orders it failed to close, kept beside the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepRetry {
    /// Sweeps in a row that failed to close the order.
    pub attempts: u32,
    /// When the sweep should look at the order again.
    pub next_attempt_at: DateTime<Utc>,
}

impl SweepRetry {
    /// The record stored with a pending order; `None` when the sweep never failed to close it
    /// since the order was last written.
    pub fn of(item: &Item) -> Option<SweepRetry> {
        let at = DateTime::parse_from_rfc3339(item.s(NEXT_ATTEMPT_AT)?).ok()?.with_timezone(&Utc);
        let attempts = item.n(SWEEP_ATTEMPTS).and_then(|n| u32::try_from(n).ok()).unwrap_or(1);
        Some(SweepRetry { attempts, next_attempt_at: at })
    }
}

/// When the sweep should look at the pending order stored as `item`: its retry time, or when it
/// expires.
pub fn sweep_due(item: &Item, order: &Order) -> DateTime<Utc> {
    SweepRetry::of(item).map_or(order.expires_at, |r| r.next_attempt_at)
}

/// The update that moves pending `order` behind the others in the index until `retry`'s time, on
/// condition that the order is still at the version read (so it is still pending, and a webhook
/// or admin write since wins). Neither the order nor its version changes: only where the sweep
/// finds it.
pub fn defer_sweep(order: &Order, retry: SweepRetry) -> nanoshop_store::Update {
    nanoshop_store::Update::new(order_key(&order.id))
        .set(GSI1_SK, pending_sort_key(retry.next_attempt_at, &order.id))
        .set(NEXT_ATTEMPT_AT, retry.next_attempt_at.to_rfc3339())
        .set(SWEEP_ATTEMPTS, i64::from(retry.attempts))
        .when(nanoshop_store::Condition::VersionIs(version(order.version)))
}

/// The listings an order appears in.
fn listings(order: &Order) -> Vec<String> {
    let mut all = vec![ALL_LISTING.to_owned(), email_listing(&order.email), status_listing(order.status)];
    if let Some(customer) = &order.customer_id {
        all.push(customer_listing(customer));
    }
    all
}

pub fn status_listing(status: OrderStatus) -> String {
    format!("ORDERS#STATUS#{}", status.as_str())
}

pub fn customer_listing(customer: &str) -> String {
    format!("ORDERS#CUSTOMER#{customer}")
}

pub fn email_listing(email: &str) -> String {
    format!("ORDERS#EMAIL#{email}")
}

pub const ALL_LISTING: &str = "ORDERS#ALL";
/// The partition of order events waiting to be relayed (the outbox).
pub const OUTBOX: &str = "OUTBOX";
/// Outbox items expire after a week: relayed long before, kept for replays by hand.
pub const OUTBOX_TTL_SECS: i64 = 7 * 24 * 3600;

pub fn outbox_key(event: &nanoshop_domain::ids::OrderEventId) -> Key {
    Key::new(OUTBOX, event.as_str())
}

/// Every write that stores `next`: the order, on condition that it is new (no `previous`) or
/// still at `previous`'s version; then its listing entries (all of them for a new order, a move
/// between status listings when the status changed); then the events the change produces, into
/// the outbox, so an event exists exactly when its change does. Only the first write has a
/// condition, so a failed transaction points at the order or at a caller's own writes.
///
/// # Errors
/// Never in practice: an order always serialises.
pub fn order_writes(previous: Option<&Order>, next: &Order) -> Result<Vec<nanoshop_store::Write>, crate::CorruptItem> {
    use nanoshop_store::{Condition, Table, Write};
    let condition = match previous {
        None => Condition::NotExists,
        Some(p) => Condition::VersionIs(version(p.version)),
    };
    // A closed order keeps no client secret, whichever transition closed it.
    let stored = next.clone().without_stale_secret();
    let mut writes = vec![Write::Put { table: Table::Orders, item: order_item(&stored)?, condition: Some(condition) }];
    let entry = |listing: String| Write::Put {
        table: Table::Orders,
        item: Item::new(&Key::new(listing, next.id.as_str())).with(ORDER_ID, next.id.as_str()),
        condition: None,
    };
    match previous {
        None => writes.extend(listings(next).into_iter().map(entry)),
        Some(p) if p.status != next.status => {
            writes.push(Write::Delete {
                table: Table::Orders,
                key: Key::new(status_listing(p.status), next.id.as_str()),
                condition: None,
            });
            writes.push(entry(status_listing(next.status)));
        }
        Some(_) => {}
    }
    for event in nanoshop_domain::order::events(previous, next) {
        let item = Item::new(&outbox_key(&event.id))
            .with(nanoshop_store::port::EXPIRES_AT, nanoshop_store::port::now_unix() + OUTBOX_TTL_SECS)
            .with(crate::DOC, crate::encode(&event)?);
        writes.push(Write::Put { table: Table::Orders, item, condition: None });
    }
    Ok(writes)
}

/// An API request under an `Idempotency-Key`: in flight, or finished with its response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// SHA-256 of the request (method, path, body), hex: the same key with another body is refused.
    pub request_hash: String,
    /// Who holds the request while it is in flight; a takeover after the lease is a new owner.
    pub owner: String,
    /// Unix seconds until which the owner holds the request; after that, a retry may take over.
    pub lease_until: i64,
    /// The order the request created, once it did: a takeover continues with it.
    pub order_id: Option<OrderId>,
    /// The finished response: status and body; the body sealed (`sealed:v1:…`) where the route
    /// seals its answers (`nanoshop_api::idempotency::Sealer`), so no secret lies here in clear.
    pub response: Option<(u16, String)>,
}
