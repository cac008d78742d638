//! The expiry sweep: pending orders past their payment window become `expired`, their
//! PaymentIntents are cancelled and their stock released. Safe to run twice at once: each order
//! changes on condition of the version read, so its stock is released exactly once.

use chrono::{DateTime, Utc};
use nanoshop_payments::{PaymentError, PaymentGateway};

use crate::repo::{OrdersRepository, RepoError, Restock, all_units};

/// Orders handled per run; the schedule runs again a minute later.
pub const BATCH: u32 = 100;

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    pub expired: usize,
    /// Left for the next run: the provider was unreachable, the intent had already succeeded (the
    /// webhook settles it), or another writer changed the order first.
    pub skipped: usize,
}

/// Expires every due order.
///
/// # Errors
/// Only when the due orders cannot be read; single orders that fail are skipped and retried by
/// the next run.
pub async fn sweep(
    repo: &OrdersRepository,
    payments: &dyn PaymentGateway,
    now: DateTime<Utc>,
) -> Result<Sweep, RepoError> {
    let mut outcome = Sweep::default();
    for order in repo.due(now, BATCH).await? {
        let Some(expired) = order.expire(now) else { continue };
        if let Some(intent) = &order.payment.payment_intent_id {
            match payments.cancel_intent(intent).await {
                Ok(()) => {}
                // Refused: it succeeded (or is succeeding); the webhook pays the order instead.
                Err(PaymentError::Refused(_) | PaymentError::Unavailable(_)) => {
                    outcome.skipped += 1;
                    continue;
                }
            }
        }
        match repo.save(&order, &expired, Some(&Restock::Release(all_units(&order))), Vec::new()).await {
            Ok(()) => outcome.expired += 1,
            Err(RepoError::Conflict) => outcome.skipped += 1,
            Err(e) => {
                tracing::warn!(order = %order.id, error = %e, "could not expire an order; the next run retries");
                outcome.skipped += 1;
            }
        }
    }
    Ok(outcome)
}
