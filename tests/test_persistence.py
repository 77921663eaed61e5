"""Nothing lost: cache_data entries survive the death of the cell process, and persist = "disk"
entries survive the kernel, reach a separate nbconvert run, and are checked when read.

A cached body appends a line to a counter file each time it really runs: a hit leaves it alone.
"""
import os
import pathlib
import shutil
import subprocess
import sys

import nbformat
from jupyter_client.manager import start_new_kernel

from conftest import KERNEL_NAME, STARTUP_TIMEOUT, run_cell, stream_text

ROOT = pathlib.Path(__file__).resolve().parent.parent
JUPYTER = pathlib.Path(sys.executable).parent / "jupyter"

COUNT_RUN = r'''
    use std::io::Write;
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open("runs.log").unwrap();
    writeln!(log, "ran").unwrap();
'''
DEFINE = r'''
#[cellar::cache_data(persist = "disk", show_spinner = false)]
fn table(rows: usize) -> Vec<f64> {
%COUNT_RUN%
    println!("computing {rows} rows");
    cellar::display::html("<b>table</b>");
    (0..rows).map(|i| i as f64).collect()
}
'''.replace("%COUNT_RUN%", COUNT_RUN)
CALL = 'println!("sum {}", table(100_000).iter().sum::<f64>());'
SUM = "sum 4999950000\n"


def start(work, cache):
    env = {**os.environ, "CELLAR_CACHE_DIR": str(cache)}
    return start_new_kernel(kernel_name=KERNEL_NAME, startup_timeout=STARTUP_TIMEOUT, cwd=str(work), env=env)


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=False)


def runs(work):
    log = work / "runs.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def entry_files(cache, suffix=".entry"):
    return sorted(p for p in cache.rglob("*") if p.name.endswith(suffix))


def call(kc):
    reply, outputs = run_cell(kc, DEFINE + CALL)
    assert reply["status"] == "ok", reply
    return outputs


def test_an_aborting_cell_loses_no_cache_data_entry(tmp_path):
    km, kc = start(tmp_path, tmp_path / "cache")
    try:
        reply, _ = run_cell(kc, r'''
#[cellar::cache_data(show_spinner = false)]
fn slow(n: u64) -> u64 {
%COUNT_RUN%
    println!("slow computes {n}");
    n * 3
}
let kept = slow(14);
'''.replace("%COUNT_RUN%", COUNT_RUN))
        assert reply["status"] == "ok", reply
        assert runs(tmp_path) == 1
        reply, outputs = run_cell(kc, "std::process::abort();")
        assert reply["status"] == "error" and reply["ename"] == "CellProcessDied", reply
        assert "cache_data entries are kept" in reply["evalue"]
        assert any(kind == "error" for kind, _ in outputs), "the notebook is told"
        reply, outputs = run_cell(kc, 'let again = slow(14);\nprintln!("value {}", again);')
        assert reply["status"] == "ok", reply
        assert stream_text(outputs) == "slow computes 14\nvalue 42\n", "a hit, its output replayed"
        assert runs(tmp_path) == 1, "the body did not run again"
        assert not entry_files(tmp_path / "cache"), "without persist, nothing goes to the cache folder"
    finally:
        stop(km, kc)


def test_persisted_entries_outlive_the_kernel_with_their_outputs(tmp_path):
    cache = tmp_path / "cache"
    km, kc = start(tmp_path, cache)
    try:
        first = call(kc)
    finally:
        stop(km, kc)
    assert runs(tmp_path) == 1
    assert len(entry_files(cache)) == 1
    km, kc = start(tmp_path, cache)
    try:
        again = call(kc)
        reply, report = run_cell(kc, ":cellar")
        assert reply["status"] == "ok", reply
    finally:
        stop(km, kc)
    assert runs(tmp_path) == 1, "the new kernel hit the file"
    shown = lambda outputs: [(kind, c.get("text") or c["data"].get("text/html")) for kind, c in outputs]
    assert shown(again) == shown(first)
    assert stream_text(again) == "computing 100000 rows\n" + SUM
    text = "".join(c["data"]["text/plain"] for kind, c in report if kind == "display_data")
    assert str(cache) in text and "1 files" in text, text


