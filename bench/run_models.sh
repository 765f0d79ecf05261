#!/usr/bin/env bash
# bench/run_models.sh — the model workloads of BENCHMARKS.md in one command: builds the release
# build (-O3 -march=native), then for each workload runs bench_model (flowzoo) and
# bench/torch_models.py (PyTorch, same architecture, same parameter count) ALTERNATELY for
# several rounds — each run a separate process under /usr/bin/time -v for its peak resident
# memory — and prints one markdown table: the median over rounds of each run's median step
# seconds, the ratio flowzoo / PyTorch (< 1: flowzoo is faster), and peak RSS.
#
# Usage: bench/run_models.sh [--workloads toy-realnvp,toy-nsf,maf-toy,nice-fmnist,realnvp-fmnist,glow-fmnist]
#                            [--threads T (2)] [--rounds R (3)] [--steps N (30)] [--warmup W (5)]
#                            [--toy-steps N (300)]
# Env:   BUILD_DIR (default build-release), PYTHON (default /usr/bin/python3).
# The toy workloads (toy-realnvp, toy-nsf, maf-toy: 2-D two moons, batch 512) take milliseconds
# a step, so they time more steps (--toy-steps), and PyTorch runs at 1 and 2 threads (and T)
# with its best median reported: the target is PyTorch's best.
# The machines are shared and noisy: compare ratios, not absolute times. Exits 1 if the two
# sides of a workload report different parameter counts. Installs what a fair comparison needs
# when missing (bench/bench_setup.sh: python3-torch, OpenBLAS, time), refuses a PyTorch on the
# reference BLAS, and runs PyTorch under both OpenMP wait policies (default and PASSIVE),
# reporting the faster.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-build-release}"
python="${PYTHON:-/usr/bin/python3}"
workloads="toy-realnvp,toy-nsf,maf-toy,nice-fmnist,realnvp-fmnist,glow-fmnist"
threads=2
rounds=3
steps=30
warmup=5
toy_steps=300

while [ $# -gt 0 ]; do
  case "$1" in
    --workloads) workloads="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --toy-steps) toy_steps="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run_models.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
cd "$root"

# shellcheck source=bench/bench_setup.sh
. bench/bench_setup.sh
bench_install
bench_build "$build" bench/bench_model
bench_check_torch_blas

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
results="$tmp/results"
: >"$results"

# run <workload> <impl> <threads> <command...>: appends the program's lines and, from
# /usr/bin/time -v, a "<workload>_timerss <threads> <impl> <MB> MB" line.
run() {
  local w="$1" impl="$2" t="$3"
  shift 3
  local status=0
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
  else
    "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
  fi
  if [ "$status" -ne 0 ]; then
    echo "run_models.sh: $impl $w (threads $t) failed with exit $status:" >&2
    cat "$tmp/err" >&2
    exit 1
  fi
  # The PyTorch script names itself "pytorch": its lines take the run's name (pytorch-default,
  # pytorch-passive), so the table can keep the faster wait policy.
  sed "s/\tpytorch\t/\t${impl}\t/" "$tmp/out" >>"$results"
  if [ -x /usr/bin/time ]; then
    local kb
    kb="$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$tmp/time")"
    [ -n "$kb" ] && printf '%s_timerss\t%s\t%s\t%s\tMB\n' "$w" "$t" "$impl" \
      "$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')" >>"$results"
  fi
}

