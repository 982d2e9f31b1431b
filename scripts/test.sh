#!/usr/bin/env bash
# Builds bnb8 (CUDA compilation on when nvcc is found) and runs every test with ctest.
# Installs missing Debian packages first. Environment: BNB_BUILD_DIR (default build),
# BNB_WITH_CUDA (AUTO, ON or OFF; default AUTO).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

ensure_packages "${BNB_BUILD_PACKAGES[@]}" "${BNB_TEST_PACKAGES[@]}"
build_dir="${BNB_BUILD_DIR:-build}"
bnb_build "$build_dir" -DBNB_WERROR=ON
ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)"
