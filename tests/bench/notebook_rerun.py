"""Re-running a notebook in the kernel that ran it, against the compile time of its cells.

Runs every code cell of the notebook in order (pass 1: cold caches), then again (pass 2: the
cached calls hit, except where the notebook makes them miss on purpose). The kernel reports how
long evcxr spent compiling each cell (`cellar_phases` in the execute reply), so pass 2 can be set
against the compile time of its cells alone.
Usage: python notebook_rerun.py NOTEBOOK [KERNEL]   (prints one JSON object)
"""
import json
import sys

import nbformat

from kernels import kernel, run_cell, run_ok
from latency import compile_s


def timed_pass(kc, cells):
    """Seconds for the whole pass, the part of it evcxr spent compiling, each cell's seconds
    running its own code (evcxr's `Execution` phase), and the cells that failed."""
    replies = [run_cell(kc, cell) for cell in cells]
    failed = [{"cell": i, "error": r.error} for i, r in enumerate(replies) if r.status != "ok"]
    ran = [r.phases.get("Execution", 0.0) for r in replies]
    return sum(r.seconds for r in replies), sum(compile_s(r.phases) for r in replies), ran, failed


def main():
    path = sys.argv[1]
    name = sys.argv[2] if len(sys.argv) > 2 else "cellar"
    nb = nbformat.read(path, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"
             and "raises-exception" not in c.metadata.get("tags", [])]
    with kernel(name) as (kc, _, _):
        run_ok(kc, "0")
        first, _, _, failed = timed_pass(kc, cells)
        second, second_compile, second_ran, failed_again = timed_pass(kc, cells)
    print(json.dumps({"notebook": path, "cells": len(cells),
                      "first_run_s": first, "rerun_s": second,
                      "rerun_compile_s": second_compile,
                      "rerun_cell_execution_s": second_ran,
                      "failed": failed + failed_again}))


if __name__ == "__main__":
    main()
