#!/usr/bin/env bash
# scripts/fuzz.sh — builds the libFuzzer targets in fuzz/ with clang (ASan + UBSan) straight
# from the parser sources (no meson), seeds each with a few valid inputs, runs each for a
# bounded time and prints executions and whether anything crashed. Exit status non-zero on
# any crash. Targets: idx, cifar (dataset files), safetensors (the checkpoint reader and its
# metadata validation), image (the image folder's per-file decode).
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)] [WORK_DIR (default build-fuzz)] [TARGET...]
# Needs Debian's clang (libFuzzer ships in libclang-rt-14-dev / the clang package).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
work="${2:-build-fuzz}"
shift $(( $# < 2 ? $# : 2 ))
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(idx cifar safetensors image)
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
for d in ("corpus_idx", "corpus_cifar", "corpus_safetensors", "corpus_image"):
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

# Safetensors: a flowzoo checkpoint's layout (metadata with a valid config, step, RNG state and
# data checksum; F32 and F64 tensors), the same without the checksum, and a bare one.
import json, zlib
def safetensors(tensors, meta, with_crc=True):
    header, data = {}, b""
    for name, dtype, shape, payload in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    meta = dict(meta)
    if with_crc:
        meta["data_crc32"] = "%08x" % zlib.crc32(data)
    if meta:
        header["__metadata__"] = meta
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data
config = {"flowzoo_config_version": 1,
          "model": {"model": "realnvp", "event_shape": [2], "levels": 1, "steps_per_level": 1, "hidden": 8,
                    "blocks": 1, "couplings": 2, "affine": True, "lu": True, "learn_top": False,
                    "weight_norm": False},
          "training": {"optimizer": "adam", "lr": 0.001, "warmup_steps": 0, "clip_grad_norm": 0.0,
                       "polyak_decay": 0.0, "weight_decay": 0.0, "bits": 8},
          "dataset": "toy", "data_dir": "", "density": "moons", "image_size": 0, "channels": 0, "batch": 64,
          "steps": 10, "epochs": 0.0, "minutes": 0.0, "seed": 1, "threads": 1, "eval_every": 0, "eval_limit": 1000,
          "final_eval_limit": 0, "sample_every": 0, "checkpoint_seconds": 60.0}
meta = {"flowzoo.config": json.dumps(config), "flowzoo.step": "7", "flowzoo.wall_seconds": "1.5",
        "flowzoo.rng": " ".join(["%016x" % (i + 1) for i in range(4)] + ["0", "0"]), "format": "pt"}
tensors = [("model.w", "F32", [2, 3], struct.pack("<6f", *range(6))),
           ("optim.m", "F32", [3], struct.pack("<3f", 1, 2, 3)),
           ("step", "F64", [], struct.pack("<d", 42.0))]
st = {"ckpt": safetensors(tensors, meta), "ckpt_nocrc": safetensors(tensors, meta, False),
      "bare": safetensors(tensors[:1], {}, False), "empty": safetensors([], {})}
for k, v in st.items():
    open(os.path.join(w, "corpus_safetensors", k), "wb").write(v)

# Images (after fuzz_image's mode byte): binary PGM/PPM and a 1x1 GIF; image_seeds adds
# PNG, BMP and JPEG.
pgm = b"P5\n3 2\n255\n" + bytes(range(0, 60, 10))
ppm = b"P6\n2 2\n255\n" + bytes(range(12))
gif = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
       b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
for k, mode, v in (("pgm", 0, pgm), ("ppm", 0x12, ppm), ("gif", 3, gif)):
    open(os.path.join(w, "corpus_image", k), "wb").write(bytes([mode]) + v)
PY
if [ ! -x "$work/image_seeds" ] || [ fuzz/image_seeds.cpp -nt "$work/image_seeds" ]; then
  "$CXX" -std=c++17 -O1 -I/usr/include/stb fuzz/image_seeds.cpp -o "$work/image_seeds" || exit 2
fi
"$work/image_seeds" "$work/corpus_image" || exit 2

# Sources of each target besides fuzz/fuzz_<target>.cpp (stb's implementation is built
# separately: it opts out of UBSan's shift check, as in datasets/meson.build).
sources_of() {
  case "$1" in
    idx) echo datasets/idx.cpp "${common[@]}" ;;
    cifar) echo datasets/cifar.cpp "${common[@]}" ;;
    safetensors) echo tensor/safetensors.cpp tensor/printable.cpp tensor/random.cpp tensor/tensor.cpp \
                      tensor/shape.cpp cli/checkpoint_metadata.cpp cli/run_config.cpp ;;
    image) echo datasets/image_folder.cpp tensor/parallel.cpp "${common[@]}" "$work/stb_impl.o" ;;
  esac
}
if [ ! "$work/stb_impl.o" -nt datasets/stb_impl.cpp ]; then
  "$CXX" -std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
      -fno-sanitize=shift -I/usr/include/stb -c datasets/stb_impl.cpp -o "$work/stb_impl.o" || exit 2
fi

status=0
for target in "${targets[@]}"; do
  src="fuzz/fuzz_${target}.cpp"
  if [ ! -f "$src" ]; then echo "fuzz: no target '$target' (idx, cifar, safetensors, image)"; exit 2; fi
  read -r -a sources <<<"$(sources_of "$target")"
  bin="$work/fuzz_${target}"
  stale=0
  for f in "$src" "${sources[@]}"; do [ "$bin" -nt "$f" ] || stale=1; done
  if [ $stale -eq 1 ]; then
    echo "fuzz: building $bin"
    if ! "$CXX" "${flags[@]}" "$src" "${sources[@]}" -lz -ltbb -o "$bin"; then
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
