//! Request rates: a token bucket per key (a bearer token, a device), in this process's
//! memory. Over the rate, a request is answered 429 with the seconds until it would pass.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Requests per second allowed on average, and how many may come at once.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

pub struct Limiter {
    rate: Rate,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Buckets kept at most; full buckets are forgotten first when there are more.
const MAX_KEYS: usize = 100_000;

impl Limiter {
    pub fn new(rate: Rate) -> Self {
        Limiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request for `key`: `Ok` if allowed, or the whole seconds to wait.
    pub fn take(&self, key: &str) -> Result<(), u64> {
        self.take_at(key, Instant::now())
    }

    fn take_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_KEYS {
            let Rate { per_second, burst } = self.rate;
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * per_second < burst
            });
        }
        let (tokens, at) = buckets
            .entry(key.to_owned())
            .or_insert((self.rate.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate.per_second)
            .min(self.rate.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.rate.per_second).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_passes_then_the_rate_holds_and_refills() {
        let limiter = Limiter::new(Rate {
            per_second: 2.0,
            burst: 3.0,
        });
        let t = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take_at("a", t), Ok(()));
        }
        assert_eq!(limiter.take_at("a", t), Err(1));
        assert_eq!(limiter.take_at("b", t), Ok(()), "keys are separate");
        assert_eq!(limiter.take_at("a", t + Duration::from_millis(600)), Ok(()));
    }
}
