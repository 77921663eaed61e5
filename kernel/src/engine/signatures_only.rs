//! The standard crates as rust-analyzer needs them to type a cell's variables: their items and
//! signatures, without what their functions do.
//!
//! rust-analyzer parses `core`, `alloc` and `std` whole at a kernel's start (the kernel's copy of
//! them, `std_source`, about 19 MB of rustc's expansion): about half of what the engine thread
//! does at the start, in a profile. A variable's type comes from signatures, not from function
//! bodies, so the copy holds each body as `{ loop {} }`, about a sixth of the text. Kept are
//! the bodies rust-analyzer may evaluate (a `const fn`, the functions of an `impl const`: an
//! array's length may call them). The text is used only when it parses with no more errors than
//! before.

use ra_ap_syntax::{ast, AstNode, Edition, SourceFile, TextRange};

/// What a body becomes: it still type-checks as any return type.
const NO_BODY: &str = "{ loop {} }";

/// `text`, a crate of the `edition` ("2021"…), with the bodies of its functions left out; `None`
/// when the edition is not one rust-analyzer knows or the result would parse worse.
pub fn without_bodies(text: &str, edition: &str) -> Option<String> {
    let edition: Edition = edition.parse().ok()?;
    let before = SourceFile::parse(text, edition);
    let bodies = bodies_left_out(&before.tree());
    let mut reduced = String::with_capacity(text.len());
    let mut copied_to = 0;
    for body in bodies {
        let (start, end) = (usize::from(body.start()), usize::from(body.end()));
        // A function inside a body already left out.
        if start < copied_to {
            continue;
        }
        reduced.push_str(&text[copied_to..start]);
        reduced.push_str(NO_BODY);
        copied_to = end;
    }
    reduced.push_str(&text[copied_to..]);
    let after = SourceFile::parse(&reduced, edition);
    (after.errors().len() <= before.errors().len()).then_some(reduced)
}

/// The bodies to leave out, in the order they come in the text.
fn bodies_left_out(file: &SourceFile) -> Vec<TextRange> {
    file.syntax()
        .descendants()
        .filter_map(ast::Fn::cast)
        .filter(|function| !may_be_evaluated(function))
        .filter_map(|function| function.body())
        .map(|body| body.syntax().text_range())
        .collect()
}

/// A `const fn`, or a function of an `impl const`.
fn may_be_evaluated(function: &ast::Fn) -> bool {
    let in_const_impl = function
        .syntax()
        .ancestors()
        .find_map(ast::Impl::cast)
        .is_some_and(|block| block.const_token().is_some());
    function.const_token().is_some() || in_const_impl
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_left_out_and_signatures_kept() {
        let text = "/// Docs stay.\npub fn add(a: u8, b: u8) -> u8 { a + b }\n\
                    pub trait Show { fn show(&self) -> String { String::new() } fn name(&self); }\n\
                    impl Show for u8 { fn show(&self) -> String { format!(\"{self}\") } fn name(&self) {} }\n\
                    extern \"C\" { fn abs(x: i32) -> i32; }\n";
        assert_eq!(
            without_bodies(text, "2021").unwrap(),
            "/// Docs stay.\npub fn add(a: u8, b: u8) -> u8 { loop {} }\n\
             pub trait Show { fn show(&self) -> String { loop {} } fn name(&self); }\n\
             impl Show for u8 { fn show(&self) -> String { loop {} } fn name(&self) { loop {} } }\n\
             extern \"C\" { fn abs(x: i32) -> i32; }\n"
        );
    }

    #[test]
    fn bodies_that_may_be_evaluated_are_kept() {
        let text = "pub const fn size() -> usize { 8 }\n\
                    impl const Default for S { fn default() -> S { S } }\n\
                    pub const fn outer() -> usize { fn inner() -> usize { 1 } 2 }\n";
        assert_eq!(
            without_bodies(text, "2024").unwrap(),
            "pub const fn size() -> usize { 8 }\n\
             impl const Default for S { fn default() -> S { S } }\n\
             pub const fn outer() -> usize { fn inner() -> usize { loop {} } 2 }\n"
        );
    }

    #[test]
    fn a_function_inside_a_body_left_out_goes_with_it() {
        let text = "fn outer() { fn inner() { work() } inner() }";
        assert_eq!(
            without_bodies(text, "2021").unwrap(),
            "fn outer() { loop {} }"
        );
    }

    #[test]
    fn text_that_parsed_with_errors_is_reduced_all_the_same() {
        let text = "fn broken( { }\nfn whole() -> u8 { 1 }";
        let reduced = without_bodies(text, "2021").unwrap();
        assert!(
            reduced.ends_with("fn whole() -> u8 { loop {} }"),
            "{reduced}"
        );
    }

    #[test]
    fn an_edition_rust_analyzer_does_not_know_leaves_the_text_alone() {
        assert_eq!(without_bodies("fn f() { 1; }", "2077"), None);
    }
}
