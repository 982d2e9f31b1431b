"""bitsandbytes.optim.lamb on bnb8: LAMB, LAMB8bit, LAMB32bit."""

from ._classes import define

__all__ = ["LAMB", "LAMB8bit", "LAMB32bit"]

LAMB, LAMB8bit, LAMB32bit = define(__name__, *__all__)
