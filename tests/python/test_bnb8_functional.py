"""bnb8.functional (bitsandbytes' block-wise quantization API) and bnb8.interop (bitsandbytes'
state_dict layout).

- create_dynamic_map: the generic construction (ALGORITHMS.md §2, with torch's single-rounding
  linspace) reproduces the hard-coded tables bit for bit, and the defaults return exactly those tables;
- quantize_blockwise equals an independent numpy implementation of the select rule (§4.3: ties to the
  even code, NaN -> 0, sign fix, zero blocks) bit for bit, for several block sizes, dtypes and maps, with
  values placed exactly on midpoints; the §13.3 round-trip bounds hold; nested absmax, out= and absmax=;
- interop: bitsandbytes-style checkpoints (nested and flat, 8-bit and 32-bit, tensor-wise max1) load into
  bnb8.optim with the exact bytes; AdEMAMix's shifted absmax of bitsandbytes' CUDA kernel is remapped;
  an export round trip is lossless."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="Debian's python3-torch is needed for bnb8.functional's torch API")
import bnb8  # noqa: E402
import bnb8.functional as F  # noqa: E402
import bnb8.interop as interop  # noqa: E402
import bnb8.optim as optim  # noqa: E402

# Spec Appendix A spot values (bit patterns): signed index 0, 128 and unsigned index 1.
SIGNED_0, SIGNED_128, UNSIGNED_1 = 0xBF7E3333, 0x3513A3B7, 0x34AE7BAA


def bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


# ---- maps ------------------------------------------------------------------------------------------

def test_default_maps_are_the_specified_tables():
    signed, unsigned = F.create_dynamic_map(True).numpy(), F.create_dynamic_map(False).numpy()
    assert bits(signed)[0] == SIGNED_0 and bits(signed)[128] == SIGNED_128 and signed[127] == 0.0
    assert bits(unsigned)[1] == UNSIGNED_1 and unsigned[0] == 0.0 and unsigned[255] == 1.0
    assert np.all(np.diff(signed) > 0) and np.all(np.diff(unsigned) > 0)


@pytest.mark.parametrize("signed", [True, False])
def test_generic_construction_rebuilds_the_tables(signed):
    built = F._dynamic_map_values(signed, 7, 8)
    assert np.array_equal(bits(built), bits(F.create_dynamic_map(signed).numpy()))


def test_other_map_parameters():
    small = F.create_dynamic_map(True, max_exponent_bits=4).numpy()
    assert small.shape == (256,) and small[-1] == 1.0 and small.min() < 0
    assert np.all(np.diff(small) > 0)  # 4 exponent bits: 3 bits of linear fraction, still 256 distinct
    with pytest.raises(ValueError, match="max_exponent_bits"):
        F.create_dynamic_map(True, max_exponent_bits=9)


# ---- an independent select rule --------------------------------------------------------------------

def reference_quantize(x, code, blocksize):
    """ALGORITHMS.md §4.2-4.3 in numpy, element by element in float32."""
    x = np.asarray(x, np.float32).reshape(-1)
    code = np.asarray(code, np.float32)
    mid = ((code[:-1] + code[1:]) * np.float32(0.5)).astype(np.float32)
    zero = int(np.nonzero(code == 0)[0][0])
    signed = code[0] < 0
    out = np.empty(x.size, np.uint8)
    scales = []
    for start in range(0, x.size, blocksize):
        block = x[start:start + blocksize]
        absmax = np.float32(np.max(np.abs(block[~np.isnan(block)]), initial=np.float32(0)))
        scales.append(absmax)
        if absmax < np.float32(2.0 ** -126):
            out[start:start + block.size] = zero
            scales[-1] = np.float32(0)
            continue
        r = np.float32(1.0) / absmax
        for i, s in enumerate(block):
            v = np.float32(s * r)
            if np.isnan(v):
                out[start + i] = 0
                continue
            c = int(np.searchsorted(mid, v, side="left"))  # = #{j : mid_j < v}
            if c < 255 and v == mid[c] and c % 2 == 1:
                c += 1
            if signed and np.signbit(code[c]) != np.signbit(s):
                c = c + 1 if s > 0 else c - 1
            out[start + i] = c
    return out, np.array(scales, np.float32)


def tricky_values(code, count, seed):
    """Normal values plus values exactly on midpoints (after scaling), signed zeros, NaN and tiny ones."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(count).astype(np.float32)
    mid = ((code[:-1] + code[1:]) * np.float32(0.5)).astype(np.float32)
    x[: x.size // 4] = rng.choice(mid, x.size // 4) * np.float32(1.0)  # absmax becomes 1 where the block max is 1
    x[::97] = np.float32(1.0)
    x[5] = np.float32(-0.0)
    x[6] = np.float32(np.nan)
    x[7] = np.float32(1e-30)
    return x


@pytest.mark.parametrize("blocksize", [64, 100, 256, 4096])
@pytest.mark.parametrize("signed", [True, False])
def test_quantize_matches_the_select_rule(blocksize, signed):
    code = F.create_dynamic_map(signed)
    x = tricky_values(code.numpy(), 5000, blocksize)
    if not signed:
        x = np.abs(x)
    codes, state = F.quantize_blockwise(torch.from_numpy(x), code=code, blocksize=blocksize)
    expected_codes, expected_scales = reference_quantize(x, code.numpy(), blocksize)
    assert np.array_equal(codes.numpy(), expected_codes)
    assert np.array_equal(state.absmax.numpy(), expected_scales)
    back = F.dequantize_blockwise(codes, state)
    block_scales = np.repeat(expected_scales, blocksize)[: x.size]
    assert np.array_equal(back.numpy(), np.where(block_scales == 0, 0, code.numpy()[expected_codes] * block_scales))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_round_trip_bounds(dtype):
    """ALGORITHMS.md §13.3 on 1024 x 1024 inputs with block size 256."""
    g = torch.Generator().manual_seed(0)
    cases = [(torch.randn, True, 0.011, 0.018), (torch.rand, True, 0.0036, 0.015), (torch.rand, False, 0.0023, 0.012)]
    for draw, signed, abs_bound, rel_bound in cases:
        x = draw(1024, 1024, generator=g).to(dtype)
        codes, state = F.quantize_blockwise(x, code=F.create_dynamic_map(signed), blocksize=256)
        y = F.dequantize_blockwise(codes, state)
        assert y.dtype == dtype and y.shape == x.shape
        err = (x.float() - y.float()).abs()
        assert err.mean() < abs_bound
        assert (err / (x.float().abs() + 1e-8)).mean() < rel_bound


def test_nested_out_and_absmax_arguments():
    x = torch.randn(3, 5000)
    codes, state = F.quantize_blockwise(x, blocksize=256, nested=True)
    assert state.nested and state.absmax.dtype == torch.uint8 and state.state2 is not None
    plain_codes, plain = F.quantize_blockwise(x, blocksize=256)
    assert torch.equal(codes, plain_codes)  # nesting only changes how absmax is stored
    y, y_plain = F.dequantize_blockwise(codes, state), F.dequantize_blockwise(plain_codes, plain)
    # The absmax error of nesting (an 8-bit code per absmax) rescales each block by < 1 %.
    assert ((y - y_plain).abs() <= 0.01 * y_plain.abs() + 1e-6).all()
    out, absmax = torch.empty(3, 5000, dtype=torch.uint8), torch.empty(15)
    codes2, state2 = F.quantize_blockwise(x, out=out, absmax=absmax, blocksize=1024)
    assert codes2 is out and state2.absmax is absmax and absmax.abs().sum() > 0
    target = torch.empty(3, 5000)
    assert F.dequantize_blockwise(out, absmax=absmax, out=target, blocksize=1024) is target
    torch.testing.assert_close(target, F.dequantize_blockwise(codes2, state2), atol=0, rtol=0)
    with pytest.raises(ValueError, match="absmax has 15 values"):
        F.dequantize_blockwise(out, absmax=absmax, blocksize=256)
    with pytest.raises(ValueError, match="blocksize"):
        F.quantize_blockwise(x, blocksize=0)


# ---- interop ---------------------------------------------------------------------------------------

def params_and_grads(seed, shapes):
    g = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.randn(*s, generator=g)) for s in shapes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=g) * 0.01
    return params


