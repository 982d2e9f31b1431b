"""bitsandbytes.optim.adam on bnb8: Adam, Adam8bit, Adam32bit, PagedAdam, PagedAdam8bit, PagedAdam32bit."""

from ._classes import define

__all__ = ["Adam", "Adam8bit", "Adam32bit", "PagedAdam", "PagedAdam8bit", "PagedAdam32bit"]

Adam, Adam8bit, Adam32bit, PagedAdam, PagedAdam8bit, PagedAdam32bit = define(__name__, *__all__)
