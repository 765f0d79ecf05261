#!/usr/bin/env bash
# scripts/fuzz.sh — builds the libFuzzer targets in fuzz/ with clang (ASan + UBSan) straight
# from the parser sources (no meson), seeds each with a few valid inputs, runs each for a
# bounded time and prints executions and whether anything crashed. Exit status non-zero on
# any crash. Usage: scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)] [WORK_DIR (default build-fuzz)]
# Needs Debian's clang (libFuzzer ships in libclang-rt-14-dev / the clang package).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
work="${2:-build-fuzz}"
mkdir -p "$work"

CXX="${CXX_FUZZ:-clang++}"
if ! command -v "$CXX" >/dev/null; then
  echo "fuzz: $CXX not found (apt-get install clang)"; exit 2
fi
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I. -I/usr/include/stb)
common=(datasets/error.cpp datasets/file_bytes.cpp tensor/tensor.cpp tensor/shape.cpp)

# Seed corpora: valid raw and gzip IDX files (images and labels) and CIFAR records.
python3 - "$work" <<'PY'
import gzip, os, struct, sys
w = sys.argv[1]
for d in ("corpus_idx", "corpus_cifar"):
    os.makedirs(os.path.join(w, d), exist_ok=True)
def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", x) for x in dims) + data
seeds = {
    "img": idx([2, 3, 4], bytes(range(24))),
    "lab": idx([5], bytes([1, 2, 3, 4, 5])),
    "img4": idx([1, 1, 2, 2], bytes(4)),
}
for k, v in list(seeds.items()):
    seeds[k + ".gz"] = gzip.compress(v)
for k, v in seeds.items():
    open(os.path.join(w, "corpus_idx", k), "wb").write(v)
rec10 = bytes([3]) + bytes(i % 256 for i in range(3072))
rec100 = bytes([7, 42]) + bytes((i * 7) % 256 for i in range(3072))
c = {"c10": b"\x00" + rec10 * 2, "c100": b"\x01" + rec100, "c100coarse": b"\x02" + rec100 * 2,
     "c10gz": b"\x00" + gzip.compress(rec10)}
for k, v in c.items():
    open(os.path.join(w, "corpus_cifar", k), "wb").write(v)
PY

status=0
for target in idx cifar; do
  src="fuzz/fuzz_${target}.cpp"
  parser="datasets/${target}.cpp"
  bin="$work/fuzz_${target}"
  if [ ! "$bin" -nt "$src" ] || [ ! "$bin" -nt "$parser" ] || [ ! "$bin" -nt datasets/file_bytes.cpp ]; then
    echo "fuzz: building $bin"
    if ! "$CXX" "${flags[@]}" "$src" "$parser" "${common[@]}" -lz -o "$bin"; then
      echo "fuzz: build of $bin failed (is libFuzzer installed? apt-get install libclang-rt-14-dev)"; exit 2
    fi
  fi
  log="$work/fuzz_${target}.log"
  # -malloc_limit_mb: any single allocation above 64 MiB counts as a crash (hostile headers
  # must not make the readers allocate); artifacts (crash inputs) land in $work.
  (cd "$work" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ./"fuzz_${target}" \
      -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=64 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="./crash_${target}_" "corpus_${target}") >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  [ -z "$runs" ] && runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' | tail -1)
  if [ $rc -eq 0 ]; then
    echo "fuzz_${target}: ${runs:-?} executions in ${seconds}s, no crash"
  else
    echo "fuzz_${target}: CRASH after ${runs:-?} executions (exit $rc); see $log and $work/crash_${target}_*"
    grep -m5 -E 'ERROR|SUMMARY|runtime error' "$log"
    status=1
  fi
done
exit $status
