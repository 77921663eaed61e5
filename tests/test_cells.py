"""Cells through the real kernel: shared statics, stdin, streaming, kernel commands."""
import pathlib
import threading
import time

from conftest import result_text, run_cell, stream_text

COUNTER = pathlib.Path(__file__).resolve().parent / "fixtures" / "counter"


def test_a_static_of_a_dep_crate_is_shared_by_every_cell(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, f':dep counter = {{ path = "{COUNTER}" }}\ncounter::bump()')
    assert reply["status"] == "ok", reply
    assert result_text(outputs) == "1"
    reply, outputs = run_cell(kc, "counter::bump()")
    assert result_text(outputs) == "2"


def test_the_runtime_is_one_instance_across_cells(kernel):
    # A cache_resource returns the one Arc held in the runtime's process-wide registry.
    _, kc = kernel
    reply, _ = run_cell(kc, "#[cellar::cache_resource]\nfn shared() -> String { String::from(\"one\") }\nlet first = shared();")
    assert reply["status"] == "ok", reply
    reply, outputs = run_cell(kc, "std::sync::Arc::ptr_eq(&first, &shared())")
    assert result_text(outputs) == "true"


def test_all_a_cell_writes_to_stderr_comes_before_idle_and_a_panic_after_it_is_the_cells_error(kernel):
    # The kernel stops waiting for stderr once the cell process's pipe holds nothing unread.
    _, kc = kernel
    for _ in range(3):
        reply, outputs = run_cell(kc, 'for i in 0..20000 { eprintln!("line {i} of the lines a cell writes to stderr"); }')
        assert reply["status"] == "ok", reply
        assert stream_text(outputs, "stderr").splitlines() == [f"line {i} of the lines a cell writes to stderr" for i in range(20000)]
    reply, outputs = run_cell(kc, 'for i in 0..300 { eprintln!("before {i}"); }\npanic!("after the lines");')
    assert reply["status"] == "error" and "after the lines" in reply["evalue"], reply
    assert stream_text(outputs, "stderr").splitlines()[-1] == "before 299"


def test_stdout_streams_while_the_cell_runs(kernel):
    _, kc = kernel
    code = 'for i in 0..3 { println!("tick {i}"); std::thread::sleep(std::time::Duration::from_millis(700)); }'
    msg_id = kc.execute(code)
    arrivals = []
    while True:
        msg = kc.get_iopub_msg(timeout=240)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            arrivals.append((time.time(), msg["content"]["text"]))
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    kc.get_shell_msg(timeout=60)
    assert "".join(t for _, t in arrivals) == "tick 0\ntick 1\ntick 2\n"
    # Lines came as they were printed, not all at the end.
    assert arrivals[-1][0] - arrivals[0][0] > 1.0


def test_a_cell_reads_input_from_the_client(kernel):
    _, kc = kernel

    def answer():
        msg = kc.get_stdin_msg(timeout=240)
        assert msg["msg_type"] == "input_request"
        assert msg["content"]["prompt"] == "Name? "
        kc.input("Ada")

    helper = threading.Thread(target=answer)
    helper.start()
    reply, outputs = run_cell(kc, 'let name = cellar::input("Name? ");\nname', allow_stdin=True)
    helper.join()
    assert reply["status"] == "ok", reply
    assert result_text(outputs) == '"Ada"'


def test_help_lists_the_kernel_commands(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, ":help")
    text = stream_text(outputs)
    assert ":cellar" in text and ":doc" in text and ":dep" in text


def test_doc_pages_the_documentation(kernel):
    _, kc = kernel
    reply, _ = run_cell(kc, ":doc Vec")
    assert reply["status"] == "ok"
    page = reply["payload"][0]
    assert page["source"] == "page"
    assert "Vec" in page["data"]["text/plain"]
    reply, outputs = run_cell(kc, ":doc no_such_thing_here")
    assert reply["status"] == "error"
    reply, _ = run_cell(kc, ":doc")
    assert (reply["status"], reply["ename"], reply["evalue"]) == ("error", "UsageError", "usage: :doc NAME")


def test_a_cached_method_in_a_cell_needs_no_type_annotation(kernel):
    _, kc = kernel
    reply, outputs = run_cell(kc, '''
struct Db { name: String }
impl Db {
    #[cellar::cache_data(show_spinner = false)]
    fn rows(&self, n: u32) -> Vec<u32> {
        println!("querying {} for {n} rows", self.name);
        (0..n).collect()
    }
}
let db = Db { name: "rides".into() };
let first = db.rows(3);
let again = db.rows(3);
println!("{:?} same value: {}", *first, cellar::Data::ptr_eq(&first, &again));
''')
    assert reply["status"] == "ok", reply
    # The hit replays the body's output, and hands out the stored value itself.
    assert stream_text(outputs) == "querying rides for 3 rows\n" * 2 + "[0, 1, 2] same value: true\n"
