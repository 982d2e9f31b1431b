"""Drop-in replacements of bitsandbytes.optim: `torch.optim.Optimizer` subclasses whose states live in
bnb8 (8-bit block-wise by default in the *8bit classes).

    import bnb8.optim as optim                     # instead of: import bitsandbytes.optim as optim
    opt = optim.AdamW8bit(model.parameters(), lr=1e-3)

Every class of bitsandbytes.optim exists with bitsandbytes' constructor signature and defaults (the
generic classes with optim_bits, the *8bit and *32bit ones, the Paged ones), plus three keyword-only
options bitsandbytes dropped or never exposed: percentile_clipping=100, block_wise=True,
skip_zeros=False. Param groups, LR schedulers, zero_grad, state_dict/load_state_dict work as in torch;
`optimizer.state[p]` holds bitsandbytes' keys (step, state1, state2, qmap1, qmap2, absmax1, absmax2)
as tensors that view bnb8's own buffers; `state_dict()` is bitsandbytes' layout, and bitsandbytes'
checkpoints load (see bnb8.interop). `GlobalOptimManager` overrides settings per parameter.

Differences from bitsandbytes, all deliberate (ALGORITHMS.md §12): options bnb8 does not implement
(amsgrad, centered RMSprop, RMSprop momentum, Adagrad lr_decay, ...) raise `UnsupportedError`
(both a NotImplementedError and a ValueError) instead of being ignored; Adam's weight decay is L2 as
in torch.optim.Adam; unknown override keys raise."""

import ast
import inspect
from collections import defaultdict

import numpy as np
import torch

from .. import interop, native
from .._library import HPARAMS, OPTIONS, Optimizer as _NativeOptimizer, UnsupportedError

__all__ = ["GlobalOptimManager", "Optimizer1State", "Optimizer2State", "Optimizer8bit", "UnsupportedError"]


# ---- GlobalOptimManager ----------------------------------------------------------------------------

class GlobalOptimManager:
    """Per-parameter settings that override the optimizer's, as bitsandbytes' manager (a singleton from
    get_instance()): override_config(params, key, value) or (params, key_value_dict=...);
    register_parameters(params) also keys the overrides by (group, position) for parameters that are
    replaced later; register_module_override(module, "weight", {...}) resolves at the first step.
    Unlike bitsandbytes, each parameter gets its own copy of the settings (never shared)."""

    _instance = None

    def __init__(self):
        raise RuntimeError("GlobalOptimManager is a singleton: call GlobalOptimManager.get_instance()")

    def initialize(self):
        self.pid2config = {}
        self.index2config = {}
        self.optimizer = None
        self.uses_config_override = False
        self.module_weight_config_triple = []

    @classmethod
    def get_instance(cls):
        if cls._instance is None:
            cls._instance = cls.__new__(cls)
            cls._instance.initialize()
        return cls._instance

    def register_parameters(self, params):
        groups = list(params)
        if groups and not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group_index, group in enumerate(groups):
            for param_index, p in enumerate(group["params"]):
                if id(p) in self.pid2config:
                    self.index2config[(group_index, param_index)] = self.pid2config[id(p)]

    def override_config(self, parameters, key=None, value=None, key_value_dict=None):
        """Overrides settings (optim_bits, min_8bit_size, block_wise, percentile_clipping, max_unorm,
        skip_zeros, lr, betas, eps, weight_decay, alpha, t_alpha, t_beta3) for the given parameters."""
        self.uses_config_override = True
        if isinstance(parameters, torch.Tensor):
            parameters = [parameters]
        if key is not None and value is not None:
            if key_value_dict is not None:
                raise ValueError("pass either key and value or key_value_dict, not both")
            key_value_dict = {key: value}
        if key_value_dict is None:
            return
        for p in parameters:
            self.pid2config.setdefault(id(p), {}).update(key_value_dict)

    def register_module_override(self, module, param_name, config):
        self.uses_config_override = True
        self.module_weight_config_triple.append((module, param_name, dict(config)))


# ---- the base class --------------------------------------------------------------------------------

