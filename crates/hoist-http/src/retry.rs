//! Retries for errors that can pass, and only those: full-jitter exponential
//! backoff with a cap, `Retry-After` honoured, an overall deadline.
//!
//! The clock and the backoff scale are injectable, so tests of retries and
//! waiting run in microseconds instead of sleeping.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// The environment variable that scales every backoff wait, for tests of
/// whole binaries (`0` waits not at all; `0.001` turns seconds into
/// milliseconds). Values outside `0..=1` are ignored.
pub const BACKOFF_SCALE_VARIABLE: &str = "HOIST_BACKOFF_SCALE";

/// Time as the retry loop sees it.
pub trait Clock: Send + Sync {
    /// Time elapsed since the clock started.
    fn elapsed(&self) -> Duration;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The real clock.
#[derive(Debug)]
pub struct SystemClock {
    start: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock for tests: sleeping advances it at once, and every sleep is
/// recorded.
#[derive(Debug, Default)]
pub struct ManualClock {
    state: Mutex<(Duration, Vec<Duration>)>,
}

impl ManualClock {
    /// Moves the clock forward, as if time passed elsewhere.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut state) = self.state.lock() {
            state.0 += by;
        }
    }

    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state
            .lock()
            .map(|state| state.1.clone())
            .unwrap_or_default()
    }
}

impl Clock for ManualClock {
    fn elapsed(&self) -> Duration {
        self.state.lock().map(|state| state.0).unwrap_or_default()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        if let Ok(mut state) = self.state.lock() {
            state.0 += duration;
            state.1.push(duration);
        }
        Box::pin(std::future::ready(()))
    }
}

/// Full-jitter exponential backoff: the wait before retry `n` (from 1) is
/// uniform in `0..=min(cap, base * 2^(n-1))`, times `scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first retry's ceiling.
    pub base: Duration,
    /// The largest ceiling.
    pub cap: Duration,
    /// A factor on every wait, `Retry-After` included (1 in production).
    pub scale: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(20),
            scale: 1.0,
        }
    }
}

impl Backoff {
    /// The same backoff with the scale taken from [`BACKOFF_SCALE_VARIABLE`]
    /// in `env`, when it holds a number from 0 to 1.
    pub fn scaled_by_env(mut self, env: &std::collections::BTreeMap<String, String>) -> Self {
        if let Some(scale) = env
            .get(BACKOFF_SCALE_VARIABLE)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| (0.0..=1.0).contains(s))
        {
            self.scale = scale;
        }
        self
    }

    /// The ceiling for retry number `retry` (1 for the first retry).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let doubled = self.base.saturating_mul(
            1u32.checked_shl(retry.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        doubled.min(self.cap)
    }

    /// A random wait for retry number `retry`, already scaled.
    pub fn delay(&self, retry: u32) -> Duration {
        self.ceiling(retry).mul_f64(fastrand::f64() * self.scale)
    }
}

/// How many attempts, for how long, with what waits between them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// No attempt starts after this much time; `None` for no limit.
    pub deadline: Option<Duration>,
    /// The waits.
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            deadline: Some(Duration::from_secs(120)),
            backoff: Backoff::default(),
        }
    }
}

/// Whether an error can pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Try again, after the server's `Retry-After` if it gave one.
    Retry {
        /// The wait the server asked for.
        after: Option<Duration>,
    },
    /// Give up now: auth, validation, anything a retry cannot fix.
    Fail,
}

/// Why the retry loop stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The error cannot pass.
    NotRetryable,
    /// Every attempt was used.
    OutOfAttempts,
    /// The next wait would end past the deadline.
    OutOfTime,
}

/// The last error, with how many attempts were made and why they stopped.
#[derive(Debug)]
pub struct RetryError<E> {
    /// The last attempt's error.
    pub last: E,
    /// How many attempts were made.
    pub attempts: u32,
    /// Why no further attempt was made.
    pub stop: Stop,
}

/// Runs `operation` (given the attempt number, from 1) until it succeeds,
/// `classify` says its error cannot pass, or the policy runs out.
pub async fn retry<T, E, Fut>(
    policy: &RetryPolicy,
    clock: &dyn Clock,
    mut operation: impl FnMut(u32) -> Fut,
    classify: impl Fn(&E) -> Verdict,
) -> Result<T, RetryError<E>>
where
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        let last = match operation(attempt).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let after = match classify(&last) {
            Verdict::Fail => {
                return Err(RetryError {
                    last,
                    attempts: attempt,
                    stop: Stop::NotRetryable,
                });
            }
            Verdict::Retry { after } => after,
        };
        if attempt >= policy.max_attempts.max(1) {
            return Err(RetryError {
                last,
                attempts: attempt,
                stop: Stop::OutOfAttempts,
            });
        }
        let wait = match after {
            Some(asked) => asked.mul_f64(policy.backoff.scale),
            None => policy.backoff.delay(attempt),
        };
        if policy
            .deadline
            .is_some_and(|deadline| clock.elapsed() + wait > deadline)
        {
            return Err(RetryError {
                last,
                attempts: attempt,
                stop: Stop::OutOfTime,
            });
        }
        clock.sleep(wait).await;
        attempt += 1;
    }
}

