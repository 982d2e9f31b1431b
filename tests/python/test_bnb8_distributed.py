"""bnb8.optim classes as the local optimizer of torch.distributed.optim.ZeroRedundancyOptimizer (ZeRO-1:
each rank keeps the states of its share of the parameters), on the gloo backend, CPU only.

Each parameter's update depends only on that parameter (bnb8 has no cross-parameter coupling but
skip_step_on_nonfinite's count, which is not used here), so a run sharded over 2 or 3 ranks must give
bitwise the parameters of one process. The consolidated state_dict (gathered on rank 0) resumes in one
process, and a state saved at 2 ranks resumes at 3 (ZeRO re-partitions it), both bitwise equal to an
uninterrupted single-process run."""

import copy
import os
import tempfile

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.distributed.optim import ZeroRedundancyOptimizer

import bnb8.optim

pytestmark = pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()),
                                reason="this torch has no torch.distributed with gloo")

# Optimizer classes and their arguments; min_8bit_size 256 gives the weights 8-bit states and leaves
# the biases 32-bit, so both kinds are sharded.
CASES = [
    ("AdamW8bit", dict(lr=1e-2, min_8bit_size=256)),
    ("Lion8bit", dict(lr=1e-3, min_8bit_size=256)),
    ("LAMB8bit", dict(lr=1e-2, min_8bit_size=256)),
    ("SGD8bit", dict(lr=1e-2, momentum=0.9, min_8bit_size=256)),
]
FIRST_STEPS, MORE_STEPS = 6, 4


def make_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.Tanh(), torch.nn.Linear(128, 96),
                                torch.nn.Tanh(), torch.nn.Linear(96, 8))
    generator = torch.Generator().manual_seed(1)
    return model, torch.randn(256, 64, generator=generator), torch.randn(256, 8, generator=generator)


def train(model, optimizer, x, y, steps):
    # Every rank computes the same full-batch gradient (one thread, same operations: the same bits), so
    # the comparison isolates the optimizer from any gradient all-reduce.
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()


def params_of(model):
    return [p.detach().clone() for p in model.parameters()]


