//! How many refused discount codes a cart may try, and for how long it is locked out after.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Codes a cart may try that are unknown or do not apply, within [`CODE_ATTEMPT_WINDOW`]; the next
/// attempt is refused until the window ends. A shopper who mistypes a code, or tries the one they
/// have on a cart it does not suit, is well within five, while guessing private codes at five per
/// cart every quarter of an hour is hopeless.
pub const MAX_FAILED_CODE_ATTEMPTS: u32 = 5;
/// How long a cart's window of failed attempts lasts, from its first failure.
pub const CODE_ATTEMPT_WINDOW: TimeDelta = TimeDelta::minutes(15);

/// A cart's failed discount-code attempts: how many in the current window, and when that window
/// began (at the first failure). Stored with the cart and changed in the same conditional write as
/// the cart, so concurrent attempts all count.
///
/// Unknown codes and codes that do not apply count alike, and once the cart is out of attempts
/// every code is refused alike, so the answers cannot tell a private code from a wrong one; within
/// the limit, a shopper still learns why their code does not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CodeAttempts {
    failed: u32,
    window_start: Option<DateTime<Utc>>,
}

impl CodeAttempts {
    /// No failure yet (or none stored).
    pub fn is_none(&self) -> bool {
        self.window_start.is_none()
    }

    /// When the cart may try a code again, if it has used up its attempts in the window
    /// running at `now`; `None` while it may try one.
    pub fn locked_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let end = self.window_start? + CODE_ATTEMPT_WINDOW;
        (self.failed >= MAX_FAILED_CODE_ATTEMPTS && now < end).then_some(end)
    }

    /// These attempts with one more failure at `now`: counted in the running window, or opening a
    /// new one when there is none or it has ended.
    #[must_use]
    pub fn failed_at(self, now: DateTime<Utc>) -> Self {
        match self.window_start {
            Some(start) if now < start + CODE_ATTEMPT_WINDOW => {
                Self { failed: self.failed.saturating_add(1), window_start: Some(start) }
            }
            _ => Self { failed: 1, window_start: Some(now) },
        }
    }

    /// Failures counted in the window running at `now`.
    pub fn failed_in_window(&self, now: DateTime<Utc>) -> u32 {
        match self.window_start {
            Some(start) if now < start + CODE_ATTEMPT_WINDOW => self.failed,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, day, 12, 0, 0).single().expect("valid date")
    }

    #[test]
    fn five_failed_codes_lock_a_cart_out_until_the_window_ends() {
        let start = at(1);
        let minute = TimeDelta::minutes(1);
        let attempts = (0..4).fold(CodeAttempts::default(), |a, i| a.failed_at(start + minute * i));
        assert_eq!(attempts.locked_until(start + minute * 4), None, "four failures leave one attempt");
        let attempts = attempts.failed_at(start + minute * 4);
        let end = start + CODE_ATTEMPT_WINDOW;
        assert_eq!(attempts.failed_in_window(start + minute * 4), 5);
        assert_eq!(attempts.locked_until(start + minute * 4), Some(end), "the window runs from the first failure");
        assert_eq!(attempts.locked_until(end - TimeDelta::seconds(1)), Some(end));
        assert_eq!(attempts.locked_until(end), None, "open again when the window ends");
        assert_eq!(attempts.failed_in_window(end), 0);
        let next = attempts.failed_at(end);
        assert_eq!((next.failed_in_window(end), next.locked_until(end)), (1, None), "a new window opens");
        assert_eq!(next.locked_until(end + CODE_ATTEMPT_WINDOW - minute), None);
    }

    #[test]
    fn failures_spread_over_more_than_a_window_never_lock_a_cart() {
        let mut attempts = CodeAttempts::default();
        let mut now = at(1);
        for _ in 0..20 {
            // Four failures a window: always one short of the limit.
            for _ in 0..4 {
                attempts = attempts.failed_at(now);
                assert_eq!(attempts.locked_until(now), None);
            }
            now += CODE_ATTEMPT_WINDOW;
        }
    }

    #[test]
    fn attempts_are_stored_only_once_there_is_a_failure() {
        assert!(CodeAttempts::default().is_none());
        let failed = CodeAttempts::default().failed_at(at(2));
        assert!(!failed.is_none());
        let stored = serde_json::to_value(failed).expect("serialises");
        assert_eq!(serde_json::from_value::<CodeAttempts>(stored).expect("loads"), failed);
    }
}
