#!/usr/bin/env bash
# bench/run_quality.sh — the quality side of BENCHMARKS.md: flowzoo (bench_model --quality) and
# PyTorch (bench/torch_models.py --quality) each train a workload for the same wall-clock budget
# with the same recipe (batch per BENCHMARKS.md — 64 for glow-fmnist —, Adam lr 1e-3, linear
# warmup over 200 steps, gradient-norm clipping at 50), one after the other (never at the same
# time: they would share the cores), then score the test set (one dequantization draw) and this
# prints a markdown table of test bpd (nats for toy-realnvp) and steps taken.
#
# Usage: bench/run_quality.sh [--minutes M (10)] [--workloads glow-fmnist] [--threads T (2)]
#                             [--test-images N (10000)]
# Env:   BUILD_DIR (default build-release), PYTHON (default /usr/bin/python3).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-build-release}"
python="${PYTHON:-/usr/bin/python3}"
minutes=10
workloads="glow-fmnist"
threads=2
test_images=10000

while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --workloads) workloads="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --test-images) test_images="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "run_quality.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
cd "$root"

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=release >/dev/null
fi
ninja -C "$build" -j2 bench/bench_model >/dev/null

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
IFS=',' read -r -a wl <<<"$workloads"
for w in "${wl[@]}"; do
  args=(--workload "$w" --threads "$threads" --quality "$minutes" --test-images "$test_images")
  echo "flowzoo: $w for $minutes minutes ..." >&2
  "$build/bench/bench_model" "${args[@]}" >>"$results"
  echo "PyTorch: $w for $minutes minutes ..." >&2
  "$python" bench/torch_models.py "${args[@]}" >>"$results"
done

"$python" - "$results" "$workloads" "$threads" "$minutes" "$test_images" <<'PY'
import sys

path, workloads, threads, minutes, n_test = sys.argv[1:6]
vals = {}
for line in open(path):
    parts = line.rstrip("\n").split("\t")
    if len(parts) == 5:
        vals[(parts[0], parts[2])] = (parts[3], parts[4])
get = lambda key, impl: vals.get((key, impl), ("-", ""))
print("| workload | threads | minutes | flowzoo steps | flowzoo test | PyTorch steps | PyTorch test | unit |")
print("|---|---|---|---|---|---|---|---|")
for w in workloads.split(","):
    fz, pt = get(w + "_quality", "flowzoo"), get(w + "_quality", "pytorch")
    unit = fz[1] or pt[1]
    print(f"| {w} | {threads} | {minutes} | {get(w + '_quality_steps', 'flowzoo')[0]} | {fz[0]} "
          f"| {get(w + '_quality_steps', 'pytorch')[0]} | {pt[0]} | {unit} |")
print()
print(f"test bpd on the first {n_test} test images (one dequantization draw); toy-realnvp: test "
      "NLL in nats on 20,000 fresh samples. Lower is better.")
PY
