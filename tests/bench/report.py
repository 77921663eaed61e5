"""Writes BENCHMARKS.md (to stdout) from the results folder of tests/bench/run.sh.

Every figure comes from that folder, which one run of run.sh fills from empty: a section whose
results the run did not produce (BENCH=latency skips criterion and Streamlit) is left out.
"""
import datetime
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys

from latency import ANALYSIS, DEP, compile_s, first_and_second

results = pathlib.Path(sys.argv[1])
HASH_BYTES = int(os.environ.get("CELLAR_BENCH_HASH_MB", "256")) << 20
COMMAND = os.environ.get("BENCH_COMMAND", "bash tests/bench/run.sh")
PLAIN, CACHED = "plain-rust.ipynb", "cached-functions.ipynb"
# cellar's phases of a cell's compile (see the kernel's `build_timing`), and of the runtime joining.
BUILD_PHASES = [ANALYSIS, "Cargo", "rustc (or a kept build)", "Adding the runtime"]


def load(name):
    path = results / name
    return json.loads(path.read_text()) if path.exists() else None


def cpu():
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def mem_gib():
    with open("/proc/meminfo") as f:
        return round(int(f.readline().split()[1]) / 2**20)


def t(seconds):
    if seconds is None:
        return "—"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def times(ratio, bar=None):
    """A ratio as `0.31×`; with a third digit when two would round it onto its bar (a 1.003×
    that misses a ≤ 1.0× bar reads 1.003×, not 1.00×)."""
    digits = 3 if bar is not None and ratio != bar and f"{ratio:.2f}" == f"{bar:.2f}" else 2
    return f"{ratio:.{digits}f}×"


def verdict(ok):
    return "meets the bar" if ok else "**misses the bar**"


def scrub(text):
    """Kernel logs name folders of the machine that ran them; the report does not."""
    return re.sub(r"\s*\(/[^)]*\)", "", text)


criterion = [json.loads(line) for line in (results / "criterion.jsonl").read_text().splitlines()
             if line] if (results / "criterion.jsonl").exists() else []
streamlit = load("streamlit.json")
cellar_k, evcxr_k = load("latency-cellar.json"), load("latency-evcxr.json")
# Notebooks re-run in the kernel that ran them: one whose cached calls all hit (the bar), and the
# caching tour, whose cells that show expiry, eviction, clearing and validation miss on purpose.
all_hits, tour = load("rerun-all-hits.json"), load("rerun-caching-tour.json")
reruns = [r for r in (all_hits, tour) if r]
remote = load("remote-tier.json")

out = []
w = out.append
w("# Benchmarks\n")
w(f"Measured {datetime.date.today()} on {cpu()}, {os.cpu_count()} cores, {mem_gib()} GiB, "
  f"by `{COMMAND}` (one run: every figure and its baseline come from the same run on the same "
  f"machine). Medians."
  + (f" Streamlit {streamlit['streamlit']} was called outside a running app, as its own "
     f"benchmarks do." if streamlit else "")
  + (" evcxr_jupyter 0.22.0 was built from the Rust registry." if evcxr_k else "")
  + ("" if criterion else " This run measured the kernel's latency only.") + "\n")
w("Ratios are the figures that count; the SPEC's performance bars are the targets.\n")