_OPTION_KEYS = ("optim_bits", "min_8bit_size", "block_wise", "percentile_clipping", "skip_zeros")
_TWO_STATE = ("adam", "adamw", "lamb", "ademamix")


def _betas(value):
    """bitsandbytes accepts betas as a tuple or as the string '(b1, b2)'."""
    if isinstance(value, str):
        value = [float(b) for b in value.replace("(", "").replace(")", "").split(",") if b.strip()]
    return tuple(float(b) for b in value)


def _native_hparams(algorithm, settings):
    """The library's hyper-parameters of an algorithm from a bitsandbytes group dict (or override dict):
    `betas` packs other knobs for the 1-state algorithms (ALGORITHMS.md §10.1). Keys absent from
    `settings` are left out."""
    out = {key: settings[key] for key in ("lr", "weight_decay") if key in settings}
    betas = _betas(settings["betas"]) if "betas" in settings else None
    if algorithm == "sgd":
        names = ("momentum", "dampening")
    elif algorithm == "lars":
        names = ("momentum",)  # betas[1] is LARS's dampening, which bnb8 does not implement
        if betas is not None and len(betas) > 1 and betas[1] != 0:
            raise UnsupportedError(f"LARS dampening = {betas[1]}: only 0 is supported")
    elif algorithm == "rmsprop":
        names = ("alpha",)  # betas[1] is RMSprop's momentum, which bnb8 does not implement
        if betas is not None and len(betas) > 1 and betas[1] != 0:
            raise UnsupportedError(f"RMSprop momentum = {betas[1]}: only 0 is supported")
    elif algorithm == "adagrad":
        names = ()
    elif algorithm == "ademamix":
        names = ("beta1", "beta2", "beta3")
    else:
        names = ("beta1", "beta2")
    if betas is not None and names:
        if len(betas) < len(names):
            raise ValueError(f"betas = {betas} needs {len(names)} values for {algorithm}")
        out.update(zip(names, betas))
    if algorithm not in ("sgd", "lars", "lion") and "eps" in settings:
        out["eps"] = settings["eps"]
    if algorithm == "ademamix":
        out.update({k: settings[k] for k in ("alpha",) if k in settings})
        out.update({k: (settings[k] or 0) for k in ("t_alpha", "t_beta3") if k in settings})
    if algorithm in ("lamb", "lars") and "max_unorm" in settings:
        out["max_unorm"] = settings["max_unorm"]
    return {k: float(v) for k, v in out.items()}


def _override_values(algorithm, config):
    """A GlobalOptimManager dict as {library key id: value}; unknown keys raise."""
    known = {"lr", "betas", "eps", "weight_decay", "alpha", "t_alpha", "t_beta3", "max_unorm"} | set(_OPTION_KEYS)
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"GlobalOptimManager override keys {unknown} are not settings of bnb8 (known: {sorted(known)})")
    out = {HPARAMS[k]: v for k, v in _native_hparams(algorithm, config).items()}
    if "max_unorm" in config and algorithm not in ("lamb", "lars"):
        out[HPARAMS["max_unorm"]] = float(config["max_unorm"])  # the library rejects it with a clear message
    out.update({OPTIONS[k]: float(config[k]) for k in _OPTION_KEYS if k in config})
    return out


