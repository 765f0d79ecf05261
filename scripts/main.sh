#!/usr/bin/env bash
# scripts/main.sh — the main job: install what is missing, build, train the default model
# (Glow on Fashion-MNIST, L=2, K=8, hidden 128 — the glow-fmnist benchmark architecture) for a
# bounded time, evaluate test bits/dim on the full test set, and print where everything is.
# Usage: scripts/main.sh [MINUTES [OUT_DIR]]   (defaults: 10 minutes, runs/main)
# The training recipe (lr 1e-3, warmup 200, clip 50) is the image models' default (cli/run_config.hpp).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
out="${2:-runs/main}"
bash scripts/setup.sh build
threads=$(nproc)
echo "main: training glow on fashion-mnist for $minutes minutes on $threads threads -> $out"
status=0
# --force: a previous run in $out is moved to the sibling $out.old-<time>, not overwritten.
build/flowzoo train --model glow --dataset fashion-mnist --levels 2 --steps-per-level 8 --hidden 128 \
  --batch 64 --minutes "$minutes" --threads "$threads" \
  --eval-every 500 --eval-limit 1000 --force --out "$out" || status=$?
if [ "$status" -ne 0 ]; then
  echo "main: training failed (exit $status)" >&2
  exit "$status"
fi
echo "main: inspect the run with: build/flowzoo eval --checkpoint $out/checkpoint.safetensors --json"
