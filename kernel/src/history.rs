//! Input history, kept in a JSON-lines file so it outlives the kernel (IPython keeps SQLite).
//!
//! Every kernel start is a new history session numbered after the last one in the file; each
//! stored cell is `(session, line, input)` and, once it ran, its `text/plain` output. Requests:
//! `tail` (the last `n` cells), `range` (lines `start..stop` of a session; 0 and negative
//! numbers count back from the current one) and `search` (a glob over inputs, `unique`, last `n`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

/// Overrides the history file (tests use a scratch one).
pub const HISTORY_FILE_ENV: &str = "CELLAR_HISTORY_FILE";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Entry {
    session: u32,
    line: u32,
    input: String,
    #[serde(default)]
    output: Option<String>,
}

pub struct History {
    path: Option<PathBuf>,
    session: u32,
    entries: Vec<Entry>,
}

impl History {
    /// Opens the user's history file (`$CELLAR_HISTORY_FILE`, else the data folder).
    pub fn open_default() -> History {
        let path = std::env::var_os(HISTORY_FILE_ENV)
            .map(PathBuf::from)
            .or_else(|| dirs::data_dir().map(|dir| dir.join("cellar").join("history.jsonl")));
        History::open(path)
    }

    fn open(path: Option<PathBuf>) -> History {
        let entries: Vec<Entry> = path
            .as_ref()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .map(|text| {
                text.lines()
                    .filter_map(|line| serde_json::from_str(line).ok())
                    .collect()
            })
            .unwrap_or_default();
        let session = entries.iter().map(|e| e.session).max().unwrap_or(0) + 1;
        History {
            path,
            session,
            entries,
        }
    }

    /// Records a cell the user ran as line `line` of this session.
    pub fn record(&mut self, line: u32, input: &str, output: Option<String>) {
        let entry = Entry {
            session: self.session,
            line,
            input: input.to_string(),
            output,
        };
        if let Some(path) = &self.path {
            if let Err(error) = append(path, &entry) {
                eprintln!(
                    "cellar: could not write history to {}: {error}",
                    path.display()
                );
            }
        }
        self.entries.push(entry);
    }

    /// Answers a `history_request` content with the `history_reply` content.
    pub fn answer(&self, request: &Value) -> Value {
        let field = |name: &str| request.get(name).and_then(Value::as_i64);
        let output = request
            .get("output")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let found: Vec<&Entry> = match request.get("hist_access_type").and_then(Value::as_str) {
            Some("tail") => self.tail(field("n").unwrap_or(10)),
            Some("range") => self.range(
                field("session").unwrap_or(0),
                field("start").unwrap_or(0),
                field("stop"),
            ),
            Some("search") => self.search(
                request
                    .get("pattern")
                    .and_then(Value::as_str)
                    .unwrap_or("*"),
                request
                    .get("unique")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                field("n"),
            ),
            _ => Vec::new(),
        };
        let history: Vec<Value> = found
            .into_iter()
            .map(|e| {
                if output {
                    json!([
                        e.session,
                        e.line,
                        [e.input, e.output.clone().unwrap_or_default()]
                    ])
                } else {
                    json!([e.session, e.line, e.input])
                }
            })
            .collect();
        json!({ "status": "ok", "history": history })
    }

    fn tail(&self, n: i64) -> Vec<&Entry> {
        let n = n.max(0) as usize;
        self.entries[self.entries.len().saturating_sub(n)..]
            .iter()
            .collect()
    }

    fn range(&self, session: i64, start: i64, stop: Option<i64>) -> Vec<&Entry> {
        let session = if session <= 0 {
            self.session as i64 + session
        } else {
            session
        };
        self.entries
            .iter()
            .filter(|e| {
                e.session as i64 == session
                    && e.line as i64 >= start
                    && stop.is_none_or(|stop| (e.line as i64) < stop)
            })
            .collect()
    }

    fn search(&self, pattern: &str, unique: bool, n: Option<i64>) -> Vec<&Entry> {
        let Ok(glob) = glob::Pattern::new(pattern) else {
            return Vec::new();
        };
        let mut found: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| glob.matches(&e.input))
            .collect();
        if unique {
            let mut seen = std::collections::HashSet::new();
            // Keep the most recent run of each input.
            found.reverse();
            found.retain(|e| seen.insert(e.input.as_str()));
            found.reverse();
        }
        if let Some(n) = n {
            found.drain(..found.len().saturating_sub(n.max(0) as usize));
        }
        found
    }
}

fn append(path: &std::path::Path, entry: &Entry) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{}", serde_json::to_string(entry)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> (tempfile::TempDir, History) {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(Some(dir.path().join("h.jsonl")));
        (dir, history)
    }

    #[test]
    fn tail_range_and_search() {
        let (_dir, mut history) = scratch();
        for (line, code) in [(1, "1 + 2"), (2, "let x = 5;"), (3, "1 + 2"), (4, "x * 2")] {
            history.record(line, code, Some(format!("out{line}")));
        }
        let tail = history.answer(&json!({"hist_access_type": "tail", "n": 2, "output": false}));
        assert_eq!(tail["history"], json!([[1, 3, "1 + 2"], [1, 4, "x * 2"]]));
        let with_output =
            history.answer(&json!({"hist_access_type": "tail", "n": 1, "output": true}));
        assert_eq!(with_output["history"], json!([[1, 4, ["x * 2", "out4"]]]));
        let range = history
            .answer(&json!({"hist_access_type": "range", "session": 1, "start": 2, "stop": 3}));
        assert_eq!(range["history"], json!([[1, 2, "let x = 5;"]]));
        let current =
            history.answer(&json!({"hist_access_type": "range", "session": 0, "start": 4}));
        assert_eq!(current["history"], json!([[1, 4, "x * 2"]]));
        let search = history.answer(&json!({"hist_access_type": "search", "pattern": "1 + *"}));
        assert_eq!(search["history"].as_array().unwrap().len(), 2);
        let unique = history
            .answer(&json!({"hist_access_type": "search", "pattern": "1 + *", "unique": true}));
        assert_eq!(unique["history"], json!([[1, 3, "1 + 2"]]));
        let last = history.answer(&json!({"hist_access_type": "search", "pattern": "*", "n": 1}));
        assert_eq!(last["history"], json!([[1, 4, "x * 2"]]));
    }

    #[test]
    fn history_outlives_the_kernel_and_starts_a_new_session() {
        let (dir, mut first) = scratch();
        first.record(1, "let a = 1;", None);
        drop(first);
        let second = History::open(Some(dir.path().join("h.jsonl")));
        assert_eq!(second.session, 2);
        let tail = second.answer(&json!({"hist_access_type": "tail", "n": 5}));
        assert_eq!(tail["history"], json!([[1, 1, "let a = 1;"]]));
    }
}
