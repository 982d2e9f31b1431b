"""bitsandbytes' optimizer `state_dict` layout (ALGORITHMS.md §11), read and written.

A bitsandbytes checkpoint is torch's optimizer state_dict whose per-parameter quantization tensors
(state1, state2, qmap1, qmap2, absmax1, absmax2, max1, max2, new_max1, new_max2, gnorm_vec, unorm_vec)
sit in a nested dict under "__bnb_optimizer_quant_state__" (older releases: flat). `bnb8.optim`
optimizers write exactly this layout, plus a top-level "bnb8" marker, and read both their own and
bitsandbytes' (saved with torch.save), so a bitsandbytes user migrates without losing optimizer state:

    state = torch.load("bnb_optimizer.pt")          # written by a bitsandbytes optimizer
    optimizer = bnb8.optim.AdamW8bit(model.parameters())
    optimizer.load_state_dict(state)                 # or bnb8.interop.load_bitsandbytes(optimizer, state)

This module converts one parameter's entry; bnb8.optim does the torch bookkeeping."""

import numpy as np

from . import native
from ._library import memory_view

QUANT_STATE_KEY = "__bnb_optimizer_quant_state__"
QUANT_KEYS = frozenset(["qmap1", "qmap2", "max1", "max2", "new_max1", "new_max2", "state1", "state2", "gnorm_vec",
                        "absmax1", "absmax2", "unorm_vec"])
MARKER_KEY = "bnb8"  # top-level key of state dicts bnb8 wrote: their AdEMAMix absmax needs no remapping

__all__ = ["MARKER_KEY", "QUANT_KEYS", "QUANT_STATE_KEY", "load_bitsandbytes", "nest", "to_bitsandbytes", "unnest"]


def nest(entry):
    """A parameter's state entry with the quantization keys moved under QUANT_STATE_KEY (new dict)."""
    out = {k: v for k, v in entry.items() if k not in QUANT_KEYS}
    quant = {k: v for k, v in entry.items() if k in QUANT_KEYS}
    if quant:
        out[QUANT_STATE_KEY] = quant
    return out


def unnest(entry):
    """The flat form of an entry, nested or not (new dict; the input is not modified)."""
    out = {k: v for k, v in entry.items() if k != QUANT_STATE_KEY}
    out.update(entry.get(QUANT_STATE_KEY, {}))
    return out


def to_bitsandbytes(optimizer):
    """A bnb8.optim optimizer's state in bitsandbytes' layout, detached from the optimizer (tensors are
    copies), for bitsandbytes' load_state_dict() or torch.save(). The top-level "bnb8" marker stays:
    bitsandbytes ignores it, and it tells a later bnb8 load that the AdEMAMix absmax is in row layout."""
    state = optimizer.state_dict()
    state["state"] = {k: _cloned(v) for k, v in state["state"].items()}
    return state


def _cloned(value):
    if isinstance(value, dict):
        return {k: _cloned(v) for k, v in value.items()}
    return value.clone() if hasattr(value, "clone") else value


def load_bitsandbytes(optimizer, state_dict):
    """Loads a state dict that bitsandbytes wrote into a bnb8.optim optimizer, treating it as
    bitsandbytes' even if it carries a "bnb8" marker (the AdEMAMix absmax layout of bitsandbytes' CUDA
    kernel is remapped, ALGORITHMS.md §11). optimizer.load_state_dict() does the same for unmarked
    state dicts."""
    state = dict(state_dict)
    state.pop(MARKER_KEY, None)
    optimizer.load_state_dict(state)


# ---- one parameter ---------------------------------------------------------------------------------

def _array(value, name):
    """A contiguous host numpy array of a torch tensor, numpy array or number (no copy when possible)."""
    if hasattr(value, "detach"):
        value = value.detach().to("cpu").contiguous().numpy()
    return np.ascontiguousarray(value)


