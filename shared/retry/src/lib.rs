//! How long nanoshop waits before trying again, in one place: a [`Backoff`] policy (the first
//! pause, how the pauses grow, their cap, their [`Jitter`]) and the pause it gives before each
//! retry. Every retry loop of the workspace takes its pauses from one: the DynamoDB adapter's
//! retries of throttled or conflicting requests, the cart's retries of a lost write race, the
//! Stripe adapter's retries of a failed call, and the expiry sweep's deferral of an order it
//! could not close.
//!
//! The loops themselves stay with their callers: each decides differently what is worth another
//! attempt (unprocessed keys, a cancelled transaction rewritten at once, a 401 that re-reads a
//! key, a stored retry time), so a shared `retry(operation)` would fit none of them without
//! flags. What they share is the arithmetic, and that is here.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

/// A schedule of pauses: the pause before retry `n` (from 0) grows from `first` by [`Growth`],
/// never beyond `cap`, and is then spread by [`Jitter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    growth: Growth,
    cap: Duration,
    jitter: Jitter,
}

/// How each pause follows from the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Growth {
    /// `factor` times as long.
    Times(u32),
    /// `step` longer.
    Plus(Duration),
}

/// How a pause is spread, so that writers that collided once do not collide again in step.
/// Jitter is drawn in whole milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// The pause as scheduled: for a schedule that is stored or added up into a time budget.
    None,
    /// "Equal jitter": somewhere in the upper half of the scheduled pause, both ends included.
    UpperHalf,
    /// The scheduled pause plus up to this much, both ends included.
    UpTo(Duration),
}

impl Backoff {
    /// Pauses that grow `factor` times from `first` up to `cap`, without jitter.
    pub const fn exponential(first: Duration, factor: u32, cap: Duration) -> Self {
        Self { first, growth: Growth::Times(factor), cap, jitter: Jitter::None }
    }

    /// Pauses that double from `first` up to `cap`, without jitter.
    pub const fn doubling(first: Duration, cap: Duration) -> Self {
        Self::exponential(first, 2, cap)
    }

    /// Pauses that grow by `step` from `first` up to `cap`, without jitter.
    pub const fn linear(first: Duration, step: Duration, cap: Duration) -> Self {
        Self { first, growth: Growth::Plus(step), cap, jitter: Jitter::None }
    }

    /// The same schedule, spread by `jitter`.
    pub const fn with_jitter(self, jitter: Jitter) -> Self {
        Self { jitter, ..self }
    }

    /// The pause before retry `retry` (0: the first retry) as scheduled, before jitter: grown
    /// from the first pause, at most the cap, whatever `retry` is.
    pub const fn nominal(&self, retry: u32) -> Duration {
        let grown = match self.growth {
            // Nothing grows from nothing, however large the factor's power.
            Growth::Times(_) if self.first.is_zero() => Some(Duration::ZERO),
            Growth::Times(factor) => match factor.checked_pow(retry) {
                Some(scale) => self.first.checked_mul(scale),
                None => None,
            },
            Growth::Plus(step) => match step.checked_mul(retry) {
                Some(total) => self.first.checked_add(total),
                None => None,
            },
        };
        match grown {
            Some(pause) if pause.as_nanos() < self.cap.as_nanos() => pause,
            // An overflow is longer than any cap.
            Some(_) | None => self.cap,
        }
    }

    /// The longest the pause before retry `retry` can be, jitter included.
    pub const fn longest(&self, retry: u32) -> Duration {
        let nominal = self.nominal(retry);
        match self.jitter {
            Jitter::None | Jitter::UpperHalf => nominal,
            Jitter::UpTo(extra) => nominal.saturating_add(Duration::from_millis(whole_millis(extra))),
        }
    }

    /// The longest the pauses before the first `retries` retries can add up to: what waiting adds
    /// to a caller's worst case.
    pub const fn longest_total(&self, retries: u32) -> Duration {
        let mut total = Duration::ZERO;
        let mut retry = 0;
        while retry < retries {
            total = total.saturating_add(self.longest(retry));
            retry += 1;
        }
        total
    }

    /// The pause before retry `retry` (0: the first retry), its jitter drawn at random.
    pub fn delay(&self, retry: u32) -> Duration {
        self.delay_drawn(retry, random())
    }

    /// Waits out [`Backoff::delay`] of retry `retry`.
    pub async fn sleep(&self, retry: u32) {
        tokio::time::sleep(self.delay(retry)).await;
    }

    /// [`Backoff::delay`] with its jitter picked by `draw`: draws 0 to the jitter's width in
    /// milliseconds reach every pause it allows, in order.
    fn delay_drawn(&self, retry: u32, draw: u64) -> Duration {
        let nominal = self.nominal(retry);
        match self.jitter {
            Jitter::None => nominal,
            Jitter::UpperHalf => upper_half(whole_millis(nominal), draw),
            Jitter::UpTo(extra) => {
                nominal.saturating_add(Duration::from_millis(draw % whole_millis(extra).saturating_add(1)))
            }
        }
    }
}