def test_a_damaged_file_is_a_miss_recomputed_without_a_panic(tmp_path):
    cache = tmp_path / "cache"
    km, kc = start(tmp_path, cache)
    try:
        call(kc)
        (entry,) = entry_files(cache)
        whole = entry.read_bytes()
        entry.write_bytes(whole[: len(whole) // 2])
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        reply, outputs = run_cell(kc, DEFINE + CALL)
        assert reply["status"] == "ok", reply
        assert runs(tmp_path) == 2, "a truncated file is recomputed"
        assert "is damaged" in stream_text(outputs, "stderr")
        assert stream_text(outputs).endswith(SUM)

        flipped = bytearray(entry.read_bytes())
        flipped[len(flipped) // 2] ^= 0x10
        entry.write_bytes(bytes(flipped))
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        call(kc)
        assert runs(tmp_path) == 3, "a flipped byte is recomputed"
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        call(kc)
        assert runs(tmp_path) == 3, "the rewritten file is whole"
    finally:
        stop(km, kc)


def test_a_cache_folder_that_cannot_be_created_says_so_once(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    km, kc = start(tmp_path, blocked)
    try:
        outputs = call(kc)
        assert stream_text(outputs).endswith(SUM), "the cell still succeeds"
        warning = stream_text(outputs, "stderr")
        assert f"the cache folder {blocked} failed: cannot read {blocked}/" in warning, warning
        assert "damaged" not in warning, warning
        assert warning.count("cellar:") == 1, "one warning for the read and the write"
        reply, outputs = run_cell(kc, "table::clear(100_000);" + CALL)
        assert reply["status"] == "ok", reply
        assert stream_text(outputs, "stderr") == "", "no warning again while it keeps failing"
        assert runs(tmp_path) == 2
    finally:
        stop(km, kc)


def test_two_kernels_writing_one_key_at_once_leave_a_valid_entry(tmp_path):
    cache = tmp_path / "cache"
    kernels = [start(tmp_path, cache) for _ in range(2)]
    try:
        for km, kc in kernels:
            reply, _ = run_cell(kc, DEFINE)
            assert reply["status"] == "ok", reply
        ids = [kc.execute(CALL) for _, kc in kernels]
        for (km, kc), msg_id in zip(kernels, ids):
            reply = kc.get_shell_msg(timeout=240)
            assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "ok"
    finally:
        for km, kc in kernels:
            stop(km, kc)
    assert len(entry_files(cache)) == 1
    assert not entry_files(cache, ".tmp"), "no temporary file is left"
    before = runs(tmp_path)
    km, kc = start(tmp_path, cache)
    try:
        outputs = call(kc)
    finally:
        stop(km, kc)
    assert runs(tmp_path) == before, "the entry the two kernels left is whole: a hit"
    assert stream_text(outputs).endswith(SUM)


def execute(work):
    subprocess.run(
        [str(JUPYTER), "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
         "--ExecutePreprocessor.timeout=600", "--ExecutePreprocessor.startup_timeout=300",
         "--output", "executed.ipynb", "nothing-lost.ipynb"],
        check=True, cwd=work,
    )
    return nbformat.read(work / "executed.ipynb", as_version=4)


def tagged(nb, tag):
    (cell,) = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    return cell.outputs


def stdout(nb, tag):
    return "".join(o.text for o in tagged(nb, tag) if o.output_type == "stream" and o.name == "stdout")


def test_the_nothing_lost_notebook_hits_after_a_crash_and_in_a_later_run(tmp_path):
    shutil.copy(ROOT / "notebooks" / "nothing-lost.ipynb", tmp_path)
    nb = execute(tmp_path)
    assert "downloading 7 days" in stdout(nb, "first")
    assert "ran 1 time(s)" in stdout(nb, "first")
    (error,) = [o for o in tagged(nb, "crash") if o.output_type == "error"]
    assert error.ename == "CellProcessDied"
    after = tagged(nb, "after-crash")
    assert "downloading 7 days" in stdout(nb, "after-crash"), "outputs replayed after the crash"
    assert any(o.output_type == "display_data" and "text/html" in o.data for o in after)
    assert "ran 1 time(s)" in stdout(nb, "after-crash"), "a hit after the crash"
    report = "".join(o.data.get("text/plain", "") for o in tagged(nb, "report") if o.output_type == "display_data")
    assert ".cellar-cache" in report, report

    second = execute(tmp_path)
    assert "downloading 7 days" in stdout(second, "first"), "outputs replayed from disk"
    assert "ran 1 time(s)" in stdout(second, "first"), "a separate run hit the cache folder"


def test_the_folder_of_a_killed_kernel_is_removed_by_the_next_kernel_and_a_running_ones_kept(tmp_path):
    # Kernels work in a folder of the temporary folder: this test gives them one of its own.
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}

    def kernel():
        km, kc = start_new_kernel(kernel_name=KERNEL_NAME, startup_timeout=STARTUP_TIMEOUT, cwd=str(tmp_path), env=env)
        reply, outputs = run_cell(kc, 'println!("{}", std::env::var("EVCXR_CONFIG_DIR").unwrap());')
        assert reply["status"] == "ok", reply
        return km, kc, pathlib.Path(stream_text(outputs).strip())

    running = kernel()
    killed = kernel()
    assert running[2].parent == temp and killed[2].parent == temp
    killed[1].stop_channels()
    killed[0].shutdown_kernel(now=True)  # SIGKILL: the kernel cannot clean up
    assert killed[2].is_dir()

    new = kernel()
    assert not killed[2].exists(), "the next kernel removes the folder of the one that was killed"
    assert running[2].is_dir() and new[2].is_dir()
    for km, kc, _ in (running, new):
        stop(km, kc)
    assert sorted(temp.glob("cellar-kernel-*")) == [], "kernels that end remove their own folders"
