#!/usr/bin/env bash
# Sets cellar up (install/setup.sh) and runs every test: the Rust unit and integration tests,
# then the end-to-end tests that drive the real kernel with real Jupyter clients.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash install/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cellar/target}"

echo "==> cargo test (release profile: it reuses the kernel's build)"
cargo test --release --locked --workspace

echo "==> end-to-end tests"
.venv/bin/python -m pytest tests -v "$@"
