//! What a failure means: a refused request's answer in the port's terms, an update stopped only
//! by an expired item, a cancelled transaction worth sending again, or an error worth retrying.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason};

use super::convert::item_from;
use crate::port::{CancelReason, Item, StoreError, StoreResult, Update, Write};

/// Error codes that mean "slow down or try again", not "your request is wrong".
const TRANSIENT_CODES: [&str; 4] = [
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ThrottlingException",
    // A single-item write on an item that a transaction is writing.
    "TransactionConflictException",
];
/// Cancellation-reason codes of a transaction worth retrying as is.
const TRANSIENT_REASONS: [&str; 3] = ["ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"];

/// What a failed `UpdateItem` means, judged from the item stored when it failed.
#[derive(Debug)]
pub(super) enum UpdateFailure {
    /// Only the stored item's expiry stopped it, and the port's condition holds for an absent
    /// item: the update applies to a fresh item.
    Expired,
    /// The port's answer: the condition failed on the live item (or its absence), or an addition
    /// overflowed.
    Final(StoreError),
}

pub(super) fn judge_failed_update(update: &Update, stored: Option<Item>, now: i64) -> UpdateFailure {
    let holds = |item: Option<&Item>| update.condition.as_ref().is_none_or(|c| c.holds(item, now));
    if stored.as_ref().is_some_and(|i| i.is_expired(now)) && holds(None) {
        return UpdateFailure::Expired;
    }
    let live = stored.filter(|i| !i.is_expired(now));
    if holds(live.as_ref()) {
        // The condition held, so the overflow guard must have failed; `apply` names the attribute.
        if let Err(err) = update.apply(live.as_ref(), now) {
            return UpdateFailure::Final(err);
        }
    }
    UpdateFailure::Final(StoreError::ConditionFailed { current: live.map(Box::new) })
}

/// What to do after DynamoDB cancelled a transaction.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Cancellation {
    /// Some condition really failed: report these reasons.
    Final(Vec<Option<CancelReason>>),
    /// Only the expiry of updated items (or a revival of items we meant to recreate) stopped it:
    /// `fresh` now says how to send each update; try again at once.
    Rewritten,
    /// Only conflicts or throttling stopped it: back off and try again, reporting these reasons
    /// if that never succeeds.
    Transient(Vec<Option<CancelReason>>),
    /// A reason we do not model (a validation error, an item collection too large): a bug.
    Unexpected,
}

/// Reads a cancellation's reasons, one per write, and updates `fresh` where an update must be
/// sent as a put of a fresh item (its stored item is expired) or back as an update (a live item
/// appeared before our put).
///
/// # Errors
/// [`StoreError::Invalid`] when an update's addition would overflow.
pub(super) fn judge_cancellation(
    writes: &[Write],
    fresh: &mut [bool],
    reasons: &[CancellationReason],
    now: i64,
) -> StoreResult<Cancellation> {
    if reasons.len() != writes.len() {
        return Ok(Cancellation::Unexpected);
    }
    let (mut failed, mut rewritten, mut transient) = (false, false, false);
    let mut out = Vec::with_capacity(writes.len());
    for ((write, fresh), reason) in writes.iter().zip(fresh.iter_mut()).zip(reasons) {
        out.push(match reason.code() {
            None | Some("None") => None,
            Some("TransactionConflict") => {
                transient = true;
                Some(CancelReason::Conflict)
            }
            Some(code) if TRANSIENT_REASONS.contains(&code) => {
                transient = true;
                None
            }
            Some("ConditionalCheckFailed") => match write {
                // Our put of a fresh item met a live item that appeared since: update that one.
                Write::Update { .. } if *fresh => {
                    *fresh = false;
                    rewritten = true;
                    None
                }
                Write::Update { update, .. } => {
                    let stored = reason.item().map(item_from).transpose()?;
                    match judge_failed_update(update, stored, now) {
                        UpdateFailure::Expired => {
                            *fresh = true;
                            rewritten = true;
                            None
                        }
                        UpdateFailure::Final(StoreError::ConditionFailed { .. }) => {
                            failed = true;
                            Some(CancelReason::ConditionFailed)
                        }
                        UpdateFailure::Final(err) => return Err(err),
                    }
                }
                _ => {
                    failed = true;
                    Some(CancelReason::ConditionFailed)
                }
            },
            Some(_) => return Ok(Cancellation::Unexpected),
        });
    }
    Ok(match (failed, rewritten, transient) {
        (true, _, _) => Cancellation::Final(out),
        (false, true, _) => Cancellation::Rewritten,
        (false, false, true) => Cancellation::Transient(out),
        (false, false, false) => Cancellation::Unexpected,
    })
}

/// A failed condition's error as the port sees it: an expired stored item is no item.
pub(super) fn hide_expired(err: StoreError, now: i64) -> StoreError {
    match err {
        StoreError::ConditionFailed { current } => {
            StoreError::ConditionFailed { current: current.filter(|i| !i.is_expired(now)) }
        }
        other => other,
    }
}

/// A failed condition carrying the stored item as DynamoDB returned it.
pub(super) fn condition_failed(stored: Option<&HashMap<String, AttributeValue>>) -> StoreError {
    match stored.map(item_from).transpose() {
        Ok(current) => StoreError::ConditionFailed { current: current.map(Box::new) },
        Err(err) => err,
    }
}

