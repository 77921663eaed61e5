//! Applying the kernel's edits to a cell's text, and mapping positions back.
//!
//! What evcxr compiles is the user's cell with a few edits: cache attributes expanded, anchors
//! inserted before impl blocks, stale definitions re-sent. rustc's diagnostics then point into
//! that text; [`SourceMap`] takes their positions back to the text the user wrote, so errors are
//! drawn against the user's own cell.

use proc_macro2::{LineColumn, TokenStream};
use std::ops::Range;

/// One edit: the bytes `range` of the cell are replaced by `text` (an empty range inserts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

impl Edit {
    pub fn insert(at: usize, text: impl Into<String>) -> Edit {
        Edit {
            range: at..at,
            text: text.into(),
        }
    }
}

/// The edited text, and where each edit landed in it.
#[derive(Debug, Clone)]
pub struct Edited {
    pub text: String,
    pub map: SourceMap,
}

/// Why a set of edits cannot be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EditError {
    #[error("two rewrites of the cell overlap at bytes {0:?} and {1:?}")]
    Overlap(Range<usize>, Range<usize>),
    #[error("a rewrite of the cell ends past its text (bytes {0:?} of {1})")]
    OutOfBounds(Range<usize>, usize),
    #[error("a rewrite of the cell does not fall on a character boundary (bytes {0:?})")]
    NotCharBoundary(Range<usize>),
}

/// Applies `edits` to `original`. Insertions at one offset keep the order they were given in.
pub fn apply(original: &str, mut edits: Vec<Edit>) -> Result<Edited, EditError> {
    edits.sort_by_key(|edit| (edit.range.start, edit.range.end));
    for edit in &edits {
        if edit.range.end > original.len() || edit.range.start > edit.range.end {
            return Err(EditError::OutOfBounds(edit.range.clone(), original.len()));
        }
        if !original.is_char_boundary(edit.range.start)
            || !original.is_char_boundary(edit.range.end)
        {
            return Err(EditError::NotCharBoundary(edit.range.clone()));
        }
    }
    for pair in edits.windows(2) {
        if pair[1].range.start < pair[0].range.end {
            return Err(EditError::Overlap(
                pair[0].range.clone(),
                pair[1].range.clone(),
            ));
        }
    }
    let mut text = String::with_capacity(original.len());
    let mut spans = Vec::with_capacity(edits.len());
    let mut copied = 0;
    for edit in edits {
        text.push_str(&original[copied..edit.range.start]);
        let start = text.len();
        text.push_str(&edit.text);
        spans.push(EditSpan {
            original: edit.range.clone(),
            edited: start..text.len(),
        });
        copied = edit.range.end;
    }
    text.push_str(&original[copied..]);
    Ok(Edited {
        text,
        map: SourceMap { spans },
    })
}

/// Where each edit's text stands in the edited cell, and what it replaced in the original.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    spans: Vec<EditSpan>,
}

/// One edit: the bytes it replaced in the original cell, and those of its text in the edited one.
#[derive(Debug, Clone)]
struct EditSpan {
    original: Range<usize>,
    edited: Range<usize>,
}

impl SourceMap {
    /// The byte offset in the original cell of byte `at` of the edited one. A position inside
    /// text the kernel wrote maps to the start of what that text replaced.
    pub fn to_original(&self, at: usize) -> usize {
        let mut shift: isize = 0;
        for landed in &self.spans {
            if at < landed.edited.start {
                break;
            }
            if at < landed.edited.end {
                return landed.original.start;
            }
            shift = landed.original.end as isize - landed.edited.end as isize;
        }
        (at as isize + shift).max(0) as usize
    }
}

/// Line and character positions in a text → byte offsets.
pub struct LineIndex<'a> {
    starts: Vec<usize>,
    text: &'a str,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts, text }
    }

    /// The text the positions are in.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The byte offset of character `column` of line `line` (both from 0); a column past the
    /// end of the line is its end.
    pub fn at(&self, line: usize, column: usize) -> Option<usize> {
        let line_start = *self.starts.get(line)?;
        let rest = &self.text[line_start..];
        let line_text = &rest[..rest.find('\n').unwrap_or(rest.len())];
        let in_line = line_text
            .char_indices()
            .nth(column)
            .map_or(line_text.len(), |(i, _)| i);
        Some(line_start + in_line)
    }

    /// Where proc-macro2 puts a token of a cell parsed as a block: lines count from 1 and the
    /// wrapper adds one line (`{`) above the cell; columns count chars from 0.
    pub fn offset(&self, position: LineColumn) -> Option<usize> {
        self.at(position.line.checked_sub(2)?, position.column)
    }

    /// The bytes a run of tokens parsed from the cell covers, first token to last.
    pub fn range_of_tokens(&self, tokens: TokenStream) -> Option<Range<usize>> {
        let first = tokens.clone().into_iter().next()?.span().start();
        let last = tokens.into_iter().last()?.span().end();
        Some(self.offset(first)?..self.offset(last)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_found_by_line_and_character_column() {
        let text = "ab\né x\n";
        let lines = LineIndex::new(text);
        assert_eq!(lines.at(0, 0), Some(0));
        assert_eq!(lines.at(1, 2), Some(text.find('x').unwrap()));
        assert_eq!(lines.at(1, 99), Some(text.len() - 1), "clamped to the line");
        assert_eq!(lines.at(8, 0), None);
    }

    #[test]
    fn edits_apply_in_order_and_positions_map_back() {
        let original = "impl A {}\nfn f() {}\n";
        let edited = apply(
            original,
            vec![
                Edit::insert(10, "const X: () = (); "),
                Edit::insert(0, "const Y: () = (); "),
            ],
        )
        .unwrap();
        assert_eq!(
            edited.text,
            "const Y: () = (); impl A {}\nconst X: () = (); fn f() {}\n"
        );
        let impl_at = edited.text.find("impl").unwrap();
        assert_eq!(edited.map.to_original(impl_at), 0);
        let fn_at = edited.text.find("fn f").unwrap();
        assert_eq!(edited.map.to_original(fn_at), 10);
        assert_eq!(edited.map.to_original(3), 0, "inside inserted text");
        assert_eq!(edited.map.to_original(edited.text.len()), original.len());
    }

    #[test]
    fn replacements_map_their_inside_to_their_start() {
        let original = "#[cache_data]\nfn f() -> u8 { 1 }";
        let body = original.find('{').unwrap();
        let edited = apply(
            original,
            vec![Edit {
                range: 0..body,
                text: "fn f() -> Data<u8>\n".into(),
            }],
        )
        .unwrap();
        assert_eq!(edited.text, "fn f() -> Data<u8>\n{ 1 }");
        assert_eq!(edited.map.to_original(5), 0);
        assert_eq!(edited.map.to_original(edited.text.find('{').unwrap()), body);
    }

    #[test]
    fn overlapping_or_outside_edits_are_errors() {
        let overlap = apply(
            "abcdef",
            vec![
                Edit {
                    range: 0..3,
                    text: "x".into(),
                },
                Edit {
                    range: 2..4,
                    text: "y".into(),
                },
            ],
        );
        assert_eq!(overlap.unwrap_err(), EditError::Overlap(0..3, 2..4));
        let outside = apply("ab", vec![Edit::insert(5, "x")]);
        assert!(matches!(outside, Err(EditError::OutOfBounds(..))));
        let split = apply("é", vec![Edit::insert(1, "x")]);
        assert!(matches!(split, Err(EditError::NotCharBoundary(..))));
    }
}
