//! The expiry sweep: pending orders past their payment window become `expired`, their
//! PaymentIntents are cancelled and their stock released. Safe to run twice at once: each order
//! changes on condition of the version read, so its stock is released exactly once.
//!
//! The sweep pages through every due order, oldest first. An order it cannot close now (its
//! intent is `processing` and the cancel is refused, the provider is unreachable) is not waited
//! on: it moves behind the others in the pending index ([`OrdersRepository::defer`]) for
//! [`RETRY_AFTER`], doubled at each further failure up to [`RETRY_CAP`], so the orders behind it
//! expire on time and a stuck order costs one provider call per backoff, not one per run. The
//! order itself does not change: the webhook still pays or closes it when its event comes. One
//! run stops starting new orders once it has read [`MAX_PAGES`] pages or spent [`RUN_BUDGET`];
//! the schedule's next run, a minute later, picks up the rest. Without a usable provider key the
//! run does nothing and says so ([`Sweep::not_configured`]), so no heartbeat hides it.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use nanoshop_payments::PaymentGateway;
use nanoshop_schema::catalog::StockMove;
use nanoshop_schema::orders::SweepRetry;

use crate::repo::{DueOrder, OrdersRepository, RepoError};

/// Due orders read per page (one query of the pending index).
pub const PAGE: u32 = 100;
/// Pages one run reads at most: 1,000 orders, far more than a minute's expiries.
pub const MAX_PAGES: usize = 10;
/// Time after which a run starts no new order. The run may then still finish the order in hand
/// (one provider cancel and one transaction), so `orders-expirer`'s Lambda `Timeout` must leave
/// room for that beyond this budget (`tests/e2e/infra/timeouts.rs` holds it to that).
pub const RUN_BUDGET: Duration = Duration::from_secs(30);
/// How long an order the sweep could not close waits before the sweep tries it again, after the
/// first failure; each further failure in a row doubles it.
pub const RETRY_AFTER: Duration = Duration::from_secs(60);
/// The longest wait between two tries of the same order: an order whose payment stays
/// `processing` for days costs a provider call every half hour.
pub const RETRY_CAP: Duration = Duration::from_secs(30 * 60);

/// [`RETRY_AFTER`] doubling up to [`RETRY_CAP`], without jitter: the time is stored in the
/// pending index, and the sweep runs once a minute anyway.
const SWEEP_BACKOFF: nanoshop_retry::Backoff = nanoshop_retry::Backoff::doubling(RETRY_AFTER, RETRY_CAP);

/// The wait after the `attempts`-th failure in a row: [`RETRY_AFTER`] doubled per earlier
/// failure, at most [`RETRY_CAP`].
pub fn retry_delay(attempts: u32) -> Duration {
    SWEEP_BACKOFF.delay(attempts.saturating_sub(1))
}

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    pub expired: usize,
    /// Tried and left for a later run: the provider was unreachable or refused the cancel (the
    /// intent is processing or succeeded; the webhook settles it), or another writer changed the
    /// order first.
    pub skipped: usize,
    /// Whether due orders may remain unread because the run's budget ran out.
    pub stopped_early: bool,
    /// The payment provider has no usable key: the run stopped without closing what needs a
    /// cancel. Not a completed sweep (no heartbeat), so the missing key raises the alarm.
    pub not_configured: bool,
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
    if let Err(e) = payments.ready().await
        && e.is_not_configured()
    {
        tracing::error!(error = %e, "the payment provider has no usable key; no order expires until it has one");
        outcome.not_configured = true;
        return Ok(outcome);
    }
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
        for due in orders {
            if started.elapsed() >= budget.time {
                outcome.stopped_early = true;
                return Ok(outcome);
            }
            match expire(repo, payments, &due, now).await {
                Expiry::Expired => outcome.expired += 1,
                Expiry::Left => outcome.skipped += 1,
                Expiry::CannotCancel => {
                    outcome.skipped += 1;
                    // From when the cancel failed, not when the run started: the next run, a
                    // minute later, does not try it again after the first failure either.
                    let failed_at = TimeDelta::from_std(started.elapsed()).ok().and_then(|d| now.checked_add_signed(d));
                    back_off(repo, &due, failed_at.unwrap_or(now)).await;
                }
                Expiry::NotConfigured => {
                    tracing::error!("the payment provider refused its key; no order expires until it has one");
                    outcome.skipped += 1;
                    outcome.not_configured = true;
                    outcome.stopped_early = true;
                    return Ok(outcome);
                }
                Expiry::NotDue => {}
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

/// What became of one due order.
enum Expiry {
    Expired,
    /// Left for the next run as it is (another writer changed it, or the store failed).
    Left,
    /// The provider would not cancel its intent now: refused, or unreachable.
    CannotCancel,
    /// The provider has no usable key.
    NotConfigured,
    /// Not due after all.
    NotDue,
}

/// Expires one order: cancels its intent, then writes the expiry and releases its stock.
async fn expire(repo: &OrdersRepository, payments: &dyn PaymentGateway, due: &DueOrder, now: DateTime<Utc>) -> Expiry {
    let order = &due.order;
    let Some(expired) = order.expire(now) else { return Expiry::NotDue };
    if let Some(intent) = &order.payment.payment_intent_id {
        match payments.cancel_intent(intent).await {
            Ok(()) => {}
            Err(e) if e.is_not_configured() => return Expiry::NotConfigured,
            // Refused: it succeeded (or is succeeding); the webhook pays the order instead.
            Err(e) => {
                tracing::info!(order = %order.id, error = %e, "could not cancel the payment of an order due to expire; trying later");
                return Expiry::CannotCancel;
            }
        }
    }
    match repo.save(order, &expired, StockMove::Release.of_order(order)).await {
        Ok(()) => Expiry::Expired,
        Err(RepoError::Conflict) => Expiry::Left,
        Err(e) => {
            tracing::warn!(order = %order.id, error = %e, "could not expire an order; the next run retries");
            Expiry::Left
        }
    }
}

/// Moves an order the sweep could not close behind the others, for [`retry_delay`] from
/// `failed_at`. A lost race (the order changed, maybe paid) or a store failure leaves it where it
/// is: the next run reads it again.
async fn back_off(repo: &OrdersRepository, due: &DueOrder, failed_at: DateTime<Utc>) {
    let attempts = due.retry.map_or(1, |r| r.attempts.saturating_add(1));
    let delay = TimeDelta::from_std(retry_delay(attempts)).unwrap_or(TimeDelta::MAX);
    let Some(next_attempt_at) = failed_at.checked_add_signed(delay) else { return };
    match repo.defer(&due.order, SweepRetry { attempts, next_attempt_at }).await {
        Ok(()) | Err(RepoError::Conflict) => {}
        Err(e) => {
            tracing::warn!(order = %due.order.id, error = %e, "could not put an order back for later; the next run tries it again")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_a_minute_and_stops_at_half_an_hour() {
        let minutes = |attempts| retry_delay(attempts).as_secs() / 60;
        let waits: Vec<u64> = [1, 2, 3, 4, 5, 6, 7, 100, u32::MAX].into_iter().map(minutes).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30, 30]);
    }
}