def zero_worker(rank, world, init_file, out_dir, resume_dir):
    """At `world` ranks, for each case: either FIRST_STEPS from the start, then save the consolidated
    state and the parameters (resume_dir None); or resume what a run at another world size saved and
    take MORE_STEPS."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=rank, world_size=world)
    try:
        for name, kwargs in CASES:
            model, x, y = make_model()
            optimizer = ZeroRedundancyOptimizer(
                model.parameters(), optimizer_class=getattr(bnb8.optim, name), **kwargs)
            if resume_dir is None:
                train(model, optimizer, x, y, FIRST_STEPS)
            else:
                saved = torch.load(os.path.join(resume_dir, name + ".pt"))
                with torch.no_grad():
                    for p, value in zip(model.parameters(), saved["params"]):
                        p.copy_(value)
                optimizer.load_state_dict(saved["optimizer"])
                train(model, optimizer, x, y, MORE_STEPS)
            optimizer.consolidate_state_dict(to=0)
            if rank == 0:
                torch.save({"params": params_of(model), "optimizer": optimizer.state_dict()},
                           os.path.join(out_dir, name + ".pt"))
    finally:
        dist.destroy_process_group()


def run_ranks(world, out_dir, resume_dir=None):
    os.makedirs(out_dir, exist_ok=True)
    mp.spawn(zero_worker, args=(world, os.path.join(out_dir, "init"), out_dir, resume_dir), nprocs=world)


def single_process(name, kwargs, steps, resume=None):
    torch.set_num_threads(1)
    model, x, y = make_model()
    optimizer = getattr(bnb8.optim, name)(model.parameters(), **kwargs)
    if resume is not None:
        with torch.no_grad():
            for p, value in zip(model.parameters(), resume["params"]):
                p.copy_(value)
        optimizer.load_state_dict(resume["optimizer"])
    train(model, optimizer, x, y, steps)
    return params_of(model)


def assert_bitwise(expected, got, what):
    for i, (a, b) in enumerate(zip(expected, got)):
        assert torch.equal(a, b), f"{what}: parameter {i} differs by up to {(a - b).abs().max().item():.3g}"


@pytest.fixture(scope="module")
def sharded_runs():
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        run_ranks(2, os.path.join(tmp, "w2"))
        run_ranks(3, os.path.join(tmp, "w3"))
        run_ranks(3, os.path.join(tmp, "w2to3"), resume_dir=os.path.join(tmp, "w2"))
        for world in ("w2", "w3", "w2to3"):
            runs[world] = {name: torch.load(os.path.join(tmp, world, name + ".pt")) for name, _ in CASES}
        yield runs


@pytest.mark.parametrize("name,kwargs", CASES, ids=[c[0] for c in CASES])
def test_zero_sharded_steps_equal_one_process(sharded_runs, name, kwargs):
    expected = single_process(name, kwargs, FIRST_STEPS)
    for world in ("w2", "w3"):
        assert_bitwise(expected, sharded_runs[world][name]["params"], f"{name} at {world[1:]} ranks")


@pytest.mark.parametrize("name,kwargs", CASES, ids=[c[0] for c in CASES])
def test_consolidated_state_resumes_in_one_process(sharded_runs, name, kwargs):
    expected = single_process(name, kwargs, FIRST_STEPS + MORE_STEPS)
    for world in ("w2", "w3"):
        resumed = single_process(name, kwargs, MORE_STEPS, resume=sharded_runs[world][name])
        assert_bitwise(expected, resumed, f"{name} saved at {world[1:]} ranks, resumed in one process")


@pytest.mark.parametrize("name,kwargs", CASES, ids=[c[0] for c in CASES])
def test_state_saved_at_two_ranks_resumes_at_three(sharded_runs, name, kwargs):
    expected = single_process(name, kwargs, FIRST_STEPS + MORE_STEPS)
    assert_bitwise(expected, sharded_runs["w2to3"][name]["params"], f"{name} saved at 2 ranks, resumed at 3")
    state = sharded_runs["w2to3"][name]["optimizer"]["state"]
    assert len(state) == 6, f"the consolidated state holds {len(state)} of the 6 parameters"


# -- the mechanism ZeRO relies on, in one process: a dict assigned to optimizer.state[p] is imported --

def _trained_pair(steps):
    torch.set_num_threads(1)
    model, x, y = make_model()
    optimizer = bnb8.optim.AdamW8bit(model.parameters(), lr=1e-2, min_8bit_size=256)
    train(model, optimizer, x, y, steps)
    return model, optimizer, x, y


def test_a_state_entry_assigned_from_outside_is_used_by_the_next_step():
    model, optimizer, x, y = _trained_pair(3)
    saved = copy.deepcopy(optimizer.state_dict())  # its tensors are live views of the library's buffers
    twin, _, _ = make_model()
    with torch.no_grad():
        for p, q in zip(twin.parameters(), model.parameters()):
            p.copy_(q)
    twin_optimizer = bnb8.optim.AdamW8bit(twin.parameters(), lr=1e-2, min_8bit_size=256)
    for i, p in enumerate(twin.parameters()):
        twin_optimizer.state[p] = saved["state"][i]  # what ZeroRedundancyOptimizer.load_state_dict does
    train(model, optimizer, x, y, 2)
    train(twin, twin_optimizer, x, y, 2)
    assert_bitwise(params_of(model), params_of(twin), "after assigning the saved entries")
    assert twin_optimizer.state[next(twin.parameters())]["step"] == 5


def test_a_bad_assigned_entry_fails_the_step_and_changes_nothing():
    model, optimizer, x, y = _trained_pair(2)
    weight = next(model.parameters())
    before_params, before_states = params_of(model), optimizer._native.to_bytes()
    optimizer.state[weight] = {"step": 7, "state1": torch.zeros(3, dtype=torch.uint8)}
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    with pytest.raises(ValueError, match=r"state\[\(128, 64\) parameter 0\]"):
        optimizer.step()
    assert_bitwise(before_params, params_of(model), "after the refused step")
    assert optimizer._native.to_bytes() == before_states
