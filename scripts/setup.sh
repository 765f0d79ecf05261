#!/usr/bin/env bash
# scripts/setup.sh — install whatever Debian packages flowzoo needs that are missing (a no-op
# when all are there), then configure and build. Usage: scripts/setup.sh [BUILD_DIR [meson args...]]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ meson ninja-build pkg-config xtensor-dev libxsimd-dev libtbb-dev catch2 libstb-dev
          zlib1g-dev libcairo2-dev fonts-dejavu-core nlohmann-json3-dev libcli11-dev dataset-fashion-mnist)
packages+=(python3-numpy)  # scripts/python_check.sh (the NumPy checkpoint reader's tests)
packages+=(libopenmpi-dev openmpi-bin)  # data-parallel training over MPI (optional to meson; scripts/mpi_check.sh)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build_dir="${1:-build}"
shift || true
# The meson arguments a build dir was last configured with through this script are kept in
# it (setup-args.txt): an existing build dir is reconfigured when the arguments given now
# differ (e.g. a sanitizer flag added), instead of silently building with the old options.
# No arguments keep the build dir's current options.
args_file="$build_dir/setup-args.txt"
given_args=$(printf '%s\n' "$@")
if [ ! -f "$build_dir/build.ninja" ]; then
  meson setup "$build_dir" "$@" >/dev/null
  printf '%s' "$given_args" > "$args_file"
elif [ $# -gt 0 ] && [ "$given_args" != "$(cat "$args_file" 2>/dev/null)" ]; then
  echo "setup: reconfiguring $build_dir with $*"
  meson setup --reconfigure "$build_dir" "$@" >/dev/null
  printf '%s' "$given_args" > "$args_file"
fi
ninja -C "$build_dir" >/dev/null || ninja -C "$build_dir"
echo "setup: built $build_dir"
