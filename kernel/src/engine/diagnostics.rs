//! Errors of a cell, as Jupyter shows them: one `error` output with a readable traceback.
//!
//! Every compile error of a cell goes into that one output (clients and `jupyter_kernel_test`
//! expect exactly one), each drawn against the cell's source the way rustc draws it.

use super::panics::PanicReport;
use ariadne::sources;
use evcxr::{CompilationError, Theme};

/// What the `error` output and the error reply carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}

impl CellError {
    pub fn new(ename: &str, evalue: impl Into<String>) -> CellError {
        let evalue = evalue.into();
        CellError {
            ename: ename.to_string(),
            traceback: vec![format!("\x1b[0;31m{ename}\x1b[0m: {evalue}")],
            evalue,
        }
    }

    pub fn content(&self) -> serde_json::Value {
        serde_json::json!({ "ename": self.ename, "evalue": self.evalue, "traceback": self.traceback })
    }
}

/// rustc's diagnostics for the cell `source` (run as `In [count]`).
pub fn compile_errors(errors: &[CompilationError], source: &str, count: u32) -> CellError {
    let file = format!("In [{count}]");
    let mut traceback = Vec::new();
    for error in errors {
        traceback.extend(render(error, &file, source));
    }
    let first = errors
        .first()
        .map(CompilationError::message)
        .unwrap_or_default();
    let ename = match errors.first().and_then(CompilationError::code) {
        Some(code) => format!("error[{code}]"),
        None => "CompileError".to_string(),
    };
    CellError {
        ename,
        evalue: first,
        traceback,
    }
}

fn render(error: &CompilationError, file: &str, source: &str) -> Vec<String> {
    if error.is_from_user_code() {
        if let Some(report) = error.build_report(file.to_string(), source.to_string(), Theme::Light)
        {
            let mut out = Vec::new();
            if report
                .write(sources([(file.to_string(), source)]), &mut out)
                .is_ok()
            {
                return String::from_utf8_lossy(&out)
                    .lines()
                    .map(compact_ansi)
                    .collect();
            }
        }
    }
    // Errors that do not point into the cell (or cells with non-ASCII text): rustc's own text.
    let mut lines = vec![format!("\x1b[0;31merror\x1b[0m: {}", error.message())];
    for spanned in error.spanned_messages() {
        lines.extend(spanned.lines.iter().cloned());
        if !spanned.label.is_empty() {
            lines.push(spanned.label.clone());
        }
    }
    lines.extend(error.help().into_iter().map(|help| format!("help: {help}")));
    lines
}

/// The report colours every character on its own (`ESC[38;5;249mc ESC[0m ESC[38;5;249me …`);
/// a reset followed by the colour already in force is dropped, so a line carries each colour once.
fn compact_ansi(line: &str) -> String {
    const RESET: &str = "\x1b[0m";
    let mut out = String::with_capacity(line.len());
    let mut current: Option<&str> = None;
    let mut rest = line;
    while let Some(at) = rest.find('\x1b') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find('m').map_or(rest.len(), |i| i + 1);
        let code = &rest[..end];
        rest = &rest[end..];
        if code == RESET {
            // Look ahead: a reset right before the same colour changes nothing.
            let next_end = rest.starts_with('\x1b').then(|| rest.find('m')).flatten();
            if let (Some(next_end), Some(active)) = (next_end, current) {
                if &rest[..=next_end] == active {
                    rest = &rest[next_end + 1..];
                    continue;
                }
            }
            current = None;
        } else {
            current = Some(code);
        }
        out.push_str(code);
    }
    out.push_str(rest);
    out
}

/// A panic of the cell: its message, without the frames of evcxr's machinery.
pub fn panic(report: &PanicReport) -> CellError {
    let mut error = CellError::new("panic", report.message.clone());
    error.traceback = vec![
        format!("\x1b[0;31mthread '{}' panicked\x1b[0m:", report.thread),
        report.message.clone(),
    ];
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_shows_its_message() {
        let error = panic(&PanicReport {
            message: "boom 5".into(),
            thread: "<unnamed>".into(),
        });
        assert_eq!(error.ename, "panic");
        assert_eq!(error.evalue, "boom 5");
        assert!(error.traceback.iter().any(|line| line == "boom 5"));
    }

    #[test]
    fn repeated_colours_are_merged() {
        let line = "\x1b[38;5;249mc\x1b[0m\x1b[38;5;249me\x1b[0m \x1b[31mx\x1b[0m";
        assert_eq!(
            compact_ansi(line),
            "\x1b[38;5;249mce\x1b[0m \x1b[31mx\x1b[0m"
        );
        assert_eq!(compact_ansi("plain"), "plain");
    }

    #[test]
    fn content_has_the_three_fields() {
        let content = CellError::new("Interrupted", "stopped").content();
        assert_eq!(content["ename"], "Interrupted");
        assert_eq!(content["evalue"], "stopped");
        assert!(content["traceback"].is_array());
    }
}
