"""bitsandbytes fidelity for migrants (issue 15 item 3): what a bitsandbytes user's code does on bnb8.

- Adam's weight decay is decoupled by default, as in bitsandbytes' Adam kernel; torch's L2 Adam stays
  reachable (decoupled_weight_decay=False, the library's BNB_ALGO_ADAM), both against float64
  references (Note [Adam references]);
- LARS: bitsandbytes' momentum=0 default raises with bitsandbytes' message; PytorchLARS supports it
  and matches a float64 reference, and matches LARS32bit with momentum;
- bnb8.nn.Embedding / StableEmbedding keep 32-bit states under an 8-bit optimizer;
- bitsandbytes' module paths, the subclassing hooks, the "momentum" name;
- optim_bits of the 8bit/32bit classes, type checks that name the argument.

Note [Adam references]: 20 steps of lr 1e-3, weight decay 0.1 on N(0, 0.1) parameters and N(0, 0.01)
gradients, in float64. bitsandbytes' kernel scales p by (1 - lr*wd) after the Adam update, bnb8 (as
torch.optim.AdamW) before it: the two differ by lr*wd*|update| <= lr*wd*lr = 1e-7 per step, 2e-6 after
20 steps, and fp32 rounding adds ~1e-7 per step. The bound atol 1e-5 covers both with a 4x margin,
while L2 decay (g += wd*p with wd*p ~ 1e-2, as large as g) moves parameters by ~lr = 1e-3 per step,
two orders above it."""

import pytest

torch = pytest.importorskip("torch", reason="Debian's python3-torch is needed for bnb8.optim")
import bnb8  # noqa: E402
import bnb8.nn  # noqa: E402
import bnb8.optim as optim  # noqa: E402


def make_params(seed, shapes=((64, 80), (300,))):
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(*s, generator=g) * 0.1) for s in shapes]


def grads(step, shapes, scale=0.01):
    g = torch.Generator().manual_seed(1000 + step)
    return [torch.randn(s, generator=g) * scale for s in shapes]


def adam_reference(params, steps, lr, wd, decoupled, betas=(0.9, 0.999), eps=1e-8):
    """float64 Adam: decoupled = bitsandbytes' rule (p *= 1 - lr*wd after the update), else torch L2."""
    p = [x.detach().double().clone() for x in params]
    m = [torch.zeros_like(x) for x in p]
    v = [torch.zeros_like(x) for x in p]
    b1, b2 = betas
    for t in range(1, steps + 1):
        for i, g in enumerate(grads(t - 1, [x.shape for x in p])):
            g = g.double()
            if not decoupled:
                g = g + wd * p[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat, v_hat = m[i] / (1 - b1 ** t), v[i] / (1 - b2 ** t)
            p[i] = p[i] - lr * m_hat / (v_hat.sqrt() + eps)
            if decoupled:
                p[i] = p[i] * (1 - lr * wd)
    return p


def run(opt, params, steps):
    for t in range(steps):
        for p, g in zip(params, grads(t, [x.shape for x in params])):
            p.grad = g
        opt.step()
    return params


# ---- Adam's weight decay --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Adam", "Adam32bit", "PagedAdam32bit"])
def test_adam_decays_decoupled_like_bitsandbytes(name):
    params = make_params(1)
    start = [p.detach().clone() for p in params]
    run(getattr(optim, name)(params, lr=1e-3, weight_decay=0.1), params, 20)
    decoupled = adam_reference(start, 20, 1e-3, 0.1, decoupled=True)
    l2 = adam_reference(start, 20, 1e-3, 0.1, decoupled=False)
    for p, ref, other in zip(params, decoupled, l2):
        torch.testing.assert_close(p.detach().double(), ref, atol=1e-5, rtol=0)
        assert (p.detach().double() - other).abs().max() > 1e-4  # the references are far apart


def test_torch_l2_adam_stays_reachable():
    params = make_params(2)
    start = [p.detach().clone() for p in params]
    opt = optim.Adam32bit(params, lr=1e-3, weight_decay=0.1, decoupled_weight_decay=False)
    assert opt._native.get_config().algorithm == bnb8.native.ALGO_ADAM  # the library's torch.optim.Adam
    run(opt, params, 20)
    for p, ref in zip(params, adam_reference(start, 20, 1e-3, 0.1, decoupled=False)):
        torch.testing.assert_close(p.detach().double(), ref, atol=1e-5, rtol=0)
    # the generic base class: bitsandbytes' "adam" decays decoupled unless told otherwise
    base = optim.Optimizer2State("adam", make_params(3), weight_decay=0.1)
    assert base._native.get_config().algorithm == bnb8.native.ALGO_ADAMW
    l2 = optim.Optimizer2State("adam", make_params(3), weight_decay=0.1, decoupled_weight_decay=False)
    assert l2._native.get_config().algorithm == bnb8.native.ALGO_ADAM
    with pytest.raises(ValueError, match="decoupled_weight_decay"):
        optim.Optimizer2State("adamw", make_params(3), decoupled_weight_decay=False)


def test_adam8bit_follows_the_decoupled_rule():
    """8-bit states put the trajectory a few 1e-5 off the 32-bit one; it must still be far nearer the
    decoupled reference than the L2 one (L2 is ~1e-3 away after 20 steps)."""
    params = make_params(4, shapes=((64, 80),))
    start = [p.detach().clone() for p in params]
    opt = optim.Adam8bit(params, lr=1e-3, weight_decay=0.1)
    run(opt, params, 20)
    assert opt.state[params[0]]["state1"].dtype == torch.uint8
    to_decoupled = (params[0].detach().double() - adam_reference(start, 20, 1e-3, 0.1, True)[0]).abs().max()
    to_l2 = (params[0].detach().double() - adam_reference(start, 20, 1e-3, 0.1, False)[0]).abs().max()
    assert to_decoupled < 0.1 * to_l2, (float(to_decoupled), float(to_l2))


# ---- LARS ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["LARS", "LARS8bit", "LARS32bit"])
def test_lars_without_momentum_raises_as_bitsandbytes(name):
    with pytest.raises(NotImplementedError, match="^LARS without momentum is not supported!$"):
        getattr(optim, name)(make_params(5), lr=0.1)  # bitsandbytes' default momentum=0


def test_pytorch_lars_momentum_zero_is_sgd_with_the_trust_ratio():
    params = make_params(6)
    start = [p.detach().double().clone() for p in params]
    opt = optim.PytorchLARS(params, lr=0.1, weight_decay=0.01, max_unorm=0.02)
    run(opt, params, 10)
    assert not opt.state  # no buffer without momentum
    for i, p in enumerate(start):
        for t in range(10):
            u = grads(t, [x.shape for x in start])[i].double() + 0.01 * p
            pn, un = float(p.norm()), float(u.norm())
            scale = min(1.0, 0.02 * pn / un) if un > 0 else 1.0
            p = p - 0.1 * scale * u
        torch.testing.assert_close(params[i].detach().double(), p, atol=1e-6, rtol=0)


def test_pytorch_lars_matches_lars32bit():
    ours, theirs = make_params(7), make_params(7)
    run(optim.LARS32bit(ours, lr=0.1, momentum=0.9, weight_decay=0.01), ours, 20)
    run(optim.PytorchLARS(theirs, lr=0.1, momentum=0.9, weight_decay=0.01), theirs, 20)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a.detach(), b.detach(), atol=1e-5, rtol=0)
    assert optim.lars.PytorchLARS is optim.PytorchLARS


