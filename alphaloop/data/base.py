"""The `DataSource` protocol every market-data backend implements.

A source is cheap to construct and does its work in :meth:`DataSource.load`. Its
:meth:`DataSource.content_hash` is the hash of exactly the panel ``load()`` returns
(:meth:`MarketData.content_hash`), so a backtest can be cached by it and an auditor can
check that two results were computed on the same numbers.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from alphaloop.data.panel import MarketData

__all__ = ["DataSource"]


@runtime_checkable
class DataSource(Protocol):
    """Something that produces a validated :class:`MarketData` panel."""

    @property
    def name(self) -> str:
        """A short spec naming the source, e.g. ``synthetic:seed=7,years=20``."""
        ...

    def load(self) -> MarketData:
        """The full panel; raises :class:`~alphaloop.data.panel.DataError` on bad data."""
        ...

    def content_hash(self) -> str:
        """SHA-256 of the panel :meth:`load` returns (``load().content_hash()``)."""
        ...
