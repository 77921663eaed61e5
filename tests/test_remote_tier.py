"""The remote tier: `persist = "disk"` entries shared across machines through a real
S3-compatible server (s3s-fs, which speaks S3 with SigV4 over a local folder), started here.

A "machine" is a kernel with a HOME, a working folder and a cache folder of its own; only the
bucket is shared. A cached body appends a line to a counter file in the machine's working folder
each time it really runs: a hit leaves it alone.
"""
import os
import pathlib
import shutil
import subprocess
import sys
import time
import uuid

import blake3
import nbformat
import pytest
from jupyter_client.manager import start_new_kernel

from conftest import KERNEL_NAME, STARTUP_TIMEOUT, run_cell, stream_text
from s3_server import BUCKET, S3Server

ROOT = pathlib.Path(__file__).resolve().parent.parent
JUPYTER = pathlib.Path(sys.executable).parent / "jupyter"
# The kernel rests a failing remote this long before asking it again (remote_tier::health).
RETRY_AFTER = 5


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s3 = S3Server(tmp_path_factory.mktemp("bucket-root"))
    s3.start()
    yield s3
    s3.stop()


def machine_env(server, home, prefix, key=None):
    """The environment of one machine: its own HOME (and cache folder, in its working folder),
    the shared bucket."""
    home.mkdir(parents=True, exist_ok=True)
    real_home = pathlib.Path.home()
    env = {
        **os.environ,
        "HOME": str(home),
        # The toolchain stays where it is installed.
        "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", str(real_home / ".rustup")),
        "CARGO_HOME": os.environ.get("CARGO_HOME", str(real_home / ".cargo")),
        **server.env(prefix),
    }
    env.pop("CELLAR_CACHE_DIR", None)
    env.pop("CELLAR_CACHE_KEY", None)
    if key is not None:
        env["CELLAR_CACHE_KEY"] = key
    return env


def start(work, env):
    work.mkdir(parents=True, exist_ok=True)
    return start_new_kernel(kernel_name=KERNEL_NAME, startup_timeout=STARTUP_TIMEOUT, cwd=str(work), env=env)


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=False)


COUNT_RUN = r'''
    use std::io::Write;
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open("runs.log").unwrap();
    writeln!(log, "{n}").unwrap();
'''
DEFINE = r'''
#[cellar::cache_data(persist = "disk", show_spinner = false)]
fn squares(n: u64) -> Vec<u64> {
%COUNT_RUN%
    println!("computing {n} squares");
    cellar::display::html("<b>squares</b>");
    (0..n).map(|i| i * i).collect()
}
'''.replace("%COUNT_RUN%", COUNT_RUN)


def runs(work):
    log = work / "runs.log"
    return log.read_text().split() if log.exists() else []


def call(kc, n):
    reply, outputs = run_cell(kc, f'println!("sum {{}}", squares({n}).iter().sum::<u64>());')
    assert reply["status"] == "ok", reply
    return outputs


def squares_sum(n):
    return f"sum {sum(i * i for i in range(n))}\n"


def report(kc):
    reply, outputs = run_cell(kc, ":cellar")
    assert reply["status"] == "ok", reply
    return stream_text(outputs)


def test_two_machines_share_an_entry_with_its_outputs(server, tmp_path):
    prefix = f"share-{uuid.uuid4().hex[:8]}"
    a, b = tmp_path / "a", tmp_path / "b"
    km, kc = start(a / "work", machine_env(server, a / "home", prefix))
    try:
        reply, _ = run_cell(kc, DEFINE)
        assert reply["status"] == "ok", reply
        outputs = call(kc, 1000)
        assert stream_text(outputs) == "computing 1000 squares\n" + squares_sum(1000)
        assert len(server.objects(prefix)) == 1, "written to the bucket before the cell's reply"
        text = report(kc)
        assert f"remote tier: s3://{BUCKET}/{prefix} (working); this kernel read 0 entries" in text, text
        assert "wrote 1 entry" in text, text
    finally:
        stop(km, kc)
    assert runs(a / "work") == ["1000"]

    km, kc = start(b / "work", machine_env(server, b / "home", prefix))
    try:
        reply, _ = run_cell(kc, DEFINE)
        assert reply["status"] == "ok", reply
        outputs = call(kc, 1000)
        assert stream_text(outputs) == "computing 1000 squares\n" + squares_sum(1000), "outputs replayed"
        assert any(kind == "display_data" and "text/html" in c["data"] for kind, c in outputs)
        assert stream_text(outputs, "stderr") == "", "no warning on a hit"
        assert runs(b / "work") == [], "machine B hit what machine A computed"
        backfilled = list((b / "work" / ".cellar-cache").rglob("*.entry"))
        assert len(backfilled) == 1, "the remote hit is copied into B's cache folder"
        text = report(kc)
        assert "read 1 entry" in text and "wrote 0 entries" in text, text
    finally:
        stop(km, kc)


def execute_notebook(work, env):
    shutil.copy(ROOT / "notebooks" / "shared-cache.ipynb", work)
    subprocess.run(
        [str(JUPYTER), "nbconvert", "--to", "notebook", "--execute", "--inplace",
         "--ExecutePreprocessor.timeout=600", "shared-cache.ipynb"],
        cwd=work, env=env, check=True, capture_output=True,
    )
    return nbformat.read(work / "shared-cache.ipynb", as_version=4)


def tagged_stdout(nb, tag):
    return "".join(
        o.text for c in nb.cells if tag in c.metadata.get("tags", [])
        for o in c.get("outputs", []) if o.output_type == "stream" and o.name == "stdout"
    )