# ---- embeddings ------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [bnb8.nn.StableEmbedding, bnb8.nn.Embedding])
def test_embeddings_keep_32bit_states_under_an_8bit_optimizer(cls):
    torch.manual_seed(0)
    emb = cls(512, 16, padding_idx=3)
    head = torch.nn.Linear(16, 512)  # 8192 weights: 8-bit under Adam8bit
    assert float(emb.weight[3].abs().sum()) == 0.0
    bound = (6 / (512 + 16)) ** 0.5  # Xavier uniform
    assert float(emb.weight.abs().max()) <= bound
    opt = optim.Adam8bit(list(emb.parameters()) + list(head.parameters()), lr=1e-2)
    tokens = torch.randint(0, 512, (8, 12))
    for _ in range(3):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(emb(tokens)).reshape(-1, 512), tokens.reshape(-1))
        loss.backward()
        opt.step()
    assert opt.state[emb.weight]["state1"].dtype == torch.float32
    assert opt.state[emb.weight]["state2"].dtype == torch.float32
    assert opt.state[head.weight]["state1"].dtype == torch.uint8
    if cls is bnb8.nn.StableEmbedding:
        expected = torch.nn.functional.layer_norm(torch.nn.functional.embedding(tokens, emb.weight, 3), (16,),
                                                  emb.norm.weight, emb.norm.bias)
        torch.testing.assert_close(emb(tokens), expected)


# ---- module paths, hooks, names --------------------------------------------------------------------

def test_bitsandbytes_module_paths():
    import importlib

    modules = {"adam": "Adam8bit", "adamw": "PagedAdamW8bit", "ademamix": "AdEMAMix8bit", "lamb": "LAMB8bit",
               "lars": "LARS8bit", "lion": "Lion8bit", "rmsprop": "RMSprop8bit", "sgd": "SGD8bit",
               "adagrad": "Adagrad8bit"}
    for module, name in modules.items():
        cls = getattr(importlib.import_module(f"bnb8.optim.{module}"), name)
        assert cls is getattr(optim, name) and cls.__module__ == f"bnb8.optim.{module}"
    from bnb8.optim.optimizer import GlobalOptimManager, MockArgs, Optimizer1State, Optimizer2State, Optimizer8bit

    assert issubclass(optim.AdamW8bit, Optimizer2State) and issubclass(optim.SGD8bit, Optimizer1State)
    assert issubclass(Optimizer2State, Optimizer8bit) and optim.GlobalOptimManager is GlobalOptimManager
    assert MockArgs({"optim_bits": 8}).optim_bits == 8


