#!/usr/bin/env bash
# scripts/install_check.sh — checks what `meson install` gives a user: installs BUILD_DIR into a
# temporary folder (--destdir; the installed flowzoo.pc is relocatable, so pkg-config finds
# everything under that folder), checks the installed tree and flowzoo.pc, compiles every
# installed header with pkg-config's flags alone, builds examples/out_of_tree/ (a copy, outside
# the source tree) with its Makefile, and runs it linked to libflowzoo.so and to libflowzoo.a,
# checking its numbers. One line per check ("install-check: PASS|FAIL ..."), then
# "N passed, N failed" (.ci/run counts it); exits non-zero on any failure.
# Usage: scripts/install_check.sh [BUILD_DIR]   (default build; built first if out of date)
set -uo pipefail
cd "$(dirname "$0")/.."
source_root=$PWD
build_dir=${1:-build}
stage=$(mktemp -d /tmp/fz-install-check.XXXXXX)
trap 'rm -rf "$stage"' EXIT

passed=0; failed=0
pass() { echo "install-check: PASS $1"; passed=$((passed + 1)); }
fail() { echo "install-check: FAIL $1"; failed=$((failed + 1)); }
# check WHAT COMMAND...: runs the command quietly; on failure shows its output.
check() {
  local what=$1; shift
  local out
  if out=$("$@" 2>&1); then pass "$what"; else fail "$what"; printf '%s\n' "$out" | tail -n 20; return 1; fi
}
# The value of one of BUILD_DIR's meson options, lower case ("true", "false", ...).
option_value() {
  meson introspect "$build_dir" --buildoptions | python3 -c '
import json, sys
print(next(str(o["value"]).lower() for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if [ ! -f "$build_dir/build.ninja" ]; then
  fail "no configured build in $build_dir (run scripts/setup.sh $build_dir first)"; finish
fi
# pkgconfig.relocatable is the project's default; a build dir configured before it was added
# gets it set here (it only changes the generated .pc files).
if [ "$(option_value pkgconfig.relocatable)" != true ]; then
  echo "install-check: setting -Dpkgconfig.relocatable=true in $build_dir"
  meson configure "$build_dir" -Dpkgconfig.relocatable=true >/dev/null
fi

check "meson install into a temporary destdir" meson install -C "$build_dir" --destdir "$stage/root" --quiet
pc_file=$(find "$stage/root" -name flowzoo.pc -path '*/pkgconfig/*' | head -n 1)
if [ -z "$pc_file" ]; then fail "flowzoo.pc installed"; finish; fi
pass "flowzoo.pc installed (${pc_file#"$stage/root"})"
export PKG_CONFIG_PATH="$(dirname "$pc_file")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# (The relocatable .pc gives .../pkgconfig/../../..-style paths; shown normalised.)
include_dir=$(realpath -m "$(pkg-config --variable=includedir flowzoo)")
lib_dir=$(realpath -m "$(pkg-config --variable=libdir flowzoo)")
prefix_dir=$(realpath -m "$(pkg-config --variable=prefix flowzoo)")

# --- the installed tree
installed_top=$(ls "$include_dir/flowzoo" 2>/dev/null | tr '\n' ' ')
[ "$installed_top" = "autograd datasets flows tensor " ] &&
  pass "include/flowzoo/ holds exactly the four library layers" ||
  fail "include/flowzoo/ holds exactly the four library layers (found: $installed_top)"
# Every library header is installed or listed in its folder's meson.build as internal.
unaccounted=()
for layer in tensor autograd datasets flows; do
  while read -r header; do
    rel=${header#"$layer/"}
    [ -f "$include_dir/flowzoo/$header" ] && continue
    grep -q "'$rel'" "$layer/meson.build" || unaccounted+=("$header")
  done < <(find "$layer" -name '*.hpp' | sort)
done
[ ${#unaccounted[@]} -eq 0 ] && pass "every library header is installed or listed as internal" ||
  fail "headers neither installed nor listed in their meson.build: ${unaccounted[*]}"
for f in "$lib_dir/libflowzoo.a" "$lib_dir/libflowzoo.so" "$prefix_dir/bin/flowzoo"; do
  [ -e "$f" ] && pass "installed ${f#"$stage/root"}" || fail "installed ${f#"$stage/root"}"
done
check "the installed flowzoo binary runs (--help)" "$prefix_dir/bin/flowzoo" --help
! ldd "$prefix_dir/bin/flowzoo" | grep -q libflowzoo &&
  pass "the flowzoo binary does not need libflowzoo.so" || fail "the flowzoo binary does not need libflowzoo.so"

# --- flowzoo.pc: the flags the installed headers need
cflags=$(pkg-config --cflags flowzoo)
for flag in -DXTENSOR_USE_XSIMD -std=c++17; do
  [[ " $cflags " == *" $flag "* ]] && pass "flowzoo.pc Cflags carry $flag" || fail "flowzoo.pc Cflags carry $flag ($cflags)"
done
if [ "$(option_value native)" = true ]; then
  [[ " $cflags " == *" -march=native "* ]] && pass "flowzoo.pc Cflags carry -march=native (built with native=true)" ||
    fail "flowzoo.pc Cflags carry -march=native (built with native=true)"
else
  [[ " $cflags " != *" -march=native "* ]] && pass "flowzoo.pc Cflags have no -march=native (native=false)" ||
    fail "flowzoo.pc Cflags have no -march=native (native=false)"
fi
requires=$(pkg-config --print-requires flowzoo | awk '{print $1}' | sort | tr '\n' ' ')
[ "$requires" = "tbb xsimd xtensor " ] && pass "flowzoo.pc Requires: xtensor xsimd tbb" ||
  fail "flowzoo.pc Requires: xtensor xsimd tbb (found: $requires)"

# --- every installed header compiles with nothing but pkg-config's flags (no -I of the source
# tree): each include between them resolves inside include/flowzoo/.
(cd "$include_dir" && find flowzoo -name '*.hpp' | sort | sed 's|.*|#include <&>|') > "$stage/all_headers.cpp"
check "all $(wc -l < "$stage/all_headers.cpp") installed headers compile with \`pkg-config --cflags flowzoo\` alone" \
  bash -c "cd '$stage' && \${CXX:-c++} -fsyntax-only $cflags all_headers.cpp"

# --- the out-of-tree example, built from a copy outside the source tree
cp -r "$source_root/examples/out_of_tree" "$stage/example"
if ! check "examples/out_of_tree builds with its Makefile (pkg-config --cflags --libs flowzoo)" \
     make -C "$stage/example"; then finish; fi
loaded=$(ldd "$stage/example/presets_log_prob" | awk '/libflowzoo\.so/ { print $3 }')
[ -n "$loaded" ] && [ "$(realpath -m "$(dirname "$loaded")")" = "$lib_dir" ] &&
  pass "the shared build loads the installed libflowzoo.so" ||
  fail "the shared build loads the installed libflowzoo.so (ldd: ${loaded:-none})"
! ldd "$stage/example/presets_log_prob_static" | grep -q libflowzoo &&
  pass "the static build needs no libflowzoo.so" || fail "the static build needs no libflowzoo.so"

# The example's numbers: the loss fell, the round trip is exact to float64 rounding, and the
# density integrates to 1 (200 x 200 midpoint grid over [-8, 8]^2: a log-det off by delta
# would scale it by e^delta).
check_output() {
  local name=$1 out=$2
  echo "$out" | sed 's/^/  /'
  echo "$out" | awk '
    /^nll at step 1:/   { first = $NF }
    /^nll at step 200:/ { last = $NF }
    /^round trip/       { rt = $NF }
    /^integral/         { integral = $NF }
    /^log p/            { n_lp++; if ($NF !~ /^-?[0-9]+\.[0-9]+$/) bad_lp = 1 }  # finite numbers
    END {
      ok = (first != "" && last != "" && last < first - 0.3 && rt != "" && rt + 0 < 1e-9 &&
            integral != "" && integral > 0.99 && integral < 1.01 && n_lp == 4 && !bad_lp)
      exit !ok
    }' && pass "$name: nll fell by > 0.3, 4 finite log p, round trip < 1e-9, integral of p within 0.01 of 1" ||
    fail "$name: nll fell by > 0.3, 4 finite log p, round trip < 1e-9, integral of p within 0.01 of 1"
}
shared_out=$("$stage/example/presets_log_prob" 2>&1) && pass "presets_log_prob (shared) runs" ||
  fail "presets_log_prob (shared) runs"
check_output "presets_log_prob (shared)" "$shared_out"
static_out=$("$stage/example/presets_log_prob_static" 2>&1) && pass "presets_log_prob_static runs" ||
  fail "presets_log_prob_static runs"
[ "$static_out" = "$shared_out" ] && pass "static and shared builds print the same numbers" ||
  { fail "static and shared builds print the same numbers"; echo "$static_out" | sed 's/^/  static: /'; }

finish
