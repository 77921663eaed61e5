//! `show_spinner` / `show_time`: a transient output while the outermost cached call computes.
//!
//! On a miss of the outermost cached call (never on hits, never for nested calls: thousands of
//! nested spinners froze Streamlit apps) a `display_data` with its own display id says
//! "Running `load(…)`…" or the custom text; when the body returns (or panics) an
//! `update_display_data` with empty text makes it vanish. Like Streamlit's, the spinner only
//! appears once the call has run for half a second, so quick misses leave no trace. With
//! `show_time` it is rewritten with the elapsed seconds every 100 ms. Spinner messages bypass the
//! output recording, so a hit never replays a spinner. Only shown in a notebook (see
//! [`crate::env`]).

use crate::display::{display_content, new_display_id};
use crate::protocol::encode;
use crate::replay::{write_live, Stream};
use crate::store::spec::Spinner;
use serde_json::{json, Value};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a miss runs before its spinner appears.
const DELAY: Duration = Duration::from_millis(500);
/// How often `show_time` rewrites the elapsed time.
const TICK: Duration = Duration::from_millis(100);

/// A pending or shown spinner; dropping it stops it and removes what was shown.
pub(crate) struct Shown {
    id: String,
    stop: Sender<()>,
    /// Returns whether the spinner was shown.
    thread: Option<JoinHandle<bool>>,
}

/// Starts the spinner for a miss of `name`, if the options and the process call for one.
pub(crate) fn show(name: &str, spinner: Spinner, show_time: bool) -> Option<Shown> {
    let text = match spinner {
        Spinner::Off => return None,
        Spinner::Default => format!("Running `{name}(…)`…"),
        Spinner::Text(text) => text.to_string(),
    };
    if !crate::env::in_notebook() {
        return None;
    }
    let id = new_display_id();
    let (stop, stopped) = mpsc::channel::<()>();
    let shown_id = id.clone();
    let thread = std::thread::Builder::new()
        .name("cellar-spinner".into())
        .spawn(move || {
            let started = Instant::now();
            if stopped.recv_timeout(DELAY) != Err(RecvTimeoutError::Timeout) {
                return false;
            }
            let label = |started: Instant| {
                if show_time {
                    format!("{text} ({:.1} s)", started.elapsed().as_secs_f64())
                } else {
                    text.clone()
                }
            };
            send("display_data", &shown_id, &label(started));
            while stopped.recv_timeout(TICK) == Err(RecvTimeoutError::Timeout) {
                if show_time {
                    send("update_display_data", &shown_id, &label(started));
                }
            }
            true
        })
        .ok();
    Some(Shown { id, stop, thread })
}

impl Drop for Shown {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        let shown = self
            .thread
            .take()
            .is_some_and(|thread| thread.join().unwrap_or(false));
        if shown {
            send("update_display_data", &self.id, "");
        }
    }
}

fn send(msg_type: &str, id: &str, text: &str) {
    let mut data = serde_json::Map::new();
    data.insert("text/plain".into(), Value::String(text.to_string()));
    if !text.is_empty() {
        // Markdown, as Streamlit renders spinner text: the default's `load(…)` shows as code.
        data.insert("text/markdown".into(), json!(text));
    }
    let mut line = encode(msg_type, &display_content(data, id));
    line.push('\n');
    write_live(Stream::Stdout, line.as_bytes());
}
