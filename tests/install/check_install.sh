#!/usr/bin/env bash
# Installs the built library into a scratch prefix and builds a program against it twice: through
# find_package(hypatia) and through pkg-config.
set -euo pipefail
build_dir=$1
source_dir=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cmake --install "$build_dir" --prefix "$scratch/prefix" >/dev/null
libdir=$(find "$scratch/prefix" -name 'libhypatia.so*' -printf '%h\n' | head -n 1)

cmake -S "$source_dir/consumer" -B "$scratch/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/cmake-build" >/dev/null
LD_LIBRARY_PATH="$libdir" "$scratch/cmake-build/consumer"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
c++ -O1 "$source_dir/consumer/main.cpp" -o "$scratch/pkg-consumer" $(pkg-config --cflags --libs hypatia)
LD_LIBRARY_PATH="$libdir" "$scratch/pkg-consumer"
echo "installed library works through find_package and pkg-config"
