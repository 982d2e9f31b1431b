"""bitsandbytes' optimizer `state_dict` layout (ALGORITHMS.md §11), read and written.

A bitsandbytes checkpoint is torch's optimizer state_dict whose per-parameter quantization tensors
(state1, state2, qmap1, qmap2, absmax1, absmax2, max1, max2, new_max1, new_max2, gnorm_vec, unorm_vec)
sit in a nested dict under "__bnb_optimizer_quant_state__" (older releases: flat). `bnb8.optim`
optimizers write exactly this layout, plus a top-level "bnb8" marker, and read both their own and
bitsandbytes' (saved with torch.save), so a bitsandbytes user migrates without losing optimizer state:

    state = torch.load("bnb_optimizer.pt")          # written by a bitsandbytes optimizer
    optimizer = bnb8.optim.AdamW8bit(model.parameters())
    optimizer.load_state_dict(state)                 # or bnb8.interop.load_bitsandbytes(optimizer, state)

torch.optim's own checkpoints (Adam, AdamW, SGD, RMSprop, Adagrad) load the same way, and
to_torch_optim(optimizer) writes one back (see "torch.optim's layout" below).

This module converts one parameter's entry; bnb8.optim does the torch bookkeeping."""

import numpy as np

from . import native
from ._library import memory_view

QUANT_STATE_KEY = "__bnb_optimizer_quant_state__"
QUANT_KEYS = frozenset(["qmap1", "qmap2", "max1", "max2", "new_max1", "new_max2", "state1", "state2", "gnorm_vec",
                        "absmax1", "absmax2", "unorm_vec"])
MARKER_KEY = "bnb8"  # top-level key of state dicts bnb8 wrote: their AdEMAMix absmax needs no remapping

__all__ = ["MARKER_KEY", "QUANT_KEYS", "QUANT_STATE_KEY", "load_bitsandbytes", "nest", "to_bitsandbytes",
           "to_torch_optim", "unnest"]


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
    step = checked_step(entry.get("step", 0), name)
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


# ---- torch.optim's layout --------------------------------------------------------------------------
# torch.optim.Adam/AdamW keep exp_avg and exp_avg_sq, SGD momentum_buffer (None without momentum),
# RMSprop square_avg, Adagrad sum, each a float tensor shaped like the parameter, plus a step (a
# tensor in torch >= 1.12, an int before). bnb8's state1/state2 are the same quantities (ALGORITHMS.md
# §6: same formulas, same bias corrections), so they carry over directly; 8-bit optimizers quantize
# them with the library's block-wise quantizer and maps (state1 signed, state2 unsigned).

TORCH_STATE_KEYS = {"adam": ("exp_avg", "exp_avg_sq"), "adamw": ("exp_avg", "exp_avg_sq"),
                    "sgd": ("momentum_buffer",), "rmsprop": ("square_avg",), "adagrad": ("sum",)}
_TORCH_KEYS = frozenset(k for keys in TORCH_STATE_KEYS.values() for k in keys)


def is_torch_optim_state(state_dict):
    """Whether a state dict was written by a torch.optim optimizer (its per-parameter keys, or torch's
    group keys without bitsandbytes' packed betas)."""
    if MARKER_KEY in state_dict:
        return False
    if any(_TORCH_KEYS & set(entry) for entry in state_dict.get("state", {}).values()):
        return True
    return any("betas" not in group or "maximize" in group for group in state_dict.get("param_groups", []))


def _unsupported(name, message):
    from ._library import UnsupportedError

    return UnsupportedError(f"{name}: {message}")


_KIND_NAMES = {"adam": "Adam/AdamW", "sgd": "SGD", "rmsprop": "RMSprop", "adagrad": "Adagrad"}


def _torch_group_kind(group):
    """Which torch.optim family wrote a param group, from its keys (None when unclear)."""
    if "betas" in group:
        return "adam"
    if "lr_decay" in group or "initial_accumulator_value" in group:
        return "adagrad"
    if "alpha" in group:
        return "rmsprop"
    if "dampening" in group or "nesterov" in group:
        return "sgd"
    return None


