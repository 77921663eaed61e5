//! The `:cellar` report: every cache's stats as one display (HTML table, text fallback), and
//! where entries live on disk.

use crate::display::{self, DisplayHandle};
use crate::store::registry;
use crate::store::spec::Scope;
use crate::store::stats::CacheStats;
use serde_json::{json, Value};
use std::time::Duration;

const HEADERS: [&str; 9] = [
    "function",
    "kind",
    "scope",
    "entries",
    "bytes",
    "on disk",
    "hits",
    "misses",
    "last compute",
];

/// Shows the stats of every cache. `format`: `"html"` (or empty: an HTML table with a text
/// fallback), `"text"` (text only) or `"json"` (the stats as JSON, with a text fallback).
pub fn report(format: &str) -> DisplayHandle {
    display::show(bundle(format))
}

/// The mime bundle [`report`] shows; the kernel's `:cellar` asks for it on the control channel.
pub fn bundle(format: &str) -> display::MimeBundle {
    let stats = registry::stats();
    let (headers, rows) = table(&stats);
    let mut text = if stats.is_empty() {
        "no caches yet".to_string()
    } else {
        display::text_table(&headers, &rows)
    };
    let mut html = if stats.is_empty() {
        "<p>No caches yet.</p>".to_string()
    } else {
        display::html_table(&headers, &rows)
    };
    for line in disk_lines() {
        text.push_str(&format!("\n{line}"));
        html.push_str(&format!("<p>{}</p>", display::escape(&line)));
    }
    let plain = |text: String| display::bundle_of([("text/plain", Value::String(text))]);
    match format {
        "" | "html" => display::bundle_of([
            ("text/html", Value::String(html)),
            ("text/plain", Value::String(text)),
        ]),
        "text" => plain(text),
        "json" => display::bundle_of([
            ("application/json", json!(stats)),
            ("text/plain", Value::String(text)),
        ]),
        other => plain(format!(
            "cellar: unknown report format `{other}`: use html, text or json"
        )),
    }
}

fn table(stats: &[CacheStats]) -> (Vec<String>, Vec<Vec<String>>) {
    let rows = stats
        .iter()
        .map(|s| {
            let scope = match (s.scope, &s.session) {
                (Scope::Global, _) => "global".to_string(),
                (Scope::Session, Some(session)) => format!("session {}", short(session)),
                (Scope::Session, None) => "session (none)".to_string(),
            };
            vec![
                s.name.to_string(),
                s.kind.name().to_string(),
                scope,
                s.entries.to_string(),
                s.bytes.map_or("—".to_string(), bytes),
                s.disk_bytes.map_or("—".to_string(), |n| bytes(n as usize)),
                s.hits.to_string(),
                s.misses.to_string(),
                s.last_compute.map_or("—".to_string(), duration),
            ]
        })
        .collect();
    (HEADERS.iter().map(|h| h.to_string()).collect(), rows)
}

/// One line per folder: what it is for, where it is, what it holds.
fn disk_lines() -> Vec<String> {
    crate::store::storage::usage()
        .into_iter()
        .map(|(what, dir, files, size)| {
            format!(
                "{what}: {} ({files} files, {})",
                dir.display(),
                bytes(size as usize)
            )
        })
        .collect()
}

fn short(session: &str) -> &str {
    session.get(..8).unwrap_or(session)
}

fn bytes(n: usize) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 1.0 {
        format!("{secs:.2} s")
    } else if secs >= 1e-3 {
        format!("{:.1} ms", secs * 1e3)
    } else {
        format!("{:.0} µs", secs * 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::spec::CacheKind;

    #[test]
    fn rows_show_every_column_readably() {
        let stats = CacheStats {
            name: "load",
            kind: CacheKind::Data,
            scope: Scope::Session,
            session: Some("0123456789abcdef".into()),
            entries: 2,
            bytes: Some(3 << 20),
            disk_bytes: Some(3 << 20),
            hits: 5,
            misses: 2,
            last_compute: Some(Duration::from_millis(1500)),
        };
        let (headers, rows) = table(&[stats]);
        assert_eq!(headers.len(), rows[0].len());
        assert_eq!(
            rows[0],
            [
                "load",
                "cache_data",
                "session 01234567",
                "2",
                "3.0 MiB",
                "3.0 MiB",
                "5",
                "2",
                "1.50 s"
            ]
        );
        assert_eq!(duration(Duration::from_micros(12)), "12 µs");
        assert_eq!(bytes(12), "12 B");
    }
}
