"""Re-running a notebook whose cached cells all hit, against its first run, in one kernel.

Runs every code cell of the notebook in order (pass 1: cold caches), then again (pass 2: every
cached call hits). The kernel reports how long evcxr spent compiling each cell
(`cellar_phases` in the execute reply), so pass 2 can be set against the compile time of its
cells alone.
Usage: python notebook_rerun.py NOTEBOOK [KERNEL]   (prints one JSON object)
"""
import json
import os
import sys
import tempfile
import time

import nbformat
from jupyter_client.manager import KernelManager


def run(kc, code, timeout=600):
    """Runs a cell; returns the seconds evcxr spent compiling it."""
    msg_id = kc.execute(code)
    reply = kc.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=timeout)
    phases = reply["content"].get("cellar_phases", {})
    return sum(secs for name, secs in phases.items() if name != "Execution")


def timed_pass(kc, cells):
    t = time.perf_counter()
    compile_s = sum(run(kc, cell) for cell in cells)
    return time.perf_counter() - t, compile_s


def main():
    path = sys.argv[1]
    kernel = sys.argv[2] if len(sys.argv) > 2 else "cellar"
    nb = nbformat.read(path, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"
             and "raises-exception" not in c.metadata.get("tags", [])]
    work = tempfile.mkdtemp(prefix="cellar-rerun-")
    km = KernelManager(kernel_name=kernel)
    km.start_kernel(cwd=work)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=300)
    run(kc, "0")
    first, _ = timed_pass(kc, cells)
    second, second_compile = timed_pass(kc, cells)
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    print(json.dumps({"notebook": os.path.basename(path), "cells": len(cells),
                      "first_run_s": first, "all_hits_rerun_s": second,
                      "all_hits_rerun_compile_s": second_compile}))


if __name__ == "__main__":
    main()