def bitsandbytes_entry(p, rng, ademamix_rows=1, blocks_per_row=None, flat=False, step=12):
    """An 8-bit block-wise entry as bitsandbytes writes it (state1/state2 codes, maps, absmax)."""
    n = p.numel()
    blocks = blocks_per_row or (n + 255) // 256
    shape1 = (2,) + tuple(p.shape) if ademamix_rows == 2 else tuple(p.shape)
    entry = {
        "state1": torch.from_numpy(rng.integers(0, 256, shape1, dtype=np.uint8)),
        "qmap1": F.create_dynamic_map(True), "qmap2": F.create_dynamic_map(False),
        "absmax1": torch.from_numpy(rng.random(ademamix_rows * blocks).astype(np.float32)),
        "state2": torch.from_numpy(rng.integers(0, 256, tuple(p.shape), dtype=np.uint8)),
        "absmax2": torch.from_numpy(rng.random(blocks).astype(np.float32)),
    }
    return dict(entry, step=step) if flat else {"step": step, interop.QUANT_STATE_KEY: entry}


@pytest.mark.parametrize("flat", [False, True])
def test_bitsandbytes_checkpoint_loads_exactly(flat):
    rng = np.random.default_rng(1)
    params = params_and_grads(1, [(64, 70), (300,)])
    small = params[1]
    state = {
        "state": {0: bitsandbytes_entry(params[0], rng, flat=flat),
                  1: {"step": 12, interop.QUANT_STATE_KEY: {"state1": torch.rand(300), "state2": torch.rand(300)}}},
        "param_groups": [{"lr": 5e-4, "betas": (0.8, 0.99), "eps": 1e-7, "weight_decay": 0.0, "alpha": 0.0,
                          "t_alpha": None, "t_beta3": None, "params": [0, 1]}],
    }
    opt = optim.AdamW8bit(params)
    opt.load_state_dict(state)
    source = interop.unnest(state["state"][0])
    ours = opt.state[params[0]]
    for key in ("state1", "state2", "absmax1", "absmax2"):
        assert torch.equal(ours[key], source[key].reshape(ours[key].shape)), key
    assert ours["step"] == 12 and opt.param_groups[0]["lr"] == 5e-4
    assert torch.equal(opt.state[small]["state1"], state["state"][1][interop.QUANT_STATE_KEY]["state1"])
    assert opt._native.get_hparam("beta1") == 0.8
    opt.step()  # and training continues from there
    assert opt.state[params[0]]["step"] == 13


