#!/usr/bin/env bash
# scripts/python_check.sh — the Python side: tests/python/test_checkpoint.py (NumPy: reading
# checkpoints, eval --log-probs files, damaged files) always, and tests/python/
# test_torch_presets.py (PyTorch modules reproducing every preset's log-likelihoods) where
# python3-torch is installed; without it that part prints "SKIPPED: python3-torch not
# installed" and its checks count as skipped, not passed. Ends with one line "N passed, N
# failed" (all checks) like scripts/test.sh, and exits non-zero on any failure.
# Usage: scripts/python_check.sh [BUILD_DIR]   (default build; needs BUILD_DIR/flowzoo built)
# PYTHON=... chooses the interpreter (default: Debian's /usr/bin/python3, where python3-numpy
# and python3-torch install, else python3 on PATH).
set -uo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
py="${PYTHON:-}"
if [ -z "$py" ]; then
  if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3; else py=python3; fi
fi
flowzoo="$build_dir/flowzoo"
if [ ! -x "$flowzoo" ]; then
  echo "python_check: $flowzoo is not built"
  echo "0 passed, 1 failed"
  exit 1
fi
if ! "$py" -c "import numpy" 2>/dev/null; then
  echo "python_check: $py cannot import numpy (install python3-numpy: scripts/setup.sh does)"
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0; failed=0; skipped=0
for test in tests/python/test_checkpoint.py tests/python/test_torch_presets.py; do
  echo "== $(basename "$test")"
  log=$(mktemp)
  "$py" "$test" "$flowzoo" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1); then
    read -r p _ f _ <<<"$line"
    passed=$((passed + p)); failed=$((failed + f))
    s=$(grep -Eo '^[0-9]+ skipped$' "$log" | grep -Eo '[0-9]+' || echo 0)
    skipped=$((skipped + s))
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && failed=$((failed + 1))  # a non-zero exit with no failed check
  else
    echo "python_check: $(basename "$test") ended without a summary (crash?)"
    failed=$((failed + 1))
  fi
  rm -f "$log"
done
[ "$skipped" -gt 0 ] && echo "python_check: $skipped checks skipped (SKIPPED lines above)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
