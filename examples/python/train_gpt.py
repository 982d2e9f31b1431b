"""The main job: train a small GPT-style character language model twice, side by side, with
bnb8.optim.AdamW8bit (8-bit block-wise states) and with torch.optim.AdamW (32-bit states): same
initial weights, same batches, same schedule. Prints a loss table, the final loss difference, the
optimizer-state bytes and step times of both, writes a PNG of both loss curves, and checks the
acceptance criteria (final loss within 2 %, 8-bit state bytes at most 27 % of 32-bit).

The text is the licenses every Debian system ships in /usr/share/common-licenses (package base-files):
about 260 kB of English prose. Runs on the CPU, or on the GPU when torch sees one and bnb8 was built
with CUDA.

    PYTHONPATH=build/python /usr/bin/python3 examples/python/train_gpt.py [--steps 300] [--quick]"""
import argparse
import copy
import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

import bnb8
import bnb8.optim

TEXT_DIR = Path("/usr/share/common-licenses")


# ---- data ------------------------------------------------------------------------------------------

def load_corpus():
    """Every distinct license text, in name order, as one string (symlinked duplicates skipped)."""
    seen, parts = set(), []
    for path in sorted(TEXT_DIR.iterdir()):
        real = path.resolve()
        if real in seen or not real.is_file():
            continue
        seen.add(real)
        parts.append(real.read_text(encoding="utf-8", errors="replace"))
    if not parts:
        sys.exit(f"no text found in {TEXT_DIR} (Debian package base-files)")
    return "\n\n".join(parts)


class CharData:
    """Characters as token ids, split 90 / 10 into training and validation text."""

    def __init__(self, text, device):
        self.vocab = sorted(set(text))
        index = {c: i for i, c in enumerate(self.vocab)}
        ids = torch.tensor([index[c] for c in text], dtype=torch.long)
        split = int(0.9 * len(ids))
        self.train, self.val = ids[:split].to(device), ids[split:].to(device)

    def batch(self, split, batch_size, context, generator):
        data = self.train if split == "train" else self.val
        starts = torch.randint(len(data) - context - 1, (batch_size,), generator=generator).to(data.device)
        offsets = torch.arange(context + 1, device=data.device)
        window = data[starts[:, None] + offsets]
        return window[:, :-1], window[:, 1:]


# ---- model -----------------------------------------------------------------------------------------

class Block(nn.Module):
    """Pre-norm transformer block: causal multi-head self-attention and a 4x MLP."""

    def __init__(self, width, heads, context):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        self.register_buffer("mask", torch.full((context, context), float("-inf")).triu(1), persistent=False)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(c, dim=2)
        q, k, v = (y.view(b, t, self.heads, c // self.heads).transpose(1, 2) for y in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.heads) + self.mask[:t, :t]
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.mlp(self.norm2(x))


class GPT(nn.Module):
    def __init__(self, vocab, width, layers, heads, context):
        super().__init__()
        self.tokens, self.positions = nn.Embedding(vocab, width), nn.Embedding(context, width)
        self.blocks = nn.Sequential(*[Block(width, heads, context) for _ in range(layers)])
        self.norm, self.head = nn.LayerNorm(width), nn.Linear(width, vocab, bias=False)

    def forward(self, ids, targets):
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1], device=ids.device))
        logits = self.head(self.norm(self.blocks(x)))
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


# ---- training --------------------------------------------------------------------------------------

def state_bytes(optimizer):
    """Bytes of optimizer state: the library's count for bnb8, the state tensors for torch."""
    if isinstance(optimizer, bnb8.optim.Optimizer8bit):
        return optimizer.state_bytes()
    return sum(t.numel() * t.element_size() for s in optimizer.state.values() for t in s.values()
               if torch.is_tensor(t) and t.dim() > 0)


class Run:
    """One model with its optimizer and schedule, and what it measured."""

    def __init__(self, name, model, optimizer, schedule):
        self.name, self.model, self.optimizer = name, model, optimizer
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        self.train_curve, self.val_curve = [], []
        self.step_seconds, self.optimizer_seconds = 0.0, 0.0

    def train_step(self, x, y, device):
        start = time.perf_counter()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.model(x, y)
        loss.backward()
        synchronize(device)
        before_step = time.perf_counter()
        self.optimizer.step()
        self.scheduler.step()
        synchronize(device)
        end = time.perf_counter()
        self.step_seconds += end - start
        self.optimizer_seconds += end - before_step
        self.train_curve.append(loss.item())

    @torch.no_grad()
    def evaluate(self, batches):
        self.model.eval()
        loss = sum(self.model(x, y).item() for x, y in batches) / len(batches)
        self.model.train()
        return loss


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def choose_device(requested):
    cuda_ok = torch.cuda.is_available() and (bnb8.features() & getattr(bnb8.native, "FEATURE_CUDA", 0))
    if requested == "cuda" and not cuda_ok:
        sys.exit("--device cuda: torch sees no GPU or this bnb8 build has no CUDA backend")
    return torch.device("cuda" if requested == "cuda" or (requested == "auto" and cuda_ok) else "cpu")


