"""Writes BENCHMARKS.md (to stdout) from the results folder of tests/bench/run.sh."""
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys

results = pathlib.Path(sys.argv[1])
HASH_BYTES = int(os.environ.get("CELLAR_BENCH_HASH_MB", "256")) << 20


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


def verdict(ok):
    return "meets the bar" if ok else "**misses the bar**"


criterion = [json.loads(line) for line in (results / "criterion.jsonl").read_text().splitlines() if line]
streamlit = load("streamlit.json") or {"tables": [], "cache_resource_hit_s": None, "streamlit": "?"}
st_rows = {row["rows"]: row for row in streamlit["tables"]}
cellar_k, evcxr_k, rerun = load("kernel-cellar.json"), load("kernel-evcxr.json"), load("rerun.json")

out = []
w = out.append
w("# Benchmarks\n")
w(f"Measured {datetime.date.today()} on {cpu()}, {os.cpu_count()} cores, {mem_gib()} GiB, "
  f"by `bash tests/bench/run.sh` (one run: every figure and its baseline come from the same run "
  f"on the same machine). Medians. Streamlit {streamlit['streamlit']} was called outside a running "
  f"app, as its own benchmarks do; evcxr_jupyter 0.22.0 was built from the Rust registry.\n")
w("Ratios are the figures that count; the SPEC's performance bars are the targets.\n")

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

last = criterion[-1]
res = last.get("cache_resource_hit_small_arg")
st_res = streamlit.get("cache_resource_hit_s")
w("## cache_resource hit with a small argument\n")
w("| cellar | Streamlit | ratio |\n|---:|---:|---:|")
w(f"| {t(res)} | {t(st_res)} | {st_res / res:,.0f}× faster |" if res and st_res else f"| {t(res)} | {t(st_res)} | — |")
w(f"\nBar ≤ 1 µs: {verdict(res is not None and res <= 1e-6)}.\n")

w("## Argument hashing (blake3, one core, no sampling)\n")
w("| argument | throughput |\n|---|---:|")
for name in ("vec_f64", "string"):
    secs = last.get(f"argument_hashing/{name}")
    if secs:
        w(f"| {HASH_BYTES >> 20} MiB `{'Vec<f64>' if name == 'vec_f64' else 'String'}` | {HASH_BYTES / secs / 1e9:.2f} GB/s |")
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

if cellar_k and evcxr_k:
    w("## The kernel against evcxr_jupyter 0.22\n")
    w("| | cellar | evcxr_jupyter | ratio |\n|---|---:|---:|---:|")
    trip = cellar_k["trivial_cell_round_trip_s"] / evcxr_k["trivial_cell_round_trip_s"]
    w(f"| trivial cell (`1 + 1`) round trip | {t(cellar_k['trivial_cell_round_trip_s'])} | "
      f"{t(evcxr_k['trivial_cell_round_trip_s'])} | {trip:.2f}× |")
    w(f"| kernel start → first result | {t(cellar_k['start_to_first_result_s'])} | "
      f"{t(evcxr_k['start_to_first_result_s'])} | "
      f"{cellar_k['start_to_first_result_s'] / evcxr_k['start_to_first_result_s']:.2f}× |")
    w(f"\nRound trip ≤ 0.8× evcxr_jupyter's: {verdict(trip <= 0.8)}. "
      f"Start → first result ≤ 3 s with the runtime prebuilt: {verdict(cellar_k['start_to_first_result_s'] <= 3)}.\n")

if rerun:
    w("## Re-running a notebook whose cached cells all hit\n")
    w(f"`notebooks/{rerun['notebook']}`, {rerun['cells']} code cells, in one kernel: first run "
      f"{t(rerun['first_run_s'])}, re-run with every cached call a hit {t(rerun['all_hits_rerun_s'])}, "
      f"of which evcxr compiling the cells {t(rerun['all_hits_rerun_compile_s'])} "
      f"({rerun['all_hits_rerun_s'] / rerun['all_hits_rerun_compile_s']:.2f}× the compile time alone).\n")

# The analysis of the misses, written by hand from a profile (see the file).
profile = pathlib.Path(__file__).with_name("profile.md")
if profile.exists():
    w(profile.read_text())

print("\n".join(out))