def _sized(value, name, dtype, count):
    """`value` as a contiguous array of exactly `count` elements of `dtype` (the library reads exactly
    that many through the address, so sizes are checked here)."""
    array = _array(value, name)
    if array.dtype != np.dtype(dtype):
        raise ValueError(f"{name} has dtype {array.dtype}; {np.dtype(dtype)} is expected")
    if array.size != count:
        raise ValueError(f"{name} has {array.size} elements; {count} are expected")
    return array


def expected_mode(handle, index, numel):
    """The state mode the optimizer keeps for parameter `index` with its current settings (§3)."""
    bits = handle.get_param_setting(index, native.OPTION_OPTIM_BITS)
    min_size = handle.get_param_setting(index, native.OPTION_MIN_8BIT_SIZE)
    if bits == 32 or numel < min_size:
        return native.STATE_MODE_32BIT
    if handle.get_param_setting(index, native.OPTION_BLOCK_WISE):
        return native.STATE_MODE_8BIT_BLOCKWISE
    return native.STATE_MODE_8BIT_TENSORWISE


def _entry_mode(entry, name):
    state1 = entry.get("state1")
    if state1 is None:
        return None
    dtype = str(getattr(state1, "dtype", ""))
    if dtype.endswith("uint8"):
        if "absmax1" in entry:
            return native.STATE_MODE_8BIT_BLOCKWISE
        if "max1" in entry:
            return native.STATE_MODE_8BIT_TENSORWISE
        raise ValueError(f"{name}: 8-bit state1 without absmax1 (block-wise) or max1 (tensor-wise)")
    if dtype.endswith("float32"):
        return native.STATE_MODE_32BIT
    raise ValueError(f"{name}: state1 has dtype {dtype}; uint8 (8-bit) or float32 (32-bit) is expected")


def _remapped_ademamix_absmax(absmax, blocks):
    """bitsandbytes' CUDA kernel stored AdEMAMix's m2 absmax of block b at flat index blocks - 1 + b when
    numel % 256 != 0 (§11): rebuild the row layout. Blocks b >= 1 are exact; block 0 shares its slot
    with the last m1 block (a write race in bitsandbytes), so that pair is only approximate."""
    flat = absmax.reshape(-1)
    return np.concatenate([flat[:blocks], flat[blocks - 1:2 * blocks - 1]]).astype(np.float32)


def import_param_state(handle, index, numel, entry, algorithm, from_bitsandbytes, name):
    """Validates one parameter's state entry (flat or nested, tensors or arrays) and imports it into
    parameter `index` of the native optimizer. Nothing changes on failure."""
    entry = unnest(entry)
    step = int(entry.get("step", 0))
    mode = _entry_mode(entry, name)
    keep = expected_mode(handle, index, numel)
    rows1 = 2 if algorithm == "ademamix" else 1
    num_states = sum(1 for key in ("state1", "state2") if key in entry)
    if step == 0:
        mode, num_states = native.STATE_MODE_NONE, 0
    elif mode is None:
        mode = keep  # no tensors: an algorithm without states for this parameter (SGD without momentum)
    elif mode != keep:
        names = {native.STATE_MODE_32BIT: "32-bit", native.STATE_MODE_8BIT_BLOCKWISE: "8-bit block-wise",
                 native.STATE_MODE_8BIT_TENSORWISE: "8-bit tensor-wise"}
        raise ValueError(f"{name} holds {names[mode]} states; this optimizer keeps {names[keep]} states for it "
                         f"(check optim_bits, min_8bit_size and block_wise)")
    blocks = (numel + 255) // 256
    keep_alive = []  # arrays whose addresses the library reads during the call

    def address(array):
        keep_alive.append(array)
        return array.ctypes.data

    data, absmax, qmap = [0, 0], [0, 0], [0, 0]
    for s in range(num_states if mode != native.STATE_MODE_NONE else 0):
        key = f"state{s + 1}"
        rows = rows1 if s == 0 else 1
        if mode == native.STATE_MODE_32BIT:
            data[s] = address(_sized(entry[key], f"{name}.{key}", np.float32, rows * numel))
            continue
        data[s] = address(_sized(entry[key], f"{name}.{key}", np.uint8, rows * numel))
        qmap[s] = address(_sized(entry[f"qmap{s + 1}"], f"{name}.qmap{s + 1}", np.float32, 256))
        if mode == native.STATE_MODE_8BIT_BLOCKWISE:
            scales = _sized(entry[f"absmax{s + 1}"], f"{name}.absmax{s + 1}", np.float32, rows * blocks)
            if rows == 2 and from_bitsandbytes and numel % 256 != 0:
                scales = _remapped_ademamix_absmax(scales, blocks)
        else:
            scales = _sized(entry[f"max{s + 1}"], f"{name}.max{s + 1}", np.float32, rows)
        absmax[s] = address(scales)
    clip = 0
    if mode != native.STATE_MODE_NONE and handle.get_param_setting(index, native.OPTION_PERCENTILE_CLIPPING) < 100:
        if "gnorm_vec" not in entry:
            raise ValueError(f"{name} has no gnorm_vec, and percentile clipping is on for this parameter")
        clip = address(_sized(entry["gnorm_vec"], f"{name}.gnorm_vec", np.float32, 100))
    handle.import_param_state(index, step, mode, num_states, data[0], data[1], absmax[0], absmax[1], qmap[0], qmap[1],
                              clip)