/// Somewhere in the upper half of `ceiling_ms`, both ends included, picked by `draw`. The lower
/// end rounds up so that an odd ceiling never pauses below half of it.
fn upper_half(ceiling_ms: u64, draw: u64) -> Duration {
    let floor = ceiling_ms.div_ceil(2);
    Duration::from_millis(floor + draw % (ceiling_ms - floor + 1))
}

/// `duration` in whole milliseconds, the unit of jitter (saturating, for durations of more than
/// 584 million years).
const fn whole_millis(duration: Duration) -> u64 {
    duration.as_secs().saturating_mul(1_000).saturating_add(duration.subsec_millis() as u64)
}

/// 64 random bits without a dependency: each `RandomState` is freshly keyed.
fn random() -> u64 {
    RandomState::new().hash_one(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn millis(pauses: impl IntoIterator<Item = Duration>) -> Vec<u128> {
        pauses.into_iter().map(|p| p.as_millis()).collect()
    }

    #[test]
    fn doubling_pauses_grow_from_the_first_up_to_the_cap() {
        let backoff = Backoff::doubling(25 * MS, 1_000 * MS);
        assert_eq!(millis((0..8).map(|r| backoff.nominal(r))), [25, 50, 100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(backoff.nominal(u32::MAX), 1_000 * MS, "no overflow, however many retries");
        let minutes = Backoff::doubling(Duration::from_secs(60), Duration::from_secs(1_800));
        assert_eq!(millis([minutes.nominal(5), minutes.nominal(64)]), [1_800_000, 1_800_000]);
    }

    #[test]
    fn other_factors_steps_and_a_zero_start_follow_their_schedule() {
        let fourfold = Backoff::exponential(100 * MS, 4, 400 * MS);
        assert_eq!(millis((0..3).map(|r| fourfold.nominal(r))), [100, 400, 400]);
        let linear = Backoff::linear(Duration::ZERO, MS, 8 * MS);
        assert_eq!(millis([0, 1, 7, 8, 9, u32::MAX].map(|r| linear.nominal(r))), [0, 1, 7, 8, 8, 8]);
        let nothing = Backoff::doubling(Duration::ZERO, MS);
        assert_eq!(nothing.nominal(u32::MAX), Duration::ZERO, "nothing doubled is nothing, not the cap");
    }

    #[test]
    fn equal_jitter_stays_in_the_upper_half_both_ends_included() {
        // The ends, reached by the smallest and the largest draws: an odd ceiling once let a draw
        // of 0 pause 12 ms under a 25 ms ceiling, below half of it.
        assert_eq!(upper_half(0, u64::MAX), Duration::ZERO);
        for ceiling in [1, 25, 50, 1_000] {
            let half = Duration::from_millis(ceiling) / 2;
            let lowest = upper_half(ceiling, 0);
            let highest = upper_half(ceiling, ceiling - ceiling.div_ceil(2));
            assert!(lowest >= half, "ceiling {ceiling}: {lowest:?}");
            assert_eq!(highest, Duration::from_millis(ceiling));
            assert!(upper_half(ceiling, u64::MAX) <= Duration::from_millis(ceiling));
        }
        let backoff = Backoff::doubling(25 * MS, 1_000 * MS).with_jitter(Jitter::UpperHalf);
        for retry in 0..40 {
            let ceiling = backoff.nominal(retry);
            let pause = backoff.delay(retry);
            assert!(pause >= ceiling / 2 && pause <= ceiling, "retry {retry}: {pause:?}");
            assert_eq!(backoff.longest(retry), ceiling);
        }
    }

    #[test]
    fn added_jitter_reaches_every_millisecond_up_to_its_width() {
        let backoff = Backoff::linear(Duration::ZERO, MS, 8 * MS).with_jitter(Jitter::UpTo(3 * MS));
        assert_eq!(millis((0..6).map(|draw| backoff.delay_drawn(2, draw))), [2, 3, 4, 5, 2, 3]);
        assert_eq!(backoff.delay_drawn(20, u64::MAX), 11 * MS);
        assert_eq!(backoff.longest(20), 11 * MS);
        for retry in 0..40 {
            let pause = backoff.delay(retry);
            assert!(pause >= backoff.nominal(retry) && pause <= backoff.longest(retry), "retry {retry}: {pause:?}");
        }
    }

    #[test]
    fn without_jitter_the_pause_is_the_schedule_and_adds_up_to_the_worst_case() {
        let backoff = Backoff::exponential(100 * MS, 4, 400 * MS);
        assert_eq!(millis((0..3).map(|r| backoff.delay(r))), [100, 400, 400]);
        assert_eq!(backoff.longest_total(0), Duration::ZERO);
        assert_eq!(backoff.longest_total(2), 500 * MS);
        let jittered = Backoff::linear(Duration::ZERO, MS, 8 * MS).with_jitter(Jitter::UpTo(3 * MS));
        assert_eq!(jittered.longest_total(3), (3 + 4 + 5) * MS, "the jitter counts at its widest");
    }

    #[tokio::test(start_paused = true)]
    async fn sleep_waits_out_the_pause() {
        let backoff = Backoff::doubling(Duration::from_secs(60), Duration::from_secs(1_800));
        let start = tokio::time::Instant::now();
        backoff.sleep(2).await;
        assert_eq!(start.elapsed(), Duration::from_secs(240));
    }
}
