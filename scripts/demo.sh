#!/usr/bin/env bash
# The main job: trains a small MLP with bnb8 AdamW, 8-bit states beside 32-bit states, on the CPU,
# and prints both loss curves, the optimizer-state memory of each and their step times.
# Installs missing Debian packages and builds first. Arguments go to the demo (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

ensure_packages "${BNB_BUILD_PACKAGES[@]}"
build_dir="${BNB_BUILD_DIR:-build}"
bnb_build "$build_dir" >/dev/null
exec "$build_dir/bin/train_mlp" "$@"
