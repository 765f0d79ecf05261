#!/usr/bin/env bash
# scripts/test.sh — build (via setup.sh) and run every test binary; prints one final line
# "N passed, N failed" counting Catch2 test cases, and exits non-zero on any failure or when
# the build has no test binary.
# Usage: scripts/test.sh [BUILD_DIR [meson args...]]   (default build dir: build)
# The binaries run side by side, FZ_TEST_JOBS at a time (default: the number of cores): most
# test cases are single-threaded, so on 2 cores this halves the wall time. Each binary's output
# is kept apart and printed whole when it ends, so logs never interleave. cli_tests, which takes
# longer than all the others together (about 1000 s of the sanitizer stage), runs as FZ_TEST_JOBS
# shards: its test names dealt out in turn to lists that Catch2 reads with -f (commas and
# brackets escaped, as Catch2's test-spec parser needs), each shard a job of its own.
set -uo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
bash scripts/setup.sh "$@" || { echo "0 passed, 1 failed"; exit 1; }
jobs="${FZ_TEST_JOBS:-$(nproc)}"
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "test.sh: FZ_TEST_JOBS must be a positive integer (got '$jobs')"; echo "0 passed, 1 failed"; exit 1; }

# The test binaries this configuration builds (ninja's target list, so binaries left over from
# an earlier configuration with tests on are not run). The longest-running ones start first so
# the short ones fill in around them.
mapfile -t targets < <(ninja -C "$build_dir" -t targets all 2>/dev/null |
                       grep -E '^tests/[^:]+_tests: ' | cut -d: -f1 | sort -u |
                       awk '{ p = /cli_tests$/ ? 0 : /tensor_tests$/ ? 1 : /flows_tests$/ ? 2 : 3; print p "\t" $0 }' |
                       sort -k1,1n -k2 | cut -f2)
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

run_one() {  # run_one TARGET NAME [catch2 args...]: output to LOG, exit code and seconds to LOG.rc
  local bin="$build_dir/$1" log="$log_dir/$2" start=$SECONDS
  shift 2
  "$bin" "$@" > "$log" 2>&1
  echo "$? $((SECONDS - start))" > "$log.rc"
}

binaries=()   # one entry per job: a binary's name, or NAME.shardK for a shard of it
for target in "${targets[@]}"; do
  [ -x "$build_dir/$target" ] || continue
  name=$(basename "$target")
  shard_args=()
  if [ "$name" = cli_tests ] && [ "$jobs" -gt 1 ]; then
    "$build_dir/$target" --list-test-names-only | grep -v '^$' | sed 's/[],[\\]/\\&/g' > "$log_dir/names" || true
    for ((k = 0; k < jobs; k++)); do
      awk -v k="$k" -v n="$jobs" '(NR - 1) % n == k' "$log_dir/names" > "$log_dir/$name.shard$k.names"
    done
    for ((k = 0; k < jobs; k++)); do
      [ -s "$log_dir/$name.shard$k.names" ] || continue
      binaries+=("$name.shard$k")
      while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
      run_one "$target" "$name.shard$k" -f "$log_dir/$name.shard$k.names" &
    done
    continue
  fi
  binaries+=("$name")
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  run_one "$target" "$name" &
done
wait

passed=0; failed=0; status=0
for name in "${binaries[@]}"; do
  log="$log_dir/$name"
  read -r rc seconds < "$log.rc"
  echo "== $name (${seconds} s)"
  # Catch2 v2 prints either "All tests passed (A assertions in N test cases)" or
  # "test cases: N | P passed | F failed".
  if line=$(grep -Eo 'All tests passed \([0-9]+ assertions? in [0-9]+ test cases?\)' "$log"); then
    tail -n 3 "$log"
    n=$(echo "$line" | grep -Eo '[0-9]+ test case' | grep -Eo '[0-9]+')
    passed=$((passed + n))
  elif line=$(grep -E '^test cases:' "$log"); then
    # A failing binary: show its whole report, not just the summary.
    cat "$log"
    p=$(echo "$line" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+' || echo 0)
    f=$(echo "$line" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' || echo 0)
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  else
    cat "$log"
    echo "test.sh: $name ended without a Catch2 summary (crash?)"
    failed=$((failed + 1))
  fi
  [ "$rc" -ne 0 ] && status=1
done
# No test binary at all (a build configured with -Dtests=false, or a wrong build dir) is a
# failure, not an empty success.
if [ "${#binaries[@]}" -eq 0 ]; then
  echo "test.sh: no test binaries in $build_dir/tests (configured with -Dtests=false?)"
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