class Optimizer8bit(torch.optim.Optimizer):
    """The torch side of every bnb8.optim class: registers parameters with the library at their first
    step, copies group hyper-parameters and per-parameter overrides into it before each step, binds the
    current parameter and gradient tensors, and exposes the library's state buffers as
    `self.state[p]`. Subclasses only choose the algorithm and map their constructor arguments."""

    _FSDP_WRAPPED_QUANT_STATE_KEY = interop.QUANT_STATE_KEY

    def __init__(self, params, defaults, optim_bits=32, is_paged=False, *, algorithm, native_config):
        super().__init__(params, defaults)
        self.algorithm = algorithm
        self.is_paged = bool(is_paged)
        self.mng = GlobalOptimManager.get_instance()
        self.initialized = False
        self._native = _NativeOptimizer(algorithm, **native_config)
        self._index = {}            # id(p) -> the library's parameter index
        self._native_groups = 1     # the library creates group 0 from the config
        self._synced_groups = {}    # group index -> hyper-parameters last given to the library
        self._synced_overrides = {}  # parameter index -> {key id: value} last given to the library
        self._views = {}            # parameter index -> views of its state buffers

    # -- registration and synchronisation --

    def _register_params(self):
        for group_index, group in enumerate(self.param_groups):
            while self._native_groups <= group_index:
                self._native.add_group()
                self._native_groups += 1
            for p in group["params"]:
                if id(p) in self._index:
                    continue
                if not p.data.is_contiguous():
                    p.data = p.data.contiguous()
                self._index[id(p)] = self._native.add_param(p.data, None, group=group_index)

    def _sync_groups(self):
        for group_index, group in enumerate(self.param_groups):
            wanted = _native_hparams(self.algorithm, group)
            synced = self._synced_groups.setdefault(group_index, {})
            for name, value in wanted.items():
                if synced.get(name) != value:
                    self._native.set_hparam(name, value, group=group_index)
                    synced[name] = value

    def _resolve_module_overrides(self):
        for module, attr, config in self.mng.module_weight_config_triple:
            target = getattr(module, attr)
            for group_index, group in enumerate(self.param_groups):
                for param_index, p in enumerate(group["params"]):
                    if p is target:
                        self.mng.pid2config[id(p)] = dict(config)
                        self.mng.index2config[(group_index, param_index)] = self.mng.pid2config[id(p)]

    def _sync_overrides(self):
        if not self.mng.uses_config_override:
            return
        for group_index, group in enumerate(self.param_groups):
            for param_index, p in enumerate(group["params"]):
                config = dict(self.mng.index2config.get((group_index, param_index), {}))
                config.update(self.mng.pid2config.get(id(p), {}))
                index = self._index[id(p)]
                wanted = _override_values(self.algorithm, config)
                applied = self._synced_overrides.setdefault(index, {})
                for key in [k for k in applied if k not in wanted]:
                    self._native.clear_param_override(index, key)
                    del applied[key]
                for key, value in wanted.items():
                    if applied.get(key) != value:
                        self._native.set_param_override(index, key, value)
                        applied[key] = value

    def _bind(self):
        """Binds every parameter's current tensors; a parameter without a gradient is skipped."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None and p.grad.is_sparse:
                    raise RuntimeError("bnb8 optimizers do not support sparse gradients")
                if not p.data.is_contiguous():
                    p.data = p.data.contiguous()
                grad = None if p.grad is None else p.grad.contiguous()
                self._native.bind_param(self._index[id(p)], p.data, grad)

    def _unbind_grads(self):
        """Forgets the gradients after a step, so that zero_grad(set_to_none=True) really frees them."""
        for group in self.param_groups:
            for p in group["params"]:
                self._native.bind_param(self._index[id(p)], p.data, None)

    def _prepare(self):
        """Everything the library needs before a step or a load: parameters, groups and overrides."""
        if not self.initialized:
            self._resolve_module_overrides()
            self.initialized = True
        self._register_params()
        self._sync_groups()
        self._sync_overrides()

    # -- the step --

    @torch.no_grad()
    def step(self, closure=None):
        """One step for every parameter with a gradient; returns the closure's loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self._prepare()
        self._bind()
        try:
            self._native.step()
        finally:
            self._unbind_grads()
        self._refresh_state(stepped_only=True)
        return loss

    def last_step_info(self):
        """What the last step did: nonfinite_count, params_stepped, skipped."""
        return self._native.last_step_info()

    def state_bytes(self):
        """Bytes of optimizer state the library holds (codes, absmax, fp32 states)."""
        return self._native.state_bytes()

    # -- self.state[p]: views of the library's buffers --

    def _params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def _refresh_state(self, stepped_only):
        for p in self._params():
            if stepped_only and p.grad is None:
                continue
            index = self._index.get(id(p))
            if index is None:
                continue
            info = self._native.param_info(index)
            if info.step == 0:
                self.state.pop(p, None)
                self._views.pop(index, None)
                continue
            if index not in self._views:
                self._views[index] = interop.state_views(self._native, index, p.shape, torch.from_numpy)
            entry = self.state[p]
            entry.clear()
            entry["step"] = info.step
            entry.update(self._views[index])
            if self.algorithm in ("lamb", "lars"):
                entry.update(interop.auxiliary_state(self._native, index, self.algorithm, torch.from_numpy))

    def state_dict(self):
        """torch's state_dict in bitsandbytes' layout (quantization tensors nested under
        "__bnb_optimizer_quant_state__"), plus a "bnb8" marker. The state tensors are live views, as
        torch's own state_dict gives; torch.save() them or clone."""
        for p in self._params():
            index = self._index.get(id(p))
            if index is not None and p in self.state:
                self.state[p].update(interop.auxiliary_state(self._native, index, self.algorithm, torch.from_numpy))
        packed = super().state_dict()
        packed["state"] = {k: interop.nest(v) for k, v in packed["state"].items()}
        packed[interop.MARKER_KEY] = {"version": native.version_string(), "algorithm": self.algorithm}
        return packed

    def load_state_dict(self, state_dict, move_to_device=True):
        """Loads a state dict from bnb8 or bitsandbytes (nested or flat layout). The group
        hyper-parameters become the saved ones (the params stay); every parameter's states are
        validated and imported; on any error nothing changes."""
        del move_to_device  # the library owns its buffers; states follow the parameter's device
        groups, saved_groups = self.param_groups, state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError(f"the state dict has {len(saved_groups)} parameter groups, the optimizer {len(groups)}")
        for g, s in zip(groups, saved_groups):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"a saved parameter group has {len(s['params'])} parameters, the optimizer's "
                                 f"{len(g['params'])}")
        self._prepare()
        from_bitsandbytes = interop.MARKER_KEY not in state_dict
        saved_state = state_dict["state"]
        snapshot = self._native.to_bytes()
        old_groups = [dict(g) for g in groups]
        try:
            for g, s in zip(groups, saved_groups):
                g.update({k: v for k, v in s.items() if k != "params"})
            self._sync_groups()
            for saved_id, p in zip((i for s in saved_groups for i in s["params"]),
                                   (p for g in groups for p in g["params"])):
                entry = saved_state.get(saved_id, {"step": 0})
                interop.import_param_state(self._native, self._index[id(p)], p.numel(), entry, self.algorithm,
                                           from_bitsandbytes, f"state[{saved_id}]")
        except BaseException:
            for g, old in zip(groups, old_groups):
                g.clear()
                g.update(old)
            self._synced_groups.clear()
            self._native.from_bytes(snapshot)
            self._sync_groups()
            raise
        self._views.clear()
        self.state = defaultdict(dict)
        self._refresh_state(stepped_only=False)

    def __getstate__(self):
        raise TypeError(f"{type(self).__name__} holds library memory and cannot be pickled or deep-copied; "
                        f"save optimizer.state_dict() instead")

    def close(self):
        """Frees the library's states now (the optimizer is unusable afterwards)."""
        self._views.clear()
        self.state = defaultdict(dict)
        self._native.close()


