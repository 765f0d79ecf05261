#!/usr/bin/env bash
# scripts/test.sh — build (via setup.sh) and run every test binary; prints one final line
# "N passed, N failed" counting Catch2 test cases, and exits non-zero on any failure.
# Usage: scripts/test.sh [BUILD_DIR [meson args...]]   (default build dir: build)
set -uo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
bash scripts/setup.sh "$@" || { echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0; status=0
for bin in "$build_dir"/tests/*/*_tests; do
  [ -x "$bin" ] || continue
  log=$(mktemp)
  echo "== $(basename "$bin")"
  "$bin" 2>&1 | tee "$log" | tail -n 3
  rc=${PIPESTATUS[0]}
  # Catch2 v2 prints either "All tests passed (A assertions in N test cases)" or
  # "test cases: N | P passed | F failed".
  if line=$(grep -Eo 'All tests passed \([0-9]+ assertions? in [0-9]+ test cases?\)' "$log"); then
    n=$(echo "$line" | grep -Eo '[0-9]+ test case' | grep -Eo '[0-9]+')
    passed=$((passed + n))
  elif line=$(grep -E '^test cases:' "$log"); then
    p=$(echo "$line" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+' || echo 0)
    f=$(echo "$line" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' || echo 0)
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  else
    echo "test.sh: $(basename "$bin") ended without a Catch2 summary (crash?)"
    failed=$((failed + 1))
  fi
  [ "$rc" -ne 0 ] && status=1
  rm -f "$log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
