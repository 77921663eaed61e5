//! Whether the remote tier is worth asking: after a failure it rests for [`RETRY_AFTER`], and
//! requests meanwhile fail at once with the same reason, so a remote that is down costs each
//! cached call nothing and the notebook one warning (the runtime warns once per run of
//! failures). The first request after the rest tries again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the tier rests after a failure.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct Health {
    last_failure: Mutex<Option<(Instant, String)>>,
}

impl Health {
    /// `Err` with the last failure while resting.
    pub fn ready(&self) -> Result<(), String> {
        match &*self.last_failure.lock().unwrap() {
            Some((at, why)) if at.elapsed() < RETRY_AFTER => Err(format!(
                "{why} (tried again after {} s)",
                RETRY_AFTER.as_secs()
            )),
            _ => Ok(()),
        }
    }

    pub fn failed(&self, why: &str) {
        *self.last_failure.lock().unwrap() = Some((Instant::now(), why.to_string()));
    }

    pub fn worked(&self) {
        *self.last_failure.lock().unwrap() = None;
    }

    /// The failure since which nothing worked, if any.
    pub fn failure(&self) -> Option<String> {
        self.last_failure
            .lock()
            .unwrap()
            .as_ref()
            .map(|(_, why)| why.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_rests_the_tier_until_something_works() {
        let health = Health::default();
        assert!(health.ready().is_ok());
        health.failed("connection refused");
        let why = health.ready().unwrap_err();
        assert!(why.starts_with("connection refused"), "{why}");
        assert_eq!(health.failure().as_deref(), Some("connection refused"));
        *health.last_failure.lock().unwrap() =
            Some((Instant::now() - RETRY_AFTER, "connection refused".into()));
        assert!(
            health.ready().is_ok(),
            "after the rest, the tier is asked again"
        );
        health.worked();
        assert_eq!(health.failure(), None);
    }
}
