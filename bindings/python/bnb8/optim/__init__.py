"""Drop-in replacements of bitsandbytes.optim: `torch.optim.Optimizer` subclasses whose states live in
bnb8 (8-bit block-wise by default in the *8bit classes), under bitsandbytes' module paths.

    import bnb8.optim as optim                     # instead of: import bitsandbytes.optim as optim
    opt = optim.AdamW8bit(model.parameters(), lr=1e-3)

Modules as in bitsandbytes: bnb8.optim.optimizer (GlobalOptimManager, Optimizer8bit, Optimizer2State,
Optimizer1State, MockArgs), .adam, .adamw, .ademamix, .lamb, .lars (with PytorchLARS), .lion,
.rmsprop, .sgd, .adagrad. Every class exists with bitsandbytes' constructor signature and defaults (the
generic classes with optim_bits, the *8bit and *32bit ones, the Paged ones), plus keyword-only options
bitsandbytes dropped or never exposed: percentile_clipping=100, block_wise=True, skip_zeros=False, and
for the Adam classes decoupled_weight_decay=True. Param groups, LR schedulers, zero_grad,
state_dict/load_state_dict work as in torch; `optimizer.state[p]` holds bitsandbytes' keys (step,
state1, state2, qmap1, qmap2, absmax1, absmax2) as tensors that view bnb8's own buffers; `state_dict()`
is bitsandbytes' layout; bitsandbytes' and torch.optim's checkpoints load (see bnb8.interop).
`GlobalOptimManager` overrides settings per parameter.

Differences from bitsandbytes, all deliberate (README "Migrating from bitsandbytes"): options bnb8
does not implement (amsgrad, centered RMSprop, RMSprop momentum, Adagrad lr_decay, LARS without
momentum, ...) raise `UnsupportedError` (both a NotImplementedError and a ValueError) instead of being
ignored; an 8bit/32bit class given another optim_bits raises; hyper-parameters of the wrong type raise
a TypeError; unknown override keys raise."""

from . import adagrad, adam, adamw, ademamix, lamb, lars, lion, optimizer, rmsprop, sgd
from .adagrad import *  # noqa: F401,F403
from .adam import *  # noqa: F401,F403
from .adamw import *  # noqa: F401,F403
from .ademamix import *  # noqa: F401,F403
from .lamb import *  # noqa: F401,F403
from .lars import *  # noqa: F401,F403
from .lion import *  # noqa: F401,F403
from .optimizer import GlobalOptimManager, MockArgs, Optimizer1State, Optimizer2State, Optimizer8bit, UnsupportedError
from .rmsprop import *  # noqa: F401,F403
from .sgd import *  # noqa: F401,F403

__all__ = ["GlobalOptimManager", "MockArgs", "Optimizer1State", "Optimizer2State", "Optimizer8bit",
           "UnsupportedError"]
for _module in (adam, adamw, ademamix, lamb, lars, lion, rmsprop, sgd, adagrad):
    __all__ += _module.__all__
del _module
