"""bitsandbytes.optim.optimizer on bnb8: GlobalOptimManager and the base classes Optimizer8bit,
Optimizer2State (Adam, AdamW, LAMB, AdEMAMix) and Optimizer1State (SGD/"momentum", LARS, RMSprop,
Adagrad, Lion), with bitsandbytes' constructor signatures and its subclassing hooks:

- check_overrides(): once, before the first step or load (resolves register_module_override);
- get_config(gindex, pindex, group): a parameter's settings (group values, optimizer options,
  GlobalOptimManager overrides); what a subclass returns is what the library uses for that parameter;
- init_state(group, p, gindex, pindex): registers p with the library before its first step (the
  library allocates its states at that step);
- update_step(group, p, gindex, pindex): queues p (its current data and gradient) for this step.

Unlike bitsandbytes, the library updates all queued parameters in one call after the update_step
loop, so code after super().update_step(...) runs before the parameter changes; a subclass that does
not call super().update_step skips the parameter for that step.

Hyper-parameters are type-checked (a TypeError names the argument: lr="1e-3" is refused; bitsandbytes'
string form of betas, "(0.9, 0.999)", is accepted as bitsandbytes does)."""

import numbers
from collections import defaultdict

import torch

from .. import interop, native
from .._library import HPARAMS, OPTIONS, Optimizer as _NativeOptimizer, UnsupportedError

__all__ = ["GlobalOptimManager", "MockArgs", "Optimizer1State", "Optimizer2State", "Optimizer8bit",
           "UnsupportedError"]


class MockArgs:
    """bitsandbytes' argument object: the keys of a dict as attributes (the `args` parameter)."""

    def __init__(self, initial_data):
        for key, value in initial_data.items():
            setattr(self, key, value)


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


# ---- argument checks -------------------------------------------------------------------------------

def real(name, value):
    """`value` as a float if it is a real number (a one-element floating tensor counts): a string, a
    bool or None raises a TypeError naming the argument instead of being converted."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype.is_floating_point:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    return float(value)


def integer(name, value):
    """`value` as an int if it is an integer (not a bool, not a float)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    return int(value)


def flag(name, value):
    """`value` as a bool if it is a bool (or the integers 0 and 1)."""
    if isinstance(value, (bool, numbers.Integral)) and value in (0, 1):
        return bool(value)
    raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")


def betas_tuple(value, name="betas"):
    """bitsandbytes accepts betas as a sequence of numbers or as the string '(b1, b2)' (argparse)."""
    if isinstance(value, str):
        try:
            value = [float(b) for b in value.replace("(", "").replace(")", "").split(",") if b.strip()]
        except ValueError:
            raise TypeError(f"{name} = {value!r} is not a tuple of numbers") from None
    if isinstance(value, (numbers.Number, torch.Tensor)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a tuple of numbers, got {type(value).__name__} {value!r}")
    items = list(value)
    return tuple(real(f"{name}[{i}]", b) for i, b in enumerate(items))


# ---- bitsandbytes settings -> the library's --------------------------------------------------------

_OPTION_KEYS = ("optim_bits", "min_8bit_size", "block_wise", "percentile_clipping", "skip_zeros")
_INT_OPTIONS = ("optim_bits", "min_8bit_size", "percentile_clipping")
_TWO_STATE = ("adam", "adamw", "lamb", "ademamix")
ALIASES = {"momentum": "sgd"}  # bitsandbytes' name of SGD with momentum
_CONFIG_KEYS = ("betas", "eps", "weight_decay", "lr", "alpha", "t_alpha", "t_beta3")


def canonical_name(optimizer_name):
    if not isinstance(optimizer_name, str):
        raise TypeError(f"optimizer_name must be a str, got {type(optimizer_name).__name__}")
    return ALIASES.get(optimizer_name, optimizer_name)


def _native_hparams(algorithm, settings):
    """The library's hyper-parameters of an algorithm from a bitsandbytes group dict (or override dict):
    `betas` packs other knobs for the 1-state algorithms (ALGORITHMS.md §10.1). Keys absent from
    `settings` are left out; every value is type-checked under its own key."""
    out = {key: real(key, settings[key]) for key in ("lr", "weight_decay") if key in settings}
    betas = betas_tuple(settings["betas"]) if "betas" in settings else None
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
        out["eps"] = real("eps", settings["eps"])
    if algorithm == "ademamix":
        out.update({k: real(k, settings[k]) for k in ("alpha",) if k in settings})
        out.update({k: real(k, settings[k] or 0) for k in ("t_alpha", "t_beta3") if k in settings})
    if algorithm in ("lamb", "lars") and "max_unorm" in settings:
        out["max_unorm"] = real("max_unorm", settings["max_unorm"])
    return out


def _override_values(algorithm, config):
    """A settings dict (get_config's, GlobalOptimManager's) as {library key id: value}; unknown keys
    raise."""
    known = {"lr", "betas", "eps", "weight_decay", "alpha", "t_alpha", "t_beta3", "max_unorm"} | set(_OPTION_KEYS)
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"override keys {unknown} are not settings of bnb8 (known: {sorted(known)})")
    out = {HPARAMS[k]: v for k, v in _native_hparams(algorithm, config).items()}
    if "max_unorm" in config and algorithm not in ("lamb", "lars"):
        out[HPARAMS["max_unorm"]] = real("max_unorm", config["max_unorm"])  # the library rejects it clearly
    for k in _OPTION_KEYS:
        if k in config:
            out[OPTIONS[k]] = float(integer(k, config[k]) if k in _INT_OPTIONS else flag(k, config[k]))
    return out