def cache_data_section():
    st_rows = {row["rows"]: row for row in (streamlit or {}).get("tables", [])}
    w("## cache_data on a table of 4 f64 columns\n")
    w("| rows | plain `clone()` | cellar hit | Streamlit hit | hit vs Streamlit | `into_owned()` after a hit | vs clone | first-run overhead | vs clone | Streamlit miss vs its copy |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    notes = []
    for row in criterion:
        n = row["rows"]
        clone = row.get(f"table_4x{n}/plain_clone")
        hit = row.get(f"table_4x{n}/cache_data_hit")
        owned = row.get(f"table_4x{n}/into_owned_after_hit")
        first = row.get(f"first_run_4x{n}/hash_args_and_store")
        first_clone = row.get(f"first_run_4x{n}/plain_clone") or clone
        st_row = st_rows.get(n, {})
        st_hit = st_row.get("cache_data_hit_s")
        speedup = f"{st_hit / hit:,.0f}× faster" if st_hit and hit else "—"
        st_miss = (f"{st_row['cache_data_miss_s'] / st_row['plain_copy_s']:.2f}×"
                   if st_row.get("plain_copy_s") else "—")
        w(f"| {n:,} | {t(clone)} | {t(hit)} | {t(st_hit)} | {speedup} | {t(owned)} | "
          f"{owned / clone:.2f}× | {t(first)} | {first / first_clone:.4f}× | {st_miss} |")
        notes.append(f"- {n:,} rows: hit ≤ 10 µs — {verdict(hit <= 10e-6)}; `into_owned` ≤ 1.2× a clone — "
                     f"{verdict(owned <= 1.2 * clone)}; first run ≤ 0.2× a clone — {verdict(first <= 0.2 * first_clone)}"
                     + (f"; ≥ 10,000× Streamlit's hit — {verdict(st_hit / hit >= 10_000)}" if st_hit else ""))
    w("")
    out.extend(notes)
    w("")


def criterion_sections():
    last = criterion[-1]
    res = last.get("cache_resource_hit_small_arg")
    st_res = (streamlit or {}).get("cache_resource_hit_s")
    w("## cache_resource hit with a small argument\n")
    w("| cellar | Streamlit | ratio |\n|---:|---:|---:|")
    w(f"| {t(res)} | {t(st_res)} | {st_res / res:,.0f}× faster |" if res and st_res else f"| {t(res)} | {t(st_res)} | — |")
    w(f"\nBar ≤ 1 µs: {verdict(res is not None and res <= 1e-6)}.\n")

    w("## Argument hashing (blake3, one core, no sampling)\n")
    alone = last.get("argument_hashing/blake3_alone")
    w("The baseline is blake3 alone (`blake3::hash`) over the bytes of the same `Vec<f64>`: what "
      "this core allows.\n")
    w("| argument | throughput | blake3 alone | ratio |\n|---|---:|---:|---:|")
    for name in ("vec_f64", "string"):
        secs = last.get(f"argument_hashing/{name}")
        if secs:
            base = f"{HASH_BYTES / alone / 1e9:.2f} GB/s | {alone / secs:.2f}×" if alone else "— | —"
            w(f"| {HASH_BYTES >> 20} MiB `{'Vec<f64>' if name == 'vec_f64' else 'String'}` | {HASH_BYTES / secs / 1e9:.2f} GB/s | {base} |")
    rates = [HASH_BYTES / last[k] / 1e9 for k in ("argument_hashing/vec_f64", "argument_hashing/string") if last.get(k)]
    w(f"\nBar ≥ 3 GB/s: {verdict(bool(rates) and min(rates) >= 3)}.\n")

    disk_rows = [row for row in criterion if row.get(f"disk_4x{row['rows']}/write_entry")]
    if disk_rows:
        w("## cache_data on disk (crash survival and `persist = \"disk\"`)\n")
        w("Writing happens off the cell's thread, but the kernel sends a cell's reply only once its "
          "entries are on disk; reading back is what a new kernel (or a cell process restarted after a "
          "crash) pays for its first hit. Both hash the whole file with blake3.\n")
        w("| rows | write an entry | vs clone | read it back (checked) | vs clone |\n|---:|---:|---:|---:|---:|")
        for row in disk_rows:
            n = row["rows"]
            clone = row.get(f"table_4x{n}/plain_clone")
            write, read = row[f"disk_4x{n}/write_entry"], row.get(f"disk_4x{n}/read_entry")
            w(f"| {n:,} | {t(write)} | {write / clone:.2f}× | {t(read)} | {read / clone:.2f}× |")
        w("")

    others = sorted(k for k in last if k != "rows" and not k.startswith(("table_4x", "first_run_4x", "argument_hashing", "cache_resource_hit_small_arg", "disk_4x")))
    if others:
        w("## Other criterion measurements\n")
        w("| bench | median |\n|---|---:|")
        for k in others:
            w(f"| `{k}` | {t(last[k])} |")
        w("")


def middle(pairs, cut=lambda run: run):
    """Of a kernel's pairs (each cut to what a row compares, such as `first_cell`), the one whose
    second kernel's ratio to its first is the median, and every pair's ratio, lowest first."""
    cut_pairs = sorted((cut(run) for run in pairs), key=lambda run: run["restart_ratio"])
    return cut_pairs[len(cut_pairs) // 2], [run["restart_ratio"] for run in cut_pairs]


def representative(pairs):
    """The pair whose figures the report gives: the median one of its whole runs."""
    return middle(pairs)[0]


def restart(pairs, bar=None, cut=lambda run: run):
    """The median pair's ratio and its two kernels' times, with every pair's ratio beside them."""
    run, ratios = middle(pairs, cut)
    every = f"; pairs: {', '.join(times(r) for r in ratios)}" if len(ratios) > 1 else ""
    return (f"{times(run['restart_ratio'], bar)} ({t(run['first']['total_s'])} → "
            f"{t(run['second']['total_s'])}{every})")


def first_cell(run):
    """A first and a second kernel's run cut to their first cell: of the `:dep` cells, the build."""
    return first_and_second(*({"total_s": run[which]["cell_s"][0]} for which in ("first", "second")))


def paused_second(run):
    """A pair's first kernel against its third: the second again, with a user's pause before each
    cell after the first."""
    return first_and_second(run["first"], run["second_paused"])


def latency_section():
    c, e = cellar_k, evcxr_k
    c_plain, e_plain, c_cached = c["notebooks"][PLAIN], e["notebooks"][PLAIN], c["notebooks"][CACHED]
    w("## Latency: the kernel against evcxr_jupyter 0.22\n")
    w(f"Each kernel is a new process in a fresh working directory. The notebooks are "
      f"`tests/bench/notebooks/{PLAIN}` ({c_plain[0]['cells']} cells of plain Rust, run unchanged by "
      f"both kernels) and `{CACHED}` ({c_cached[0]['cells']} cells of serde structs, "
      f"`#[cache_data(persist = \"disk\")]` functions and the cells that call them), run cell by "
      f"cell in a first kernel, then in a second fresh kernel (a restart) that shares the first "
      f"one's disk cache folder and `XDG_CACHE_HOME`; a second cellar kernel also finds the cells "
      f"the first one compiled (`compiled-cells` in the seed folder), and what earlier kernels kept "
      f"there is removed before the first kernel of a pair and before each start. Each pair runs "
      f"{len(c_cached)} times: a second kernel's ratio to its first is the median pair's, with every "
      f"pair's ratio beside it; a median cell is the median of the first kernels' median cells; "
      f"the breakdowns below are of the pair whose whole run has the median ratio. A cell's "
      f"round trip is from the request to the reply; a notebook's time is the sum of its cells' "
      f"round trips, timed once the kernel has given a first result (the start is its own row).\n")
    w("| | cellar | evcxr_jupyter | ratio | bar | |\n|---|---:|---:|---:|---|---|")

    def row(label, cv, ev, bar, ok, ratio=None, limit=None):
        ratio = ratio if ratio is not None else times(cv / ev, limit)
        cv, ev = (x if isinstance(x, str) else t(x) for x in (cv, ev))
        w(f"| {label} | {cv} | {ev} | {ratio} | {bar} | {'' if ok is None else verdict(ok)} |")

    def against_evcxr(label, cv, ev, limit, of="evcxr", seconds=None):
        """A row whose bar is cellar ≤ `limit`× evcxr's figure (`of` names it), and ≤ `seconds`."""
        bar = f"≤ {limit:.1f}× {of}" + (f" and ≤ {seconds:g} s" if seconds is not None else "")
        ok = cv <= limit * ev and (seconds is None or cv <= seconds)
        row(label, cv, ev, bar, ok, limit=limit)

    def against_first_kernel(label, c_pairs, e_pairs, limit, cut=lambda run: run):
        """A row whose bar is cellar's second fresh kernel ≤ `limit`× its first (the median pair)."""
        row(label, restart(c_pairs, limit, cut), restart(e_pairs, cut=cut), f"cellar ≤ {limit:.1f}×",
            middle(c_pairs, cut)[0]["restart_ratio"] <= limit, ratio="—")

    median = lambda pairs: statistics.median(run["first"]["median_cell_s"] for run in pairs)
    against_evcxr(f"median cell round trip, `{PLAIN}`", median(c_plain), median(e_plain), 0.8)
    against_evcxr(f"median cell round trip, `{CACHED}` (evcxr: `{PLAIN}`)", median(c_cached),
                  median(e_plain), 1.0, of="evcxr's plain cell")
    against_evcxr("trivial cell (`1 + 1`) round trip", c["trivial_cell_round_trip_s"],
                  e["trivial_cell_round_trip_s"], 0.8)
    against_evcxr("kernel start → first result", c["start_to_first_result_s"],
                  e["start_to_first_result_s"], 0.8, seconds=3)
    against_first_kernel(f"second fresh kernel ÷ first, whole notebook (cellar: `{CACHED}`, evcxr: "
                         f"`{PLAIN}`)", c_cached, e_plain, 0.3)
    # The bar is on the build, the `:dep` cell. The cell after it is rust-analyzer typing a
    # variable over rand's crates: as much work in a second kernel as in the first.
    dep, using = f"`{DEP[0]}`", f"`{DEP[1].splitlines()[1]}`"
    against_first_kernel(f"{dep} cell, the build: second fresh kernel ÷ first",
                         c["dep"], e["dep"], 0.2, cut=first_cell)
    row(f"{dep} and a cell using it ({using}): second fresh kernel ÷ first",
        restart(c["dep"]), restart(e["dep"]), "—", None, ratio="—")
    if all("second_paused" in run for run in c["dep"] + e["dep"]):
        row(f'the same, the second kernel given a {c["dep"][0]["second_paused"]["pause_s"]} s pause (a '
            f'user typing) before the cell that uses rand: second ÷ first',
            restart(c["dep"], cut=paused_second), restart(e["dep"], cut=paused_second), "—", None, ratio="—")
    if "after_a_pause" in c and "after_a_pause" in e:
        pause = c["after_a_pause"]
        after = lambda k, key: statistics.median(run[key] for run in k["after_a_pause"]["runs"])
        row(f"after the first result and a {pause['pause_s']} s pause (a user typing): a method "
            f"completion (`{pause['completion']}`), medians of {len(pause['runs'])} kernels",
            after(c, "completion_s"), after(e, "completion_s"), "—", None)
        row("then a cell that defines two variables", after(c, "cell_s"), after(e, "cell_s"), "—", None)
    against_evcxr("compute-heavy cell: 10⁸ dependent f64 multiply-adds, timed inside the cell",
                  c["compute_loop_s"], e["compute_loop_s"], 1.5)
    if all_hits:
        rerun, alone, limit = all_hits["rerun_s"], all_hits["rerun_compile_s"], 1.1
        row(f"`{all_hits['notebook']}` ({all_hits['cells']} cells) re-run in one kernel, every "
            f"cached call a hit (first run {t(all_hits['first_run_s'])}), ÷ compiling its cells "
            f"alone ({t(alone)})", rerun, "—", f"≈ 1× (≤ {limit}×)", rerun <= limit * alone,
            ratio=times(rerun / alone, limit))
    if tour:
        rerun, alone = tour["rerun_s"], tour["rerun_compile_s"]
        row(f"`{tour['notebook']}` ({tour['cells']} cells, the caching tour) re-run in one kernel "
            f"(first run {t(tour['first_run_s'])}), ÷ compiling its cells alone ({t(alone)}): its "
            f"cells on expiry, eviction, clearing and validation miss on purpose, and one sleeps "
            f"past a ttl", rerun, "—", "— (not every call hits)", None, ratio=times(rerun / alone))
    w("")

    failed = failures()
    if failed:
        w("**Cells that failed** in this run (their round trips are in the figures above):\n")
        out.extend(failed)
        w("")
    where_the_time_goes(c, e)


def all_pairs(k):
    """One kernel's pairs of runs (a first and a second kernel), every one, by label."""
    return {**{f"`{nb}`": pairs for nb, pairs in k["notebooks"].items()}, "`:dep` cells": k["dep"]}


def runs(k):
    """One kernel's representative pair of each kind, by label."""
    return {label: representative(pairs) for label, pairs in all_pairs(k).items()}


def failures():
    """Every failed cell once, with the runs it failed in: figures that include them are suspect."""
    seen = {}
    for k in (cellar_k, evcxr_k):
        for label, pairs in all_pairs(k).items():
            for which, run in ((which, run[which]) for run in pairs for which in ("first", "second")):
                for f in run["failed"]:
                    seen.setdefault((k["kernel"], label, f["cell"], f["error"]), []).append(which)
    for rerun in reruns:
        for f in rerun.get("failed", []):
            seen.setdefault(("cellar", f"`{rerun['notebook']}`", f["cell"], f["error"]), [])
    return [f"- {kernel}, {label} code cell {cell + 1}"
            + (f" ({' and '.join(sorted(set(which)))} kernel)" if which else " (re-run)")
            + f": {scrub(error).splitlines()[0] if error else 'no error message'}"
            for (kernel, label, cell, error), which in seen.items()]


def where_the_time_goes(c, e):
    w("### Where the time goes (this run)\n")
    phases = ", ".join(f"{name} {t(secs)}" for name, secs in c["trivial_cell_phases_s"].items())
    w(f"- Trivial cell: cellar's execute replies report (`cellar_phases`, medians) {phases}, of a "
      f"{t(c['trivial_cell_round_trip_s'])} round trip.")
    log = [scrub(line).strip() for line in c.get("start_log", [])]
    if log:
        w(f"- Start: the kernel's log of its last start says: " + "; ".join(f"“{line}”" for line in log) + ".")
    started = [float(m[1]) for line in log if (m := re.search(r"evcxr started in ([0-9.]+) s", line))]
    if started:
        trivial = compile_s(c["trivial_cell_phases_s"])
        w(f"- Of cellar's start, {t(started[0])} is evcxr's own start: rust-analyzer loading the cell "
          f"crate's workspace and indexing the standard library (the kernel's copy of its source), "
          f"then a first build of `42` (a trivial build takes {t(trivial)} here). evcxr_jupyter's "
          f"start is the same work over the toolchain's whole source. Only a change in evcxr "
          f"(loading rust-analyzer after the first result) would take the rest off the start: up to "
          f"{t(max(started[0] - trivial, 0))} of each start. The same reload follows every change "
          f"of the cell crate's dependencies, which is most of a `:dep` cell in a second kernel.")
    w(f"- Starts, each a new process: cellar {', '.join(t(s) for s in c['starts_s'])}; "
      f"evcxr_jupyter {', '.join(t(s) for s in e['starts_s'])}.")
    if "after_a_pause" in c:
        w("- After a pause: once idle for 0.3 s after a cell, cellar asks rust-analyzer for a method "
          "completion, which takes in the new code and the trait impls of every crate the cells "
          "see; evcxr_jupyter leaves that work to the next completion or cell. Other than the "
          "rows that say so, the runs above send each cell as soon as the last one replied, so "
          "they never pause.")
    std = c.get("std_source")
    if std:
        def median(source, key):
            return statistics.median(run[key] for run in std[source])
        start, whole_start = median("copy", "start_s"), median("whole", "start_s")
        analysis, whole_analysis = median("copy", "analysis_s"), median("whole", "analysis_s")
        w(f"- rust-analyzer reading the kernel's copy of the standard library source, against the "
          f"toolchain's whole source (`RUST_SRC_PATH` set to it), {len(std['copy'])} kernels each, "
          f"alternating: start → first result {t(start)} against {t(whole_start)} "
          f"({start / whole_start:.2f}×); rust-analyzer before the first cell that defines a "
          f"variable {t(analysis)} against {t(whole_analysis)} ({analysis / whole_analysis:.2f}×).")
    for rerun in reruns:
        total, compiled, ran = rerun["rerun_s"], rerun["rerun_compile_s"], rerun["rerun_cell_execution_s"]
        longest = max(range(len(ran)), key=ran.__getitem__)
        w(f"- `{rerun['notebook']}` re-run: of its {t(total)}, {t(compiled)} is compiling and "
          f"{t(sum(ran))} running the cells' own code (evcxr's `Execution` phase), of which code "
          f"cell {longest + 1} alone took {t(ran[longest])}; the other "
          f"{t(total - compiled - sum(ran))} is the kernel's own work and its messages.")
    w("\nCompiling, in cellar's phases: evcxr's rust-analyzer before each build (`Analysis`), "
      "cargo (before rustc on the cell: its checks and any dependency it builds; finishing "
      "after), rustc on the cell or a kept build, and, in the cell "
      "that first needs it, adding the runtime (evcxr asks cargo about the new dependencies, "
      "rust-analyzer reloads the cell crate's workspace, a build links them).\n")
    w("| run | kernel | all its cells | compiling | of it: analysis | cargo | rustc | adding the runtime "
      "| median cell | slowest cell |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k in (c, e):
        for label, run in runs(k).items():
            for which in ("first", "second"):
                r = run[which]
                if k["kernel"] == "cellar":
                    parts = [r["compile_s"]] + [r["phase_s"].get(name) for name in BUILD_PHASES]
                else:
                    parts = [None] * (1 + len(BUILD_PHASES))
                w(f"| {label}, {which} kernel | {k['kernel']} | {t(r['total_s'])} | "
                  + " | ".join(t(part) for part in parts)
                  + f" | {t(r['median_cell_s'])} | {t(max(r['cell_s']))} |")
    w("")
    evcxr_analysis(c, e)
    second = representative(c["notebooks"][CACHED])["second"]
    slowest = sorted(range(len(second["cell_s"])), key=lambda i: second["cell_s"][i])[-2:]
    rest = second["total_s"] - sum(second["cell_s"][i] for i in slowest)
    w(f"- `{CACHED}` in the second cellar kernel: its two slowest cells, code cells "
      f"{' and '.join(str(i + 1) for i in sorted(slowest))}, took "
      f"{' and '.join(t(second['cell_s'][i]) for i in sorted(slowest))}; the other "
      f"{len(second['cell_s']) - 2} cells {t(rest)} together. A kept build leaves evcxr's own work "
      f"per cell: rust-analyzer, cargo, loading the library.")
    w("")


def without_analysis(run):
    """A run's total and median cell without the part evcxr spends in rust-analyzer before builds."""
    cells = [cell - analysis for cell, analysis in zip(run["cell_s"], run["cell_analysis_s"])]
    return sum(cells), statistics.median(cells)


def evcxr_analysis(c, e):
    """What only a change in evcxr would save: measured by cellar's phases (the rustc wrapper
    reports when cargo started, so the kernel knows how long evcxr worked before it)."""
    w("- **What only evcxr could save.** Before every build evcxr asks rust-analyzer, running in "
      "the kernel's process, for the type of each variable the cell defines (it needs them to "
      "keep the variables for later cells); the kernel cannot reach it. cellar's phases measure "
      "it: the time from the start of evcxr's compile phase until cargo starts "
      "(`Analysis (evcxr's rust-analyzer)`). The figures below take it out: what is left for an "
      "evcxr that no longer waited on rust-analyzer before each build (it could take the types "
      "from rustc's type check of the cell instead):")
    for label, run in (("`" + CACHED + "`", representative(c["notebooks"][CACHED])),
                       ("`:dep` cells", representative(c["dep"]))):
        first, second = (without_analysis(run[which])[0] for which in ("first", "second"))
        w(f"  - {label}: rust-analyzer took {t(sum(run['first']['cell_analysis_s']))} of the first "
          f"kernel's {t(run['first']['total_s'])} and {t(sum(run['second']['cell_analysis_s']))} of "
          f"the second's {t(run['second']['total_s'])}; without it the second kernel would take "
          f"{t(second)}, {second / first:.2f}× the first ({t(first)}), against "
          f"{run['restart_ratio']:.2f}× measured.")
    for nb in (PLAIN, CACHED):
        run = representative(c["notebooks"][nb])["first"]
        w(f"  - `{nb}`, first kernel: median cell {t(run['median_cell_s'])}, without rust-analyzer "
          f"{t(without_analysis(run)[1])}. evcxr_jupyter's cells include the same analysis "
          f"(its median plain cell: {t(representative(e['notebooks'][PLAIN])['first']['median_cell_s'])}).")


def remote_tier_section():
    w("## The remote tier against the cache folder\n")
    w(f"A `persist = \"disk\"` function returning a `Vec<f64>`, server {remote['server']}. Machine A "
      "computes the entry with the remote tier on, A' without: the cell's reply waits until every "
      "tier holds it (the kernel's `Storing cached entries` phase). Machine B, with an empty cache "
      "folder, reads it from the bucket (the copy into its cache folder included); a new kernel on "
      "B then reads it from that folder, and a second call from memory. Calls are timed inside "
      "the cell.\n")
    w("| values | entry | computing it | reply waits, remote on | folder only | ratio | "
      "hit from the bucket | hit from the folder | ratio | hit from memory |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in remote["sizes"]:
        w(f"| {r['rows']:,} | {r['entry_bytes'] / 2**20:.1f} MiB | {t(r['compute_s'])} | {t(r['store_remote_s'])} | "
          f"{t(r['store_local_s'])} | {r['store_remote_s'] / r['store_local_s']:.2f}× | "
          f"{t(r['remote_hit_s'])} | {t(r['folder_hit_s'])} | {r['remote_hit_s'] / r['folder_hit_s']:.2f}× | "
          f"{t(r['memory_hit_s'])} |")
    w("")


if criterion:
    cache_data_section()
    criterion_sections()
if remote:
    remote_tier_section()
if cellar_k and evcxr_k:
    latency_section()

print("\n".join(out))
