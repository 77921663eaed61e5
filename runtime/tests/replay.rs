//! Output replay: what a cached function printed or displayed while it computed is shown again,
//! in order, on every hit — nested cached calls included, in every mix of hits and misses.

mod support;

use cellar::{cache_data, cache_resource};
use support::{msg_type, run, text};

#[test]
fn child() {
    match support::scenario().as_deref() {
        Some("nested") => nested_calls(),
        Some("display") => displays(),
        Some("panic") => panics(),
        Some(other) => panic!("unknown scenario {other}"),
        None => {}
    }
}

#[cache_data(show_spinner = false)]
fn inner(x: u32) -> u32 {
    println!("OUT:inner {x}");
    eprintln!("ERR:inner {x}");
    x
}

#[cache_data(show_spinner = false)]
fn outer(x: u32) -> u32 {
    println!("OUT:outer-before {x}");
    let y = *inner(x);
    print!("OUT:outer-after ");
    println!("{x}");
    y + 1
}

fn nested_calls() {
    outer(1); // miss, miss
    println!("OUT:---");
    outer(1); // hit: replays all three lines
    println!("OUT:---");
    inner(1); // hit: replays its own slice only
    println!("OUT:---");
    inner(2); // miss alone
    outer(2); // miss around a nested hit
    println!("OUT:---");
    outer(2); // hit
}

#[test]
fn nested_calls_replay_in_order_in_every_mix_of_hits_and_misses() {
    let out = run("nested", true);
    let lines = out.lines("OUT:");
    let expected = [
        "outer-before 1",
        "inner 1",
        "outer-after 1",
        "---",
        "outer-before 1",
        "inner 1",
        "outer-after 1",
        "---",
        "inner 1",
        "---",
        "inner 2",
        "outer-before 2",
        "inner 2",
        "outer-after 2",
        "---",
        "outer-before 2",
        "inner 2",
        "outer-after 2",
    ];
    assert_eq!(
        lines,
        expected.map(|line| format!("OUT:{line}")),
        "{}",
        out.stdout
    );
    let errors = out.stderr_lines("ERR:");
    assert_eq!(
        errors,
        ["inner 1", "inner 1", "inner 1", "inner 2", "inner 2", "inner 2"]
            .map(|l| format!("ERR:{l}"))
    );
}

#[cache_data(show_spinner = false)]
fn chart(n: u32) -> u32 {
    cellar::display::html(&format!("<b>{n}</b>"));
    println!("OUT:chart {n}");
    n
}

#[cache_resource(show_spinner = false)]
fn connection() -> String {
    println!("OUT:connecting");
    "conn".to_string()
}

fn displays() {
    chart(1);
    chart(1);
    connection();
    connection();
}

#[test]
fn rich_displays_and_resources_replay_too() {
    let out = run("display", true);
    let shown: Vec<_> = out
        .messages()
        .iter()
        .map(|m| (msg_type(m).to_string(), text(m).to_string()))
        .collect();
    assert_eq!(
        shown,
        [
            ("display_data".to_string(), "1".to_string()),
            ("display_data".to_string(), "1".to_string())
        ]
    );
    assert_eq!(
        out.lines("OUT:"),
        [
            "OUT:chart 1",
            "OUT:chart 1",
            "OUT:connecting",
            "OUT:connecting"
        ]
    );
}

static ATTEMPTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[cache_data(show_spinner = false)]
fn fails_once() -> u32 {
    let attempt = ATTEMPTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    println!("OUT:attempt {attempt}");
    if attempt == 0 {
        panic!("boom");
    }
    7
}

fn panics() {
    let _ = std::panic::catch_unwind(fails_once);
    fails_once();
    fails_once();
    println!("OUT:end");
}

#[test]
fn a_panicking_body_records_nothing() {
    let out = run("panic", true);
    assert_eq!(
        out.lines("OUT:"),
        ["OUT:attempt 0", "OUT:attempt 1", "OUT:attempt 1", "OUT:end"]
    );
    assert!(
        out.stderr.contains("boom"),
        "the panic message is shown live: {}",
        out.stderr
    );
}

#[test]
fn a_plain_program_replays_nothing() {
    let out = run("nested", false);
    let expected = [
        "outer-before 1",
        "inner 1",
        "outer-after 1",
        "---",
        "---",
        "---",
        "inner 2",
        "outer-before 2",
        "outer-after 2",
        "---",
    ];
    assert_eq!(
        out.lines("OUT:"),
        expected.map(|line| format!("OUT:{line}")),
        "no replayed lines"
    );
}
