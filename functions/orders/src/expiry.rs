//! The expiry sweep: pending orders past their payment window become `expired`, their
//! PaymentIntents are cancelled and their stock released. Safe to run twice at once: each order
//! changes on condition of the version read, so its stock is released exactly once.
//!
//! The sweep pages through every due order, oldest first. An order it cannot close now (its
//! intent is `processing` and the cancel is refused, the provider is unreachable, another writer
//! got there first) is skipped, not waited on: it stays in the pending index and the next run tries
//! it again, while the orders behind it expire on time. One run stops starting new orders once it
//! has read [`MAX_PAGES`] pages or spent [`RUN_BUDGET`]; the schedule's next run, a minute later,
//! picks up the rest.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use nanoshop_payments::{PaymentError, PaymentGateway};

use crate::repo::{OrdersRepository, RepoError, Restock, all_units};

/// Due orders read per page (one query of the pending index).
pub const PAGE: u32 = 100;
/// Pages one run reads at most: 1,000 orders, far more than a minute's expiries.
pub const MAX_PAGES: usize = 10;
/// Time after which a run starts no new order. The run may then still finish the order in hand
/// (one provider cancel and one transaction), so `orders-expirer`'s Lambda `Timeout` must leave
/// room for that beyond this budget.
pub const RUN_BUDGET: Duration = Duration::from_secs(30);

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    pub expired: usize,
    /// Left for the next run: the provider was unreachable, the intent had already succeeded (the
    /// webhook settles it), or another writer changed the order first.
    pub skipped: usize,
    /// Whether due orders may remain unread because the run's budget ran out.
    pub stopped_early: bool,
}

/// How much one run may do: [`MAX_PAGES`] pages within [`RUN_BUDGET`] by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub pages: usize,
    pub time: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Self { pages: MAX_PAGES, time: RUN_BUDGET }
    }
}

/// Expires every due order, within the default [`Budget`].
///
/// # Errors
/// Only when the due orders cannot be read; single orders that fail are skipped and retried by
/// the next run.
pub async fn sweep(
    repo: &OrdersRepository,
    payments: &dyn PaymentGateway,
    now: DateTime<Utc>,
) -> Result<Sweep, RepoError> {
    sweep_within(repo, payments, now, Budget::default()).await
}

/// Expires the due orders, oldest first, page after page, until none is left or `budget` is
/// spent.
///
/// # Errors
/// Only when the first page of due orders cannot be read. A later page that fails ends the run
/// with what it did; single orders that fail are skipped. The next run retries both.
pub async fn sweep_within(
    repo: &OrdersRepository,
    payments: &dyn PaymentGateway,
    now: DateTime<Utc>,
    budget: Budget,
) -> Result<Sweep, RepoError> {
    let started = Instant::now();
    let mut outcome = Sweep::default();
    let mut after = None;
    for page in 0..budget.pages {
        let (orders, next) = match repo.due(now, PAGE, after.take()).await {
            Ok(found) => found,
            Err(e) if page == 0 => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "could not read more due orders; the next run continues");
                outcome.stopped_early = true;
                return Ok(outcome);
            }
        };
        for order in orders {
            if started.elapsed() >= budget.time {
                outcome.stopped_early = true;
                return Ok(outcome);
            }
            match expire(repo, payments, &order, now).await {
                Some(true) => outcome.expired += 1,
                Some(false) => outcome.skipped += 1,
                None => {}
            }
        }
        match next {
            Some(next) => after = Some(next),
            None => return Ok(outcome),
        }
    }
    outcome.stopped_early = true;
    Ok(outcome)
}

/// Expires one order: `Some(true)` when it did, `Some(false)` when the order is left for a later
/// run, `None` when it was not due after all.
async fn expire(
    repo: &OrdersRepository,
    payments: &dyn PaymentGateway,
    order: &nanoshop_domain::order::Order,
    now: DateTime<Utc>,
) -> Option<bool> {
    let expired = order.expire(now)?;
    if let Some(intent) = &order.payment.payment_intent_id {
        match payments.cancel_intent(intent).await {
            Ok(()) => {}
            // Refused: it succeeded (or is succeeding); the webhook pays the order instead.
            Err(PaymentError::Refused(_) | PaymentError::Unavailable(_)) => return Some(false),
        }
    }
    match repo.save(order, &expired, Some(&Restock::Release(all_units(order))), Vec::new()).await {
        Ok(()) => Some(true),
        Err(RepoError::Conflict) => Some(false),
        Err(e) => {
            tracing::warn!(order = %order.id, error = %e, "could not expire an order; the next run retries");
            Some(false)
        }
    }
}
