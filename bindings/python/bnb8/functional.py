"""bitsandbytes.functional's block-wise quantization API on bnb8: `create_dynamic_map`,
`quantize_blockwise`, `dequantize_blockwise` and `QuantState`, with bitsandbytes' signatures and keyword
names. Code selection follows ALGORITHMS.md §4.3 exactly (ties to the even code, NaN -> 0, the signed
map's sign fix), so results are reproducible bit for bit on every backend.

Inputs may be torch tensors (CPU) or numpy arrays; results have the input's kind. torch is optional."""

from fractions import Fraction

import numpy as np

from . import native
from ._library import _torch, buffer

__all__ = ["QuantState", "create_dynamic_map", "dequantize_blockwise", "quantize_blockwise"]

_DTYPE_NAMES = {native.DTYPE_F32: "float32", native.DTYPE_F16: "float16", native.DTYPE_BF16: "bfloat16"}


# ---- maps ------------------------------------------------------------------------------------------

def _round_to_f32(value):
    """The float32 nearest to the exact rational `value`, ties to even (one rounding, no double
    rounding through float64)."""
    candidate = np.float32(float(value))
    if Fraction(float(candidate)) == value or not np.isfinite(candidate):
        return candidate
    below = candidate if Fraction(float(candidate)) < value else np.nextafter(candidate, np.float32(-np.inf))
    above = np.nextafter(below, np.float32(np.inf))
    gap_below = value - Fraction(float(below))
    gap_above = Fraction(float(above)) - value
    if gap_below != gap_above:
        return below if gap_below < gap_above else above
    return below if (int(below.view(np.uint32)) & 1) == 0 else above


def _fma_f32(a, b, c):
    """fl32(a * b + c) with a single rounding (what torch's compiled linspace does, ALGORITHMS.md §2)."""
    return _round_to_f32(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c)))


def _linspace_f32(start, end, points):
    """torch.linspace(start, end, points, dtype=float32) on the CPU, reproduced exactly: the first half
    of the points counts up from `start`, the second half down from `end`."""
    start, end = np.float32(start), np.float32(end)
    if points == 1:
        return [start]
    intervals = points - 1
    step = np.float32(np.float32(end - start) / np.float32(intervals))
    half = points // 2
    return [_fma_f32(step, j, start) if j < half else _fma_f32(-step, intervals - j, end) for j in range(points)]


def _dynamic_map_values(signed, max_exponent_bits, total_bits):
    """The dynamic map's entries by bitsandbytes' construction (ALGORITHMS.md §2, informative): for each
    decade, the midpoints of a linspace(0.1, 1) grid scaled by 10^(decade - max_exponent_bits + 1)."""
    non_sign_bits = total_bits - 1
    if max_exponent_bits < 1 or max_exponent_bits > non_sign_bits:
        raise ValueError(f"max_exponent_bits = {max_exponent_bits} must be in [1, total_bits - 1 = {non_sign_bits}]")
    values = []

    def add_decade(decade, points):
        scale = np.float32(10.0 ** (decade - (max_exponent_bits - 1)))
        bounds = _linspace_f32(0.1, 1.0, points + 1)
        for left, right in zip(bounds[:-1], bounds[1:]):
            middle = np.float32(np.float32(left + right) / np.float32(2.0))
            values.append(np.float32(scale * middle))
            if signed:
                values.append(np.float32(-scale * middle))

    for decade in range(max_exponent_bits):
        add_decade(decade, 2 ** (decade + non_sign_bits - max_exponent_bits + (0 if signed else 1)))
    extra = 2 ** (non_sign_bits - max_exponent_bits) - 1
    if extra > 0:
        add_decade(max_exponent_bits - 1, extra)
    values += [np.float32(0.0), np.float32(1.0)]
    if len(values) != 2 ** total_bits:
        raise ValueError(f"signed={signed}, max_exponent_bits={max_exponent_bits}, total_bits={total_bits} "
                         f"gives {len(values)} entries instead of {2 ** total_bits}")
    values += [np.float32(0.0)] * (256 - len(values))
    return np.sort(np.array(values, dtype=np.float32))


def _builtin_map(signed):
    out = np.empty(256, np.float32)
    native.qmap_copy(native.QMAP_SIGNED if signed else native.QMAP_UNSIGNED, out.ctypes.data)
    return out