class Optimizer2State(Optimizer8bit):
    """bitsandbytes' base of the 2-state algorithms (Adam, AdamW, LAMB, AdEMAMix), same signature;
    `optimizer_name` is the bnb8 algorithm name ("adam", "adamw", "lamb", "ademamix")."""

    def __init__(self, optimizer_name, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 optim_bits=32, args=None, min_8bit_size=4096, max_unorm=0.0, skip_zeros=False, is_paged=False,
                 alpha=0.0, t_alpha=None, t_beta3=None, *, percentile_clipping=100, block_wise=True, **flags):
        defaults = dict(lr=lr, betas=_betas(betas), eps=eps, weight_decay=weight_decay, alpha=alpha, t_alpha=t_alpha,
                        t_beta3=t_beta3)
        _init(self, optimizer_name, params, defaults, optim_bits, args, min_8bit_size, max_unorm, skip_zeros,
              is_paged, percentile_clipping, block_wise, flags)


class Optimizer1State(Optimizer8bit):
    """bitsandbytes' base of the 1-state algorithms (SGD, LARS, RMSprop, Adagrad, Lion), same
    signature; `betas` packs (momentum, dampening), (alpha, momentum) or (beta1, beta2) (§10.1)."""

    def __init__(self, optimizer_name, params, lr=1e-3, betas=(0.9, 0.0), eps=1e-8, weight_decay=0.0,
                 optim_bits=32, args=None, min_8bit_size=4096, max_unorm=0.0, skip_zeros=False, is_paged=False,
                 *, percentile_clipping=100, block_wise=True, **flags):
        defaults = dict(lr=lr, betas=_betas(betas), eps=eps, weight_decay=weight_decay)
        _init(self, optimizer_name, params, defaults, optim_bits, args, min_8bit_size, max_unorm, skip_zeros,
              is_paged, percentile_clipping, block_wise, flags)


