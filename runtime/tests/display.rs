//! Rich output mid-cell and the spinner, as the kernel sees them on the cell process's stdout.

mod support;

use cellar::{cache_data, display};
use serde_json::json;
use std::time::Duration;
use support::{display_id, msg_type, run, text};

#[test]
fn child() {
    match support::scenario().as_deref() {
        Some("display") => show_everything(),
        Some("spinner") => spinners(),
        Some("show_time") => {
            timed(1);
        }
        Some(other) => panic!("unknown scenario {other}"),
        None => {}
    }
}

fn show_everything() {
    let handle = display::html("<b>rides</b>");
    display::markdown("# Rides");
    display::svg("<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    display::png(&[0x89, b'P', b'N', b'G']);
    display::jpeg(&[0xff, 0xd8]);
    display::json(&json!({ "rides": [1, 2] }));
    display::latex("$$x^2$$");
    display::text("plain");
    display::mime_bundle([("text/html", "<i>x</i>"), ("text/csv", "a,b")]);
    display::table(["city", "rides"], [["Oslo", "12"]]);
    handle.update_html("<b>done</b>");
    handle.update_text("done");
    display::clear_output(true);
}

#[test]
fn each_display_function_sends_one_message_with_a_text_fallback() {
    let messages = run("display", true).messages();
    let types: Vec<_> = messages.iter().map(msg_type).collect();
    assert_eq!(types[..10], ["display_data"; 10]);
    assert_eq!(
        types[10..],
        ["update_display_data", "update_display_data", "clear_output"]
    );
    for message in &messages[..10] {
        assert!(
            !text(message).is_empty(),
            "a text/plain fallback: {message}"
        );
        assert!(display_id(message).starts_with("cellar-"));
    }
    let data = |i: usize| &messages[i]["content"]["data"];
    assert_eq!(data(0)["text/html"], "<b>rides</b>");
    assert_eq!(data(1)["text/markdown"], "# Rides");
    assert!(data(2)["image/svg+xml"]
        .as_str()
        .unwrap()
        .starts_with("<svg"));
    assert_eq!(data(3)["image/png"], "iVBORw==");
    assert_eq!(data(4)["image/jpeg"], "/9g=");
    assert_eq!(data(5)["application/json"], json!({ "rides": [1, 2] }));
    assert_eq!(data(6)["text/latex"], "$$x^2$$");
    assert_eq!(data(7)["text/plain"], "plain");
    assert_eq!(data(8)["text/csv"], "a,b");
    assert_eq!(data(8)["text/plain"], "x");
    assert!(data(9)["text/html"]
        .as_str()
        .unwrap()
        .contains("<td>Oslo</td>"));
    assert_eq!(
        display_id(&messages[10]),
        display_id(&messages[0]),
        "an update targets its display"
    );
    assert_eq!(data(10)["text/html"], "<b>done</b>");
    assert_eq!(data(11)["text/plain"], "done");
    assert_eq!(messages[12]["content"], json!({ "wait": true }));
    let ids: std::collections::HashSet<_> = messages[..10].iter().map(display_id).collect();
    assert_eq!(ids.len(), 10, "every display has its own id");
}

#[cache_data(show_spinner = "Loading rides…")]
fn with_text(x: u32) -> u32 {
    std::thread::sleep(Duration::from_millis(700));
    *nested(x)
}

#[cache_data]
fn nested(x: u32) -> u32 {
    std::thread::sleep(Duration::from_millis(600));
    x
}

#[cache_data]
fn quick(x: u32) -> u32 {
    x
}

#[cache_data(show_spinner = false)]
fn silent(x: u32) -> u32 {
    x
}

fn spinners() {
    with_text(1); // miss: one spinner (the nested miss shows none)
    with_text(1); // hit: nothing
    nested(2); // an outermost miss of a default spinner
    quick(1); // a miss quicker than the spinner's delay shows nothing
    silent(1);
    println!("OUT:end");
}

#[test]
fn a_spinner_shows_on_the_outermost_miss_only_and_vanishes() {
    let messages = run("spinner", true).messages();
    let summary: Vec<(&str, &str)> = messages.iter().map(|m| (msg_type(m), text(m))).collect();
    assert_eq!(
        summary,
        [
            ("display_data", "Loading rides…"),
            ("update_display_data", ""),
            ("display_data", "Running `nested(…)`…"),
            ("update_display_data", ""),
        ]
    );
    assert_eq!(display_id(&messages[0]), display_id(&messages[1]));
    assert_eq!(display_id(&messages[2]), display_id(&messages[3]));
    assert_ne!(display_id(&messages[0]), display_id(&messages[2]));
}

#[test]
fn a_plain_program_shows_no_spinner() {
    let out = run("spinner", false);
    assert!(out.messages().is_empty(), "{}", out.stdout);
    assert_eq!(out.lines("OUT:"), ["OUT:end"]);
}

#[cache_data(show_time = true)]
fn timed(x: u32) -> u32 {
    std::thread::sleep(Duration::from_millis(900));
    x
}

#[test]
fn show_time_counts_the_seconds_then_vanishes() {
    let messages = run("show_time", true).messages();
    let (first, rest) = messages.split_first().unwrap();
    assert!(
        text(first).starts_with("Running `timed(…)`… ("),
        "{}",
        text(first)
    );
    let (last, ticks) = rest.split_last().unwrap();
    assert!(
        !ticks.is_empty(),
        "the elapsed time is shown while the body runs"
    );
    assert!(ticks
        .iter()
        .all(|t| text(t).starts_with("Running `timed(…)`… (") && text(t).ends_with(" s)")));
    assert_eq!(text(last), "");
    assert!(messages.iter().all(|m| display_id(m) == display_id(first)));
}