class Optimizer8bit(torch.optim.Optimizer):
    """The torch side of every bnb8.optim class: registers parameters with the library at their first
    step, copies group hyper-parameters and per-parameter settings into it before each step, binds the
    current parameter and gradient tensors, and exposes the library's state buffers as
    `self.state[p]`. Build it through Optimizer2State or Optimizer1State (they choose the algorithm)."""

    _FSDP_WRAPPED_QUANT_STATE_KEY = interop.QUANT_STATE_KEY

    def __init__(self, params, defaults, optim_bits=32, is_paged=False, *, algorithm=None, native_config=None,
                 native_algorithm=None):
        if algorithm is None or native_config is None:
            raise TypeError(f"{type(self).__name__}: bnb8 steps in the library, so an Optimizer8bit is built "
                            f"through Optimizer2State or Optimizer1State (with an optimizer_name)")
        super().__init__(params, defaults)
        self.algorithm = algorithm
        self.native_algorithm = native_algorithm or algorithm
        self.optim_bits = optim_bits
        self.is_paged = bool(is_paged)
        self.mng = GlobalOptimManager.get_instance()
        self.initialized = False
        options = {k: native_config[k] for k in _OPTION_KEYS}
        self.args = MockArgs(dict(options, max_unorm=native_config.get("max_unorm", 0.0)))
        self._queued = []           # parameters update_step bound for the coming library step
        self._native = _NativeOptimizer(self.native_algorithm, **native_config)
        self._index = {}            # id(p) -> the library's parameter index
        self._native_groups = 1     # the library creates group 0 from the config
        self._synced_groups = {}    # group index -> hyper-parameters last given to the library
        self._synced_overrides = {}  # parameter index -> {key id: value} last given to the library
        self._views = {}            # parameter index -> views of its state buffers
        self._entries = {}          # parameter index -> the self.state[p] dict this optimizer filled

    # -- the hooks a subclass may override (bitsandbytes' names and arguments) --

    def check_overrides(self):
        """Resolves GlobalOptimManager.register_module_override(module, name, config) into per-parameter
        settings; called once, before the first step or load. Keyed by the parameter only: bitsandbytes
        also keys them by (group, position), which leaks an embedding's override to the parameter at
        the same position of every other optimizer in the process."""
        for module, attr, config in self.mng.module_weight_config_triple:
            target = getattr(module, attr)
            if any(p is target for group in self.param_groups for p in group["params"]):
                self.mng.pid2config[id(target)] = dict(config)

    def get_config(self, gindex, pindex, group):
        """The settings of parameter `pindex` of group `gindex`: the group's hyper-parameters, the
        optimizer's options, then GlobalOptimManager's overrides (bitsandbytes' keys)."""
        config = {k: group[k] for k in _CONFIG_KEYS if k in group}
        config.update(vars(self.args))
        config.update(self.mng.index2config.get((gindex, pindex), {}))
        p = group["params"][pindex]
        config.update(self.mng.pid2config.get(id(p), {}))
        return config

    def init_state(self, group, p, gindex, pindex):
        """Registers p with the library (its states are allocated by the library at its first step)."""
        del pindex
        self._register(p, gindex)

    def update_step(self, group, p, gindex, pindex):
        """Queues p, with its current data and gradient, for this step's library update."""
        del group, gindex, pindex
        if p.grad.is_sparse:
            raise RuntimeError("bnb8 optimizers do not support sparse gradients")
        if not p.data.is_contiguous():
            p.data = p.data.contiguous()
        self._native.bind_param(self._index[id(p)], p.data, p.grad.contiguous())
        self._queued.append(p)

    # -- registration and synchronisation --

    def _register(self, p, group_index):
        if id(p) in self._index:
            return
        while self._native_groups <= group_index:
            self._native.add_group()
            self._native_groups += 1
        if not p.data.is_contiguous():
            p.data = p.data.contiguous()
        self._index[id(p)] = self._native.add_param(p.data, None, group=group_index)

    def _register_params(self):
        for group_index, group in enumerate(self.param_groups):
            for p in group["params"]:
                self._register(p, group_index)

    def _sync_groups(self):
        while self._native_groups < len(self.param_groups):
            self._native.add_group()
            self._native_groups += 1
        for group_index, group in enumerate(self.param_groups):
            wanted = _native_hparams(self.algorithm, group)
            synced = self._synced_groups.setdefault(group_index, {})
            for name, value in wanted.items():
                if synced.get(name) != value:
                    self._native.set_hparam(name, value, group=group_index)
                    synced[name] = value

    def _uses_per_param_settings(self):
        return self.mng.uses_config_override or type(self).get_config is not Optimizer8bit.get_config

    def _sync_overrides(self):
        """Gives the library, for every registered parameter, the settings where get_config differs from
        its group's (so LR schedulers keep working through the group)."""
        if not self._uses_per_param_settings():
            return
        for group_index, group in enumerate(self.param_groups):
            baseline = {k: group[k] for k in _CONFIG_KEYS if k in group}
            baseline.update(vars(self.args))
            for param_index, p in enumerate(group["params"]):
                index = self._index.get(id(p))
                if index is None:
                    continue
                config = self.get_config(group_index, param_index, group)
                changed = {k: v for k, v in config.items() if k not in baseline or baseline[k] != v}
                wanted = _override_values(self.algorithm, changed)
                applied = self._synced_overrides.setdefault(index, {})
                for key in [k for k in applied if k not in wanted]:
                    self._native.clear_param_override(index, key)
                    del applied[key]
                for key, value in wanted.items():
                    if applied.get(key) != value:
                        self._native.set_param_override(index, key, value)
                        applied[key] = value

    def _unbind_grads(self, params):
        """Forgets the gradients after a step, so that zero_grad(set_to_none=True) really frees them."""
        for p in params:
            self._native.bind_param(self._index[id(p)], p.data, None)

    def _initialize(self):
        if not self.initialized:
            self.check_overrides()
            self.initialized = True

    def _prepare(self):
        """Everything the library needs before a load: parameters, groups and per-parameter settings."""
        self._initialize()
        self._register_params()
        self._sync_groups()
        self._sync_overrides()

    # -- the step --

    @torch.no_grad()
    def step(self, closure=None):
        """One step for every parameter with a gradient; returns the closure's loss."""
        self._native.check_open("step()")
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self._initialize()
        self._sync_groups()
        self._queued = []
        try:
            for gindex, group in enumerate(self.param_groups):
                for pindex, p in enumerate(group["params"]):
                    if p.grad is None:
                        continue
                    if id(p) not in self._index:
                        self.init_state(group, p, gindex, pindex)
                    self.update_step(group, p, gindex, pindex)
            self._sync_overrides()
            imported = self._import_assigned_states()
            self._native.step()
        finally:
            queued, self._queued = self._queued, []
            self._unbind_grads(queued)
        self._refresh_state(queued + [p for p in imported if all(p is not q for q in queued)])
        return loss

    def last_step_info(self):
        """What the last step did: nonfinite_count, params_stepped, skipped."""
        return self._native.last_step_info()

    def state_bytes(self):
        """Bytes of optimizer state the library holds (codes, absmax, fp32 states)."""
        return self._native.state_bytes()

    # -- self.state[p]: views of the library's buffers --

    def _import_assigned_states(self):
        """Imports the entries that code outside this class put into self.state (a new dict for a
        parameter, as torch.distributed.optim.ZeroRedundancyOptimizer.load_state_dict does for the
        parameters of its rank) before the library steps, so they are used and not silently replaced by
        the library's states. Entries take any layout load_state_dict() accepts. On an error the
        library's states are restored and the error names the parameter."""
        assigned = []
        for p in self._params():
            index = self._index.get(id(p))
            if index is None or p not in self.state or self.state[p] is self._entries.get(index):
                continue
            assigned.append((p, index, self.state[p]))
        if not assigned:
            return []
        snapshot = self._native.to_bytes()
        try:
            for p, index, entry in assigned:
                name = f"state[{tuple(p.shape)} parameter {index}]"
                if interop.is_torch_optim_state({"state": {0: entry}}):
                    entry = interop.entry_from_torch_optim(self._native, index, p.numel(), entry, self.algorithm, name)
                interop.import_param_state(self._native, index, p.numel(), entry, self.algorithm, False, name)
        except BaseException:
            self._native.from_bytes(snapshot)
            raise
        for _, index, _ in assigned:
            self._views.pop(index, None)
        return [p for p, _, _ in assigned]

    def _params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def _refresh_state(self, params):
        for p in params:
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
            self._entries[index] = entry
            if self.algorithm in ("lamb", "lars"):
                entry.update(interop.auxiliary_state(self._native, index, self.algorithm, torch.from_numpy))

    def state_dict(self):
        """torch's state_dict in bitsandbytes' layout (quantization tensors nested under
        "__bnb_optimizer_quant_state__"), plus a "bnb8" marker. The state tensors are live views, as
        torch's own state_dict gives; torch.save() them or clone. bnb8.interop.to_torch_optim() gives
        torch.optim's layout instead."""
        self._native.check_open("state_dict()")
        for p in self._params():
            index = self._index.get(id(p))
            if index is not None and p in self.state:
                self.state[p].update(interop.auxiliary_state(self._native, index, self.algorithm, torch.from_numpy))
        packed = super().state_dict()
        packed["state"] = {k: interop.nest(v) for k, v in packed["state"].items()}
        packed[interop.MARKER_KEY] = {"version": native.version_string(), "algorithm": self.native_algorithm}
        return packed

    def load_state_dict(self, state_dict, move_to_device=True):
        """Loads a state dict from bnb8, bitsandbytes (nested or flat layout) or torch.optim (Adam,
        AdamW, SGD, RMSprop, Adagrad: exp_avg, exp_avg_sq, momentum_buffer, square_avg, sum, which are
        quantized when this optimizer keeps 8-bit states). The group hyper-parameters become the saved
        ones (the params stay); every parameter's states are validated and imported; on any error
        nothing changes."""
        del move_to_device  # the library owns its buffers; states follow the parameter's device
        self._native.check_open("load_state_dict()")
        groups, saved_groups = self.param_groups, state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError(f"the state dict has {len(saved_groups)} parameter groups, the optimizer {len(groups)}")
        for g, s in zip(groups, saved_groups):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"a saved parameter group has {len(s['params'])} parameters, the optimizer's "
                                 f"{len(g['params'])}")
        from_torch = interop.is_torch_optim_state(state_dict)
        if from_torch:
            nesterov = self._native.get_config().nesterov
            saved_groups = [interop.group_from_torch_optim(s, self.algorithm, f"param_groups[{i}]", nesterov)
                            for i, s in enumerate(saved_groups)]
        self._prepare()
        from_bitsandbytes = interop.MARKER_KEY not in state_dict
        saved_state = state_dict["state"]
        snapshot = self._native.to_bytes()
        old_groups = [dict(g) for g in groups]
        try:
            for g, s in zip(groups, saved_groups):
                g.update({k: v for k, v in s.items() if k != "params"})
            self._sync_groups()
            for saved_id, p in zip((i for s in state_dict["param_groups"] for i in s["params"]),
                                   (p for g in groups for p in g["params"])):
                entry = saved_state.get(saved_id, {"step": 0})
                name = f"state[{saved_id}]"
                index = self._index[id(p)]
                if from_torch:
                    entry = interop.entry_from_torch_optim(self._native, index, p.numel(), entry, self.algorithm,
                                                           name)
                interop.import_param_state(self._native, index, p.numel(), entry, self.algorithm,
                                           from_bitsandbytes and not from_torch, name)
        except BaseException:
            for g, old in zip(groups, old_groups):
                g.clear()
                g.update(old)
            self._synced_groups.clear()
            self._native.from_bytes(snapshot)
            self._sync_groups()
            raise
        self._views.clear()
        self._entries.clear()
        self.state = defaultdict(dict)
        self._refresh_state(self._params())

    def __getstate__(self):
        raise TypeError(f"{type(self).__name__} holds library memory and cannot be pickled or deep-copied; "
                        f"save optimizer.state_dict() instead")

    def close(self):
        """Frees the library's states (the optimizer is unusable afterwards). Tensors that still view
        them (optimizer.state[p]["state1"], a state_dict() not yet saved) keep that memory alive until
        they are released (see bnb8.Optimizer.close)."""
        self._views.clear()
        self._entries.clear()
        self.state = defaultdict(dict)
        self._native.close()


