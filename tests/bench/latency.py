"""What a notebook user waits for, through a real client, for one kernel (cellar or evcxr_jupyter).

Every kernel is a new process in a fresh working directory. Measured: kernel start → first result
and the trivial cell's round trip; a compute-heavy cell's own run time (timed inside the cell, so
compiling it does not count); a notebook run cell by cell in a first kernel, then again in a second
fresh kernel (a restart); `:dep` of a small registry crate in a first and a second kernel, and in a
third with a pause before the cell that uses it; for cellar, its start and its first cell that
defines a variable with rust-analyzer reading the kernel's copy of the standard library source,
against the toolchain's whole source; after the first result and a pause (a user reading it and
typing the next cell), a method completion and a cell that defines variables, which a kernel's
rust-analyzer has not typed before. Cells are timed once the kernel has given its first result, so
the start is counted once, in its row.

Each pair of a first and a second kernel runs several times (`--pairs`): the ratio of one pair
moves by several hundredths from one to the next, so the report takes the median pair and shows
every pair's ratio. The two kernels of a pair share a fresh XDG_CACHE_HOME and CELLAR_CACHE_DIR
(`persist = "disk"` entries), so what the first kernel leaves behind reaches the second, and nothing
from an earlier pair reaches the first; for the same reason what cellar keeps between kernels inside
its seed folder (the pool of build folders, the compiled cells) is emptied before the first kernel
of a pair, and before each start.

Usage: python latency.py KERNEL NOTEBOOK... [--starts N] [--trips N] [--compute N] [--pairs N]
(prints one JSON object; notebooks are keyed by file name, each with its list of pairs)
"""
import argparse
import collections
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

import nbformat

from kernels import complete, kernel, run_cell, run_ok

COMPUTE = """let mut x = 1.0f64;
let began = std::time::Instant::now();
for i in 0..100_000_000u64 {
    x = x * 0.999_999_9 + (i & 7) as f64 * 1e-9;
}
println!("loop_s={} x={x}", began.elapsed().as_secs_f64());"""

DEP = [':dep rand = "0.8"',
       'use rand::Rng;\nlet n: u32 = rand::thread_rng().gen_range(0..100);\nprintln!("{}", n < 100);']


def compile_s(phases):
    """cellar's phases other than running the code and storing its cached entries: evcxr
    building the cell."""
    return sum(secs for name, secs in phases.items() if name not in ("Execution", "Storing cached entries"))


# cellar's phase of evcxr's own work before each build: rust-analyzer typing the cell's variables.
ANALYSIS = "Analysis (evcxr's rust-analyzer)"


def phase_totals(replies):
    """Each phase's seconds summed over the cells (cellar's phases; evcxr_jupyter reports none)."""
    totals = collections.Counter()
    for r in replies:
        totals.update(r.phases)
    return dict(totals)


def notebook_run(name, cells, env, pause_s=0):
    """Runs the cells in order in a new kernel: each cell's round trip, failures, compile time.

    The kernel's start is a row of its own: the cells are timed once `1 + 1` has a result.
    With `pause_s`, each cell after the first is sent that long after the last reply (a user
    typing it); the pauses are not in the figures.
    """
    with kernel(name, env) as (kc, _, _):
        run_ok(kc, "1 + 1")
        replies = []
        for i, code in enumerate(cells):
            if i:
                time.sleep(pause_s)
            replies.append(run_cell(kc, code))
    return {
        "cell_s": [r.seconds for r in replies],
        "total_s": sum(r.seconds for r in replies),
        "median_cell_s": statistics.median(r.seconds for r in replies),
        "compile_s": sum(compile_s(r.phases) for r in replies),
        "cell_analysis_s": [r.phases.get(ANALYSIS, 0.0) for r in replies],
        "phase_s": phase_totals(replies),
        "failed": [{"cell": i, "error": r.error} for i, r in enumerate(replies) if r.status != "ok"],
        "pause_s": pause_s,
    }


def forget_earlier_kernels(name):
    """Removes what cellar kernels keep between them in the seed folder: the build folders
    (`kernels/`) and the compiled cells (`compiled-cells/`, and the count of their bytes)."""
    from jupyter_client.kernelspec import KernelSpecManager
    seed = KernelSpecManager().get_kernel_spec(name).env.get("CELLAR_SEED_DIR")
    if seed:
        for kept in ("kernels", "compiled-cells"):
            shutil.rmtree(os.path.join(seed, kept), ignore_errors=True)
        # The running count of what the compiled cells hold.
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(seed, "compiled-cells.bytes"))


def first_and_second(first, second):
    """A first and a second kernel's runs (each with its `total_s`), and the second's ratio to the
    first: what a restart costs."""
    return {"first": first, "second": second, "restart_ratio": second["total_s"] / first["total_s"]}


