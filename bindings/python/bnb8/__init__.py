"""bnb8: 8-bit optimizers with a stable C ABI, from Python.

- `bnb8.Optimizer`: the library's optimizer over numpy arrays or torch tensors.
- `bnb8.optim`: drop-in replacements of bitsandbytes.optim (torch.optim.Optimizer subclasses: Adam8bit,
  AdamW8bit, SGD8bit, Lion8bit, LAMB8bit, LARS8bit, RMSprop8bit, Adagrad8bit, AdEMAMix8bit, their 32-bit,
  Paged and generic variants, GlobalOptimManager); needs torch.
- `bnb8.nn`: Embedding and StableEmbedding (bitsandbytes.nn's, with 32-bit optimizer states); needs torch.
- `bnb8.functional`: create_dynamic_map, quantize_blockwise, dequantize_blockwise (bitsandbytes' API).
- `bnb8.native`: the SWIG module (OptimizerConfig, enumerations, the raw Optimizer).

Failures raise ValueError (invalid argument), NotImplementedError (unsupported), MemoryError, OSError or
RuntimeError, with the library's message naming the argument and its value."""

from . import native
from ._library import ALGORITHMS, HPARAMS, OPTIONS, Optimizer, UnsupportedError, make_config
from .native import OptimizerConfig, features, state_format_version, version_number, version_string

__version__ = version_string()

__all__ = [
    "ALGORITHMS", "HPARAMS", "OPTIONS", "Optimizer", "OptimizerConfig", "features", "make_config", "native",
    "state_format_version", "UnsupportedError", "version_number", "version_string",
]


def __getattr__(name):
    # bnb8.optim, bnb8.nn and bnb8.functional import torch: loaded on first use, so numpy-only users never need it.
    if name in ("optim", "functional", "interop", "nn"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'bnb8' has no attribute {name!r}")
