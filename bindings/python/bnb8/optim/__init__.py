"""bnb8.optim: drop-in replacements of bitsandbytes.optim (see bnb8.optim.optimizer)."""

from .optimizer import *  # noqa: F401,F403
from .optimizer import __all__  # noqa: F401
