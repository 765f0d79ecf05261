#!/usr/bin/env bash
# scripts/mpi_check.sh — data-parallel training over MPI (flows/collective.hpp), on this one
# machine with 2 ranks: the equivalence program (tests/mpi/mpi_equivalence.cpp: np 2 against a
# single process, gradients, parameters after 20 steps, a control that the checks can fail),
# then `mpirun -np 2 build/flowzoo train` itself: one writer (metrics.csv has each step once),
# the same numbers as np 1, a --batch the ranks cannot split refused (exit 2), --resume (same N
# and another N), a
# SIGTERM to one rank stopping both with a checkpoint, and a rank that fails ending the other
# instead of leaving it waiting. One line per check ("mpi-check: PASS|FAIL ..."), then
# "N passed, N failed" (.ci/run stage 1m counts it). Skips (0 passed, 0 failed) when the build
# found no MPI. Usage: scripts/mpi_check.sh [BUILD_DIR]   (default build; about a minute)
set -uo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
tmp=$(mktemp -d /tmp/fz-mpi-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

passed=0; failed=0
pass() { echo "mpi-check: PASS $1"; passed=$((passed + 1)); }
fail() { echo "mpi-check: FAIL $1"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if [ ! -x "$build_dir/tests/mpi/mpi_equivalence" ]; then
  mpi_option=$(meson introspect "$build_dir" --buildoptions 2>/dev/null | python3 -c '
import json, sys
print(next((str(o["value"]) for o in json.load(sys.stdin) if o["name"] == "mpi"), "?"))' 2>/dev/null)
  if [ "$mpi_option" != disabled ] && dpkg-query -W -f='${Status}' libopenmpi-dev 2>/dev/null | grep -q "install ok installed"; then
    # scripts/setup.sh installs OpenMPI: a build that did not find it would skip these checks unseen.
    fail "libopenmpi-dev is installed but $build_dir was configured without MPI (meson setup --reconfigure $build_dir)"
  else
    echo "mpi-check: $build_dir has no MPI build (-Dmpi=$mpi_option; install libopenmpi-dev openmpi-bin and reconfigure); skipped"
  fi
  finish
fi
# Root in a container needs both variables; --oversubscribe lets 2 ranks share fewer free cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun_() { timeout 120 mpirun --oversubscribe --bind-to none "$@"; }
fz=$build_dir/flowzoo

# 1. The equivalence program: its PASS/FAIL lines are checks of their own.
mpirun_ -np 2 "$build_dir/tests/mpi/mpi_equivalence" >"$tmp/eq.log" 2>&1
eq_rc=$?
while IFS= read -r line; do
  case "$line" in
    "PASS mpi: "*) pass "${line#PASS mpi: }" ;;
    "FAIL mpi: "*) fail "${line#FAIL mpi: }" ;;
  esac
done <"$tmp/eq.log"
if [ "$eq_rc" -ne 0 ] && ! grep -q '^FAIL' "$tmp/eq.log"; then
  fail "mpi_equivalence exited $eq_rc"; tail -n 20 "$tmp/eq.log"
fi

toy_flags=(train --model realnvp --dataset toy --density moons --threads 1 --eval-every 10 --sample-every 0 --quiet)
toy=("${toy_flags[@]}" --batch 64)
# Column 3 (the training loss) of metrics.csv at step $2.
loss_at() { awk -F, -v s="$2" '$1 == s { print $3 }' "$1/metrics.csv"; }
close() { python3 -c 'import sys; a, b, tol = map(float, sys.argv[1:]); sys.exit(0 if abs(a - b) <= tol * max(1, abs(b)) else 1)' "$@"; }

# 2. np 2 against np 1 through the CLI: the same losses, one row per step.
"$fz" "${toy[@]}" --steps 20 --out "$tmp/np1" >"$tmp/np1.log" 2>&1
mpirun_ -np 2 "$fz" "${toy[@]}" --steps 20 --out "$tmp/np2" >"$tmp/np2.log" 2>&1
rc=$?
rows=$(awk -F, 'NR > 1' "$tmp/np2/metrics.csv" 2>/dev/null | wc -l)
if [ "$rc" -eq 0 ] && [ "$rows" -eq 20 ] && [ -f "$tmp/np2/results.json" ] && [ -f "$tmp/np2/checkpoint.safetensors" ]; then
  pass "mpirun -np 2 flowzoo train: exit 0, rank 0 alone wrote metrics.csv (20 rows), results.json, the checkpoint"
else
  fail "mpirun -np 2 flowzoo train: exit $rc, $rows metric rows"; tail -n 20 "$tmp/np2.log"
fi
l1=$(loss_at "$tmp/np1" 20); l2=$(loss_at "$tmp/np2" 20)
if [ -n "$l1" ] && [ -n "$l2" ] && close "$l2" "$l1" 1e-4; then
  pass "step-20 training loss np 2 = np 1 within 1e-4 ($l2 vs $l1)"
else
  fail "step-20 training loss np 2 ($l2) != np 1 ($l1)"
fi
t1=$(awk -F, '$1 == 20 { print $6 }' "$tmp/np1/metrics.csv"); t2=$(awk -F, '$1 == 20 { print $6 }' "$tmp/np2/metrics.csv")
if [ -n "$t1" ] && [ -n "$t2" ] && close "$t2" "$t1" 1e-4; then
  pass "evaluation split over the ranks and reduced: test NLL at step 20 np 2 = np 1 ($t2 vs $t1)"
else
  fail "test NLL at step 20: np 2 ($t2) vs np 1 ($t1)"
fi

# 2b. A tiny Glow on Fashion-MNIST (images: dequantization, ActNorm's initialisation, the
# evaluation of the test images split over the ranks): np 2 against np 1. Float32 with Adam, so
# 1e-3 (Adam turns round-off into small step differences; tests/mpi/mpi_equivalence.cpp).
glow=(train --model glow --levels 2 --steps-per-level 2 --hidden 8 --batch 16 --steps 10 --threads 1 --eval-every 0
      --sample-every 0 --final-eval-limit 256 --quiet)
"$fz" "${glow[@]}" --out "$tmp/g1" >"$tmp/g1.log" 2>&1
mpirun_ -np 2 "$fz" "${glow[@]}" --out "$tmp/g2" >"$tmp/g2.log" 2>&1
rc=$?
bpd() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["test_bpd"])' "$1/results.json" 2>/dev/null; }
b1=$(bpd "$tmp/g1"); b2=$(bpd "$tmp/g2"); g1=$(loss_at "$tmp/g1" 10); g2=$(loss_at "$tmp/g2" 10)
if [ "$rc" -eq 0 ] && [ -n "$b1" ] && [ -n "$b2" ] && close "$b2" "$b1" 1e-3 && [ -n "$g1" ] && [ -n "$g2" ] && close "$g2" "$g1" 1e-3; then
  pass "tiny Glow on Fashion-MNIST: np 2 = np 1 within 1e-3 (step-10 bpd $g2 vs $g1; test bpd $b2 vs $b1)"