/// The HTTP statuses that can pass: timeouts, throttling, server errors.
pub fn status_is_retryable(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Reads `Retry-After`: whole seconds or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Fake {
        Busy,
        Denied,
    }

    fn classify(error: &Fake) -> Verdict {
        match error {
            Fake::Busy => Verdict::Retry { after: None },
            Fake::Denied => Verdict::Fail,
        }
    }

    fn run<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn retries_until_success_with_growing_capped_waits() {
        let clock = ManualClock::default();
        let policy = RetryPolicy {
            max_attempts: 6,
            deadline: None,
            backoff: Backoff {
                base: Duration::from_secs(1),
                cap: Duration::from_secs(4),
                scale: 1.0,
            },
        };
        let result = run(retry(
            &policy,
            &clock,
            |n| async move { if n < 6 { Err(Fake::Busy) } else { Ok(n) } },
            classify,
        ));
        assert_eq!(result.ok(), Some(6));
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 5);
        for (i, sleep) in sleeps.iter().enumerate() {
            assert!(
                *sleep <= policy.backoff.ceiling(i as u32 + 1),
                "{i}: {sleep:?}"
            );
        }
        assert_eq!(policy.backoff.ceiling(1), Duration::from_secs(1));
        assert_eq!(policy.backoff.ceiling(3), Duration::from_secs(4));
        assert_eq!(policy.backoff.ceiling(40), Duration::from_secs(4));
    }

    #[test]
    fn a_permanent_error_stops_at_once() {
        let clock = ManualClock::default();
        let result = run(retry(
            &RetryPolicy::default(),
            &clock,
            |_| async { Err::<(), _>(Fake::Denied) },
            classify,
        ));
        let error = result.err().unwrap();
        assert_eq!(
            (error.last, error.attempts, error.stop),
            (Fake::Denied, 1, Stop::NotRetryable)
        );
        assert!(clock.sleeps().is_empty());
    }

    #[test]
    fn attempts_run_out() {
        let clock = ManualClock::default();
        let policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        let error = run(retry(
            &policy,
            &clock,
            |_| async { Err::<(), _>(Fake::Busy) },
            classify,
        ))
        .err()
        .unwrap();
        assert_eq!((error.attempts, error.stop), (3, Stop::OutOfAttempts));
        assert_eq!(clock.sleeps().len(), 2);
    }

    #[test]
    fn the_deadline_stops_before_a_wait_that_would_pass_it() {
        let clock = ManualClock::default();
        let policy = RetryPolicy {
            max_attempts: 100,
            deadline: Some(Duration::from_secs(30)),
            backoff: Backoff::default(),
        };
        let classify_after = |_: &Fake| Verdict::Retry {
            after: Some(Duration::from_secs(10)),
        };
        let error = run(retry(
            &policy,
            &clock,
            |_| async { Err::<(), _>(Fake::Busy) },
            classify_after,
        ))
        .err()
        .unwrap();
        assert_eq!(error.stop, Stop::OutOfTime);
        assert_eq!(
            error.attempts, 4,
            "waits at 10, 20, 30 s; a fourth would pass 30 s"
        );
        assert_eq!(clock.sleeps(), vec![Duration::from_secs(10); 3]);
    }

    #[test]
    fn retry_after_is_honoured_and_scaled() {
        let clock = ManualClock::default();
        let policy = RetryPolicy {
            max_attempts: 2,
            deadline: None,
            backoff: Backoff {
                scale: 0.001,
                ..Backoff::default()
            },
        };
        let classify_after = |_: &Fake| Verdict::Retry {
            after: Some(Duration::from_secs(7)),
        };
        let _ = run(retry(
            &policy,
            &clock,
            |_| async { Err::<(), _>(Fake::Busy) },
            classify_after,
        ));
        assert_eq!(clock.sleeps(), vec![Duration::from_millis(7)]);
    }

    #[test]
    fn scale_comes_from_the_environment() {
        let env = [(BACKOFF_SCALE_VARIABLE.to_owned(), "0".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(Backoff::default().scaled_by_env(&env).scale, 0.0);
        let env = [(BACKOFF_SCALE_VARIABLE.to_owned(), "5".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(Backoff::default().scaled_by_env(&env).scale, 1.0);
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn retryable_statuses() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(status_is_retryable(status));
        }
        for status in [400, 401, 403, 404, 409, 422, 501] {
            assert!(!status_is_retryable(status));
        }
    }
}