def plot(runs, eval_steps, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    for run, color, style in zip(runs, ("tab:red", "tab:blue"), ("--", "-")):
        window = max(1, len(run.train_curve) // 50)
        smooth = [sum(run.train_curve[max(0, i - window + 1):i + 1]) / len(run.train_curve[max(0, i - window + 1):i + 1])
                  for i in range(len(run.train_curve))]
        ax.plot(range(1, len(smooth) + 1), smooth, style, color=color, alpha=0.6, label=f"{run.name} train (smoothed)")
        ax.plot(eval_steps, run.val_curve, "o" + style, color=color, label=f"{run.name} validation")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.set_title("Character GPT on Debian's license texts: 8-bit vs 32-bit AdamW states")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="a short run for CI (no acceptance checks)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--seed", type=int, default=0)
    # The defaults keep the whole run under 5 minutes on a 2-core CPU (3 min 25 s measured: 3.2M parameters,
    # 512 tokens per step, 300 steps of both models).
    parser.add_argument("--width", type=int, default=256, help="model width (a multiple of --heads)")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--context", type=int, default=64, help="characters the model sees")
    parser.add_argument("--batch", type=int, default=8, help="sequences per step")
    parser.add_argument("--plot", default="gpt_loss.png", help="where to write the PNG of both loss curves")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.eval_every = 30, 10

    device = choose_device(args.device)
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(args.seed)
    data = CharData(load_corpus(), device)
    if args.width % args.heads != 0:
        parser.error(f"--width {args.width} is not a multiple of --heads {args.heads}")
    width, layers, heads, context, batch = args.width, args.layers, args.heads, args.context, args.batch
    base = GPT(len(data.vocab), width, layers, heads, context).to(device)
    n_params = sum(p.numel() for p in base.parameters())
    warmup = max(1, args.steps // 20)

    def schedule(step):  # linear warm-up, then cosine decay to 10 %
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, args.steps - warmup)
        return 0.1 + 0.45 * (1 + math.cos(math.pi * progress))

    runs = []
    for name, make in (("bnb8 AdamW8bit", lambda p: bnb8.optim.AdamW8bit(p, lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)),
                       ("torch AdamW", lambda p: torch.optim.AdamW(p, lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1))):
        model = copy.deepcopy(base)
        runs.append(Run(name, model, make(model.parameters()), schedule))

    eval_generator = torch.Generator().manual_seed(args.seed + 1)
    eval_batches = [data.batch("val", batch, context, eval_generator) for _ in range(8)]
    print(f"bnb8 {bnb8.__version__} | device {device} | GPT {n_params / 1e6:.2f}M parameters "
          f"({layers} layers, width {width}, context {context}) | {len(data.train)} training characters, "
          f"vocabulary {len(data.vocab)} | {args.steps} steps of {batch}x{context} tokens")

    from tqdm import tqdm

    train_generator = torch.Generator().manual_seed(args.seed + 2)
    eval_steps, table = [], []
    for step in tqdm(range(1, args.steps + 1), desc="training 8-bit and 32-bit", unit="step", file=sys.stdout,
                     disable=not sys.stdout.isatty()):
        x, y = data.batch("train", batch, context, train_generator)
        for run in runs:
            run.train_step(x, y, device)
        if step % args.eval_every == 0 or step == args.steps:
            eval_steps.append(step)
            for run in runs:
                run.val_curve.append(run.evaluate(eval_batches))
            table.append((step, runs[0].train_curve[-1], runs[1].train_curve[-1], runs[0].val_curve[-1],
                          runs[1].val_curve[-1]))

    print(f"\n{'step':>6} | {'train 8-bit':>11} | {'train 32-bit':>12} | {'val 8-bit':>9} | {'val 32-bit':>10}")
    for row in table:
        print(f"{row[0]:>6} | {row[1]:>11.4f} | {row[2]:>12.4f} | {row[3]:>9.4f} | {row[4]:>10.4f}")

    eight, full = runs
    final8, final32 = eight.val_curve[-1], full.val_curve[-1]
    difference = (final8 - final32) / final32
    bytes8, bytes32 = state_bytes(eight.optimizer), state_bytes(full.optimizer)
    print(f"\nfinal validation loss: 8-bit {final8:.4f}, 32-bit {final32:.4f} ({100 * difference:+.2f} %)")
    print(f"optimizer state: 8-bit {bytes8 / 2**20:.2f} MiB, 32-bit {bytes32 / 2**20:.2f} MiB "
          f"({100 * bytes8 / bytes32:.1f} %, {bytes8 / n_params:.2f} vs {bytes32 / n_params:.2f} bytes per parameter)")
    for run in runs:
        print(f"{run.name:>15}: {1000 * run.step_seconds / args.steps:7.1f} ms per training step, of which "
              f"optimizer.step() {1000 * run.optimizer_seconds / args.steps:6.2f} ms")
    plot(runs, eval_steps, args.plot)
    print(f"loss curves written to {os.path.abspath(args.plot)}")

    if args.quick:
        return 0
    checks = [(abs(difference) <= 0.02, f"final loss within 2 % of 32-bit ({100 * difference:+.2f} %)"),
              (bytes8 <= 0.27 * bytes32, f"8-bit state bytes at most 27 % of 32-bit ({100 * bytes8 / bytes32:.1f} %)")]
    for ok, text in checks:
        print(f"{'PASS' if ok else 'FAIL'}: {text}")
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