def group_from_torch_optim(group, algorithm, name, nesterov=False):
    """A torch.optim param group as a bnb8.optim group (bitsandbytes' keys: betas packs momentum and
    dampening, or alpha); torch options bnb8 does not implement raise UnsupportedError."""
    if algorithm not in TORCH_STATE_KEYS:
        raise ValueError(f"torch.optim has no {algorithm}; a torch.optim state dict loads into Adam, AdamW, SGD, "
                         f"RMSprop and Adagrad optimizers")
    kind = _torch_group_kind(group)
    if kind is not None and kind != ("adam" if algorithm in ("adam", "adamw") else algorithm):
        raise ValueError(f"{name} is a torch.optim {_KIND_NAMES[kind]} group; this optimizer is {algorithm}")
    for key, ok in (("amsgrad", False), ("maximize", False), ("centered", False), ("lr_decay", 0),
                    ("initial_accumulator_value", 0)):
        if group.get(key, ok) != ok:
            raise _unsupported(name, f"{key} = {group[key]!r} is not supported by bnb8")
    out = {"params": group["params"], "lr": group["lr"], "weight_decay": group.get("weight_decay", 0.0)}
    if algorithm in ("adam", "adamw"):
        out.update(betas=tuple(group["betas"]), eps=group["eps"])
    elif algorithm == "sgd":
        if bool(group.get("nesterov", False)) != bool(nesterov):  # a setting of the whole bnb8 optimizer
            raise ValueError(f"{name}: nesterov = {group.get('nesterov')!r}, this optimizer's is {bool(nesterov)}")
        out.update(betas=(group.get("momentum", 0.0), group.get("dampening", 0.0)), eps=0.0)
    elif algorithm == "rmsprop":
        if group.get("momentum", 0) != 0:
            raise _unsupported(name, f"momentum = {group['momentum']!r}: RMSprop momentum is not supported by bnb8")
        out.update(betas=(group["alpha"], 0.0), eps=group["eps"])
    else:
        out.update(betas=(0.0, 0.0), eps=group["eps"])
    return out