def _base_config(algorithm, defaults, optim_bits, args, min_8bit_size, max_unorm, skip_zeros, is_paged,
                 percentile_clipping, block_wise, flags):
    """The library's config from bitsandbytes' constructor arguments; bitsandbytes' `args` object (when
    given) supplies the options. The library validates every value's range when it is created."""
    if args is not None:
        optim_bits = getattr(args, "optim_bits", optim_bits)
        min_8bit_size = getattr(args, "min_8bit_size", min_8bit_size)
        max_unorm = getattr(args, "max_unorm", max_unorm)
        skip_zeros = getattr(args, "skip_zeros", skip_zeros)
        percentile_clipping = getattr(args, "percentile_clipping", percentile_clipping)
        block_wise = getattr(args, "block_wise", block_wise)
    max_unorm = real("max_unorm", max_unorm)
    config = dict(_native_hparams(algorithm, dict(defaults, max_unorm=max_unorm)))
    config.update(optim_bits=integer("optim_bits", optim_bits), min_8bit_size=integer("min_8bit_size", min_8bit_size),
                  block_wise=flag("block_wise", block_wise),
                  percentile_clipping=integer("percentile_clipping", percentile_clipping),
                  skip_zeros=flag("skip_zeros", skip_zeros), paged=flag("is_paged", is_paged))
    if max_unorm and algorithm not in ("lamb", "lars"):
        config["max_unorm"] = max_unorm  # rejected by the library with its message
    config.update({k: (flag(k, v) if k in BOOL_FLAGS else real(k, v)) for k, v in flags.items()})
    return config


