//! Rich output at the moment it is called, mid-cell: HTML, Markdown, images, JSON, LaTeX, tables.
//!
//! Each function sends one Jupyter `display_data` (through the kernel, see [`crate::protocol`])
//! and returns a [`DisplayHandle`] whose `update_*` methods replace that output in place
//! (`update_display_data` for its display id): progress bars, live tables. Every output carries a
//! `text/plain` fallback for frontends that render none of the rich types. Outside a notebook
//! the message lines simply go to stdout.
//!
//! ```no_run
//! use cellar::display;
//! let status = display::markdown("**loading…**");
//! display::html("<b>rides</b>: 1,204");
//! display::table(["city", "rides"], [["Oslo", "12"], ["Lima", "7"]]);
//! status.update_markdown("**done**");
//! display::clear_output(true);
//! ```

use crate::protocol;
use base64::Engine;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};

/// MIME type → data, as Jupyter's `data` field.
pub type MimeBundle = Map<String, Value>;

/// One output on the page, which can be replaced in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayHandle {
    id: String,
}

impl DisplayHandle {
    /// The Jupyter `display_id` of this output.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Replaces this output with a bundle of MIME types.
    pub fn update_bundle<K: Into<String>, V: Into<Value>>(
        &self,
        items: impl IntoIterator<Item = (K, V)>,
    ) {
        self.update(bundle_of(items));
    }

    pub fn update_html(&self, html: &str) {
        self.update(html_bundle(html));
    }

    pub fn update_markdown(&self, markdown: &str) {
        self.update(markdown_bundle(markdown));
    }

    pub fn update_svg(&self, svg: &str) {
        self.update(svg_bundle(svg));
    }

    pub fn update_png(&self, png: &[u8]) {
        self.update(image_bundle("image/png", png));
    }

    pub fn update_jpeg(&self, jpeg: &[u8]) {
        self.update(image_bundle("image/jpeg", jpeg));
    }

    pub fn update_json(&self, value: &impl Serialize) {
        self.update(json_bundle(value));
    }

    pub fn update_latex(&self, latex: &str) {
        self.update(latex_bundle(latex));
    }

    pub fn update_text(&self, text: &str) {
        self.update(text_bundle(text));
    }

    pub fn update_table<H: Display, C: Display, R: IntoIterator<Item = C>>(
        &self,
        headers: impl IntoIterator<Item = H>,
        rows: impl IntoIterator<Item = R>,
    ) {
        self.update(table_bundle(headers, rows));
    }

    fn update(&self, data: MimeBundle) {
        protocol::send("update_display_data", &display_content(data, &self.id));
    }
}

/// Shows HTML.
pub fn html(html: &str) -> DisplayHandle {
    show(html_bundle(html))
}

/// Shows Markdown (rendered by the frontend).
pub fn markdown(markdown: &str) -> DisplayHandle {
    show(markdown_bundle(markdown))
}

/// Shows an SVG image given as its XML text.
pub fn svg(svg: &str) -> DisplayHandle {
    show(svg_bundle(svg))
}

/// Shows a PNG image given as the file's bytes.
pub fn png(png: &[u8]) -> DisplayHandle {
    show(image_bundle("image/png", png))
}

/// Shows a JPEG image given as the file's bytes.
pub fn jpeg(jpeg: &[u8]) -> DisplayHandle {
    show(image_bundle("image/jpeg", jpeg))
}

/// Shows a value as JSON (JupyterLab renders it as a collapsible tree).
pub fn json(value: &impl Serialize) -> DisplayHandle {
    show(json_bundle(value))
}

/// Shows LaTeX, e.g. `$$e^{i\pi} + 1 = 0$$` (the frontend renders it with MathJax).
pub fn latex(latex: &str) -> DisplayHandle {
    show(latex_bundle(latex))
}

/// Shows plain text as an output of its own (one that can be updated, unlike a print).
pub fn text(text: &str) -> DisplayHandle {
    show(text_bundle(text))
}

/// Shows several representations of one thing at once; the frontend picks the richest it can
/// render. Values are strings for text types (and base64 for images), JSON for JSON types:
/// `mime_bundle([("text/html", "<b>x</b>"), ("text/plain", "x")])`. A `text/plain` fallback
/// is added if missing.
pub fn mime_bundle<K: Into<String>, V: Into<Value>>(
    items: impl IntoIterator<Item = (K, V)>,
) -> DisplayHandle {
    show(bundle_of(items))
}

