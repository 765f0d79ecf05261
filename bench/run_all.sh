#!/usr/bin/env bash
# bench/run_all.sh — every speed benchmark of BENCHMARKS.md in one command: the kernels
# (bench/run_kernels.sh: sgemm against OpenBLAS, conv2d and elementwise against PyTorch, at 1..T
# threads), then the model workloads (bench/run_models.sh: flowzoo against PyTorch, alternating
# rounds, step time, ratio and peak RSS). The quality comparison (10 minutes per side) is
# separate: bench/run_quality.sh.
#
# Usage: bench/run_all.sh [run_models.sh options, e.g. --threads 2 --rounds 3]
# Env:   BUILD_DIR (default build-release), PYTHON (default /usr/bin/python3).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
threads=2
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = "--threads" ] && [ $((i + 1)) -lt ${#args[@]} ]; then threads="${args[$((i + 1))]}"; fi
done
echo "## Kernels"
echo
bash "$here/run_kernels.sh" "$threads"
echo
echo "## Models"
echo
bash "$here/run_models.sh" "$@"