def test_nbconvert_on_machine_a_then_machine_b_hits(server, tmp_path):
    prefix = f"ci-{uuid.uuid4().hex[:8]}"
    a, b = tmp_path / "a", tmp_path / "b"
    for machine in (a, b):
        (machine / "work").mkdir(parents=True)
    first = execute_notebook(a / "work", machine_env(server, a / "home", prefix))
    assert "aggregating 30 days of rides in Oslo" in tagged_stdout(first, "first")
    assert "ran 1 time(s) on this machine" in tagged_stdout(first, "first")
    assert "wrote 1 entry" in tagged_stdout(first, "report")

    second = execute_notebook(b / "work", machine_env(server, b / "home", prefix))
    out = tagged_stdout(second, "first")
    assert "aggregating 30 days of rides in Oslo" in out, "outputs replayed from the bucket"
    assert "ran 0 time(s) on this machine" in out, "machine B hit in CI"
    assert "read 1 entry" in tagged_stdout(second, "report")


def forge(path, signature=None):
    """Rewrites an entry as someone who can write the bucket but has no key would: another value
    with a correct blake3 checksum (the format is public), the old or no signature."""
    data = bytearray(path.read_bytes())
    data[-1] ^= 1  # the last byte of the value: a varint of the last square
    body_hash = blake3.blake3(bytes(data[88:])).digest()
    data[24:56] = blake3.blake3(bytes(data[8:24]) + body_hash).digest()
    if signature is not None:
        data[56:88] = signature
    path.write_bytes(bytes(data))


def test_with_a_key_a_rewritten_object_is_rejected_and_recomputed(server, tmp_path):
    prefix = f"signed-{uuid.uuid4().hex[:8]}"
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    km, kc = start(a / "work", machine_env(server, a / "home", prefix, key="team secret"))
    try:
        assert run_cell(kc, DEFINE)[0]["status"] == "ok"
        call(kc, 50)
    finally:
        stop(km, kc)
    (entry,) = server.objects(prefix)

    forge(entry)
    km, kc = start(b / "work", machine_env(server, b / "home", prefix, key="team secret"))
    try:
        assert run_cell(kc, DEFINE)[0]["status"] == "ok"
        outputs = call(kc, 50)
        assert stream_text(outputs) == "computing 50 squares\n" + squares_sum(50), "recomputed, right"
        warning = stream_text(outputs, "stderr")
        assert "the stored entry of `squares`" in warning and entry.name in warning, warning
        assert "its signature does not match CELLAR_CACHE_KEY" in warning, warning
        assert runs(b / "work") == ["50"]
    finally:
        stop(km, kc)

    # B wrote its own signed entry back; stripped of its signature it is refused as unsigned.
    forge(entry, signature=bytes(32))
    km, kc = start(c / "work", machine_env(server, c / "home", prefix, key="team secret"))
    try:
        assert run_cell(kc, DEFINE)[0]["status"] == "ok"
        outputs = call(kc, 50)
        assert "it is not signed, and CELLAR_CACHE_KEY is set" in stream_text(outputs, "stderr")
        assert stream_text(outputs).endswith(squares_sum(50))
        assert runs(c / "work") == ["50"]
    finally:
        stop(km, kc)


def test_a_stopped_server_costs_one_warning_and_hits_resume(tmp_path):
    server = S3Server(tmp_path / "bucket-root")
    server.start()
    prefix = f"faults-{uuid.uuid4().hex[:8]}"
    a, b = tmp_path / "a", tmp_path / "b"
    km, kc = start(a / "work", machine_env(server, a / "home", prefix))
    try:
        assert run_cell(kc, DEFINE)[0]["status"] == "ok"
        assert stream_text(call(kc, 10), "stderr") == ""
        server.stop()
        warnings = [stream_text(call(kc, n), "stderr") for n in (20, 30, 40)]
        assert f"the remote tier s3://{BUCKET}/{prefix} failed" in warnings[0], warnings
        assert warnings[1:] == ["", ""], "one warning, not one per call"
        assert runs(a / "work") == ["10", "20", "30", "40"], "cells still compute and succeed"
        assert "(failing: " in report(kc)

        server.start()
        time.sleep(RETRY_AFTER + 1)
        outputs = call(kc, 50)
        assert f"the remote tier s3://{BUCKET}/{prefix} works again" in stream_text(outputs, "stderr")
    finally:
        stop(km, kc)

    km, kc = start(b / "work", machine_env(server, b / "home", prefix))
    try:
        assert run_cell(kc, DEFINE)[0]["status"] == "ok"
        for n in (10, 50, 20):
            call(kc, n)
        assert runs(b / "work") == ["20"], "hits for what reached the bucket; 20 was written while it was down"
    finally:
        stop(km, kc)
        server.stop()


def test_clear_remote_only_when_asked(server, tmp_path):
    prefix = f"clear-{uuid.uuid4().hex[:8]}"
    km, kc = start(tmp_path / "work", machine_env(server, tmp_path / "home", prefix))
    try:
        assert run_cell(kc, DEFINE)[0]["status"] == "ok"
        call(kc, 5)
        reply, outputs = run_cell(kc, ":cellar clear")
        assert reply["status"] == "ok", reply
        assert "the remote tier is untouched" in stream_text(outputs)
        assert len(server.objects(prefix)) == 1, ":cellar clear leaves the bucket alone"
        assert stream_text(call(kc, 5)) == "computing 5 squares\n" + squares_sum(5), "replayed from the bucket"
        assert runs(tmp_path / "work") == ["5"]
        reply, outputs = run_cell(kc, ":cellar clear remote")
        assert reply["status"] == "ok", reply
        assert server.objects(prefix) == [], ":cellar clear remote empties this notebook's part"
        call(kc, 5)
        assert runs(tmp_path / "work") == ["5", "5"]
    finally:
        stop(km, kc)
