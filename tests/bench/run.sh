#!/usr/bin/env bash
# Opt-in benchmarks (not part of CI): cellar against its baselines, in one run on this machine,
# and BENCHMARKS.md rewritten with the figures. Baselines: one plain clone() of the same value
# (criterion, same process), Streamlit's st.cache_data / st.cache_resource (PyPI, scratch venv),
# and evcxr_jupyter 0.22 (built from the Rust registry into a scratch folder); the remote tier is
# set against the cache folder, through s3s-fs on loopback.
#
#   bash tests/bench/run.sh                      # 10M and 50M rows; takes a while (builds evcxr_jupyter)
#   ROWS="1000000" bash tests/bench/run.sh       # a quick run
#   BENCH=latency bash tests/bench/run.sh        # only the kernel against evcxr_jupyter: the report
#                                                # goes to the results folder, BENCHMARKS.md is kept
#   SETUP=0 ...                                  # use the kernel already installed in .venv
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cellar/target}"
scratch="${CELLAR_BENCH_SCRATCH:-$CARGO_TARGET_DIR/bench-scratch}"
results="$scratch/results"
rows="${ROWS:-10000000 50000000}"
bench="${BENCH:-all}"
case "$bench" in all|latency) ;; *) echo "BENCH is all or latency, not '$bench'" >&2; exit 2 ;; esac
# Every figure in the report comes from this run: nothing is left from an earlier one.
rm -rf "$results"
mkdir -p "$results"

[ "${SETUP:-1}" = 0 ] || bash install/setup.sh >/dev/null

if [ "$bench" = all ]; then
  echo "==> criterion: cache hits, into_owned, first run, cache_resource, hashing"
  : > "$results/criterion.jsonl"
  for n in $rows; do
    rm -rf "$CARGO_TARGET_DIR/criterion"
    CELLAR_BENCH_ROWS="$n" cargo bench --locked -p cellar --bench cache -- --noplot >&2
    .venv/bin/python tests/bench/criterion_estimates.py "$CARGO_TARGET_DIR/criterion" "$n" >> "$results/criterion.jsonl"
  done

  echo "==> Streamlit"
  if [ ! -x "$scratch/streamlit/bin/python" ]; then
    python3 -m venv "$scratch/streamlit"
    "$scratch/streamlit/bin/pip" install --quiet streamlit==1.67.0 pandas numpy
  fi
  "$scratch/streamlit/bin/python" tests/bench/streamlit_cache.py $rows > "$results/streamlit.json"
fi

echo "==> evcxr_jupyter 0.22 (scratch build)"
if [ ! -x "$scratch/evcxr/bin/evcxr_jupyter" ]; then
  # Its own target dir: evcxr_jupyter's lockfile would otherwise replace artifacts the kernel's
  # build shares, and the next kernel build would compile evcxr again.
  CARGO_TARGET_DIR="$scratch/evcxr-target" \
    cargo install --locked --quiet evcxr_jupyter --version 0.22.0 --root "$scratch/evcxr"
fi
mkdir -p "$scratch/jupyter/kernels/evcxr"
cat > "$scratch/jupyter/kernels/evcxr/kernel.json" <<JSON
{"argv": ["$scratch/evcxr/bin/evcxr_jupyter", "--control_file", "{connection_file}"],
 "display_name": "Rust (evcxr)", "language": "rust", "interrupt_mode": "message"}
JSON

# The :dep benchmark's first kernel should build rand, not download it: fetch it beforehand.
mkdir -p "$scratch/fetch-rand/src"
touch "$scratch/fetch-rand/src/lib.rs"
printf '[package]\nname = "fetch-rand"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\nrand = "0.8"\n' \
  > "$scratch/fetch-rand/Cargo.toml"
cargo fetch --quiet --manifest-path "$scratch/fetch-rand/Cargo.toml"

echo "==> kernel latency: cellar, then evcxr_jupyter"
nb=tests/bench/notebooks
.venv/bin/python tests/bench/latency.py cellar $nb/plain-rust.ipynb $nb/cached-functions.ipynb \
  > "$results/latency-cellar.json"
JUPYTER_PATH="$scratch/jupyter" .venv/bin/python tests/bench/latency.py evcxr $nb/plain-rust.ipynb \
  > "$results/latency-evcxr.json"

echo "==> notebook re-runs"
# A notebook whose cached calls all hit on a re-run (the bar), and the caching tour, whose
# expiry, eviction, clearing and validation cells miss on purpose on every run.
.venv/bin/python tests/bench/notebook_rerun.py $nb/cached-functions.ipynb > "$results/rerun-all-hits.json"
.venv/bin/python tests/bench/notebook_rerun.py notebooks/caching.ipynb > "$results/rerun-caching-tour.json"

if [ "$bench" = all ]; then
  echo "==> the remote tier against the cache folder (s3s-fs)"
  CELLAR_S3_SERVER="$(bash tests/install-s3-server.sh)"
  export CELLAR_S3_SERVER
  .venv/bin/python tests/bench/remote_tier.py 1000000 10000000 > "$results/remote-tier.json"
fi

command="bash tests/bench/run.sh"
[ -z "${ROWS:-}" ] || command="ROWS=\"$ROWS\" $command"
[ "$bench" = all ] || command="BENCH=$bench $command"
if [ "$bench" = all ]; then
  BENCH_COMMAND="$command" .venv/bin/python tests/bench/report.py "$results" > BENCHMARKS.md
  echo "BENCHMARKS.md written"
else
  BENCH_COMMAND="$command" .venv/bin/python tests/bench/report.py "$results" | tee "$results/BENCHMARKS.md"
  echo "report written to $results/BENCHMARKS.md (BENCHMARKS.md unchanged)"
fi
