#!/usr/bin/env bash
# Opens JupyterLab from this checkout's .venv (after install/setup.sh). Arguments go to
# `jupyter lab`. JupyterLab refuses to start as root unless told --allow-root: as root (a
# container, a CI machine) this adds it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extra=()
if [ "$(id -u)" = 0 ]; then
  extra+=(--allow-root)
fi
exec "$root/.venv/bin/jupyter" lab "${extra[@]}" "$@"