else
  fail "tiny Glow on Fashion-MNIST: exit $rc, step-10 bpd '$g2' vs '$g1', test bpd '$b2' vs '$b1'"; tail -n 5 "$tmp/g2.log" "$tmp/g1.log"
fi

# 3. A global batch the ranks cannot split evenly: exit 2 and a message saying so.
mpirun_ -np 2 "$fz" "${toy_flags[@]}" --steps 2 --batch 63 --out "$tmp/odd" >"$tmp/odd.log" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "does not divide evenly among the 2 MPI ranks" "$tmp/odd.log"; then
  pass "--batch 63 over 2 ranks refused (exit 2, message)"
else
  fail "--batch 63 over 2 ranks: exit $rc"; tail -n 5 "$tmp/odd.log"
fi

# 4. --resume with the same N continues the run: 10 steps, then --resume to 20 = 20 in one go.
mpirun_ -np 2 "$fz" "${toy[@]}" --steps 10 --out "$tmp/res" >"$tmp/res1.log" 2>&1
mpirun_ -np 2 "$fz" "${toy[@]}" --steps 20 --out "$tmp/res" --resume >"$tmp/res2.log" 2>&1
rc=$?
lr=$(loss_at "$tmp/res" 20)
rows=$(awk -F, 'NR > 1' "$tmp/res/metrics.csv" 2>/dev/null | wc -l)
if [ "$rc" -eq 0 ] && [ "$rows" -eq 20 ] && [ -n "$lr" ] && close "$lr" "$l2" 1e-6; then
  pass "--resume over 2 ranks: 10 + 10 steps give the uninterrupted run's step-20 loss ($lr)"
