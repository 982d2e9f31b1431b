"""bitsandbytes.optim.rmsprop on bnb8: RMSprop, RMSprop8bit, RMSprop32bit."""

from ._classes import define

__all__ = ["RMSprop", "RMSprop8bit", "RMSprop32bit"]

RMSprop, RMSprop8bit, RMSprop32bit = define(__name__, *__all__)