def checked_step(value, name):
    """A step counter from a checkpoint as an int: integral, finite, 0 <= step < 2**63 (the library
    validates it further)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name}.step = {value!r} is not a number")
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value) or value != np.floor(value):
            raise ValueError(f"{name}.step = {value!r} is not a whole number")
        value = int(value)
    value = int(value)
    if value < 0 or value >= 2 ** 63:
        raise ValueError(f"{name}.step = {value} is out of range (0 <= step < 2**63)")
    return value


def _quantized(values, signed, block_wise, name):
    """(codes, scales, map) of fp32 `values` with the library's quantizer and built-in map."""
    from . import functional

    qmap = functional._builtin_map(signed)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} holds non-finite values")
    numel = values.size
    blocksize = 256 if block_wise else max(numel, 1)
    codes = np.empty(numel, np.uint8)
    scales = np.empty((numel + blocksize - 1) // blocksize, np.float32)
    native.quantize_blockwise(qmap.ctypes.data, values.ctypes.data, numel, native.DTYPE_F32, blocksize,
                              codes.ctypes.data, scales.ctypes.data)
    return codes, scales, qmap


def entry_from_torch_optim(handle, index, numel, entry, algorithm, name):
    """A torch.optim per-parameter entry as bnb8's (state1/state2 as the optimizer keeps them: fp32, or
    quantized for 8-bit states). An empty entry (never stepped) stays empty."""
    if not entry:
        return {"step": 0}
    keys = TORCH_STATE_KEYS[algorithm]
    foreign = sorted((_TORCH_KEYS - set(keys)) & set(entry))
    if foreign:
        raise ValueError(f"{name} holds {foreign}, states of another torch.optim algorithm; {algorithm} keeps "
                         f"{list(keys)}")
    present = [k for k in keys if entry.get(k) is not None]
    # torch.optim.SGD keeps no step count: a momentum buffer means at least one step, which is all
    # that bnb8's SGD reads from it (t = 1 initialises the buffer).
    step = checked_step(entry.get("step", 1 if present else 0), name)
    out = {"step": step}
    if step == 0:
        return out
    if not present:  # SGD without momentum: no buffer
        return out
    missing = [k for k in keys if entry.get(k) is None]
    if missing:
        raise ValueError(f"{name} lacks {missing} (torch.optim.{algorithm} keeps {list(keys)})")
    mode = expected_mode(handle, index, numel)
    for s, key in enumerate(keys, start=1):
        values = _array(entry[key], f"{name}.{key}")
        if values.dtype not in (np.float32, np.float64, np.float16):
            raise ValueError(f"{name}.{key} has dtype {values.dtype}; a floating tensor is expected")
        values = np.ascontiguousarray(values, np.float32).reshape(-1)
        if values.size != numel:
            raise ValueError(f"{name}.{key} has {values.size} elements; {numel} are expected")
        if mode == native.STATE_MODE_32BIT:
            out[f"state{s}"] = values
            continue
        codes, scales, qmap = _quantized(values, s == 1, mode == native.STATE_MODE_8BIT_BLOCKWISE, f"{name}.{key}")
        out[f"state{s}"], out[f"qmap{s}"] = codes, qmap
        out[f"absmax{s}" if mode == native.STATE_MODE_8BIT_BLOCKWISE else f"max{s}"] = scales
    if handle.get_param_setting(index, native.OPTION_PERCENTILE_CLIPPING) < 100:
        raise ValueError(f"{name}: torch.optim keeps no gradient-norm history, and percentile clipping is on for "
                         f"this parameter")
    return out


def _torch_group(group, algorithm, decoupled):
    """A bnb8.optim param group in torch.optim's keys for `algorithm`."""
    betas = tuple(group["betas"])
    out = {"lr": group["lr"], "weight_decay": group["weight_decay"]}
    if algorithm in ("adam", "adamw"):
        out.update(betas=betas[:2], eps=group["eps"], amsgrad=False, maximize=False)
    elif algorithm == "sgd":
        out.update(momentum=betas[0], dampening=betas[1], nesterov=bool(group.get("nesterov", False)),
                   maximize=False)
    elif algorithm == "rmsprop":
        out.update(alpha=betas[0], eps=group["eps"], momentum=0, centered=False, maximize=False)
    else:
        out.update(eps=group["eps"], lr_decay=0, initial_accumulator_value=0, maximize=False)
    out["params"] = group["params"]
    del decoupled
    return out


def to_torch_optim(optimizer):
    """The state dict of a bnb8.optim Adam, AdamW, SGD, RMSprop or Adagrad optimizer in torch.optim's
    layout (fp32 states, dequantized from 8-bit ones; copies), for torch.optim.X.load_state_dict() or
    torch.save(). Load it into torch.optim.AdamW when the bnb8 optimizer decays decoupled (AdamW, and
    Adam with its default decoupled_weight_decay=True), into torch.optim.Adam when it applies L2."""
    import torch

    algorithm = optimizer.algorithm
    if algorithm not in TORCH_STATE_KEYS:
        raise ValueError(f"torch.optim has no {algorithm} optimizer")
    optimizer._native.check_open("to_torch_optim()")
    packed = torch.optim.Optimizer.state_dict(optimizer)  # param ids numbered as torch numbers them
    groups = [_torch_group(g, algorithm, optimizer.native_algorithm == "adamw") for g in packed["param_groups"]]
    state = {}
    ids = (i for g in packed["param_groups"] for i in g["params"])
    for saved_id, p in zip(ids, optimizer._params()):
        index = optimizer._index.get(id(p))
        if index is None:
            continue
        info = optimizer._native.param_info(index)
        if info.step == 0:
            continue
        entry = {} if algorithm == "sgd" else {"step": torch.tensor(float(info.step))}  # torch's SGD has none
        for s, key in enumerate(TORCH_STATE_KEYS[algorithm], start=1):
            if s > info.num_states:
                entry[key] = None  # SGD without momentum
                continue
            entry[key] = torch.from_numpy(optimizer._native.state(index, s)).reshape(p.shape).to(p.dtype)
        state[saved_id] = entry
    return {"state": state, "param_groups": groups}