def test_tensorwise_max_keys_round_trip():
    params = params_and_grads(2, [(80, 80)])
    opt = optim.Adam8bit(params, block_wise=False)
    opt.step()
    state = opt.state_dict()
    quant = state["state"][0][interop.QUANT_STATE_KEY]
    assert set(quant) == {"state1", "state2", "qmap1", "qmap2", "max1", "new_max1", "max2", "new_max2"}
    assert torch.equal(quant["max1"], quant["new_max1"]) and quant["max1"].shape == (1,)
    fresh = optim.Adam8bit([torch.nn.Parameter(params[0].detach().clone())], block_wise=False)
    fresh.load_state_dict(interop.to_bitsandbytes(opt))
    assert fresh._native.to_bytes() == opt._native.to_bytes()


def test_ademamix_absmax_of_bitsandbytes_is_remapped():
    """n % 256 != 0: bitsandbytes stored m2's absmax of block b at flat index blocks - 1 + b."""
    rng = np.random.default_rng(3)
    params = params_and_grads(3, [(1000,)])  # 4 blocks, the last one partial
    blocks = 4
    m1 = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    m2 = np.array([4.0, 6.0, 7.0, 8.0], np.float32)  # block 0 collided with m1's last block (4.0)
    shifted = np.concatenate([m1, m2[1:], [0.0]]).astype(np.float32)  # what bitsandbytes' kernel left
    entry = bitsandbytes_entry(params[0], rng, ademamix_rows=2)
    entry[interop.QUANT_STATE_KEY]["absmax1"] = torch.from_numpy(shifted)
    group = {"lr": 1e-3, "betas": (0.9, 0.999, 0.9999), "eps": 1e-8, "weight_decay": 1e-2, "alpha": 5.0,
             "t_alpha": None, "t_beta3": None, "params": [0]}
    opt = optim.AdEMAMix8bit(params, min_8bit_size=0)
    opt.load_state_dict({"state": {0: entry}, "param_groups": [group]})
    assert np.array_equal(opt.state[params[0]]["absmax1"].numpy(), np.stack([m1, m2]))
    assert opt.state[params[0]]["absmax1"].shape == (2, blocks)
    # bnb8's own state dicts carry the marker and are never remapped.
    again = optim.AdEMAMix8bit([torch.nn.Parameter(params[0].detach().clone())], min_8bit_size=0)
    again.load_state_dict(opt.state_dict())
    assert again._native.to_bytes() == opt._native.to_bytes()


@pytest.mark.parametrize("name", ["AdamW8bit", "Lion8bit", "SGD8bit", "AdEMAMix8bit", "LAMB8bit"])
def test_export_import_is_lossless(name):
    kwargs = {"lr": 0.01, "momentum": 0.9} if name == "SGD8bit" else {}
    params = params_and_grads(4, [(50, 90), (7,)])
    opt = getattr(optim, name)(params, **kwargs)
    opt.step()
    exported = interop.to_bitsandbytes(opt)
    opt.step()  # the export is a copy: later steps do not change it
    fresh_params = params_and_grads(4, [(50, 90), (7,)])
    fresh = getattr(optim, name)(fresh_params, **kwargs)
    fresh.load_state_dict(exported)
    fresh.step()
    assert fresh._native.to_bytes() == opt._native.to_bytes()


def test_sgd_without_momentum_exports_only_the_step():
    params = params_and_grads(5, [(40, 40)])
    opt = optim.SGD8bit(params, lr=0.1)
    opt.step()
    assert opt.state_dict()["state"][0] == {"step": 1}
    fresh = optim.SGD8bit(params_and_grads(5, [(40, 40)]), lr=0.1)
    fresh.load_state_dict(opt.state_dict())
    assert fresh._native.to_bytes() == opt._native.to_bytes()
