#!/usr/bin/env bash
# Installs the `cellar` kernelspec of this checkout: the kernel built from it (release), cells
# linking this checkout's own runtime/, and a seed (the runtime compiled ahead of time) of its
# own, so two clones side by side never use each other's runtime. Arguments go to
# `cellar-kernel install` (--user | --sys-prefix | --prefix DIR, --no-build).
# Without a checkout, `cargo install --path kernel` and `cellar-kernel install` use the runtime
# the binary carries instead.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cellar/target}"
cargo build --release --locked -p cellar-kernel
export CELLAR_RUNTIME_DIR="$root/runtime"
export CELLAR_SEED_DIR="${CELLAR_SEED_DIR:-$CARGO_TARGET_DIR/cellar-seed-$(printf '%s' "$root" | cksum | cut -d' ' -f1)}"
# Every clone and branch that shares the target dir overwrites the binary there: the kernelspec
# names a copy of this checkout's own (renamed into place, so a running kernel is not disturbed).
bin="${VIRTUAL_ENV:-$root/.venv}/bin"
mkdir -p "$bin"
cp "$CARGO_TARGET_DIR/release/cellar-kernel" "$bin/.cellar-kernel.new"
mv -f "$bin/.cellar-kernel.new" "$bin/cellar-kernel"
"$bin/cellar-kernel" install "$@"
