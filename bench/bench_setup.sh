# bench/bench_setup.sh — what every bench script needs before it measures, sourced by
# run_kernels.sh and run_models.sh (not run on its own):
#   bench_install     installs the Debian packages a fair comparison needs, when missing:
#                     python3-torch (the PyTorch side), libopenblas0-pthread (the BLAS Debian's
#                     torch calls through libblas.so.3: without it, the netlib reference BLAS),
#                     libopenblas-dev (bench_sgemm's reference: meson builds bench_sgemm only
#                     when it finds it), time (/usr/bin/time -v for peak RSS). Exits 1 when one
#                     cannot be installed: a ratio without it would be meaningless.
#   bench_build DIR TARGET...
#                     configures DIR as a release build when it is not one yet, reconfigures it
#                     when a target is unknown (OpenBLAS installed after it was configured), and
#                     builds the targets.
#   bench_check_torch_blas
#                     bench/torch_blas.py: stops (exit 1) unless torch runs on OpenBLAS or MKL.
#   torch_wait_policies
#                     the OpenMP wait policies the PyTorch side is run under: libgomp's default
#                     (an empty OMP_WAIT_POLICY; idle threads spin a while) and PASSIVE (they
#                     sleep). The faster is reported: PASSIVE protects PyTorch on a loaded
#                     machine, the default can be faster on a quiet one.
# Expects: $python (the interpreter with torch) and the working directory at the repository root.

bench_sudo=""
[ "$(id -u)" -ne 0 ] && bench_sudo="sudo"

bench_install() {
  local wanted=(python3-torch libopenblas0-pthread libopenblas-dev time) missing=() p
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: installing ${missing[*]} (python3-torch is large: this can take minutes) ..." >&2
    if ! { DEBIAN_FRONTEND=noninteractive $bench_sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
           { $bench_sudo apt-get update -qq >/dev/null 2>&1 &&
             DEBIAN_FRONTEND=noninteractive $bench_sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; }; }; then
      echo "bench: could not install ${missing[*]} (apt-get install ${missing[*]} as root); no fair ratio without them" >&2
      exit 1
    fi
  fi
  if [ "$python" != /usr/bin/python3 ] && ! "$python" -c 'import torch' >/dev/null 2>&1; then
    echo "bench: $python cannot import torch (install PyTorch for it, or unset PYTHON)" >&2
    exit 1
  fi
}

bench_build() {
  local dir="$1" t known
  shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --buildtype=release >/dev/null
  fi
  known="$(ninja -C "$dir" -t targets all 2>/dev/null)"
  for t in "$@"; do
    if ! grep -q "^$t:" <<<"$known"; then
      echo "bench: $dir has no target $t (configured before OpenBLAS was installed?); reconfiguring ..." >&2
      meson setup --reconfigure "$dir" >/dev/null
      break
    fi
  done
  ninja -C "$dir" -j2 "$@" >/dev/null
}

bench_check_torch_blas() {
  local line
  if ! line="$("$python" bench/torch_blas.py)"; then
    echo "bench: refusing to report ratios against this PyTorch (see the line above)" >&2
    exit 1
  fi
  echo "bench: $line" >&2
}

torch_wait_policies=("" PASSIVE)