/// Shows a table: an HTML table, with aligned columns of text as the fallback.
pub fn table<H: Display, C: Display, R: IntoIterator<Item = C>>(
    headers: impl IntoIterator<Item = H>,
    rows: impl IntoIterator<Item = R>,
) -> DisplayHandle {
    show(table_bundle(headers, rows))
}

/// Clears the cell's outputs; with `wait`, only when the next output arrives (no flicker).
pub fn clear_output(wait: bool) {
    protocol::send("clear_output", &json!({ "wait": wait }));
}

pub(crate) fn show(data: MimeBundle) -> DisplayHandle {
    let handle = DisplayHandle {
        id: new_display_id(),
    };
    protocol::send("display_data", &display_content(data, &handle.id));
    handle
}

/// The content of a `display_data` / `update_display_data` message.
pub(crate) fn display_content(data: MimeBundle, display_id: &str) -> Value {
    json!({ "data": data, "metadata": {}, "transient": { "display_id": display_id } })
}

/// Unique across processes too: a notebook keeps outputs of earlier kernels, and an update
/// must never reach one of them.
pub(crate) fn new_display_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = blake3::Hasher::new();
    h.update(&std::process::id().to_le_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    h.update(&now.as_nanos().to_le_bytes());
    h.update(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let digest = h.finalize();
    format!("cellar-{}", &digest.to_hex()[..24])
}

fn bundle(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> MimeBundle {
    pairs
        .into_iter()
        .map(|(mime, value)| (mime.to_string(), value))
        .collect()
}

pub(crate) fn bundle_of<K: Into<String>, V: Into<Value>>(
    items: impl IntoIterator<Item = (K, V)>,
) -> MimeBundle {
    let mut data: MimeBundle = items
        .into_iter()
        .map(|(mime, value)| (mime.into(), value.into()))
        .collect();
    if !data.contains_key("text/plain") {
        let fallback = match (data.get("text/markdown"), data.get("text/html")) {
            (Some(Value::String(markdown)), _) => markdown.clone(),
            (_, Some(Value::String(html))) => strip_tags(html),
            _ => format!("[{}]", data.keys().cloned().collect::<Vec<_>>().join(", ")),
        };
        data.insert("text/plain".into(), Value::String(fallback));
    }
    data
}

fn html_bundle(html: &str) -> MimeBundle {
    bundle([
        ("text/html", json!(html)),
        ("text/plain", json!(strip_tags(html))),
    ])
}

fn markdown_bundle(markdown: &str) -> MimeBundle {
    bundle([
        ("text/markdown", json!(markdown)),
        ("text/plain", json!(markdown)),
    ])
}

fn svg_bundle(svg: &str) -> MimeBundle {
    bundle([
        ("image/svg+xml", json!(svg)),
        ("text/plain", json!("[SVG image]")),
    ])
}

fn image_bundle(mime: &'static str, bytes: &[u8]) -> MimeBundle {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let fallback = format!(
        "[{} image, {} bytes]",
        &mime[6..].to_uppercase(),
        bytes.len()
    );
    bundle([(mime, json!(encoded)), ("text/plain", json!(fallback))])
}

fn json_bundle(value: &impl Serialize) -> MimeBundle {
    match serde_json::to_value(value) {
        Ok(value) => {
            let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
            bundle([("application/json", value), ("text/plain", json!(pretty))])
        }
        Err(error) => text_bundle(&format!("[not displayable as JSON: {error}]")),
    }
}

fn latex_bundle(latex: &str) -> MimeBundle {
    bundle([("text/latex", json!(latex)), ("text/plain", json!(latex))])
}

fn text_bundle(text: &str) -> MimeBundle {
    bundle([("text/plain", json!(text))])
}

fn table_bundle<H: Display, C: Display, R: IntoIterator<Item = C>>(
    headers: impl IntoIterator<Item = H>,
    rows: impl IntoIterator<Item = R>,
) -> MimeBundle {
    let headers: Vec<String> = headers.into_iter().map(|h| h.to_string()).collect();
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| row.into_iter().map(|c| c.to_string()).collect())
        .collect();
    bundle([
        ("text/html", json!(html_table(&headers, &rows))),
        ("text/plain", json!(text_table(&headers, &rows))),
    ])
}

pub(crate) fn html_table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut html = String::from("<table>\n<thead><tr>");
    for header in headers {
        html.push_str(&format!("<th>{}</th>", escape(header)));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            html.push_str(&format!("<td>{}</td>", escape(cell)));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>");
    html
}

