#!/usr/bin/env bash
# bench/run_kernels.sh — the "kernels" benchmark of BENCHMARKS.md in one command: builds the
# release build (-O3 -march=native), runs bench_sgemm (against OpenBLAS), bench_conv2d and
# bench_elementwise with their PyTorch scripts, and prints one table of medians and ratios.
#
# Usage: bench/run_kernels.sh [max_threads]      (default 2; runs 1..max_threads)
# Env:   BUILD_DIR (default build-release), PYTHON (default /usr/bin/python3).
# The ratio column is flowzoo's speed relative to the reference: > 1 means flowzoo is faster
# (GFLOP/s: flowzoo / reference; ms: reference / flowzoo). These machines are shared and
# noisy: compare ratios, not absolute numbers.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-build-release}"
python="${PYTHON:-/usr/bin/python3}"
threads="${1:-2}"
cd "$root"
# libgomp's idle threads spin by default; on a machine with anything else running that makes
# PyTorch several times slower, and the reference should be PyTorch at its best (the model
# script torch_models.py sets the same).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --buildtype=release >/dev/null
fi
ninja -C "$build" -j2 bench/bench_sgemm bench/bench_conv2d bench/bench_elementwise >/dev/null

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
echo "running bench_sgemm ..." >&2
"$build/bench/bench_sgemm" >>"$results"
echo "running bench_conv2d and bench/torch_conv2d.py ..." >&2
"$build/bench/bench_conv2d" "$threads" >>"$results"
"$python" bench/torch_conv2d.py "$threads" >>"$results"
echo "running bench_elementwise and bench/torch_elementwise.py ..." >&2
"$build/bench/bench_elementwise" "$threads" >>"$results"
"$python" bench/torch_elementwise.py "$threads" >>"$results"

"$python" - "$results" <<'PY'
import sys
rows, order = {}, []
for line in open(sys.argv[1]):
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 5:
        continue
    name, threads, impl, value, unit = parts
    key = (name, int(threads))
    if key not in rows:
        rows[key] = {"unit": unit}
        order.append(key)
    rows[key][impl] = float(value)
print(f"{'workload':<26}{'thr':>4}  {'flowzoo':>10}  {'reference':>10}  {'unit':<8}{'ratio':>7}  ref")
for key in order:
    r = rows[key]
    ref_name = "openblas" if "openblas" in r else "pytorch"
    fz, ref = r.get("flowzoo"), r.get(ref_name)
    ratio = ""
    if fz and ref:
        ratio = f"{(fz / ref if r['unit'] == 'GFLOP/s' else ref / fz):.2f}"
    fmt = lambda v: f"{v:10.2f}" if v is not None else f"{'-':>10}"
    print(f"{key[0]:<26}{key[1]:>4}  {fmt(fz)}  {fmt(ref)}  {r['unit']:<8}{ratio:>7}  {ref_name}")
PY
