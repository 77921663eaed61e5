"""Shared set-up for the end-to-end tests: they drive the installed `cellar` kernelspec.

Every kernel these tests start gets a scratch history file, so runs never touch the user's.
"""
import os
import tempfile
import time

import pytest
from jupyter_client.manager import start_new_kernel

KERNEL_NAME = "cellar"
# A cell compiles before it runs: allow for a slow first build on a loaded 2-core machine.
CELL_TIMEOUT = 240
STARTUP_TIMEOUT = 300

_scratch = tempfile.mkdtemp(prefix="cellar-tests-")
os.environ.setdefault("CELLAR_HISTORY_FILE", os.path.join(_scratch, "history.jsonl"))


def execute(kc, code, cell_id=None, deleted_cells=None, **kwargs):
    """Sends an execute_request; with `cell_id`/`deleted_cells`, the metadata JupyterLab sends."""
    if cell_id is None and deleted_cells is None:
        return kc.execute(code, **kwargs)
    content = {
        "code": code,
        "silent": False,
        "store_history": True,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": True,
        **kwargs,
    }
    metadata = {}
    if cell_id is not None:
        metadata["cellId"] = cell_id
    if deleted_cells is not None:
        metadata["deletedCells"] = list(deleted_cells)
    msg = kc.session.msg("execute_request", content, metadata=metadata)
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def run_cell(kc, code, timeout=CELL_TIMEOUT, cell_id=None, deleted_cells=None, **kwargs):
    """Executes `code` and returns (reply content, [(msg_type, content), ...]) of its outputs."""
    msg_id = execute(kc, code, cell_id=cell_id, deleted_cells=deleted_cells, **kwargs)
    reply = kc.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=timeout)
    outputs = []
    deadline = time.time() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(1, deadline - time.time()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            break
        if kind in ("status", "execute_input"):
            continue
        outputs.append((kind, msg["content"]))
    return reply["content"], outputs


def stream_text(outputs, name="stdout"):
    return "".join(c["text"] for kind, c in outputs if kind == "stream" and c["name"] == name)


def result_text(outputs):
    for kind, content in outputs:
        if kind == "execute_result":
            return content["data"].get("text/plain")
    return None


@pytest.fixture(scope="module")
def kernel():
    """One kernel for a test module: (manager, blocking client)."""
    km, kc = start_new_kernel(kernel_name=KERNEL_NAME, startup_timeout=STARTUP_TIMEOUT)
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
