"""Fixtures of the crash tests (see :mod:`faults.crash`)."""

from faults.crash import reference, review_key

__all__ = ["reference", "review_key"]