def _init(self, algorithm, params, defaults, optim_bits, args, min_8bit_size, max_unorm, skip_zeros, is_paged,
          percentile_clipping, block_wise, flags):
    """Shared constructor body: bitsandbytes' `args` object (when given) supplies the options, and the
    library validates everything when the native optimizer is created."""
    if args is not None:
        optim_bits = getattr(args, "optim_bits", optim_bits)
        min_8bit_size = getattr(args, "min_8bit_size", min_8bit_size)
        max_unorm = getattr(args, "max_unorm", max_unorm)
        skip_zeros = getattr(args, "skip_zeros", skip_zeros)
        percentile_clipping = getattr(args, "percentile_clipping", percentile_clipping)
        block_wise = getattr(args, "block_wise", block_wise)
    config = dict(_native_hparams(algorithm, dict(defaults, max_unorm=max_unorm)))
    config.update(optim_bits=int(optim_bits), min_8bit_size=int(min_8bit_size), block_wise=bool(block_wise),
                  percentile_clipping=int(percentile_clipping), skip_zeros=bool(skip_zeros), paged=bool(is_paged))
    if max_unorm and algorithm not in ("lamb", "lars"):
        config["max_unorm"] = float(max_unorm)  # rejected by the library with its message
    config.update({k: (bool(v) if k in _BOOL_FLAGS else float(v)) for k, v in flags.items()})
    Optimizer8bit.__init__(self, params, defaults, optim_bits, is_paged, algorithm=algorithm, native_config=config)


# ---- the public classes: bitsandbytes' signatures, from one table ----------------------------------

# name: (algorithm, forced optim_bits or None, paged, bitsandbytes' constructor arguments after self).
# The forced-bits classes that keep an optim_bits argument accept only its default (bitsandbytes'
# "default value for compatibility"); the Paged ones set is_paged whatever their signature says.
_ADAM = "params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay={wd}, amsgrad=False, optim_bits={bits}, " \
        "args=None, min_8bit_size=4096{paged}"
_ADEMAMIX = "params, lr=1e-3, betas=(0.9, 0.999, 0.9999), alpha=5.0, t_alpha=None, t_beta3=None, eps=1e-8, " \
            "weight_decay=1e-2{bits}, min_8bit_size=4096{paged}"
_LAMB = "params, lr=1e-3, bias_correction=True, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, " \
        "adam_w_mode=True{bits}, args=None, min_8bit_size=4096, max_unorm=1.0"
_LARS = "params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False{bits}, args=None, min_8bit_size=4096, " \
        "max_unorm=0.02"
_LION = "params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0{bits}, args=None, min_8bit_size=4096{paged}"
_RMSPROP = "params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False{bits}, args=None, " \
           "min_8bit_size=4096"
_SGD = "params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False{bits}, args=None, min_8bit_size=4096"
_ADAGRAD = "params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, optim_bits={bits}, " \
           "args=None, min_8bit_size=4096"
