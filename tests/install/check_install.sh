#!/usr/bin/env bash
# Installs the built library into a temporary prefix, then builds and runs a consumer program twice:
# through find_package(bnb8) and through pkg-config. Usage: check_install.sh <build dir> <source dir>
set -euo pipefail
build_dir="$1"
source_dir="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cmake --install "$build_dir" --prefix "$prefix" >/dev/null
test -f "$prefix/include/bnb8.h"
libdir="$(dirname "$(find "$prefix" -name 'libbnb8.so.0' | head -n 1)")"

cmake -S "$source_dir/tests/install/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/cmake-build/consumer"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c99 -o "$work/pc-consumer" "$source_dir/tests/install/consumer/consumer.c" $(pkg-config --cflags --libs bnb8)
LD_LIBRARY_PATH="$libdir" "$work/pc-consumer"
