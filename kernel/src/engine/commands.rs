//! The kernel's own `:` commands. Everything else that starts with `:` is evcxr's (`:dep`,
//! `:vars`, `:opt`…) and goes to evcxr unchanged. The `:cellar` commands are requests on the
//! control channel to the runtime (`control`): they compile nothing.

use super::cell::{Runner, INTERNAL_WORK_WAIT};
use super::control::{self, Answer};
use super::diagnostics::CellError;
use super::CellOutcome;
use cellar::protocol::{ControlReply, ControlRequest, Reach};
use serde_json::json;
use std::time::Duration;

/// A cell that is one kernel command.
#[derive(Debug, PartialEq, Eq)]
pub enum Command<'a> {
    Help,
    Doc(&'a str),
    Cellar(&'a str),
}

/// How long `:cellar clear remote` waits: the remote tier bounds each request, a folder may take
/// several.
const REMOTE_CLEAR_WAIT: Duration = Duration::from_secs(300);

const HELP: &str = "\
cellar commands:
:help            this list, then evcxr's commands
:doc NAME        documentation of NAME in the pager (like IPython's `NAME?`)
:cellar          every cache: function, kind, scope, entries, bytes, hits, misses, last compute time
:cellar clear    empty every cache and remove its entries on this machine (on_release runs for each)
:cellar clear remote
                 the same, and remove what this notebook's functions stored in the remote tier
";

pub fn parse(code: &str) -> Option<Command<'_>> {
    let line = code.trim();
    if line.contains('\n') {
        return None;
    }
    let (name, args) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let args = args.trim();
    match name {
        ":help" if args.is_empty() => Some(Command::Help),
        ":doc" => Some(Command::Doc(args)),
        ":cellar" => Some(Command::Cellar(args)),
        _ => None,
    }
}

/// The arguments of each line of `cell` that is the (evcxr) command `name`, such as `:opt`.
pub fn command_lines<'a>(cell: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> {
    cell.lines().filter_map(move |line| {
        let rest = line.trim_start().strip_prefix(name)?;
        (rest.is_empty() || rest.starts_with(char::is_whitespace)).then(|| rest.trim())
    })
}

/// Whether a line of `cell` is one of the (evcxr) commands `names`.
pub fn has_command_line(cell: &str, names: &[&str]) -> bool {
    names
        .iter()
        .any(|name| command_lines(cell, name).next().is_some())
}

