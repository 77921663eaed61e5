//! Panic reports on stderr, turned into the cell's error.
//!
//! evcxr catches a panic of the cell, returns `Ok` and leaves only Rust's panic report on stderr
//! (it runs the child with `RUST_BACKTRACE=1`). The scanner holds such a report back from the
//! stream; when its backtrace runs through the cell's function (`run_user_code_N`) it becomes
//! one `error` message with a readable message instead of a wall of frames. Reports of other
//! threads (a panic the cell caught itself) pass through as ordinary stderr text.

/// The panic of a cell: what the user wrote in `panic!` and where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanicReport {
    pub message: String,
    pub thread: String,
}

#[derive(Default)]
pub struct PanicScanner {
    block: Option<Block>,
    /// Rust prints a blank line before a panic report; it is held until the next line shows
    /// whether it belongs to one.
    blank_held: bool,
}

struct Block {
    lines: Vec<String>,
    thread: String,
    message: Vec<String>,
    in_backtrace: bool,
    in_cell: bool,
}

impl Block {
    fn end(self) -> (Vec<String>, Option<PanicReport>) {
        if self.in_cell || !self.in_backtrace {
            let report = PanicReport {
                message: self.message.join("\n"),
                thread: self.thread,
            };
            (Vec::new(), Some(report))
        } else {
            (self.lines, None)
        }
    }
}

impl PanicScanner {
    /// Takes one stderr line; returns the lines to show now and a finished report of the cell.
    pub fn scan(&mut self, line: String) -> (Vec<String>, Option<PanicReport>) {
        if self.block.is_none() && line.is_empty() && !self.blank_held {
            self.blank_held = true;
            return (Vec::new(), None);
        }
        let blank = std::mem::take(&mut self.blank_held);
        if let Some(thread) = panic_header(&line) {
            let finished = self.finish();
            self.block = Some(Block {
                lines: vec![line],
                thread,
                message: Vec::new(),
                in_backtrace: false,
                in_cell: false,
            });
            return finished;
        }
        let Some(block) = self.block.as_mut() else {
            let mut passed = if blank {
                vec![String::new()]
            } else {
                Vec::new()
            };
            passed.push(line);
            return (passed, None);
        };
        if block.in_backtrace {
            if line.starts_with("note: Some details are omitted") {
                block.lines.push(line);
                return self.finish();
            }
            if is_frame(&line) {
                block.in_cell |= line.contains("run_user_code_");
                block.lines.push(line);
                return (Vec::new(), None);
            }
            let (mut passed, report) = self.finish();
            passed.push(line);
            return (passed, report);
        }
        if line == "stack backtrace:" {
            block.in_backtrace = true;
        } else if line.starts_with("note: run with `RUST_BACKTRACE") {
            block.lines.push(line);
            return self.finish();
        } else {
            block.message.push(line.clone());
        }
        block.lines.push(line);
        (Vec::new(), None)
    }

    /// Ends the report being read, if any (the cell has returned).
    pub fn finish(&mut self) -> (Vec<String>, Option<PanicReport>) {
        let blank = std::mem::take(&mut self.blank_held);
        match self.block.take() {
            Some(block) => block.end(),
            None if blank => (vec![String::new()], None),
            None => (Vec::new(), None),
        }
    }
}

/// `thread 'name' (id) panicked at file:line:col:` → the thread's name.
fn panic_header(line: &str) -> Option<String> {
    let rest = line.strip_prefix("thread '")?;
    if !line.contains("panicked at ") {
        return None;
    }
    Some(rest.split('\'').next().unwrap_or_default().to_string())
}

fn is_frame(line: &str) -> bool {
    let trimmed = line.trim_start();
    line.starts_with(' ')
        && (trimmed.starts_with("at ")
            || trimmed
                .split(':')
                .next()
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(scanner: &mut PanicScanner, text: &str) -> (Vec<String>, Vec<PanicReport>) {
        let mut passed = Vec::new();
        let mut reports = Vec::new();
        for line in text.lines() {
            let (lines, report) = scanner.scan(line.to_string());
            passed.extend(lines);
            reports.extend(report);
        }
        let (lines, report) = scanner.finish();
        passed.extend(lines);
        reports.extend(report);
        (passed, reports)
    }

    const CELL_PANIC: &str = "\
thread '<unnamed>' (14156) panicked at src/lib.rs:105:1:
boom 5
stack backtrace:
   0: __rustc::rust_begin_unwind
             at /rustc/x/library/std/src/panicking.rs:689:5
   2: ctx::run_user_code_15::{{closure}}
   7: evcxr::runtime::Runtime::run_loop
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.";

    #[test]
    fn a_panic_of_the_cell_becomes_one_report() {
        let mut scanner = PanicScanner::default();
        let (passed, reports) = feed(
            &mut scanner,
            &format!("before\n\n{CELL_PANIC}\nafter\n\nend\n"),
        );
        assert_eq!(passed, vec!["before", "after", "", "end"]);
        assert_eq!(
            reports,
            vec![PanicReport {
                message: "boom 5".into(),
                thread: "<unnamed>".into()
            }]
        );
    }

    #[test]
    fn a_panic_of_another_thread_passes_through() {
        let other = "\
thread 'worker' (1) panicked at src/lib.rs:3:9:
oops
stack backtrace:
   0: std::thread::spawn
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.";
        let mut scanner = PanicScanner::default();
        let (passed, reports) = feed(&mut scanner, other);
        assert!(reports.is_empty());
        assert_eq!(passed.len(), 5);
        assert_eq!(passed[1], "oops");
    }

    #[test]
    fn a_multi_line_message_is_kept_whole() {
        let mut scanner = PanicScanner::default();
        let text = CELL_PANIC.replace("boom 5", "first\nsecond");
        let (_, reports) = feed(&mut scanner, &text);
        assert_eq!(reports[0].message, "first\nsecond");
    }
}
