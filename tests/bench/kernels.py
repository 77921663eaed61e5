"""Driving a kernel through jupyter_client, the way a notebook front end does.

Shared by the latency benchmarks: every measurement starts a new kernel process in a fresh
working directory, runs cells one at a time and times each from request to reply.
"""
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from jupyter_client.manager import KernelManager


@dataclass
class Reply:
    status: str
    seconds: float
    result: str | None = None
    stdout: str = ""
    error: str = ""
    # cellar's execute_reply says how long each phase took (evcxr's phase names, seconds).
    phases: dict = field(default_factory=dict)


def run_cell(kc, code, timeout=900):
    """Runs one cell and waits until the kernel is idle again: the round trip a user waits for."""
    began = time.perf_counter()
    msg_id = kc.execute(code)
    reply = Reply(status="?", seconds=0.0)
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "execute_result":
            reply.result = content["data"].get("text/plain")
        elif kind == "stream" and content["name"] == "stdout":
            reply.stdout += content["text"]
        elif kind == "error":
            reply.error = f"{content['ename']}: {content['evalue']}"
        elif kind == "status" and content["execution_state"] == "idle":
            break
    shell = kc.get_shell_msg(timeout=timeout)
    while shell["parent_header"].get("msg_id") != msg_id:
        shell = kc.get_shell_msg(timeout=timeout)
    reply.seconds = time.perf_counter() - began
    reply.status = shell["content"]["status"]
    reply.phases = shell["content"].get("cellar_phases", {})
    if reply.status != "ok" and not reply.error:
        reply.error = f"{shell['content'].get('ename')}: {shell['content'].get('evalue')}"
    return reply


def complete(kc, code):
    """Asks for completions at the end of `code`: (seconds from request to reply, the matches)."""
    began = time.perf_counter()
    msg_id = kc.complete(code, len(code))
    reply = kc.get_shell_msg(timeout=120)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=120)
    return time.perf_counter() - began, reply["content"].get("matches", [])


def run_ok(kc, code):
    """Runs a cell that must succeed: a benchmark of a failing cell measures nothing."""
    reply = run_cell(kc, code)
    if reply.status != "ok":
        raise RuntimeError(f"cell failed ({reply.error}):\n{code}")
    return reply


@contextlib.contextmanager
def kernel(name, env=None):
    """A new kernel process in a fresh temporary working directory.

    Yields (client, perf_counter when the start began, a function returning the kernel's stderr so
    far). The kernel's stdout is not ours: the benchmark scripts print one JSON object there.
    """
    base = tempfile.mkdtemp(prefix="cellar-bench-")
    cwd, log_path = os.path.join(base, "cwd"), os.path.join(base, "stderr.log")
    os.mkdir(cwd)
    began = time.perf_counter()
    km = KernelManager(kernel_name=name)
    with open(log_path, "ab") as log:
        km.start_kernel(cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=log)
    kc = km.client()
    kc.start_channels()

    def stderr():
        with open(log_path, errors="replace") as log:
            return log.read()

    try:
        kc.wait_for_ready(timeout=300)
        yield kc, began, stderr
    except BaseException:
        sys.stderr.write(stderr())
        raise
    finally:
        kc.stop_channels()
        km.shutdown_kernel()  # a shutdown_request first, as a restart sends
        shutil.rmtree(base, ignore_errors=True)