pub fn run(runner: &mut Runner, command: Command) -> CellOutcome {
    match command {
        Command::Help => {
            let evcxr = runner
                .context
                .execute(":help")
                .ok()
                .and_then(|out| out.content_by_mime_type.get("text/plain").cloned())
                .unwrap_or_default();
            runner.sink.send(
                "stream",
                json!({ "name": "stdout", "text": format!("{HELP}\nevcxr commands:\n{evcxr}\n") }),
            );
            CellOutcome::default()
        }
        Command::Doc("") => error("UsageError", "usage: :doc NAME"),
        Command::Doc(name) => match runner.hover(name, name.len()) {
            Some((plain, html)) => CellOutcome {
                payload: vec![
                    json!({ "source": "page", "data": { "text/plain": plain, "text/html": html }, "start": 0 }),
                ],
                ..CellOutcome::default()
            },
            None => error("NotFound", &format!("no documentation found for `{name}`")),
        },
        Command::Cellar("") => {
            // Before any cached call the cell process has no caches: the report (of what is on
            // disk) is made here, in the kernel, which links the same runtime.
            let bundle = match control::ask(&ControlRequest::Report, Some(INTERNAL_WORK_WAIT)) {
                Ok(Answer::Replied(ControlReply::Report { bundle })) => bundle,
                Ok(_) => cellar::__private::report_bundle(""),
                Err(failure) => return error("CellarReportFailed", &failure.to_string()),
            };
            runner
                .sink
                .send("display_data", json!({ "data": bundle, "metadata": {} }));
            let grace = crate::sessions::grace().as_secs_f64();
            let mut policy = format!(
                "Session-scoped entries are released {grace} s after their client disconnects (set {} in the kernelspec env).\n",
                crate::sessions::GRACE_ENV
            );
            if let Some(remote) = runner.remote_tier() {
                policy.push_str(&remote.summary());
            }
            policy.push_str(&key_coverage(&runner.notebook.key_coverage()));
            runner
                .sink
                .send("stream", json!({ "name": "stdout", "text": policy }));
            CellOutcome::default()
        }
        Command::Cellar(which @ ("clear" | "clear remote")) => {
            let remote = runner.remote_tier().is_some();
            let (reach, wait, done) = if which == "clear" {
                let done = if remote {
                    "Every cache is empty on this machine; the remote tier is untouched (:cellar clear remote clears it too).\n"
                } else {
                    "Every cache is empty.\n"
                };
                (Reach::ThisMachine, INTERNAL_WORK_WAIT, done)
            } else if remote {
                (
                    Reach::EveryTier,
                    REMOTE_CLEAR_WAIT,
                    "Every cache is empty, and the remote tier holds nothing of this notebook's functions.\n",
                )
            } else {
                return error(
                    "UsageError",
                    "there is no remote tier to clear: set CELLAR_CACHE_URL=s3://BUCKET/PREFIX in the kernel's environment",
                );
            };
            let request = ControlRequest::ClearEverything { reach };
            match control::ask(&request, Some(wait)) {
                Ok(Answer::Replied(_)) => {}
                // No caches in memory: the stored entries go all the same.
                Ok(Answer::NotServing) => {
                    cellar::__private::clear_everything(reach);
                }
                Err(failure) => return error("CellarClearFailed", &failure.to_string()),
            }
            runner
                .sink
                .send("stream", json!({ "name": "stdout", "text": done }));
            CellOutcome::default()
        }
        Command::Cellar(other) => error(
            "UsageError",
            &format!(
                "unknown :cellar argument `{other}`; try :cellar, :cellar clear or :cellar clear remote"
            ),
        ),
    }
}

/// Which notebook items each cached function's key covers: editing one of them is a miss.
fn key_coverage(coverage: &[(String, Vec<String>)]) -> String {
    if coverage.is_empty() {
        return String::new();
    }
    let mut text = String::from(
        "Notebook code each cached function's key covers (editing it makes the next call a miss):\n",
    );
    for (function, items) in coverage {
        let items = if items.is_empty() {
            "only its own source".to_string()
        } else {
            items.join(", ")
        };
        text.push_str(&format!("  {function}: {items}\n"));
    }
    text
}

fn error(ename: &str, evalue: &str) -> CellOutcome {
    CellOutcome {
        error: Some(CellError::new(ename, evalue)),
        ..CellOutcome::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_commands_are_whole_one_line_cells() {
        assert_eq!(parse(":help"), Some(Command::Help));
        assert_eq!(parse("  :doc  Vec::new "), Some(Command::Doc("Vec::new")));
        assert_eq!(parse(":cellar clear"), Some(Command::Cellar("clear")));
        assert_eq!(
            parse(":cellar clear remote"),
            Some(Command::Cellar("clear remote"))
        );
        assert_eq!(parse(":cellar"), Some(Command::Cellar("")));
        assert_eq!(parse(":dep serde = \"1\""), None);
        assert_eq!(parse(":doc x\n1 + 1"), None);
        assert_eq!(parse("1 + 1"), None);
    }

    #[test]
    fn key_coverage_names_each_function_and_its_items() {
        assert_eq!(key_coverage(&[]), "");
        let text = key_coverage(&[
            ("calc".into(), vec!["LIMIT".into(), "helper".into()]),
            ("load".into(), vec![]),
        ]);
        assert!(text.contains("  calc: LIMIT, helper\n"), "{text}");
        assert!(text.contains("  load: only its own source\n"), "{text}");
    }
}