else
  fail "--resume over 2 ranks: exit $rc, $rows rows, step-20 loss '$lr' vs '$l2'"; tail -n 5 "$tmp/res2.log"
fi

# 4b. ... and with another N: the checkpoint holds no per-rank state (np 2 for 10 steps, np 1 on).
mpirun_ -np 2 "$fz" "${toy[@]}" --steps 10 --out "$tmp/res_n" >"$tmp/resn1.log" 2>&1
"$fz" "${toy[@]}" --steps 20 --out "$tmp/res_n" --resume >"$tmp/resn2.log" 2>&1
rc=$?
ln=$(loss_at "$tmp/res_n" 20)
if [ "$rc" -eq 0 ] && [ -n "$ln" ] && close "$ln" "$l2" 1e-4; then
  pass "--resume with another N (np 2 then np 1): step-20 loss $ln, the np 2 run's within 1e-4"
else
  fail "--resume with another N: exit $rc, step-20 loss '$ln' vs '$l2'"; tail -n 5 "$tmp/resn2.log"
fi

# 5. SIGTERM to rank 1 alone: the flag is agreed, both ranks stop, rank 0 writes the checkpoint.
mpirun_ -np 2 "$fz" train --model realnvp --dataset toy --density moons --batch 64 --threads 1 --steps 1000000 \
  --out "$tmp/sig" >"$tmp/sig.log" 2>&1 &
launcher=$!
for _ in $(seq 100); do grep -q "step loop started" "$tmp/sig.log" 2>/dev/null && break; sleep 0.2; done
sleep 1
# Rank 1: the process of this run whose environment says OMPI_COMM_WORLD_RANK=1.
rank1=""
for p in $(pgrep -f "out $tmp/sig"); do tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && rank1=$p; done
if [ -n "$rank1" ]; then
  kill -TERM "$rank1"
  wait "$launcher"; rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ -f "$tmp/sig/checkpoint.safetensors" ] && grep -q "continue with --resume" "$tmp/sig.log"; then
    pass "SIGTERM to rank 1 stopped both ranks with a checkpoint (mpirun exit $rc)"
  else
    fail "SIGTERM to rank 1: mpirun exit $rc"; tail -n 10 "$tmp/sig.log"
  fi
else
  kill -TERM "$launcher" 2>/dev/null; wait "$launcher"
  fail "SIGTERM: could not find rank 1's process"; tail -n 10 "$tmp/sig.log"
fi

# 6. A rank that fails (rank 1 asked to resume a folder with no checkpoint) ends the other.
mpirun_ -np 1 "$fz" "${toy[@]}" --steps 100000 --out "$tmp/fail0" : \
        -np 1 "$fz" "${toy[@]}" --steps 100000 --out "$tmp/fail1" --resume >"$tmp/fail.log" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "rank 1 of 2" "$tmp/fail.log"; then
  pass "a failing rank ends the run with its message (mpirun exit $rc, no hang)"
else
  fail "a failing rank: mpirun exit $rc"; tail -n 10 "$tmp/fail.log"
fi
finish
