"""32-bit trajectories of bnb8 against Debian's PyTorch (torch.optim), for the algorithms PyTorch has:
Adam, AdamW, SGD (momentum, dampening, nesterov), RMSprop and Adagrad.

The library is driven through ctypes, directly on libbnb8.so (no bindings), so this also checks that the
public C ABI is usable as documented. Protocol A1 of ALGORITHMS.md §13.1 with fp32 parameters: 20 steps
on [1024, d], d in {32, 1024}; after every step every state element is close at atol 1e-6, rtol 1e-5
and at most 15 parameter elements are not. torch computes in fp32 with its own operation order, so the
two differ by a few ulp per step; the tolerances are two orders above that and far below the effect of
a wrong formula (a swapped decay or bias correction moves parameters by ~lr per step).

Run with BNB8_LIBRARY pointing at libbnb8.so (ctest sets it)."""
import ctypes
import os

import pytest

torch = pytest.importorskip("torch", reason="Debian's python3-torch is needed for the PyTorch comparison")

LIB = ctypes.CDLL(os.environ["BNB8_LIBRARY"])
d, i32, i64 = ctypes.c_double, ctypes.c_int32, ctypes.c_int64

ALGO = {"adam": 1, "adamw": 2, "sgd": 3, "rmsprop": 7, "adagrad": 8}
DTYPE_F32, DEVICE_CPU = 1, -1