def pair(name, cells, pause_s=None):
    """The same cells in a first kernel, then in a second fresh one that finds what the first left;
    with `pause_s`, a third like the second, with a user's pause before each cell after the first."""
    forget_earlier_kernels(name)
    shared = tempfile.mkdtemp(prefix="cellar-bench-pair-")
    env = {"XDG_CACHE_HOME": os.path.join(shared, "xdg-cache"),
           "CELLAR_CACHE_DIR": os.path.join(shared, "cellar-cache")}
    try:
        first = notebook_run(name, cells, env)
        second = notebook_run(name, cells, env)
        run = {"cells": len(cells), **first_and_second(first, second)}
        if pause_s:
            run["second_paused"] = notebook_run(name, cells, env, pause_s)
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    return run


def toolchain_std_source():
    """The toolchain's own standard library source (the rust-src component)."""
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True)
    return os.path.join(sysroot.stdout.strip(), "lib", "rustlib", "src", "rust", "library")


def std_source_starts(name, n):
    """cellar's rust-analyzer over the kernel's copy of the standard library source against the
    toolchain's whole source (`RUST_SRC_PATH` set to it, as a user may): starts, and the analysis
    before the first cell that defines a variable, alternating."""
    runs = {"copy": [], "whole": []}
    for _ in range(n):
        for source, env in (("copy", None), ("whole", {"RUST_SRC_PATH": toolchain_std_source()})):
            forget_earlier_kernels(name)
            with kernel(name, env) as (kc, began, _):
                run_ok(kc, "1 + 1")
                start = time.perf_counter() - began
                first_variable = run_ok(kc, "let v = vec![1, 2];\nlet s = String::from(\"x\");")
            runs[source].append({"start_s": start, "analysis_s": first_variable.phases.get(ANALYSIS, 0.0)})
    return runs


# A user's pause between the first result and the next request, and what comes after it.
PAUSE_S = 5
PAUSE_COMPLETION = "String::new()."
PAUSE_CELL = 'let v = vec![1, 2];\nlet s = String::from("x");'


def after_a_pause(name, n):
    """In n fresh kernels: the first result, a pause, then a method completion and a cell that
    defines variables, each timed from request to reply."""
    runs = []
    for _ in range(n):
        forget_earlier_kernels(name)
        with kernel(name) as (kc, _, _):
            run_ok(kc, "1 + 1")
            time.sleep(PAUSE_S)
            completion_s, matches = complete(kc, PAUSE_COMPLETION)
            if "push_str" not in " ".join(matches):
                raise RuntimeError(f"completing {PAUSE_COMPLETION!r} did not offer push_str: {matches[:10]}")
            runs.append({"completion_s": completion_s, "cell_s": run_ok(kc, PAUSE_CELL).seconds})
    return {"pause_s": PAUSE_S, "completion": PAUSE_COMPLETION, "runs": runs}


def code_cells(path):
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kernel")
    parser.add_argument("notebooks", nargs="*")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--trips", type=int, default=20)
    parser.add_argument("--compute", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_intermixed_args()

    starts, trips, loops, phases = [], [], [], collections.defaultdict(list)
    for n in range(args.starts):
        forget_earlier_kernels(args.kernel)
        with kernel(args.kernel) as (kc, began, stderr):
            assert run_ok(kc, "1 + 1").result == "2"
            starts.append(time.perf_counter() - began)
            # What the kernel says about its own start (cellar: its phases; cargo: what it built).
            start_log = [line for line in stderr().splitlines()
                         if line.startswith("cellar:") or line.strip().startswith("Compiling ")]
            if n < args.starts - 1:
                continue
            for _ in range(args.trips):
                reply = run_ok(kc, "1 + 1")
                trips.append(reply.seconds)
                for phase, secs in reply.phases.items():
                    phases[phase].append(secs)
            for _ in range(args.compute):
                loops.append(float(re.search(r"loop_s=(\S+)", run_ok(kc, COMPUTE).stdout)[1]))

    print(json.dumps({
        "kernel": args.kernel,
        "start_to_first_result_s": statistics.median(starts),
        "starts_s": starts,
        "start_log": start_log,
        "trivial_cell_round_trip_s": statistics.median(trips),
        "trivial_cell_phases_s": {p: statistics.median(s) for p, s in phases.items()},
        "compute_loop_s": statistics.median(loops),
        "compute_loops_s": loops,
        "notebooks": {os.path.basename(p): [pair(args.kernel, code_cells(p)) for _ in range(args.pairs)]
                      for p in args.notebooks},
        "dep": [pair(args.kernel, DEP, pause_s=PAUSE_S) for _ in range(args.pairs)],
        "after_a_pause": after_a_pause(args.kernel, args.starts),
        **({"std_source": std_source_starts(args.kernel, args.starts)} if args.kernel == "cellar" else {}),
    }))


if __name__ == "__main__":
    main()
