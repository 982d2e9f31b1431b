#!/usr/bin/env bash
# Everything issue 5 asks to run on an H100/H200, in one go, for a session that has a GPU but little time:
#   1. configure a Release build with CUDA for the local GPU (build-gpu/, or $BUILD), build it;
#   2. the whole CUDA test label (parity with the CPU per algorithm x mode x dtype, features, the
#      2^31 + 257 element tensor) and then the whole suite;
#   3. the C++ trainer on the GPU (examples/cpp/train_mlp --device cuda), when it was built (OpenBLAS);
#   4. bench_cuda_step (1b single tensor and GPT-2 148 tensors, vs the D2D copy bandwidth) for 8-bit AdamW
#      fp32, then fp32 states and bf16 parameters for context;
#   5. bench_cuda_torch.py: bnb8 vs torch.optim.AdamW(fused=True) and bitsandbytes Adam8bit (when importable).
# Every step's output goes to $OUT (default ./gpu-results) as <step>.log, and a summary of exit codes to
# $OUT/summary.txt; a failing step does not stop the later ones. No network access is needed.
#
#   bash bench/cuda/run_gpu_checks.sh            # from the repository root
#   JOBS=16 CUDA_ARCH=90 BUILD=build-gpu bash bench/cuda/run_gpu_checks.sh
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-$PWD/gpu-results}
BUILD=${BUILD:-build-gpu}
JOBS=${JOBS:-$(nproc)}
CUDA_ARCH=${CUDA_ARCH:-native}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"

# run NAME COMMAND...: runs the command with its output in $OUT/NAME.log (and on the terminal).
run() {
    local name=$1
    shift
    local start=$SECONDS
    echo "=== $name: $*" | tee "$OUT/$name.log"
    "$@" 2>&1 | tee -a "$OUT/$name.log"
    local rc=${PIPESTATUS[0]}
    printf '%-28s rc=%-3s %5ss  %s\n' "$name" "$rc" "$((SECONDS - start))" "$*" | tee -a "$SUMMARY"
    return "$rc"
}

run environment bash -c 'date -u; uname -a; nvidia-smi; nvcc --version; cmake --version | head -1;
    '"$PYTHON"' -c "import torch; print(\"torch\", torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))";
    '"$PYTHON"' -c "import bitsandbytes; print(\"bitsandbytes\", bitsandbytes.__version__)"; git log --oneline -1'

if ! run configure cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBNB_WITH_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCH"; then
    # CMake older than 3.24 has no "native": fall back to Hopper.
    CUDA_ARCH=90
    run configure_sm90 cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBNB_WITH_CUDA=ON \
        -DCMAKE_CUDA_ARCHITECTURES=90 || { echo "configure failed; see $OUT"; exit 1; }
fi
run build cmake --build "$BUILD" -j "$JOBS" || { echo "build failed; see $OUT/build.log"; exit 1; }

# The CUDA tests print "SKIPPED: <reason>" and exit 77 when they cannot run; on a GPU none should skip.
run ctest_cuda ctest --test-dir "$BUILD" -L cuda --output-on-failure --timeout 1800
run ctest_all ctest --test-dir "$BUILD" -j 8 --output-on-failure --timeout 1800
grep -h -i "skipped" "$OUT/ctest_cuda.log" >"$OUT/cuda_skips.txt" || true

if [ -x "$BUILD/bin/train_mlp" ]; then
    run train_mlp_cuda "$BUILD/bin/train_mlp" --device cuda
    run train_mlp_cpu_quick "$BUILD/bin/train_mlp" --quick --device cpu
else
    echo "train_mlp was not built (OpenBLAS missing?)" | tee -a "$SUMMARY"
fi

run bench_cuda_adamw8 "$BUILD/bin/bench_cuda_step" --workload all --steps 20
run bench_cuda_adamw32 "$BUILD/bin/bench_cuda_step" --workload all --steps 20 --bits 32
run bench_cuda_adamw8_bf16 "$BUILD/bin/bench_cuda_step" --workload all --steps 20 --dtype bf16
run bench_cuda_adamw8_tensorwise "$BUILD/bin/bench_cuda_step" --workload gpt2 --steps 20 --tensorwise
run bench_cuda_torch "$PYTHON" bench/cuda/bench_cuda_torch.py --build "$BUILD" --workload all --steps 20

echo
echo "Summary ($SUMMARY):"
cat "$SUMMARY"
