"""The library as Python sees it: buffers of numpy arrays and torch tensors as addresses, zero-copy
views of the library's state buffers, names for the enumerations, and `Optimizer`, the C handle with
array-friendly methods. Nothing here needs torch; torch tensors are accepted when torch is present."""

import weakref

import numpy as np

from . import native

ALGORITHMS = {
    "adam": native.ALGO_ADAM, "adamw": native.ALGO_ADAMW, "sgd": native.ALGO_SGD, "lion": native.ALGO_LION,
    "lamb": native.ALGO_LAMB, "lars": native.ALGO_LARS, "rmsprop": native.ALGO_RMSPROP,
    "adagrad": native.ALGO_ADAGRAD, "ademamix": native.ALGO_ADEMAMIX,
}

HPARAMS = {
    "lr": native.HPARAM_LR, "beta1": native.HPARAM_BETA1, "beta2": native.HPARAM_BETA2,
    "beta3": native.HPARAM_BETA3, "eps": native.HPARAM_EPS, "alpha": native.HPARAM_ALPHA,
    "momentum": native.HPARAM_MOMENTUM, "dampening": native.HPARAM_DAMPENING, "t_alpha": native.HPARAM_T_ALPHA,
    "t_beta3": native.HPARAM_T_BETA3, "weight_decay": native.HPARAM_WEIGHT_DECAY,
    "max_unorm": native.HPARAM_MAX_UNORM,
}

OPTIONS = {
    "optim_bits": native.OPTION_OPTIM_BITS, "min_8bit_size": native.OPTION_MIN_8BIT_SIZE,
    "block_wise": native.OPTION_BLOCK_WISE, "percentile_clipping": native.OPTION_PERCENTILE_CLIPPING,
    "skip_zeros": native.OPTION_SKIP_ZEROS,
}

_NUMPY_DTYPES = {np.dtype(np.float32): native.DTYPE_F32, np.dtype(np.float16): native.DTYPE_F16}


class UnsupportedError(NotImplementedError, ValueError):
    """An option the optimizer family defines but bnb8 does not implement (AMSGrad, centered RMSprop,
    ...): rejected, never ignored. Both a NotImplementedError (the library's status) and a ValueError
    (what bitsandbytes raises for several of them), so either handler catches it."""


def _unsupported_as_error(call, *args):
    try:
        return call(*args)
    except NotImplementedError as error:
        raise UnsupportedError(str(error)) from None


