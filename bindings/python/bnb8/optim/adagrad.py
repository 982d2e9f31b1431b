"""bitsandbytes.optim.adagrad on bnb8: Adagrad, Adagrad8bit, Adagrad32bit."""

from ._classes import define

__all__ = ["Adagrad", "Adagrad8bit", "Adagrad32bit"]

Adagrad, Adagrad8bit, Adagrad32bit = define(__name__, *__all__)