pub(crate) fn text_table(headers: &[String], rows: &[Vec<String>]) -> String {
    let columns = rows
        .iter()
        .map(Vec::len)
        .chain([headers.len()])
        .max()
        .unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows.iter().chain([headers.to_vec()].iter()) {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |row: &[String]| {
        let cells: Vec<String> = (0..columns)
            .map(|i| {
                format!(
                    "{:<width$}",
                    row.get(i).map_or("", String::as_str),
                    width = widths[i]
                )
            })
            .collect();
        cells.join("  ").trim_end().to_string()
    };
    let mut text = vec![
        line(headers),
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  "),
    ];
    text.extend(rows.iter().map(|row| line(row)));
    text.join("\n")
}

/// HTML-escapes text for element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A rough text rendering of HTML for the plain-text fallback: tags dropped, common entities
/// decoded, whitespace runs collapsed.
fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        "[HTML]".to_string()
    } else {
        collapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(line: &str) -> Value {
        let payload = line.strip_prefix(protocol::OUTPUT_MARKER).expect("marker");
        assert!(!payload.contains('\n'));
        serde_json::from_str(payload).unwrap()
    }

    #[test]
    fn a_display_line_is_one_json_message() {
        let content = display_content(
            html_bundle("<b>bold</b> &amp; <i>more</i>\nline"),
            "cellar-1",
        );
        let msg = message(&protocol::encode("display_data", &content));
        assert_eq!(msg["msg_type"], "display_data");
        assert_eq!(
            msg["content"]["data"]["text/html"],
            "<b>bold</b> &amp; <i>more</i>\nline"
        );
        assert_eq!(msg["content"]["data"]["text/plain"], "bold & more line");
        assert_eq!(msg["content"]["transient"]["display_id"], "cellar-1");
        assert_eq!(msg["content"]["metadata"], json!({}));
    }

    #[test]
    fn every_bundle_has_a_text_fallback() {
        let png = image_bundle("image/png", &[0x89, b'P', b'N', b'G']);
        assert_eq!(png["image/png"], "iVBORw==");
        assert_eq!(png["text/plain"], "[PNG image, 4 bytes]");
        assert_eq!(
            image_bundle("image/jpeg", &[1, 2])["text/plain"],
            "[JPEG image, 2 bytes]"
        );
        assert_eq!(markdown_bundle("# hi")["text/plain"], "# hi");
        assert_eq!(svg_bundle("<svg/>")["image/svg+xml"], "<svg/>");
        assert_eq!(latex_bundle("$x^2$")["text/latex"], "$x^2$");
        let json = json_bundle(&serde_json::json!({"a": [1, 2]}));
        assert_eq!(json["application/json"], json!({"a": [1, 2]}));
        assert!(json["text/plain"].as_str().unwrap().contains("\"a\""));
        let custom = bundle_of([("text/html", "<p>x</p>"), ("application/vnd.custom", "y")]);
        assert_eq!(custom["text/plain"], "x");
        let opaque = bundle_of([("application/vnd.custom", json!({"k": 1}))]);
        assert_eq!(opaque["text/plain"], "[application/vnd.custom]");
        let kept = bundle_of([("text/plain", "mine"), ("text/html", "<p>x</p>")]);
        assert_eq!(kept["text/plain"], "mine");
    }

    #[test]
    fn tables_escape_html_and_align_text() {
        let data = table_bundle(["city", "rides"], [vec!["<Oslo>", "12"], vec!["Lima", "7"]]);
        let html = data["text/html"].as_str().unwrap();
        assert!(html.contains("<th>city</th><th>rides</th>"));
        assert!(html.contains("<td>&lt;Oslo&gt;</td><td>12</td>"));
        assert_eq!(
            data["text/plain"],
            "city    rides\n------  -----\n<Oslo>  12\nLima    7"
        );
    }

    #[test]
    fn display_ids_are_unique() {
        let a = new_display_id();
        let b = new_display_id();
        assert_ne!(a, b);
        assert!(a.starts_with("cellar-"));
    }

    #[test]
    fn clear_output_and_updates_have_jupyter_content() {
        let msg = message(&protocol::encode("clear_output", &json!({ "wait": true })));
        assert_eq!(
            msg,
            json!({ "msg_type": "clear_output", "content": { "wait": true } })
        );
        let update = message(&protocol::encode(
            "update_display_data",
            &display_content(text_bundle(""), "cellar-9"),
        ));
        assert_eq!(update["content"]["data"], json!({ "text/plain": "" }));
        assert_eq!(update["content"]["transient"]["display_id"], "cellar-9");
    }
}