def _torch():
    """torch if it is installed (bnb8 works on numpy arrays without it)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def key_id(key, table):
    """An enumeration value from its name (`table`) or the value itself."""
    if isinstance(key, str):
        if key not in table:
            raise ValueError(f"unknown name {key!r}; expected one of {sorted(table)}")
        return table[key]
    return int(key)


def buffer(x, writable, name="param"):
    """(address, numel, dtype, device) of a contiguous numpy array or torch tensor (`name` names it in
    errors)."""
    torch = _torch()
    if torch is not None and isinstance(x, torch.Tensor):
        if x.device.type not in ("cpu", "cuda"):
            raise ValueError(f"{name} is a tensor on the {x.device.type!r} device; bnb8 takes CPU and CUDA tensors "
                             f"(a 'meta' tensor has no memory to update: materialise the model first)")
        if not x.is_contiguous():
            raise ValueError(f"bnb8 needs contiguous tensors ({name} is not)")
        dtypes = {torch.float32: native.DTYPE_F32, torch.float16: native.DTYPE_F16, torch.bfloat16: native.DTYPE_BF16}
        if x.dtype not in dtypes:
            raise ValueError(f"unsupported dtype {x.dtype}; bnb8 takes float32, float16 and bfloat16")
        device = native.DEVICE_CPU if x.device.type == "cpu" else x.device.index
        return x.data_ptr(), x.numel(), dtypes[x.dtype], device
    if isinstance(x, np.ndarray):
        if not x.flags.c_contiguous:
            raise ValueError("bnb8 needs C-contiguous arrays")
        if writable and not x.flags.writeable:
            raise ValueError("the parameter array is read-only")
        if x.dtype not in _NUMPY_DTYPES:
            raise ValueError(f"unsupported dtype {x.dtype}; bnb8 takes float32 and float16 arrays")
        return x.ctypes.data, x.size, _NUMPY_DTYPES[x.dtype], native.DEVICE_CPU
    raise TypeError(f"{name}: expected a numpy array or a torch tensor, got {type(x).__name__}")


class _LibraryMemory:
    """A numpy-array interface over library memory that keeps the owning optimizer alive: views of
    state buffers stay valid as long as they exist (they see the optimizer's current values), even
    after close(), which then frees the memory when the last view is gone."""

    def __init__(self, address, shape, typestr, owner):
        self.__array_interface__ = {"data": (address, False), "shape": tuple(shape), "typestr": typestr, "version": 3}
        self._owner = owner
        if isinstance(owner, Optimizer):
            owner._live_views.add(self)


def memory_view(address, shape, dtype, owner):
    """A numpy array over library memory at `address` (zero-copy); it keeps `owner` alive."""
    dtype = np.dtype(dtype)
    if address == 0 or int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype)
    return np.asarray(_LibraryMemory(address, shape, dtype.str, owner))


def state_arrays(handle, index, state):
    """The buffers of one state as numpy views: {"data", "absmax", "qmap"} (8-bit) or {"data"} (32-bit).
    AdEMAMix's state1 has two rows: data is (2, numel) and absmax (2, blocks). Empty before the first
    step."""
    view = handle.state_view(index, state)
    if view.mode == native.STATE_MODE_NONE:
        return {}
    shape = (view.rows, view.numel) if view.rows > 1 else (view.numel,)
    if view.bits == 32:
        return {"data": memory_view(view.data, shape, np.float32, handle)}
    absmax_shape = (view.rows, view.absmax_per_row) if view.rows > 1 else (view.absmax_per_row,)
    return {
        "data": memory_view(view.data, shape, np.uint8, handle),
        "absmax": memory_view(view.absmax, absmax_shape, np.float32, handle),
        "qmap": memory_view(view.qmap, (256,), np.float32, handle),
    }


def make_config(algorithm, **settings):
    """An OptimizerConfig with the algorithm's defaults and the given fields (bools become 0/1)."""
    config = native.OptimizerConfig(key_id(algorithm, ALGORITHMS))
    for name, value in settings.items():
        if name == "algorithm" or name.startswith("_") or not hasattr(config, name):
            raise TypeError(f"bnb_optimizer_config has no field {name!r}")
        try:
            setattr(config, name, int(value) if isinstance(value, bool) else value)
        except TypeError:  # SWIG's message names its wrapper, not the setting
            raise TypeError(f"{name} = {value!r}: expected {type(getattr(config, name)).__name__}") from None
    return config


class Optimizer(native.Optimizer):
    """A bnb8 optimizer over numpy arrays (float32, float16) or torch tensors (float32, float16,
    bfloat16), updated in place by `step()`.

        opt = bnb8.Optimizer("adamw", lr=1e-3, optim_bits=8)
        index = opt.add_param(weights, grads)       # the arrays stay yours; bnb8 keeps references
        opt.step()

    The library keeps the arrays' addresses: this object holds references to them so they cannot be
    freed while registered. `close()` (or a `with` block) frees the optimizer deterministically."""

    def __init__(self, algorithm="adamw", **settings):
        self._closed = False
        self._live_views = weakref.WeakSet()  # _LibraryMemory objects over this optimizer's buffers
        _unsupported_as_error(super().__init__, make_config(algorithm, **settings))
        self._arrays = {}

    @property
    def closed(self):
        return self._closed

    def check_open(self, what):
        """Raises ValueError when the optimizer was closed (instead of SWIG's TypeError)."""
        if self._closed:
            raise ValueError(f"{what} on a closed bnb8 optimizer: it was closed with close()")

    def add_param(self, param, grad=None, group=0):
        """Registers `param` (updated in place) and its gradient (read; None: skipped by steps)."""
        address, numel, dtype, device = buffer(param, writable=True)
        grad_address = self._grad_address(grad, numel, dtype)
        index = native.Optimizer.add_param(self, group, address, grad_address, numel, dtype, device)
        self._arrays[index] = (param, grad)
        return index

    def bind_param(self, index, param, grad=None):
        """Points parameter `index` at new arrays (same size and dtype); grad None: no gradient."""
        address, numel, dtype, device = buffer(param, writable=True)
        native.Optimizer.bind_param(self, index, address, self._grad_address(grad, numel, dtype), numel, dtype, device)
        self._arrays[index] = (param, grad)

    @staticmethod
    def _grad_address(grad, numel, dtype):
        if grad is None:
            return 0
        address, grad_numel, grad_dtype, _ = buffer(grad, writable=False, name="grad")
        if grad_numel != numel or grad_dtype != dtype:
            raise ValueError(f"the gradient has {grad_numel} elements of dtype {grad_dtype}, "
                             f"the parameter {numel} of dtype {dtype}")
        return address

    def set_hparam(self, hparam, value, group=0):
        """Sets a hyper-parameter of a group by name ("lr") or id; effective at the next step."""
        _unsupported_as_error(native.Optimizer.set_hparam, self, group, key_id(hparam, HPARAMS), float(value))

    def get_hparam(self, hparam, group=0):
        return native.Optimizer.get_hparam(self, group, key_id(hparam, HPARAMS))

    def set_param_override(self, index, key, value):
        """Overrides a hyper-parameter or option ("optim_bits", "lr", ...) for one parameter."""
        table = HPARAMS if isinstance(key, str) and key in HPARAMS else OPTIONS
        _unsupported_as_error(native.Optimizer.set_param_override, self, index, key_id(key, table), float(value))

    def state(self, index, which=1):
        """A copy of state `which` (1 or 2) as float32 values (dequantized for 8-bit states)."""
        info = self.param_info(index)
        view = self.state_view(index, which)
        rows = view.rows if view.mode != native.STATE_MODE_NONE else 1
        out = np.empty((rows, info.numel) if rows > 1 else (info.numel,), np.float32)
        self.copy_state(index, which, out.ctypes.data, out.size)
        return out

    def state_arrays(self, index, which=1):
        """Zero-copy numpy views of state `which`'s buffers (see `state_arrays`)."""
        return state_arrays(self, index, which)

    def to_bytes(self):
        """The checkpoint (safetensors bytes) of the optimizer's state."""
        out = np.empty(self.serialized_size(), np.uint8)
        written = self.save_to_buffer(out.ctypes.data, out.size)
        return out[:written].tobytes()

    def from_bytes(self, data):
        """Loads a checkpoint from bytes (validated; nothing changes on failure)."""
        array = np.frombuffer(data, np.uint8)
        self.load_from_buffer(array.ctypes.data, array.size)

    def close(self):
        """Frees the optimizer and its states (idempotent); every method raises ValueError afterwards.
        Views of state buffers (state_arrays(), bnb8.optim's optimizer.state tensors) must never see
        freed memory, so while any is alive the memory stays and is freed when the last one goes."""
        self._closed = True
        self._arrays = {}
        if not self._release_when_unviewed():
            for view in list(self._live_views):
                weakref.finalize(view, self._release_when_unviewed)

    def _release_when_unviewed(self):
        if not any(True for _ in self._live_views):  # iteration skips views being finalized
            native.Optimizer.close(self)
            return True
        return False


def _guarded(name, method):
    def call(self, *args, **kwargs):
        self.check_open(f"{name}()")
        return method(self, *args, **kwargs)

    call.__name__, call.__qualname__, call.__doc__ = name, f"Optimizer.{name}", method.__doc__
    return call


# Every method of the handle checks that the optimizer is open first: a clear ValueError instead of
# SWIG's "argument 1 of type 'Optimizer *'" TypeError, and never a call on a freed handle.
for _name in [n for n in dir(native.Optimizer) if not n.startswith("_") and callable(getattr(native.Optimizer, n))]:
    if _name not in ("close", "check_open"):
        setattr(Optimizer, _name, _guarded(_name, getattr(Optimizer, _name)))
del _name
