"""bitsandbytes.optim.sgd on bnb8: SGD, SGD8bit, SGD32bit."""

from ._classes import define

__all__ = ["SGD", "SGD8bit", "SGD32bit"]

SGD, SGD8bit, SGD32bit = define(__name__, *__all__)