BOOL_FLAGS = ("amsgrad", "nesterov", "centered", "bias_correction", "adam_w_mode")


def _decoupled_algorithm(algorithm, decoupled_weight_decay):
    """The library algorithm of a bitsandbytes name: bitsandbytes' "adam" decays decoupled
    (p *= 1 - lr*wd) whatever the class; decoupled_weight_decay=False selects torch.optim.Adam's L2."""
    if decoupled_weight_decay is None:
        return "adamw" if algorithm == "adam" else algorithm
    decoupled = flag("decoupled_weight_decay", decoupled_weight_decay)
    if algorithm == "adam":
        return "adamw" if decoupled else "adam"
    if algorithm == "adamw" and decoupled:
        return "adamw"
    raise ValueError(f"decoupled_weight_decay = {decoupled_weight_decay!r} applies to optimizer_name 'adam' only "
                     f"(got {algorithm!r}); 'adam' with decoupled_weight_decay=False is torch.optim.Adam's L2 decay")


class Optimizer2State(Optimizer8bit):
    """bitsandbytes' base of the 2-state algorithms, same signature; `optimizer_name` is "adam",
    "adamw", "lamb" or "ademamix". "adam" decays decoupled, as bitsandbytes' Adam kernel does
    (p *= 1 - lr*wd); decoupled_weight_decay=False gives torch.optim.Adam's L2 decay (g += wd*p)."""

    def __init__(self, optimizer_name, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 optim_bits=32, args=None, min_8bit_size=4096, max_unorm=0.0, skip_zeros=False, is_paged=False,
                 alpha=0.0, t_alpha=None, t_beta3=None, *, percentile_clipping=100, block_wise=True,
                 decoupled_weight_decay=None, **flags):
        algorithm = canonical_name(optimizer_name)
        if algorithm not in _TWO_STATE:
            raise ValueError(f"optimizer_name = {optimizer_name!r} is not a 2-state algorithm ({list(_TWO_STATE)})")
        defaults = dict(lr=real("lr", lr), betas=betas_tuple(betas), eps=real("eps", eps),
                        weight_decay=real("weight_decay", weight_decay), alpha=real("alpha", alpha),
                        t_alpha=t_alpha, t_beta3=t_beta3)
        config = _base_config(algorithm, defaults, optim_bits, args, min_8bit_size, max_unorm, skip_zeros, is_paged,
                              percentile_clipping, block_wise, flags)
        Optimizer8bit.__init__(self, params, defaults, config["optim_bits"], config["paged"], algorithm=algorithm,
                               native_config=config,
                               native_algorithm=_decoupled_algorithm(algorithm, decoupled_weight_decay))