class Config(ctypes.Structure):
    """bnb_optimizer_config, field for field (include/bnb8.h)."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t), ("algorithm", i32), ("optim_bits", i32),
        ("lr", d), ("beta1", d), ("beta2", d), ("eps", d), ("weight_decay", d),
        ("block_wise", i32), ("amsgrad", i32), ("min_8bit_size", i64),
        ("beta3", d), ("alpha", d), ("momentum", d), ("dampening", d), ("t_alpha", d), ("t_beta3", d),
        ("max_unorm", d), ("lr_decay", d), ("initial_accumulator_value", d),
        ("nesterov", i32), ("centered", i32), ("percentile_clipping", i32), ("skip_zeros", i32),
        ("skip_step_on_nonfinite", i32), ("bias_correction", i32), ("adam_w_mode", i32),
    ]


class Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("numel", i64), ("dtype", i32), ("device", i32)]


LIB.bnb_last_error_message.restype = ctypes.c_char_p
LIB.bnb_optimizer_config_init_sized.argtypes = [ctypes.POINTER(Config), ctypes.c_size_t, i32]
LIB.bnb_optimizer_create.argtypes = [ctypes.POINTER(Config), ctypes.POINTER(ctypes.c_void_p)]
LIB.bnb_optimizer_destroy.argtypes = [ctypes.c_void_p]
LIB.bnb_optimizer_add_param.argtypes = [ctypes.c_void_p, i64, ctypes.POINTER(Tensor), ctypes.POINTER(Tensor),
                                        ctypes.POINTER(i64)]
LIB.bnb_step.argtypes = [ctypes.c_void_p]
LIB.bnb_optimizer_copy_state.argtypes = [ctypes.c_void_p, i64, i32, ctypes.c_void_p, i64]


def check(status):
    if status != 0:
        raise RuntimeError(f"bnb8 status {status}: {LIB.bnb_last_error_message().decode()}")


class Bnb8:
    """A bnb8 optimizer over one fp32 torch tensor and its gradient buffer (32-bit states)."""

    def __init__(self, algorithm, param, grad, **hparams):
        cfg = Config()
        # This struct stops at adam_w_mode: the library writes and reads only its bytes (config versioning).
        check(LIB.bnb_optimizer_config_init_sized(ctypes.byref(cfg), ctypes.sizeof(Config), ALGO[algorithm]))
        assert cfg.struct_size == ctypes.sizeof(Config)
        for key, value in hparams.items():
            setattr(cfg, key, value)
        self.handle = ctypes.c_void_p()
        check(LIB.bnb_optimizer_create(ctypes.byref(cfg), ctypes.byref(self.handle)))
        p = Tensor(param.data_ptr(), param.numel(), DTYPE_F32, DEVICE_CPU)
        g = Tensor(grad.data_ptr(), grad.numel(), DTYPE_F32, DEVICE_CPU)
        check(LIB.bnb_optimizer_add_param(self.handle, 0, ctypes.byref(p), ctypes.byref(g), None))
        self.numel = param.numel()

    def step(self):
        check(LIB.bnb_step(self.handle))

    def state(self, which):
        out = torch.empty(self.numel, dtype=torch.float32)
        check(LIB.bnb_optimizer_copy_state(self.handle, 0, which, out.data_ptr(), self.numel))
        return out

    def close(self):
        LIB.bnb_optimizer_destroy(self.handle)


# (name, torch class, torch kwargs, bnb8 config fields, [(bnb8 state id, torch state key)])
CASES = [
    ("adam", torch.optim.Adam, dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
     dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0), [(1, "exp_avg"), (2, "exp_avg_sq")]),
    ("adam_l2", torch.optim.Adam, dict(lr=1e-3, weight_decay=1e-2),
     dict(lr=1e-3, weight_decay=1e-2), [(1, "exp_avg"), (2, "exp_avg_sq")]),
    ("adamw", torch.optim.AdamW, dict(lr=1e-3, weight_decay=1e-2),
     dict(lr=1e-3, weight_decay=1e-2), [(1, "exp_avg"), (2, "exp_avg_sq")]),
    ("adamw_0.1", torch.optim.AdamW, dict(lr=1e-3, weight_decay=0.1),
     dict(lr=1e-3, weight_decay=0.1), [(1, "exp_avg"), (2, "exp_avg_sq")]),
    ("sgd", torch.optim.SGD, dict(lr=0.01), dict(lr=0.01), []),
    ("sgd_momentum", torch.optim.SGD, dict(lr=0.01, momentum=0.9, weight_decay=1e-2),
     dict(lr=0.01, momentum=0.9, weight_decay=1e-2), [(1, "momentum_buffer")]),
    ("sgd_dampening", torch.optim.SGD, dict(lr=0.01, momentum=0.9, dampening=0.5),
     dict(lr=0.01, momentum=0.9, dampening=0.5), [(1, "momentum_buffer")]),
    ("sgd_nesterov", torch.optim.SGD, dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1),
     dict(lr=0.01, momentum=0.9, nesterov=1, weight_decay=0.1), [(1, "momentum_buffer")]),
    ("rmsprop", torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=1e-2),
     dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=1e-2), [(1, "square_avg")]),
    ("adagrad", torch.optim.Adagrad, dict(lr=0.01, eps=1e-10, weight_decay=1e-2),
     dict(lr=0.01, eps=1e-10, weight_decay=1e-2), [(1, "sum")]),
]


@pytest.mark.parametrize("cols", [32, 1024])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_trajectory_matches_torch(case, cols):
    name, torch_class, torch_kwargs, bnb_kwargs, states = case
    gen = torch.Generator().manual_seed(1234 + cols)
    init = torch.randn(1024 * cols, generator=gen) * 0.1
    reference = torch.nn.Parameter(init.clone())
    torch_opt = torch_class([reference], **torch_kwargs)
    param, grad = init.clone(), torch.zeros_like(init)
    algorithm = name.split("_")[0]
    ours = Bnb8(algorithm, param, grad, **bnb_kwargs)
    try:
        for step in range(1, 21):
            g = torch.randn(init.numel(), generator=gen) * 0.01
            reference.grad = g.clone()
            torch_opt.step()
            grad.copy_(g)
            ours.step()
            param_bad = (~torch.isclose(param, reference.detach(), atol=1e-6, rtol=1e-5)).sum().item()
            assert param_bad <= 15, f"{name} [1024,{cols}] step {step}: {param_bad} parameter mismatches"
            for which, key in states:
                expected = torch_opt.state[reference][key].reshape(-1)
                bad = (~torch.isclose(ours.state(which), expected, atol=1e-6, rtol=1e-5)).sum().item()
                assert bad == 0, f"{name} [1024,{cols}] step {step}: {bad} mismatches in {key}"
        # The comparison is sensitive: the parameters really moved.
        assert (param - init).abs().max().item() > 1e-3
    finally:
        ours.close()


def test_swapped_decay_is_detected():
    """AdamW's decoupled decay against torch's coupled Adam must fail the same check."""
    gen = torch.Generator().manual_seed(5)
    init = torch.randn(32768, generator=gen) * 0.1
    reference = torch.nn.Parameter(init.clone())
    torch_opt = torch.optim.Adam([reference], lr=1e-3, weight_decay=0.1)
    param, grad = init.clone(), torch.zeros_like(init)
    ours = Bnb8("adamw", param, grad, lr=1e-3, weight_decay=0.1)
    try:
        for _ in range(20):
            g = torch.randn(init.numel(), generator=gen) * 0.01
            reference.grad = g.clone()
            torch_opt.step()
            grad.copy_(g)
            ours.step()
        assert (~torch.isclose(param, reference.detach(), atol=1e-6, rtol=1e-5)).sum().item() > 1000
    finally:
        ours.close()
