"""bitsandbytes.optim.lion on bnb8: Lion, Lion8bit, Lion32bit, PagedLion, PagedLion8bit, PagedLion32bit."""

from ._classes import define

__all__ = ["Lion", "Lion8bit", "Lion32bit", "PagedLion", "PagedLion8bit", "PagedLion32bit"]

Lion, Lion8bit, Lion32bit, PagedLion, PagedLion8bit, PagedLion32bit = define(__name__, *__all__)
