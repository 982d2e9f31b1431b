"""The public classes of bnb8.optim, built from one table of bitsandbytes' signatures; each
algorithm's module (bnb8.optim.adam, .adamw, .sgd, ...) defines its classes with define()."""

import ast
import inspect

from .optimizer import (BOOL_FLAGS, Optimizer1State, Optimizer2State, UnsupportedError, betas_tuple, flag,
                        integer, real)

# name: (algorithm, forced optim_bits or None, paged, bitsandbytes' constructor arguments after self).
# A forced-bits class with an optim_bits argument accepts it only when it names the class's own bits
# (leaving it out is fine): bitsandbytes' AdamW8bit(optim_bits=32) silently stays 8-bit, bnb8 raises.
# The Paged ones set is_paged whatever their signature says.
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

# Options bitsandbytes does not expose (or dropped in 0.50), keyword-only so positions stay identical;
# the Adam classes also take decoupled_weight_decay (True: bitsandbytes' decay, False: torch's L2).
_EXTRAS = "percentile_clipping=100, block_wise=True, skip_zeros=False"
_ADAM_EXTRAS = _EXTRAS + ", decoupled_weight_decay=True"


def _signature(arguments, extras):
    """An inspect.Signature from bitsandbytes' argument list (literal defaults only) plus the extras."""
    node = ast.parse(f"def f(self, {arguments}, *, {extras}): pass").body[0].args
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


_FLAGS = BOOL_FLAGS + ("lr_decay", "initial_accumulator_value")
_REAL_ARGS = ("lr", "eps", "weight_decay", "momentum", "dampening", "alpha", "max_unorm", "lr_decay",
              "initial_accumulator_value")
_OPTIONAL_REAL_ARGS = ("t_alpha", "t_beta3")
_INT_ARGS = ("optim_bits", "min_8bit_size", "percentile_clipping")
_FLAG_ARGS = BOOL_FLAGS + ("is_paged", "block_wise", "skip_zeros", "decoupled_weight_decay")


def _check_types(a):
    """Every argument's type, named (the library checks the ranges)."""
    for key in _REAL_ARGS:
        if key in a:
            real(key, a[key])
    for key in _OPTIONAL_REAL_ARGS:
        if a.get(key) is not None:
            real(key, a[key])
    for key in _INT_ARGS:
        if key in a:
            integer(key, a[key])
    for key in _FLAG_ARGS:
        if key in a:
            flag(key, a[key])
    if "betas" in a:
        betas_tuple(a["betas"])


def _make_class(module, name, algorithm, forced_bits, paged, arguments):
    extras = _ADAM_EXTRAS if algorithm == "adam" else _EXTRAS
    signature = _signature(arguments, extras)

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        explicit = set(bound.arguments)
        bound.apply_defaults()
        a = bound.arguments
        _check_types(a)
        bits = a.get("optim_bits", 32)
        if forced_bits is not None:
            if "optim_bits" in explicit and bits != forced_bits:
                generic = name.replace(f"{forced_bits}bit", "")
                raise ValueError(f"{name} keeps {forced_bits}-bit states; optim_bits = {bits} cannot change that "
                                 f"(leave optim_bits out, or use {generic}(optim_bits={bits}))")
            bits = forced_bits
        if algorithm == "lars" and real("momentum", a["momentum"]) == 0:
            raise UnsupportedError("LARS without momentum is not supported!")  # bitsandbytes' own wording
        settings = _group_settings(algorithm, a)
        flags = {k: a[k] for k in _FLAGS if k in a}
        if algorithm == "rmsprop":
            flags["momentum"] = a["momentum"]  # a config field only: the library rejects momentum > 0
        if algorithm == "lars":
            flags["dampening"] = a["dampening"]  # likewise for LARS's dampening
        extra = {k: a[k] for k in ("alpha", "t_alpha", "t_beta3") if algorithm == "ademamix"}
        if algorithm == "adam":
            extra["decoupled_weight_decay"] = a["decoupled_weight_decay"]
        base = Optimizer2State if algorithm in ("adam", "adamw", "lamb", "ademamix") else Optimizer1State
        base.__init__(self, algorithm, a["params"], a["lr"], settings["betas"], settings["eps"], a["weight_decay"],
                      bits, a.get("args"), a["min_8bit_size"], a.get("max_unorm", 0.0), a["skip_zeros"],
                      paged or a.get("is_paged", False), percentile_clipping=a["percentile_clipping"],
                      block_wise=a["block_wise"], **extra, **flags)

    __init__.__signature__ = signature
    bits_text = {None: "optim_bits selects 32- or 8-bit states", 8: "8-bit states", 32: "32-bit states"}[forced_bits]
    decay = ("; weight decay decoupled as bitsandbytes' (p *= 1 - lr*wd), decoupled_weight_decay=False for "
             "torch.optim.Adam's L2") if algorithm == "adam" else ""
    doc = (f"bitsandbytes.optim.{name} on bnb8: {algorithm}, {bits_text}"
           f"{', paged (CUDA managed memory for large states)' if paged else ''}{decay}.\n\n"
           f"Signature: {name}(self, {arguments}, *, {extras})")
    base = Optimizer2State if algorithm in ("adam", "adamw", "lamb", "ademamix") else Optimizer1State
    return type(name, (base,), {"__init__": __init__, "__doc__": doc, "__module__": module,
                                "__qualname__": name})


def define(module, *names):
    """The classes `names` (keys of _CLASSES), in that order, their __module__ being `module`."""
    return tuple(_make_class(module, name, *_CLASSES[name]) for name in names)