def test_momentum_is_bitsandbytes_name_of_sgd():
    ours, theirs = make_params(8), make_params(8)
    run(optim.Optimizer1State("momentum", ours, lr=1e-2, betas=(0.9, 0.0), optim_bits=8, min_8bit_size=0), ours, 5)
    run(optim.SGD8bit(theirs, lr=1e-2, momentum=0.9, min_8bit_size=0), theirs, 5)
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)


def test_subclassing_hooks():
    calls = {"check_overrides": 0, "init_state": [], "update_step": []}

    class Frozen(optim.Optimizer2State):
        """Freezes the second parameter through get_config and skips the third through update_step."""

        def __init__(self, params):
            super().__init__("adam", params, lr=1e-2)

        def check_overrides(self):
            calls["check_overrides"] += 1
            super().check_overrides()

        def get_config(self, gindex, pindex, group):
            config = super().get_config(gindex, pindex, group)
            if pindex == 1:
                config["lr"] = 0.0
            return config

        def init_state(self, group, p, gindex, pindex):
            calls["init_state"].append(pindex)
            super().init_state(group, p, gindex, pindex)

        def update_step(self, group, p, gindex, pindex):
            calls["update_step"].append(pindex)
            if pindex != 2:
                super().update_step(group, p, gindex, pindex)

    params = make_params(9, shapes=((10,), (11,), (12,)))
    start = [p.detach().clone() for p in params]
    opt = Frozen(params)
    run(opt, params, 3)
    assert calls == {"check_overrides": 1, "init_state": [0, 1, 2], "update_step": [0, 1, 2] * 3}
    assert not torch.equal(params[0], start[0])
    assert torch.equal(params[1], start[1]) and opt.state[params[1]]["step"] == 3  # stepped with lr 0
    assert torch.equal(params[2], start[2]) and params[2] not in opt.state  # never stepped


# ---- optim_bits and types --------------------------------------------------------------------------

def test_forced_bits_classes_refuse_another_optim_bits():
    with pytest.raises(ValueError, match=r"AdamW8bit keeps 8-bit states; optim_bits = 32"):
        optim.AdamW8bit(make_params(10), optim_bits=32)
    with pytest.raises(ValueError, match=r"Adam32bit keeps 32-bit states; optim_bits = 8"):
        optim.Adam32bit(make_params(10), optim_bits=8)
    params = make_params(10)
    opt = optim.AdamW8bit(params, optim_bits=8)  # its own bits, stated: fine
    run(opt, params, 1)
    assert opt.state[params[0]]["state1"].dtype == torch.uint8
    params = make_params(10)
    opt = optim.AdamW(params, optim_bits=8)  # the generic class honours optim_bits
    run(opt, params, 1)
    assert opt.state[params[0]]["state1"].dtype == torch.uint8


@pytest.mark.parametrize("kwargs,argument", [
    (dict(lr="1e-3"), "lr"), (dict(eps=None), "eps"), (dict(weight_decay=True), "weight_decay"),
    (dict(betas=("0.9", 0.999)), r"betas\[0\]"), (dict(betas=0.9), "betas"), (dict(min_8bit_size=4096.0), "min_8bit_size"),
    (dict(optim_bits="8"), "optim_bits"), (dict(amsgrad="no"), "amsgrad"), (dict(percentile_clipping=99.5), "percentile"),
])
def test_hyperparameters_are_type_checked(kwargs, argument):
    with pytest.raises(TypeError, match=argument):
        optim.AdamW(make_params(11), **kwargs)


def test_group_values_are_type_checked_at_the_step():
    params = make_params(12)
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    assert optim.AdamW(make_params(12), betas="(0.9, 0.99)").param_groups[0]["betas"] == (0.9, 0.99)  # bitsandbytes
    opt.param_groups[0]["lr"] = "0.1"
    with pytest.raises(TypeError, match="lr must be a real number, got str '0.1'"):
        run(opt, params, 1)
    opt.param_groups[0]["lr"] = torch.tensor(0.05)  # torch accepts tensor learning rates
    run(opt, params, 1)
    assert opt._native.get_hparam("lr") == pytest.approx(0.05)
    with pytest.raises(TypeError, match="lr"):
        optim.SGD(params, lr="0.1", momentum=0.9)
    with pytest.raises(TypeError, match="momentum"):
        optim.SGD(params, lr=0.1, momentum="0.9")
    with pytest.raises(TypeError, match="lr"):
        optim.PytorchLARS(params, lr="0.1")
