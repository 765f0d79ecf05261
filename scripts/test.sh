#!/usr/bin/env bash
# scripts/test.sh — build (via setup.sh) and run every test binary; prints one final line
# "N passed, N failed" counting Catch2 test cases, and exits non-zero on any failure or when
# the build has no test binary.
# Usage: scripts/test.sh [BUILD_DIR [meson args...]]   (default build dir: build)
set -uo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
bash scripts/setup.sh "$@" || { echo "0 passed, 1 failed"; exit 1; }

# The test binaries this configuration builds (ninja's target list, so binaries left over from
# an earlier configuration with tests on are not run).
mapfile -t targets < <(ninja -C "$build_dir" -t targets all 2>/dev/null |
                       grep -E '^tests/[^:]+_tests: ' | cut -d: -f1 | sort -u)
passed=0; failed=0; status=0; binaries=0
for target in "${targets[@]}"; do
  bin="$build_dir/$target"
  [ -x "$bin" ] || continue
  binaries=$((binaries + 1))
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
# No test binary at all (a build configured with -Dtests=false, or a wrong build dir) is a
# failure, not an empty success.
if [ "$binaries" -eq 0 ]; then
  echo "test.sh: no test binaries in $build_dir/tests (configured with -Dtests=false?)"
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
