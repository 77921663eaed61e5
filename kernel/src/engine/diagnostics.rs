//! Errors of a cell, as Jupyter shows them: one `error` output with a readable traceback.
//!
//! Every compile error of a cell goes into that one output (clients and `jupyter_kernel_test`
//! expect exactly one), each drawn the way rustc draws it against the cell as the user wrote it:
//! the positions rustc reports in the source the kernel sent are mapped back through the
//! cell's [`SourceMap`]. The headline is the first error-level diagnostic, never a warning.

use super::notebook::{LineIndex, SourceMap};
use super::panics::PanicReport;
use ariadne::{sources, Color, ColorGenerator, Label, Report, ReportKind};
use evcxr::CompilationError;
use std::ops::Range;

/// A cell as sent to evcxr, and the way back to the text the user wrote.
pub struct CellText<'a> {
    pub sent: &'a str,
    pub map: &'a SourceMap,
    pub original: &'a str,
}

impl CellText<'_> {
    /// The characters of the user's cell that a span (1-based line and character column in
    /// the sent source, end exclusive) covers.
    fn original_chars(&self, start: (usize, usize), end: (usize, usize)) -> Option<Range<usize>> {
        let start = self.map.to_original(byte_at(self.sent, start)?);
        let end = self.map.to_original(byte_at(self.sent, end)?).max(start);
        let chars = |byte: usize| {
            let byte = floor_char_boundary(self.original, byte.min(self.original.len()));
            self.original[..byte].chars().count()
        };
        Some(chars(start)..chars(end))
    }
}

/// The byte offset of a 1-based (line, character column) in `text`, as rustc reports them.
fn byte_at(text: &str, (line, column): (usize, usize)) -> Option<usize> {
    LineIndex::new(text).at(line.checked_sub(1)?, column.saturating_sub(1))
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

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

/// rustc's diagnostics for a cell (run as `In [count]`).
pub fn compile_errors(errors: &[CompilationError], cell: &CellText<'_>, count: u32) -> CellError {
    let file = format!("In [{count}]");
    let mut traceback = Vec::new();
    for error in errors {
        traceback.extend(render(error, &file, cell));
    }
    let headline = headline(errors);
    let ename = match headline.and_then(CompilationError::code) {
        Some(code) => format!("error[{code}]"),
        None => "CompileError".to_string(),
    };
    CellError {
        ename,
        evalue: headline.map(CompilationError::message).unwrap_or_default(),
        traceback,
    }
}

/// The diagnostic that names the cell's failure: its first error (a warning only if rustc
/// reported nothing else).
fn headline(errors: &[CompilationError]) -> Option<&CompilationError> {
    errors
        .iter()
        .find(|error| error.level() == "error")
        .or_else(|| errors.first())
}

fn render(error: &CompilationError, file: &str, cell: &CellText<'_>) -> Vec<String> {
    if error.is_from_user_code() {
        if let Some(report) = report(error, file, cell) {
            let mut out = Vec::new();
            if report
                .write(sources([(file.to_string(), cell.original)]), &mut out)
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

/// rustc's diagnostic as a report on the user's cell, labels where rustc put them.
fn report<'a>(
    error: &'a CompilationError,
    file: &str,
    cell: &CellText<'_>,
) -> Option<Report<'a, (String, Range<usize>)>> {
    let kind = match error.level() {
        "error" => ReportKind::Error,
        _ => ReportKind::Warning,
    };
    let mut builder = Report::build(kind, (file.to_string(), 0..cell.original.chars().count()))
        .with_message(error.message());
    if let Some(code) = error.code() {
        builder = builder.with_code(code);
    }
    let mut colors = ColorGenerator::new();
    let mut notes = Vec::new();
    let mut labelled = false;
    for message in error.spanned_messages().iter().chain(error.help_spanned()) {
        if message.label.is_empty() {
            continue;
        }
        match &message.span {
            Some(span) => {
                let range = cell.original_chars(
                    (span.start_line, span.start_column),
                    (span.end_line, span.end_column),
                )?;
                // Light theme: the darker half of the palette reads on a white page.
                let color = match colors.next() {
                    Color::Fixed(x) => Color::Fixed(255 - x),
                    other => other,
                };
                builder = builder.with_label(
                    Label::new((file.to_string(), range))
                        .with_message(&message.label)
                        .with_color(color)
                        .with_order(10),
                );
                labelled = true;
            }
            None => notes.push(message.label.clone()),
        }
    }
    if !labelled {
        return None;
    }
    if !notes.is_empty() {
        builder.set_note(notes.join("\n"));
    }
    Some(builder.finish())
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
    fn positions_are_found_by_line_and_character_column() {
        let text = "ab\né x\n";
        assert_eq!(byte_at(text, (1, 1)), Some(0));
        assert_eq!(byte_at(text, (2, 3)), Some(text.find('x').unwrap()));
        assert_eq!(byte_at(text, (2, 99)), Some(text.len() - 1));
        assert_eq!(byte_at(text, (9, 1)), None);
    }

    #[test]
    fn spans_in_the_sent_source_map_to_the_users_characters() {
        let edited =
            crate::engine::notebook::tests_support::anchored("impl Q { fn f() -> u8 { \"x\" } }");
        let cell = CellText {
            sent: &edited.0,
            map: &edited.1,
            original: "impl Q { fn f() -> u8 { \"x\" } }",
        };
        let column = edited.0.find("\"x\"").unwrap() + 1;
        let range = cell.original_chars((1, column), (1, column + 3)).unwrap();
        assert_eq!(range, 24..27);
    }

    #[test]
    fn content_has_the_three_fields() {
        let content = CellError::new("Interrupted", "stopped").content();
        assert_eq!(content["ename"], "Interrupted");
        assert_eq!(content["evalue"], "stopped");
        assert!(content["traceback"].is_array());
    }
}
