"""Output replay through the real kernel: what a cached function shows on a miss is shown again,
in the same order, on every hit; a slow miss shows a spinner that goes away; hits show none."""
import base64

from conftest import result_text, run_cell, stream_text

PNG = bytes([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 31, 21, 196, 137])

DEFINE = r'''
#[cellar::cache_data(show_spinner = false)]
fn f(x: u32) -> u32 {
    println!("f computes {x}");
    eprintln!("f warns {x}");
    x * 10
}

#[cellar::cache_data(show_spinner = false)]
fn inner(x: u32) -> u32 {
    println!("inner {x}");
    x + 1
}

#[cellar::cache_data(show_spinner = false)]
fn outer(x: u32) -> u32 {
    println!("outer before {x}");
    let y = *inner(x);
    println!("outer after {y}");
    y * 2
}

#[cellar::cache_data(show_spinner = false)]
fn picture(n: u8) -> u8 {
    cellar::display::html("<b>cached html</b>");
    cellar::display::png(&PNG_BYTES);
    n
}

const PNG_BYTES: [u8; 33] = %PNG%;
'''.replace("%PNG%", str(list(PNG)))


def kinds(outputs):
    return [(kind, c.get("name") or next(iter(c.get("data", {})), "")) for kind, c in outputs]


def test_a_hit_replays_the_miss_outputs_in_order(kernel):
    _, kc = kernel
    reply, _ = run_cell(kc, DEFINE)
    assert reply["status"] == "ok", reply
    reply, outputs = run_cell(kc, 'f(1);\nprintln!("---");\nf(1);')
    assert reply["status"] == "ok", reply
    assert stream_text(outputs) == "f computes 1\n---\nf computes 1\n"
    assert stream_text(outputs, "stderr") == "f warns 1\nf warns 1\n"


def test_nested_cached_functions_in_every_hit_miss_combination(kernel):
    _, kc = kernel
    # inner miss inside outer miss
    _, outputs = run_cell(kc, "outer(1);")
    assert stream_text(outputs) == "outer before 1\ninner 1\nouter after 2\n"
    # outer hit: the whole record, inner's part included
    _, outputs = run_cell(kc, "outer(1);")
    assert stream_text(outputs) == "outer before 1\ninner 1\nouter after 2\n"
    # inner hit on its own: only its own part
    _, outputs = run_cell(kc, "inner(1);")
    assert stream_text(outputs) == "inner 1\n"
    # outer miss around an inner hit: inner's outputs are replayed inside outer's
    _, outputs = run_cell(kc, "inner(5);")
    _, outputs = run_cell(kc, "outer(5);")
    assert stream_text(outputs) == "outer before 5\ninner 5\nouter after 6\n"
    _, outputs = run_cell(kc, "outer(5);")
    assert stream_text(outputs) == "outer before 5\ninner 5\nouter after 6\n"


def test_rich_displays_replay_byte_identical(kernel):
    _, kc = kernel
    _, miss = run_cell(kc, "picture(1);")
    _, hit = run_cell(kc, "picture(1);")
    displays = lambda outputs: [c["data"] for kind, c in outputs if kind == "display_data"]
    assert len(displays(miss)) == 2
    assert displays(hit) == displays(miss)
    assert displays(hit)[0]["text/html"] == "<b>cached html</b>"
    assert base64.b64decode(displays(hit)[1]["image/png"]) == PNG


def test_a_slow_miss_shows_a_spinner_and_a_hit_does_not(kernel):
    _, kc = kernel
    code = ('#[cellar::cache_data(show_spinner = "Thinking…")]\n'
            'fn slow(x: u32) -> u32 { std::thread::sleep(std::time::Duration::from_millis(1200)); x }\n'
            'slow(3)')
    reply, miss = run_cell(kc, code)
    assert reply["status"] == "ok", reply
    shown = [c for kind, c in miss if kind == "display_data"]
    assert [c["data"]["text/plain"] for c in shown] == ["Thinking…"]
    spinner_id = shown[0]["transient"]["display_id"]
    updates = [c for kind, c in miss if kind == "update_display_data"]
    assert updates[-1]["transient"]["display_id"] == spinner_id
    assert updates[-1]["data"]["text/plain"] == ""
    assert result_text(miss) == "3"
    _, hit = run_cell(kc, "slow(3)")
    assert [kind for kind, _ in hit] == ["execute_result"]