def create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    """bitsandbytes' dynamic 8-bit map (256 float32 entries), as a torch tensor (a numpy array without
    torch). The default maps are bnb8's hard-coded tables (ALGORITHMS.md Appendix A, the ones every
    optimizer state uses); other arguments build the map by bitsandbytes' construction."""
    if total_bits < 1 or total_bits > 8:
        raise ValueError(f"total_bits = {total_bits} must be in [1, 8]")
    if max_exponent_bits == 7 and total_bits == 8:
        values = _builtin_map(bool(signed))
    else:
        values = _dynamic_map_values(bool(signed), max_exponent_bits, total_bits)
    torch = _torch()
    return torch.from_numpy(values) if torch is not None else values


# ---- QuantState ------------------------------------------------------------------------------------

class QuantState:
    """What dequantize_blockwise needs to undo quantize_blockwise (bitsandbytes' QuantState fields):
    absmax (one float32 per block, or its own 8-bit codes when nested), shape, code (the map),
    blocksize, dtype of the original, and for nested states the offset and the absmax's QuantState."""

    def __init__(self, absmax, shape=None, code=None, blocksize=None, quant_type=None, dtype=None, offset=None,
                 state2=None):
        self.absmax = absmax
        self.shape = shape
        self.code = code
        self.blocksize = blocksize
        self.quant_type = quant_type
        self.dtype = dtype
        self.offset = offset
        self.state2 = state2
        self.nested = state2 is not None

    def __repr__(self):
        return (f"QuantState(blocksize={self.blocksize}, dtype={self.dtype}, shape={self.shape}, "
                f"nested={self.nested})")


# ---- helpers ---------------------------------------------------------------------------------------

def _is_torch(x):
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def _host_float32(x, name):
    """A contiguous float32 numpy copy-free view (or copy) of a map or absmax argument."""
    if _is_torch(x):
        x = x.detach().to("cpu", copy=False).float().contiguous().numpy()
    array = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    if name == "code" and array.shape != (256,):
        raise ValueError(f"code has shape {array.shape}; a map has 256 entries")
    return array


def _check_blocksize(blocksize):
    if int(blocksize) != blocksize or blocksize <= 0:
        raise ValueError(f"blocksize must be a positive integer, got {blocksize}")
    return int(blocksize)


def _new_like(reference, shape, dtype_name):
    """An uninitialised array of `shape` of the kind of `reference` (torch tensor or numpy array)."""
    if _is_torch(reference):
        torch = _torch()
        return torch.empty(shape, dtype=getattr(torch, dtype_name))
    if dtype_name == "bfloat16":
        raise ValueError("numpy has no bfloat16: pass torch tensors for bfloat16 data")
    return np.empty(shape, dtype=dtype_name)


def _checked_out(out, reference_shape, dtype_name, name):
    if out is None:
        return None
    address, numel, dtype, device = buffer(out, writable=True) if dtype_name != "uint8" else _uint8_buffer(out)
    if numel != int(np.prod(reference_shape)):
        raise ValueError(f"{name} has {numel} elements; {int(np.prod(reference_shape))} are needed")
    if dtype_name != "uint8" and _DTYPE_NAMES.get(dtype) != dtype_name:
        raise ValueError(f"{name} has dtype {_DTYPE_NAMES.get(dtype)}; {dtype_name} is needed")
    return out


def _uint8_buffer(x):
    """(address, numel, None, device) of a contiguous uint8 array or tensor."""
    if _is_torch(x):
        torch = _torch()
        if x.dtype != torch.uint8 or not x.is_contiguous() or x.device.type != "cpu":
            raise ValueError(f"expected a contiguous CPU uint8 tensor, got {x.dtype} on {x.device}")
        return x.data_ptr(), x.numel(), None, native.DEVICE_CPU
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or not x.flags.c_contiguous:
        raise ValueError("expected a C-contiguous numpy uint8 array")
    return x.ctypes.data, x.size, None, native.DEVICE_CPU


def _on_cpu(x):
    if _is_torch(x) and x.device.type != "cpu":
        raise ValueError(f"bnb8.functional runs on the CPU; got a tensor on {x.device}")
    return x.contiguous() if _is_torch(x) else np.ascontiguousarray(x)


# ---- quantize / dequantize -------------------------------------------------------------------------

