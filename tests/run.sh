#!/usr/bin/env bash
# Sets cellar up (install/setup.sh) and runs every test: the Rust unit and integration tests,
# then the end-to-end tests that drive the real kernel with real Jupyter clients.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash install/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cellar/target}"

echo "==> cargo test (release profile: it reuses the kernel's build)"
# Two runs, not one --workspace run: the benches' dev-dependencies would change the features of
# crates evcxr shares, and cargo would then build evcxr a second time.
cargo test --release --locked -p cellar-kernel
cargo test --release --locked -p cellar -p cellar-codegen -p cellar-macros

echo "==> Debian's chromium for the JupyterLab browser test"
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing and cannot be installed here: the browser test will be skipped" >&2
  fi
fi

echo "==> s3s-fs, the S3-compatible server the remote-tier tests start"
CELLAR_S3_SERVER="$(bash tests/install-s3-server.sh)"
export CELLAR_S3_SERVER

echo "==> end-to-end tests"
.venv/bin/python -m pytest tests -v "$@"