IFS=',' read -r -a wl <<<"$workloads"
for w in "${wl[@]}"; do
  n="$steps"
  torch_threads=("$threads")
  if [ "$w" = "toy-realnvp" ] || [ "$w" = "toy-nsf" ] || [ "$w" = "maf-toy" ]; then
    n="$toy_steps"
    torch_threads=($(printf '%s\n' 1 2 "$threads" | sort -nu))
  fi
  for ((r = 1; r <= rounds; r++)); do
    echo "round $r/$rounds: $w (flowzoo and PyTorch, $n steps each) ..." >&2
    fz_cmd=("$build/bench/bench_model" --workload "$w" --threads "$threads" --steps "$n" --warmup "$warmup")
    # Alternate which side goes first, so neither always gets the quieter half of a round.
    if ((r % 2 == 1)); then run "$w" flowzoo "$threads" "${fz_cmd[@]}"; fi
    for t in "${torch_threads[@]}"; do
      for policy in "${torch_wait_policies[@]}"; do
        if [ -z "$policy" ]; then
          run "$w" pytorch-default "$t" env -u OMP_WAIT_POLICY "$python" bench/torch_models.py --workload "$w" \
            --threads "$t" --steps "$n" --warmup "$warmup"
        else
          run "$w" "pytorch-${policy,,}" "$t" env OMP_WAIT_POLICY="$policy" "$python" bench/torch_models.py \
            --workload "$w" --threads "$t" --steps "$n" --warmup "$warmup"
        fi
      done
    done
    if ((r % 2 == 0)); then run "$w" flowzoo "$threads" "${fz_cmd[@]}"; fi
  done
done

"$python" - "$results" "$threads" "$workloads" <<'PY'
import statistics
import sys

path, threads, workloads = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
vals = {}  # (name, impl, threads) -> [values]
for line in open(path):
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 5:
        continue
    name, t, impl, value, unit = parts
    vals.setdefault((name, impl, int(t)), []).append(float(value))

def med(name, impl, t):
    v = vals.get((name, impl, t))
    return statistics.median(v) if v else None

def rss(w, impl, t):  # peak over rounds: /usr/bin/time -v, else the program's getrusage
    v = vals.get((w + "_timerss", impl, t)) or vals.get((w + "_rss", impl, t))
    return max(v) if v else None

fmt = lambda v, spec: format(v, spec) if v is not None else "-"
sec = lambda v: format(v, '.4g') if v is not None else "-"
print("| workload | threads | flowzoo s/step | PyTorch s/step | ratio (flowzoo/PyTorch) "
      "| flowzoo peak RSS MB | PyTorch peak RSS MB | parameters |")
print("|---|---|---|---|---|---|---|---|")
mismatch, notes = False, []
for w in workloads:
    fz = med(w, "flowzoo", threads)
    # PyTorch at its best: the fastest of its runs over thread counts and wait policies.
    pt_runs = sorted({(i, t) for (n, i, t) in vals if n == w and i.startswith("pytorch-")})
    pt_impl, pt_best = min(pt_runs, key=lambda it: med(w, *it)) if pt_runs else ("pytorch-default", threads)
    pt = med(w, pt_impl, pt_best)
    policy = pt_impl.split("-", 1)[1]
    thr = f"{threads} (PyTorch: {policy} wait policy)" if pt_best == threads else \
        f"{threads} (PyTorch best at {pt_best}, {policy} wait policy)"
    ratio = f"{fz / pt:.2f}" if fz and pt else "-"
    p_fz = vals.get((w + "_params", "flowzoo", threads), [None])[0]
    p_pt = vals.get((w + "_params", pt_impl, pt_best), [None])[0]
    if p_fz is not None and p_fz == p_pt:
        params = f"{int(p_fz):,}"
    else:
        params = f"MISMATCH {p_fz} vs {p_pt}"
        mismatch = True
    print(f"| {w} | {thr} | {sec(fz)} | {sec(pt)} | {ratio} | "
          f"{fmt(rss(w, 'flowzoo', threads), '.0f')} | {fmt(rss(w, pt_impl, pt_best), '.0f')} | {params} |")
    if len(pt_runs) > 1:
        notes.append(f"{w}: PyTorch s/step by thread count and wait policy: " +
                     ", ".join(f"{t} {i.split('-', 1)[1]}: {med(w, i, t):.4g}" for i, t in pt_runs))
print()
for note in notes:
    print(note)
print("PyTorch runs under libgomp's default OpenMP wait policy and OMP_WAIT_POLICY=PASSIVE; the faster is "
      "the reference.")
print("s/step: median over rounds of each run's median optimiser-step time (after warm-up); "
      "ratio < 1 means flowzoo is faster. Shared machine: compare ratios.")
if mismatch:
    print("ERROR: the two sides report different parameter counts (see the table)", file=sys.stderr)
    sys.exit(1)
PY