def quantize_blockwise(A, code=None, absmax=None, out=None, blocksize=4096, nested=False):
    """Quantizes A (float32, float16 or bfloat16) in blocks of `blocksize` values with `code` (default:
    the signed dynamic map): per block, absmax = max |x| and each code is the map entry nearest to
    x / absmax. Returns (codes, QuantState). `out` and `absmax`, when given, receive the results. With
    nested=True the absmax values are themselves quantized (minus their mean, kept as `offset`)."""
    blocksize = _check_blocksize(blocksize)
    A = _on_cpu(A)
    address, numel, dtype, _ = buffer(A, writable=False)
    shape = tuple(A.shape)
    code_values = _host_float32(code if code is not None else create_dynamic_map(), "code")
    blocks = (numel + blocksize - 1) // blocksize
    codes = _checked_out(out, shape, "uint8", "out")
    if codes is None:
        codes = _new_like(A, shape, "uint8")
    scales = np.empty(blocks, np.float32)
    native.quantize_blockwise(code_values.ctypes.data, address, numel, dtype, blocksize, _uint8_buffer(codes)[0],
                              scales.ctypes.data)
    code_out = _as_kind(A, code_values.copy())
    if nested:
        offset = np.float32(scales.mean(dtype=np.float64)) if blocks > 0 else np.float32(0.0)
        inner_codes, state2 = quantize_blockwise(_as_kind(A, scales - offset), blocksize=blocksize)
        state = QuantState(absmax=inner_codes, shape=shape, code=code_out, blocksize=blocksize,
                           dtype=_dtype_of(A), offset=_as_kind(A, np.array(offset, np.float32)), state2=state2)
    else:
        state = QuantState(absmax=_as_kind(A, scales), shape=shape, code=code_out, blocksize=blocksize,
                           dtype=_dtype_of(A))
    if absmax is not None:  # bitsandbytes: the caller's tensor receives the state's absmax and becomes it
        absmax[...] = state.absmax
        state.absmax = absmax
    return codes, state


def dequantize_blockwise(A, quant_state=None, absmax=None, code=None, out=None, blocksize=4096, nested=False):
    """Undoes quantize_blockwise: x = code[c] * absmax[block] (exactly, one float32 multiply), written
    in quant_state.dtype (float32 when only `absmax` is given). Either quant_state or absmax (with
    `code` and `blocksize`) is required."""
    if quant_state is None and absmax is None:
        raise ValueError("dequantize_blockwise needs quant_state or absmax")
    A = _on_cpu(A)
    codes_address, numel, _, _ = _uint8_buffer(A)
    if quant_state is None:
        torch = _torch()
        quant_state = QuantState(absmax=absmax, code=code if code is not None else create_dynamic_map(),
                                 blocksize=_check_blocksize(blocksize),
                                 dtype=torch.float32 if torch is not None and _is_torch(A) else np.float32)
    block = _check_blocksize(quant_state.blocksize)
    scales = quant_state.absmax
    if quant_state.nested:
        scales = _host_float32(dequantize_blockwise(quant_state.absmax, quant_state.state2), "absmax")
        scales = (scales + _host_float32(quant_state.offset, "offset")).astype(np.float32)
    scales = _host_float32(scales, "absmax")
    blocks = (numel + block - 1) // block
    if scales.size != blocks:
        raise ValueError(f"absmax has {scales.size} values; {numel} codes in blocks of {block} need {blocks}")
    dtype_name = _dtype_name(quant_state.dtype)
    result = _checked_out(out, tuple(A.shape), dtype_name, "out")
    if result is None:
        result = _new_like(A, tuple(A.shape), dtype_name)
    address, _, dtype, _ = buffer(result, writable=True)
    code_values = _host_float32(quant_state.code, "code")
    native.dequantize_blockwise(code_values.ctypes.data, codes_address, scales.ctypes.data, block, address, numel,
                                dtype)
    return result


def _dtype_of(x):
    return x.dtype if _is_torch(x) else np.dtype(x.dtype)


def _dtype_name(dtype):
    name = str(dtype).replace("torch.", "")
    if name not in ("float32", "float16", "bfloat16"):
        raise ValueError(f"cannot dequantize to {dtype}; bnb8 writes float32, float16 or bfloat16")
    return name


def _as_kind(reference, values):
    """numpy `values` as the kind of `reference` (a torch tensor sharing memory, or the array)."""
    if _is_torch(reference):
        return _torch().from_numpy(np.ascontiguousarray(values))
    return values