_B = ", optim_bits=32"
_P = ", is_paged=False"

_CLASSES = {
    "Adam": ("adam", None, False, _ADAM.format(wd=0, bits=32, paged=_P)),
    "Adam8bit": ("adam", 8, False, _ADAM.format(wd=0, bits=32, paged=_P)),
    "Adam32bit": ("adam", 32, False, _ADAM.format(wd=0, bits=32, paged=_P)),
    "PagedAdam": ("adam", None, True, _ADAM.format(wd=0, bits=32, paged=_P)),
    "PagedAdam8bit": ("adam", 8, True, _ADAM.format(wd=0, bits=32, paged=_P)),
    "PagedAdam32bit": ("adam", 32, True, _ADAM.format(wd=0, bits=32, paged=_P)),
    "AdamW": ("adamw", None, False, _ADAM.format(wd=1e-2, bits=32, paged=_P)),
    "AdamW8bit": ("adamw", 8, False, _ADAM.format(wd=1e-2, bits=32, paged=_P)),
    "AdamW32bit": ("adamw", 32, False, _ADAM.format(wd=1e-2, bits=32, paged=_P)),
    "PagedAdamW": ("adamw", None, True, _ADAM.format(wd=1e-2, bits=32, paged="")),
    "PagedAdamW8bit": ("adamw", 8, True, _ADAM.format(wd=1e-2, bits=32, paged="")),
    "PagedAdamW32bit": ("adamw", 32, True, _ADAM.format(wd=1e-2, bits=32, paged="")),
    "AdEMAMix": ("ademamix", None, False, _ADEMAMIX.format(bits=_B, paged=_P)),
    "AdEMAMix8bit": ("ademamix", 8, False, _ADEMAMIX.format(bits="", paged=_P)),
    "AdEMAMix32bit": ("ademamix", 32, False, _ADEMAMIX.format(bits="", paged=_P)),
    "PagedAdEMAMix": ("ademamix", None, True, _ADEMAMIX.format(bits=_B, paged="")),
    "PagedAdEMAMix8bit": ("ademamix", 8, True, _ADEMAMIX.format(bits="", paged="")),
    "PagedAdEMAMix32bit": ("ademamix", 32, True, _ADEMAMIX.format(bits="", paged="")),
    "LAMB": ("lamb", None, False, _LAMB.format(bits=_B)),
    "LAMB8bit": ("lamb", 8, False, _LAMB.format(bits="")),
    "LAMB32bit": ("lamb", 32, False, _LAMB.format(bits="")),
    "LARS": ("lars", None, False, _LARS.format(bits=_B)),
    "LARS8bit": ("lars", 8, False, _LARS.format(bits="")),
    "LARS32bit": ("lars", 32, False, _LARS.format(bits="")),
    "Lion": ("lion", None, False, _LION.format(bits=_B, paged=_P)),
    "Lion8bit": ("lion", 8, False, _LION.format(bits="", paged=_P)),
    "Lion32bit": ("lion", 32, False, _LION.format(bits="", paged=_P)),
    "PagedLion": ("lion", None, True, _LION.format(bits=_B, paged="")),
    "PagedLion8bit": ("lion", 8, True, _LION.format(bits="", paged="")),
    "PagedLion32bit": ("lion", 32, True, _LION.format(bits="", paged="")),
    "RMSprop": ("rmsprop", None, False, _RMSPROP.format(bits=_B)),
    "RMSprop8bit": ("rmsprop", 8, False, _RMSPROP.format(bits="")),
    "RMSprop32bit": ("rmsprop", 32, False, _RMSPROP.format(bits="")),
    "SGD": ("sgd", None, False, _SGD.format(bits=_B)),
    "SGD8bit": ("sgd", 8, False, _SGD.format(bits="")),
    "SGD32bit": ("sgd", 32, False, _SGD.format(bits="")),
    "Adagrad": ("adagrad", None, False, _ADAGRAD.format(bits=32)),
    "Adagrad8bit": ("adagrad", 8, False, _ADAGRAD.format(bits=8)),
    "Adagrad32bit": ("adagrad", 32, False, _ADAGRAD.format(bits=32)),
}

