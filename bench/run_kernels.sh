#!/usr/bin/env bash
# bench/run_kernels.sh — the "kernels" benchmark of BENCHMARKS.md in one command: builds the
# release build (-O3 -march=native), runs bench_sgemm (against OpenBLAS), bench_conv2d and
# bench_elementwise with their PyTorch scripts, and prints one table of medians and ratios.
#
# Usage: bench/run_kernels.sh [max_threads]      (default 2; runs 1..max_threads)
# Env:   BUILD_DIR (default build-release), PYTHON (default /usr/bin/python3).
# The ratio column is flowzoo's speed relative to the reference: > 1 means flowzoo is faster
# (GFLOP/s: flowzoo / reference; ms: reference / flowzoo). These machines are shared and
# noisy: compare ratios, not absolute numbers. Installs what a fair comparison needs when
# missing (bench/bench_setup.sh: OpenBLAS, python3-torch) and refuses a PyTorch on the
# reference BLAS.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-build-release}"
python="${PYTHON:-/usr/bin/python3}"
threads="${1:-2}"
cd "$root"
# shellcheck source=bench/bench_setup.sh
. bench/bench_setup.sh
bench_install
bench_build "$build" bench/bench_sgemm bench/bench_conv2d bench/bench_elementwise
bench_check_torch_blas

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
# run_torch <script> <args...>: the PyTorch side under each wait policy, its implementation column
# renamed pytorch-default / pytorch-passive (the table keeps the faster).
run_torch() {
  local policy tag
  for policy in "${torch_wait_policies[@]}"; do
    tag="${policy:-default}"
    if [ -z "$policy" ]; then
      env -u OMP_WAIT_POLICY "$python" "$@"
    else
      OMP_WAIT_POLICY="$policy" "$python" "$@"
    fi | sed "s/\tpytorch\t/\tpytorch-${tag,,}\t/" >>"$results"
  done
}
echo "running bench_sgemm ..." >&2
"$build/bench/bench_sgemm" >>"$results"
echo "running bench_conv2d and bench/torch_conv2d.py ..." >&2
"$build/bench/bench_conv2d" "$threads" >>"$results"
run_torch bench/torch_conv2d.py "$threads"
echo "running bench_elementwise and bench/torch_elementwise.py ..." >&2
"$build/bench/bench_elementwise" "$threads" >>"$results"
run_torch bench/torch_elementwise.py "$threads"

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
higher_is_better = lambda unit: unit == "GFLOP/s"
for key in order:
    r = rows[key]
    if "openblas" in r:
        ref_name, ref = "openblas", r["openblas"]
    else:  # PyTorch at its best: the faster of its two wait-policy runs, named
        runs = {k.split("-", 1)[1]: v for k, v in r.items() if k.startswith("pytorch-")}
        best = (max if higher_is_better(r["unit"]) else min)(runs, key=runs.get) if runs else None
        ref = runs.get(best)
        others = ", ".join(f"{k} {v:.2f}" for k, v in runs.items() if k != best)
        ref_name = f"pytorch ({best}; {others})" if others else f"pytorch ({best})"
    fz = r.get("flowzoo")
    ratio = ""
    if fz and ref:
        ratio = f"{(fz / ref if higher_is_better(r['unit']) else ref / fz):.2f}"
    fmt = lambda v: f"{v:10.2f}" if v is not None else f"{'-':>10}"
    print(f"{key[0]:<26}{key[1]:>4}  {fmt(fz)}  {fmt(ref)}  {r['unit']:<8}{ratio:>7}  {ref_name}")
print("PyTorch runs under libgomp's default wait policy and OMP_WAIT_POLICY=PASSIVE; the faster is the "
      "reference (the other in brackets).")
PY
