#!/usr/bin/env bash
# Python side of the benchmarks and fixture generators: .venv/ with PyTorch 2.13.0 (the
# same libtorch as tch 0.26), scikit-learn and numpy. Not needed by the tests or CI.
# Idempotent: an existing complete venv (marker .venv/.complete) is left alone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
[[ -f "$venv/.complete" ]] && exit 0
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "torch==2.13.0" "scikit-learn" "numpy"
touch "$venv/.complete"
echo "setup-venv: ready at $venv" >&2