/// Throttling, timeouts and lost connections may be retried ([`StoreError::Unavailable`]), and
/// so may DynamoDB's own 5xx failures; the SDK has already retried them a few times by now.
/// Everything else is [`StoreError::Backend`].
pub(super) fn sdk_error<E>(err: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(service) => {
            err.code().is_some_and(|c| TRANSIENT_CODES.contains(&c)) || service.raw().status().is_server_error()
        }
        _ => false,
    };
    if transient { StoreError::Unavailable(Box::new(err)) } else { backend(err) }
}

pub(super) fn backend(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(err))
}

pub(super) fn malformed(what: String) -> StoreError {
    StoreError::Backend(what.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::convert::attributes;
    use crate::port::{Condition, EXPIRES_AT, Key, Table, VERSION};

    const NOW: i64 = 1_000;

    fn key() -> Key {
        Key::new("P#1", "S#1")
    }

    fn stored(expires_at: Option<i64>) -> Item {
        let item = Item::new(&key()).with(VERSION, 3).with("stock", 5);
        match expires_at {
            Some(at) => item.with(EXPIRES_AT, at),
            None => item,
        }
    }

    #[test]
    fn a_failed_update_of_an_expired_item_starts_from_a_fresh_item_when_the_condition_allows() {
        let expired = Some(stored(Some(NOW)));
        assert!(matches!(
            judge_failed_update(&Update::new(key()).add("stock", 1), expired.clone(), NOW),
            UpdateFailure::Expired
        ));
        let create = Update::new(key()).set("a", 1).when(Condition::NotExists);
        assert!(matches!(judge_failed_update(&create, expired.clone(), NOW), UpdateFailure::Expired));
        let versioned = Update::new(key()).add("stock", 1).when(Condition::VersionIs(3));
        assert!(matches!(
            judge_failed_update(&versioned, expired, NOW),
            UpdateFailure::Final(StoreError::ConditionFailed { current: None })
        ));
    }

    #[test]
    fn a_failed_update_of_a_live_item_reports_the_item_or_the_overflow() {
        let live = Some(stored(Some(NOW + 1)));
        let stale = Update::new(key()).add("stock", 1).when(Condition::VersionIs(2));
        assert!(matches!(
            judge_failed_update(&stale, live.clone(), NOW),
            UpdateFailure::Final(StoreError::ConditionFailed { current: Some(item) }) if item.n("stock") == Some(5)
        ));
        let overflowing = Update::new(key()).add("stock", i64::MAX);
        assert!(matches!(judge_failed_update(&overflowing, live, NOW), UpdateFailure::Final(StoreError::Invalid(_))));
    }

    fn reason(code: &str, stored: Option<&Item>) -> CancellationReason {
        let reason = CancellationReason::builder().code(code);
        match stored {
            Some(item) => reason.set_item(Some(attributes(item))).build(),
            None => reason.build(),
        }
    }

    fn put() -> Write {
        Write::Put {
            table: Table::Orders,
            item: Item::new(&Key::new("O#1", "O")),
            condition: Some(Condition::NotExists),
        }
    }

    fn add_stock() -> Write {
        Write::Update {
            table: Table::Catalog,
            update: Update::new(key()).add("stock", -1).when(Condition::AtLeast("stock".into(), 1)),
        }
    }

    #[test]
    fn cancellation_reasons_map_to_the_port_in_write_order() {
        let writes = [put(), add_stock()];
        let mut fresh = [false, false];
        let reasons = [reason("None", None), reason("ConditionalCheckFailed", Some(&stored(None).with("stock", 0)))];
        assert_eq!(
            judge_cancellation(&writes, &mut fresh, &reasons, NOW).expect("judged"),
            Cancellation::Final(vec![None, Some(CancelReason::ConditionFailed)])
        );
    }

    #[test]
    fn a_transaction_cancelled_only_by_conflicts_is_retried() {
        let writes = [put(), add_stock()];
        let reasons = [reason("TransactionConflict", None), reason("None", None)];
        assert_eq!(
            judge_cancellation(&writes, &mut [false, false], &reasons, NOW).expect("judged"),
            Cancellation::Transient(vec![Some(CancelReason::Conflict), None])
        );
        let with_failure = [
            reason("TransactionConflict", None),
            reason("ConditionalCheckFailed", Some(&stored(None).with("stock", 0))),
        ];
        assert!(matches!(
            judge_cancellation(&writes, &mut [false, false], &with_failure, NOW),
            Ok(Cancellation::Final(_))
        ));
    }

    #[test]
    fn an_update_of_an_expired_item_in_a_transaction_is_resent_as_a_fresh_put() {
        let writes = [put(), Write::Update { table: Table::Carts, update: Update::new(key()).add("qty", 1) }];
        let mut fresh = [false, false];
        let reasons = [reason("None", None), reason("ConditionalCheckFailed", Some(&stored(Some(NOW - 5))))];
        assert_eq!(judge_cancellation(&writes, &mut fresh, &reasons, NOW).expect("judged"), Cancellation::Rewritten);
        assert_eq!(fresh, [false, true]);
        // A live item appeared before the put: back to an update.
        let reasons = [reason("None", None), reason("ConditionalCheckFailed", Some(&stored(None)))];
        assert_eq!(judge_cancellation(&writes, &mut fresh, &reasons, NOW).expect("judged"), Cancellation::Rewritten);
        assert_eq!(fresh, [false, false]);
    }

    #[test]
    fn an_unknown_cancellation_reason_is_not_mistaken_for_a_business_outcome() {
        let reasons = [reason("ValidationError", None), reason("None", None)];
        assert_eq!(
            judge_cancellation(&[put(), add_stock()], &mut [false, false], &reasons, NOW).expect("judged"),
            Cancellation::Unexpected
        );
    }
}