# Options bitsandbytes does not expose (or dropped in 0.50), keyword-only so positions stay identical.
_EXTRAS = "percentile_clipping=100, block_wise=True, skip_zeros=False"


def _signature(arguments):
    """An inspect.Signature from bitsandbytes' argument list (literal defaults only) plus the extras."""
    node = ast.parse(f"def f(self, {arguments}, *, {_EXTRAS}): pass").body[0].args
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    defaults = [None] * (len(node.args) - len(node.defaults)) + list(node.defaults)
    params = [inspect.Parameter(a.arg, kind, **({} if d is None else {"default": ast.literal_eval(d)}))
              for a, d in zip(node.args, defaults)]
    params += [inspect.Parameter(a.arg, inspect.Parameter.KEYWORD_ONLY, default=ast.literal_eval(d))
               for a, d in zip(node.kwonlyargs, node.kw_defaults)]
    return inspect.Signature(params)


def _group_settings(algorithm, a):
    """The torch group defaults of a class from its bound arguments (bitsandbytes' layout, §11)."""
    if algorithm in ("sgd", "lars"):
        return dict(betas=(a["momentum"], a["dampening"]), eps=0.0)
    if algorithm == "rmsprop":
        return dict(betas=(a["alpha"], a["momentum"]), eps=a["eps"])
    if algorithm == "adagrad":
        return dict(betas=(0.0, 0.0), eps=a["eps"])
    if algorithm == "lion":
        return dict(betas=a["betas"], eps=0.0)
    return dict(betas=a["betas"], eps=a["eps"])


_BOOL_FLAGS = ("amsgrad", "nesterov", "centered", "bias_correction", "adam_w_mode")
_FLAGS = _BOOL_FLAGS + ("lr_decay", "initial_accumulator_value")


def _make_class(name, algorithm, forced_bits, paged, arguments):
    signature = _signature(arguments)

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        bits = a.get("optim_bits", 32)
        if forced_bits is not None:
            if "optim_bits" in a and bits != signature.parameters["optim_bits"].default:
                raise ValueError(f"{name} keeps {forced_bits}-bit states; optim_bits = {bits} cannot change that "
                                 f"(leave it at its default)")
            bits = forced_bits
        settings = _group_settings(algorithm, a)
        flags = {k: a[k] for k in _FLAGS if k in a}
        if algorithm == "rmsprop":
            flags["momentum"] = a["momentum"]  # a config field only: the library rejects momentum > 0
        if algorithm == "lars":
            flags["dampening"] = a["dampening"]  # likewise for LARS's dampening
        base = Optimizer2State if algorithm in _TWO_STATE else Optimizer1State
        extra = {k: a[k] for k in ("alpha", "t_alpha", "t_beta3") if algorithm == "ademamix"}
        base.__init__(self, algorithm, a["params"], a["lr"], settings["betas"], settings["eps"], a["weight_decay"],
                      bits, a.get("args"), a["min_8bit_size"], a.get("max_unorm", 0.0), a["skip_zeros"],
                      paged or a.get("is_paged", False), percentile_clipping=a["percentile_clipping"],
                      block_wise=a["block_wise"], **extra, **flags)

    __init__.__signature__ = signature
    bits_text = {None: "optim_bits selects 32- or 8-bit states", 8: "8-bit states", 32: "32-bit states"}[forced_bits]
    doc = (f"bitsandbytes.optim.{name} on bnb8: {algorithm}, {bits_text}"
           f"{', paged (CUDA managed memory for large states)' if paged else ''}.\n\n"
           f"Signature: {name}(self, {arguments}, *, {_EXTRAS})")
    base = Optimizer2State if algorithm in _TWO_STATE else Optimizer1State
    return type(name, (base,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


for _name, _spec in _CLASSES.items():
    globals()[_name] = _make_class(_name, *_spec)
    __all__.append(_name)
del _name, _spec
