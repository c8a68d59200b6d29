//! When to poll a feed next: adaptive to its rhythm, backing off on errors, never giving up.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use std::time::Duration;

/// Recent entries used to estimate a feed's rhythm.
const RHYTHM_WINDOW: usize = 10;
/// Jitter applied to every interval, as a fraction (0.1 = plus or minus 10%).
const JITTER: f64 = 0.1;
/// The first retry after an error, before doubling.
const FIRST_BACKOFF: Duration = Duration::from_secs(60);
/// Retry-After is honoured up to this long; a week of silence is the most we accept.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub min: Duration,
    pub max: Duration,
}

impl Schedule {
    /// The interval to keep between polls given the feed's entry dates: half the mean gap
    /// between its recent posts, within [min, max]. A feed with fewer than two dated posts
    /// is polled at the max interval's quarter (we know nothing yet; do not hammer it).
    pub fn rhythm(&self, dates: &[DateTime<Utc>]) -> Duration {
        let mut recent: Vec<DateTime<Utc>> = dates.to_vec();
        recent.sort_unstable_by(|a, b| b.cmp(a));
        recent.dedup();
        recent.truncate(RHYTHM_WINDOW);
        let guess = if recent.len() < 2 {
            self.max / 4
        } else {
            let span = (recent[0] - recent[recent.len() - 1]).num_seconds().max(0) as u64;
            let mean_gap = span / (recent.len() as u64 - 1);
            Duration::from_secs(mean_gap / 2)
        };
        guess.clamp(self.min, self.max)
    }

    /// Next poll after a success: the rhythm, no sooner than the server's own freshness
    /// hint (`<ttl>`, max-age, Expires) up to the max interval.
    pub fn after_success(
        &self,
        now: DateTime<Utc>,
        interval: Duration,
        floor: Option<Duration>,
        seed: u64,
    ) -> DateTime<Utc> {
        let mut d = interval.clamp(self.min, self.max);
        if let Some(f) = floor {
            d = d.max(f.min(self.max));
        }
        now + to_chrono(jitter(d, seed))
    }

    /// Next poll after the `errors`-th error in a row: exponential backoff from one minute
    /// up to the max interval, and never before `Retry-After`. There is no last retry.
    pub fn after_error(
        &self,
        now: DateTime<Utc>,
        errors: u32,
        retry_after: Option<Duration>,
        seed: u64,
    ) -> DateTime<Utc> {
        let exp = errors.saturating_sub(1).min(30);
        let backoff = FIRST_BACKOFF
            .saturating_mul(1u32 << exp.min(20))
            .min(self.max);
        let d = jitter(backoff, seed);
        let d = match retry_after {
            Some(ra) => d.max(ra.min(MAX_RETRY_AFTER)),
            None => d,
        };
        now + to_chrono(d)
    }
}

fn to_chrono(d: Duration) -> ChronoDuration {
    ChronoDuration::from_std(d).unwrap_or(ChronoDuration::MAX)
}

/// `d` spread by up to plus or minus [`JITTER`], deterministically from `seed`, so that
/// feeds added together do not stay in lockstep.
pub fn jitter(d: Duration, seed: u64) -> Duration {
    let unit = (splitmix64(seed) >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
    let factor = 1.0 + JITTER * (2.0 * unit - 1.0);
    d.mul_f64(factor)
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched() -> Schedule {
        Schedule {
            min: Duration::from_secs(600),
            max: Duration::from_secs(86_400),
        }
    }

    #[test]
    fn rhythm_is_half_the_mean_gap_within_bounds() {
        let now = Utc::now();
        let every = |h: i64| {
            (0..5)
                .map(|i| now - ChronoDuration::hours(h * i))
                .collect::<Vec<_>>()
        };
        assert_eq!(sched().rhythm(&every(4)), Duration::from_secs(2 * 3600));
        assert_eq!(
            sched().rhythm(&every(24 * 30)),
            sched().max,
            "monthly blogs: max"
        );
        let burst: Vec<_> = (0..5).map(|i| now - ChronoDuration::seconds(i)).collect();
        assert_eq!(sched().rhythm(&burst), sched().min, "bursts: min");
        assert_eq!(sched().rhythm(&[]), sched().max / 4);
    }

    #[test]
    fn backoff_grows_caps_and_never_stops() {
        let now = Utc::now();
        let mut last = ChronoDuration::zero();
        for errors in 1..200 {
            let d = sched().after_error(now, errors, None, 7) - now;
            let cap = ChronoDuration::seconds((86_400.0 * 1.1) as i64 + 1);
            assert!(d <= cap, "errors {errors}: {d}");
            assert!(d > ChronoDuration::zero());
            if errors < 10 {
                assert!(d >= last, "errors {errors}: {d} < {last}");
            }
            last = d;
        }
    }

    #[test]
    fn retry_after_and_ttl_push_the_next_poll() {
        let now = Utc::now();
        let ra = Duration::from_secs(3 * 3600);
        assert!(sched().after_error(now, 1, Some(ra), 1) - now >= ChronoDuration::hours(3));
        let floor = Some(Duration::from_secs(6 * 3600));
        let next = sched().after_success(now, Duration::from_secs(600), floor, 1) - now;
        assert!(next >= ChronoDuration::minutes(5 * 60 + 24), "{next}");
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let d = Duration::from_secs(1000);
        for seed in 0..1000 {
            let j = jitter(d, seed).as_secs_f64();
            assert!((900.0..=1100.0).contains(&j), "{j}");
        }
    }
}
