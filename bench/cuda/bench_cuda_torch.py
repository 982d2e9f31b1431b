#!/usr/bin/env python3
"""bnb8's CUDA step against PyTorch's fused AdamW and bitsandbytes' 8-bit Adam, on the same tensors (issue 5).

    python3 bench/cuda/bench_cuda_torch.py --build build [--workload 1b|gpt2|all] [--steps 20] [--dtype f32]

Workloads are bench_cuda_step's (bench/cuda/README.md): one tensor of 1,000,000,000 elements (--numel), and
the 148 tensors of GPT-2 124M (124,439,808 elements). Every optimizer gets fresh parameters and the same
fixed gradients, 3 untimed warm-up steps (the first creates the states), then --steps steps between two CUDA
events on the current stream; the table gives ms per step and each one's speed relative to bnb8 8-bit AdamW.

    bnb8 AdamW 8-bit     the `bnb8` package of the build (SWIG), on the torch tensors' device pointers
    bnb8 Adam 8-bit      the same algorithm as bitsandbytes Adam8bit
    torch AdamW fused    torch.optim.AdamW(fused=True), fp32 states
    bitsandbytes ...     Adam8bit and AdamW8bit when `import bitsandbytes` works (it says so when not)

The issue's targets (GPT-2 workload): bnb8 >= 1.5x bitsandbytes Adam8bit and >= 1.6x fused fp32 AdamW.
Without torch, CUDA or the bnb8 package it prints why and exits 0 (a benchmark, not a test)."""

import argparse
import gc
import os
import sys

FEATURE_CUDA = 1 << 1  # BNB_FEATURE_CUDA of bnb8.h


def gpt2_shapes():
    """The 148 parameter shapes of GPT-2 124M with tied embeddings (bench_cuda_step.c lists the same)."""
    d = 768
    shapes = [(50257, d), (1024, d)]
    for _ in range(12):
        shapes += [(d,), (d,), (d, 3 * d), (3 * d,), (d, d), (d,), (d,), (d,), (d, 4 * d), (4 * d,), (4 * d, d), (d,)]
    shapes += [(d,), (d,)]
    assert len(shapes) == 148
    return shapes


def skip(reason):
    print(f"bench_cuda_torch: SKIPPED: {reason}")
    sys.exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build", help="the CMake build directory holding python/bnb8")
    parser.add_argument("--workload", choices=["1b", "gpt2", "all"], default="all")
    parser.add_argument("--numel", type=int, default=1_000_000_000, help="elements of the single tensor")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--dtype", choices=["f32", "bf16", "f16"], default="f32")
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()

    try:
        import torch
    except ImportError as error:
        skip(f"torch is not importable ({error})")
    if not torch.cuda.is_available():
        skip("torch sees no CUDA device")
    sys.path.insert(0, os.path.join(os.path.abspath(args.build), "python"))
    try:
        import bnb8
    except ImportError as error:
        skip(f"the bnb8 package is not in {args.build}/python ({error}); build the python target first")
    if not bnb8.features() & FEATURE_CUDA:
        skip("this bnb8 build has no CUDA backend (configure with -DBNB_WITH_CUDA=ON)")
    try:
        import bitsandbytes
        bnb_note = f"bitsandbytes {bitsandbytes.__version__}"
    except Exception as error:  # ImportError, or a build without its CUDA library
        bitsandbytes = None
        bnb_note = f"bitsandbytes not importable ({type(error).__name__}: {error}); its rows are left out"

    dtype = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[args.dtype]
    device = torch.device("cuda", 0)
    print(f"bnb8 {bnb8.version_string()}, torch {torch.__version__}, {bnb_note}")
    print(f"device: {torch.cuda.get_device_name(device)}; {args.steps} timed steps after 3 warm-up steps; "
          f"dtype {args.dtype}\n")

    workloads = []
    if args.workload in ("1b", "all"):
        workloads.append(("single tensor", [(args.numel,)]))
    if args.workload in ("gpt2", "all"):
        workloads.append(("gpt2-124M (148 tensors)", gpt2_shapes()))

    def bnb8_optimizer(algorithm):
        def make(params):
            opt = bnb8.Optimizer(algorithm, lr=args.lr, optim_bits=8)
            for p in params:
                opt.add_param(p, p.grad)
            return opt
        return make

    candidates = [
        ("bnb8 AdamW 8-bit", bnb8_optimizer("adamw")),
        ("bnb8 Adam 8-bit", bnb8_optimizer("adam")),
        ("torch AdamW fused (fp32 states)", lambda params: torch.optim.AdamW(params, lr=args.lr, fused=True)),
    ]
    if bitsandbytes is not None:
        candidates += [
            ("bitsandbytes Adam8bit", lambda params: bitsandbytes.optim.Adam8bit(params, lr=args.lr)),
            ("bitsandbytes AdamW8bit", lambda params: bitsandbytes.optim.AdamW8bit(params, lr=args.lr)),
        ]

    print("| workload | params | optimizer | step ms | relative to bnb8 AdamW 8-bit |")
    print("|---|---:|---|---:|---:|")
    for name, shapes in workloads:
        numel = sum(_count(s) for s in shapes)
        reference = None
        for label, make in candidates:
            try:
                ms = time_steps(torch, make, shapes, dtype, device, args.steps)
            except Exception as error:  # one optimizer failing (memory, unsupported dtype) must not hide the rest
                print(f"| {name} | {numel} | {label} | failed: {type(error).__name__}: {error} | |")
                continue
            if reference is None and label == "bnb8 AdamW 8-bit":
                reference = ms
            relative = f"{ms / reference:.2f}x the time" if reference else ""
            print(f"| {name} | {numel} | {label} | {ms:.3f} | {relative} |")
            sys.stdout.flush()


def _count(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def time_steps(torch, make, shapes, dtype, device, steps):
    generator = torch.Generator(device=device)
    generator.manual_seed(1234)
    params = []
    for shape in shapes:
        p = torch.nn.Parameter((torch.randn(shape, device=device, generator=generator) * 0.02).to(dtype))
        p.grad = (torch.randn(shape, device=device, generator=generator) * 0.01).to(dtype)
        params.append(p)
    opt = make(params)
    try:
        with torch.no_grad():
            for _ in range(3):
                opt.step()
            torch.cuda.synchronize(device)
            start = torch.cuda.Event(enable_timing=True)
            stop = torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(steps):
                opt.step()
            stop.record()
            torch.cuda.synchronize(device)
        return start.elapsed_time(stop) / steps
    finally:
        close = getattr(opt, "close", None)
        if close is not None:
            close()
        del opt, params
        gc.collect()
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