# ---- export: views of the library's buffers --------------------------------------------------------

def state_views(handle, index, shape, to_tensor):
    """bitsandbytes' keys for parameter `index`'s states, as `to_tensor` of zero-copy numpy views of the
    library's buffers (writing through them changes the optimizer). qmap* are copies (the maps are
    shared). Empty before the parameter's first step."""
    info = handle.param_info(index)
    out = {}
    if info.state_mode == native.STATE_MODE_NONE:
        return out
    for s in range(1, info.num_states + 1):
        view = handle.state_view(index, s)
        data_shape = ((view.rows,) if view.rows > 1 else ()) + tuple(shape)
        if view.bits == 32:
            out[f"state{s}"] = to_tensor(memory_view(view.data, data_shape, np.float32, handle))
            continue
        out[f"state{s}"] = to_tensor(memory_view(view.data, data_shape, np.uint8, handle))
        out[f"qmap{s}"] = to_tensor(memory_view(view.qmap, (256,), np.float32, handle).copy())
        scale_shape = (view.rows, view.absmax_per_row) if view.rows > 1 else (view.absmax_per_row,)
        scales = to_tensor(memory_view(view.absmax, scale_shape, np.float32, handle))
        if view.mode == native.STATE_MODE_8BIT_BLOCKWISE:
            out[f"absmax{s}"] = scales
        else:  # tensor-wise (bitsandbytes <= 0.49): the current absmax is both max and new_max
            out[f"max{s}"] = scales.reshape(-1)
            out[f"new_max{s}"] = scales.reshape(-1)
    return out


def auxiliary_state(handle, index, algorithm, to_tensor):
    """gnorm_vec (the clipping history) and unorm_vec (the last squared update norm) when the parameter
    has them: copies, refreshed whenever asked."""
    out = {}
    if handle.param_info(index).state_mode == native.STATE_MODE_NONE:
        return out
    if handle.get_param_setting(index, native.OPTION_PERCENTILE_CLIPPING) < 100:
        history = np.empty(100, np.float32)
        handle.copy_clip_history(index, history.ctypes.data, 100)
        out["gnorm_vec"] = to_tensor(history)
    if algorithm in ("lamb", "lars") and handle.get_param_setting(index, native.HPARAM_MAX_UNORM) > 0:
        out["unorm_vec"] = to_tensor(np.array([handle.param_info(index).update_sq_norm], np.float32))
    return out
