//! Client sessions: which connection runs each cell, and when a connection has gone away.
//!
//! A session is one client connection (a JupyterLab tab, `jupyter console --existing`, an
//! nbclient run), named by the `session` field of the headers it sends. Its requests reach the
//! shell ROUTER from one ZeroMQ peer (jupyter_client gives a client's shell and stdin sockets the
//! same identity). When the socket's monitor reports that peer disconnected, its sessions are
//! released after a grace period, so a flaky network does not rebuild resources; a session that
//! sends a request within the grace period keeps its entries.
//!
//! The grace period is `CELLAR_SESSION_GRACE` seconds (default 10), settable in the kernelspec's
//! `env`, and shown by `:cellar`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

pub const GRACE_ENV: &str = "CELLAR_SESSION_GRACE";
const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// The grace period in force.
pub fn grace() -> Duration {
    std::env::var(GRACE_ENV)
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs >= 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_GRACE)
}

#[derive(Default)]
pub struct Sessions {
    /// The sessions each connected peer has spoken for.
    by_peer: HashMap<Vec<u8>, HashSet<String>>,
    /// Sessions whose peer disconnected, with the generation of that disconnect (a session that
    /// comes back bumps it, which cancels the pending release).
    leaving: HashMap<String, u64>,
    generation: u64,
}

impl Sessions {
    /// A request from `session` arrived through `peer`.
    pub fn seen(&mut self, peer: &[u8], session: &str) {
        self.leaving.remove(session);
        self.by_peer
            .entry(peer.to_vec())
            .or_default()
            .insert(session.to_string());
    }

    /// `peer` disconnected: its sessions that no other peer still uses start to leave. Returns
    /// them with the ticket to present to [`Sessions::confirm_gone`] after the grace period.
    pub fn disconnected(&mut self, peer: &[u8]) -> Vec<(String, u64)> {
        let Some(sessions) = self.by_peer.remove(peer) else {
            return Vec::new();
        };
        let still_connected: HashSet<&String> = self.by_peer.values().flatten().collect();
        let mut leaving = Vec::new();
        for session in sessions {
            if !still_connected.contains(&session) {
                self.generation += 1;
                self.leaving.insert(session.clone(), self.generation);
                leaving.push((session, self.generation));
            }
        }
        leaving
    }

    /// After the grace period: true when the session is still gone, and is now forgotten.
    pub fn confirm_gone(&mut self, session: &str, ticket: u64) -> bool {
        if self.leaving.get(session) == Some(&ticket) {
            self.leaving.remove(session);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disconnected_session_is_released_after_the_grace_period() {
        let mut sessions = Sessions::default();
        sessions.seen(b"peer-a", "lab-tab");
        sessions.seen(b"peer-b", "console");
        let leaving = sessions.disconnected(b"peer-a");
        assert_eq!(leaving.len(), 1);
        let (session, ticket) = &leaving[0];
        assert_eq!(session, "lab-tab");
        assert!(sessions.confirm_gone(session, *ticket));
        assert!(!sessions.confirm_gone(session, *ticket), "released once");
    }

    #[test]
    fn a_session_that_comes_back_in_time_is_kept() {
        let mut sessions = Sessions::default();
        sessions.seen(b"peer-a", "lab-tab");
        let leaving = sessions.disconnected(b"peer-a");
        sessions.seen(b"peer-c", "lab-tab");
        assert!(!sessions.confirm_gone(&leaving[0].0, leaving[0].1));
    }

    #[test]
    fn a_session_still_reachable_through_another_peer_is_kept() {
        let mut sessions = Sessions::default();
        sessions.seen(b"shell-1", "s");
        sessions.seen(b"shell-2", "s");
        assert!(sessions.disconnected(b"shell-1").is_empty());
        assert!(sessions.disconnected(b"unknown").is_empty());
    }

    #[test]
    fn grace_comes_from_the_environment() {
        assert_eq!(grace(), DEFAULT_GRACE);
    }
}
