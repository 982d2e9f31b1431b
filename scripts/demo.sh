#!/usr/bin/env bash
# The main job: trains a small GPT-style language model twice, side by side, with bnb8's AdamW8bit
# (8-bit states) and torch.optim.AdamW (32-bit states), on the CPU (the GPU when torch sees one and
# bnb8 has CUDA), and prints both loss curves, the optimizer-state memory and step times of each, and
# writes gpt_loss.png. Installs missing Debian packages and builds first. Arguments go to the demo
# (try --help; --quick is a 30-step smoke run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh

ensure_packages "${BNB_BUILD_PACKAGES[@]}" "${BNB_DEMO_PACKAGES[@]}"
build_dir="${BNB_BUILD_DIR:-build}"
BNB_BUILD_TARGET=bnb8_python bnb_build "$build_dir" >/dev/null
PYTHONPATH="$PWD/$build_dir/python${PYTHONPATH:+:$PYTHONPATH}" exec /usr/bin/python3 examples/python/train_gpt.py "$@"