class Optimizer1State(Optimizer8bit):
    """bitsandbytes' base of the 1-state algorithms ("momentum" or "sgd", "lars", "rmsprop", "adagrad",
    "lion"), same signature; `betas` packs (momentum, dampening), (alpha, momentum) or (beta1, beta2)
    (ALGORITHMS.md §10.1)."""

    def __init__(self, optimizer_name, params, lr=1e-3, betas=(0.9, 0.0), eps=1e-8, weight_decay=0.0,
                 optim_bits=32, args=None, min_8bit_size=4096, max_unorm=0.0, skip_zeros=False, is_paged=False,
                 *, percentile_clipping=100, block_wise=True, **flags):
        algorithm = canonical_name(optimizer_name)
        if algorithm not in ("sgd", "lars", "rmsprop", "adagrad", "lion"):
            raise ValueError(f"optimizer_name = {optimizer_name!r} is not a 1-state algorithm "
                             f"(momentum, sgd, lars, rmsprop, adagrad, lion)")
        defaults = dict(lr=real("lr", lr), betas=betas_tuple(betas), eps=real("eps", eps),
                        weight_decay=real("weight_decay", weight_decay))
        config = _base_config(algorithm, defaults, optim_bits, args, min_8bit_size, max_unorm, skip_zeros, is_paged,
                              percentile_clipping, block_wise, flags)
        Optimizer8bit.__init__(self, params, defaults, config["optim_bits"], config["paged"], algorithm=algorithm,
                               native_config=config)
