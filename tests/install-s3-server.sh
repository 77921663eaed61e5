#!/usr/bin/env bash
# Installs s3s-fs, the S3-compatible server the remote-tier tests and benchmarks start, once,
# outside the clone (like the target dir), and prints its path.
set -euo pipefail
tools="${CELLAR_TOOLS_DIR:-$HOME/.cache/cellar/tools}"
if [ ! -x "$tools/bin/s3s-fs" ]; then
  cargo install --locked --quiet --root "$tools" s3s-fs --version 0.14.1 --features binary >&2
fi
echo "$tools/bin/s3s-fs"
