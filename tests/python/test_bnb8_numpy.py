"""bnb8 with plain numpy arrays and no torch at all (torch imports are blocked in this process).

- bnb8.Optimizer updates numpy arrays in place (the library writes through the array's own memory),
  32-bit Adam follows a float64 numpy reference (Note [tolerance]), fp16 arrays work;
- state views are zero-copy, a with-block frees the optimizer deterministically and a closed optimizer
  raises instead of crashing;
- errors are exceptions carrying the library's message (argument and value);
- checkpoints round-trip through bytes and files; a corrupt file leaves the optimizer as it was;
- bnb8.functional works on numpy arrays; bnb8.optim says clearly that it needs torch.

Note [tolerance]: the library computes in fp32, the reference in float64 from the same fp32 inputs;
after 10 steps of lr 1e-3 the parameters differ by a few fp32 ulp of values near 1 (1e-7 each) plus
the rounding of the update (lr * 1e-7); atol 1e-6 is an order above that and three orders below lr."""
import sys

import numpy as np
import pytest

if "torch" in sys.modules:
    pytest.skip("torch is already imported in this process; run this file on its own", allow_module_level=True)
sys.modules["torch"] = None  # any `import torch` now raises ImportError

import bnb8  # noqa: E402
import bnb8.functional as F  # noqa: E402


def adam_reference(p, grads, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, wd=0.0):
    p = p.astype(np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = g.astype(np.float64) + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return p, m, v


def test_torch_is_really_absent():
    with pytest.raises(ImportError):
        import torch  # noqa: F401
    with pytest.raises(ImportError):
        import bnb8.optim  # noqa: F401


def test_adam_on_numpy_arrays_in_place():
    rng = np.random.default_rng(0)
    p = rng.standard_normal(3000).astype(np.float32)
    g = np.zeros_like(p)
    start, address = p.copy(), p.ctypes.data
    grads = []
    with bnb8.Optimizer("adam", lr=1e-3) as opt:
        index = opt.add_param(p, g)
        for _ in range(10):
            g[:] = rng.standard_normal(p.size).astype(np.float32) * 0.1
            grads.append(g.copy())
            opt.step()
        expected_p, expected_m, expected_v = adam_reference(start, grads)
        assert p.ctypes.data == address  # updated where it lives
        np.testing.assert_allclose(p, expected_p, atol=1e-6, rtol=0)
        np.testing.assert_allclose(opt.state(index, 1), expected_m, atol=1e-7, rtol=1e-5)
        np.testing.assert_allclose(opt.state(index, 2), expected_v, atol=1e-9, rtol=1e-5)
        assert opt.param_info(index).step == 10


def test_fp16_arrays_and_8bit_views():
    rng = np.random.default_rng(1)
    p = rng.standard_normal(5000).astype(np.float16)
    g = (rng.standard_normal(5000) * 0.01).astype(np.float16)
    opt = bnb8.Optimizer("adamw", optim_bits=8)
    index = opt.add_param(p, g)
    before = p.copy()
    opt.step()
    assert not np.array_equal(before, p)
    views = opt.state_arrays(index, 1)
    assert views["data"].dtype == np.uint8 and views["data"].shape == (5000,)
    assert views["absmax"].shape == (20,) and views["qmap"].shape == (256,)
    dequantized = views["qmap"][views["data"]] * np.repeat(views["absmax"], 256)[:5000]
    np.testing.assert_array_equal(dequantized, opt.state(index, 1))
    views["absmax"][:] = 0  # zero-copy: the optimizer sees the write
    assert not opt.state(index, 1).any()
    opt.close()
    opt.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        opt.step()  # a closed optimizer raises, never crashes


def test_errors_carry_the_library_message():
    with pytest.raises(ValueError, match=r"lr = -1"):
        bnb8.Optimizer("adam", lr=-1.0)
    with pytest.raises(NotImplementedError, match="AMSGrad"):
        bnb8.Optimizer("adam", amsgrad=1)
    with pytest.raises(ValueError, match="unknown name"):
        bnb8.Optimizer("adamx")
    with pytest.raises(TypeError, match="lr = '1e-3': expected float"):
        bnb8.Optimizer("adam", lr="1e-3")  # named, not SWIG's wrapper message
    opt = bnb8.Optimizer("adam")
    with pytest.raises(RuntimeError, match="no parameter is registered"):
        opt.step()
    with pytest.raises(ValueError, match="unsupported dtype float64"):
        opt.add_param(np.zeros(10))
    with pytest.raises(ValueError, match="contiguous"):
        opt.add_param(np.zeros((10, 10), np.float32)[:, 0])
    read_only = np.zeros(10, np.float32)
    read_only.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        opt.add_param(read_only)
    with pytest.raises(ValueError, match="group = 7"):
        opt.add_param(np.zeros(10, np.float32), group=7)


def test_checkpoints_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    p = rng.standard_normal(4096).astype(np.float32)
    g = (rng.standard_normal(4096) * 0.01).astype(np.float32)
    opt = bnb8.Optimizer("lion", optim_bits=8)
    opt.add_param(p, g)
    opt.step()
    data = opt.to_bytes()
    path = tmp_path / "state.safetensors"
    opt.save(str(path))
    assert path.read_bytes() == data

    q = p.copy()
    other = bnb8.Optimizer("lion", optim_bits=8)
    other.add_param(q, g)
    other.load(str(path))
    assert other.to_bytes() == data
    corrupt = bytearray(data)
    corrupt[-5] ^= 0xFF
    (tmp_path / "corrupt.safetensors").write_bytes(bytes(corrupt))
    with pytest.raises(Exception, match="checksum"):
        other.load(str(tmp_path / "corrupt.safetensors"))
    assert other.to_bytes() == data
    with pytest.raises(OSError):
        other.load(str(tmp_path / "missing.safetensors"))
    other.step()
    opt.step()
    np.testing.assert_array_equal(p, q)


def test_functional_on_numpy():
    code = F.create_dynamic_map()
    assert isinstance(code, np.ndarray) and code.dtype == np.float32
    x = np.random.default_rng(3).standard_normal(1000).astype(np.float32)
    codes, state = F.quantize_blockwise(x, blocksize=128)
    assert isinstance(codes, np.ndarray) and codes.dtype == np.uint8 and state.absmax.shape == (8,)
    y = F.dequantize_blockwise(codes, state)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    assert np.abs(x - y).max() <= 0.02 * np.abs(x).max()
