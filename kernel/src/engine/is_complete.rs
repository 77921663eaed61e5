//! `is_complete`: does a cell need more lines? (`jupyter console` asks before it runs a line.)
//!
//! A cell is `incomplete` while a bracket, string or block comment is still open, `invalid` when a
//! closing bracket does not match, and `complete` otherwise. Rust's lexer rules that matter here:
//! nested block comments, escapes, raw strings (`r#"…"#`) and `'a'` versus lifetimes (`'a`).

/// The verdict and the indent a console should offer for the next line.
#[derive(Debug, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    Incomplete { indent: String },
    Invalid,
}

impl Completeness {
    pub fn status(&self) -> &'static str {
        match self {
            Completeness::Complete => "complete",
            Completeness::Incomplete { .. } => "incomplete",
            Completeness::Invalid => "invalid",
        }
    }
}

pub fn check(code: &str) -> Completeness {
    let chars: Vec<char> = code.chars().collect();
    let mut open: Vec<char> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => match skip_block_comment(&chars, i) {
                Some(end) => i = end,
                None => return incomplete(open.len() + 1),
            },
            '"' => match skip_string(&chars, i + 1) {
                Some(end) => i = end,
                None => return incomplete(open.len()),
            },
            'r' if is_raw_string_start(&chars, i) => match skip_raw_string(&chars, i + 1) {
                Some(end) => i = end,
                None => return incomplete(open.len()),
            },
            '\'' => i = skip_char_or_lifetime(&chars, i),
            '(' | '[' | '{' => open.push(c),
            ')' | ']' | '}' => {
                let expected = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if open.pop() != Some(expected) {
                    return Completeness::Invalid;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if open.is_empty() {
        Completeness::Complete
    } else {
        incomplete(open.len())
    }
}

fn incomplete(depth: usize) -> Completeness {
    Completeness::Incomplete {
        indent: "    ".repeat(depth),
    }
}

/// Index of the `/` that ends a (nested) block comment opened at `start`.
fn skip_block_comment(chars: &[char], start: usize) -> Option<usize> {
    let mut depth = 0;
    let mut i = start;
    while i + 1 < chars.len() {
        match (chars[i], chars[i + 1]) {
            ('/', '*') => {
                depth += 1;
                i += 2;
            }
            ('*', '/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i - 1);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Index of the closing `"` of a string whose text starts at `start`.
fn skip_string(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// `r"`, `r#"`, `br"`… where the `r` is not the end of an identifier.
fn is_raw_string_start(chars: &[char], i: usize) -> bool {
    let starts_token = i == 0
        || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
        || (chars[i - 1] == 'b' && (i == 1 || !chars[i - 2].is_alphanumeric()));
    let mut j = i + 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    starts_token && chars.get(j) == Some(&'"')
}

/// Index of the last `#` (or `"`) closing a raw string whose hashes start at `start`.
fn skip_raw_string(chars: &[char], start: usize) -> Option<usize> {
    let hashes = chars[start..].iter().take_while(|&&c| c == '#').count();
    let mut i = start + hashes + 1;
    while i < chars.len() {
        if chars[i] == '"'
            && chars[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(i + hashes);
        }
        i += 1;
    }
    None
}

/// A char literal (`'a'`, `'\n'`, `'\u{1F600}'`) is skipped whole; a lifetime only by its quote.
fn skip_char_or_lifetime(chars: &[char], start: usize) -> usize {
    match chars.get(start + 1) {
        Some('\\') => {
            let mut i = start + 2;
            while i < chars.len() && chars[i] != '\'' && chars[i] != '\n' {
                i += 1;
            }
            i
        }
        Some(_) if chars.get(start + 2) == Some(&'\'') => start + 2,
        _ => start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_cells() {
        for code in [
            "1 + 1",
            "let x = vec![1, 2];",
            "fn f<'a>(s: &'a str) -> &'a str { s }",
            "let c = '{';",
            "let s = \"}\";",
            "let r = r#\"a \" } b\"#;",
            "// {\n1",
            "/* { /* } */ */ 2",
            "let e = '\\'';",
        ] {
            assert_eq!(check(code), Completeness::Complete, "{code}");
        }
    }

    #[test]
    fn incomplete_cells() {
        for code in [
            "fn f() {",
            "let v = vec![1,",
            "let s = \"open",
            "/* comment",
            "if x {\n  (1",
        ] {
            assert_eq!(check(code).status(), "incomplete", "{code}");
        }
        assert_eq!(
            check("fn f() {\n if a {"),
            Completeness::Incomplete {
                indent: "        ".into()
            }
        );
    }

    #[test]
    fn invalid_cells() {
        for code in ["}", "fn f() { )", "let v = [1, 2);"] {
            assert_eq!(check(code), Completeness::Invalid, "{code}");
        }
    }
}
