#!/usr/bin/env bash
# Sets cellar up on a fresh machine, idempotently:
#   1. builds the kernel binary (release),
#   2. creates .venv with the pinned Jupyter packages (install/requirements.txt),
#   3. installs the `cellar` kernelspec into .venv and builds the runtime cells link against
#      (install/kernelspec.sh: this checkout's own runtime/, with a seed of its own).
# Build products live outside the clone (CARGO_TARGET_DIR, default ~/.cache/cellar/target) so a
# later run, or another clone, reuses them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cellar/target}"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need cargo; then
  echo "cellar needs Rust (cargo and rustc 1.95 or later): https://rustup.rs" >&2
  exit 1
fi
if ! need python3; then
  echo "cellar's Jupyter side needs python3 with venv" >&2
  exit 1
fi

echo "==> building cellar-kernel (release)"
cargo build --release --locked -p cellar-kernel

echo "==> Python environment .venv (JupyterLab, nbconvert, test clients)"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 .venv/bin/pip install --quiet --disable-pip-version-check -r install/requirements.txt

echo "==> kernelspec 'cellar' and the prebuilt runtime"
VIRTUAL_ENV="$root/.venv" bash install/kernelspec.sh --sys-prefix
.venv/bin/jupyter kernelspec list
