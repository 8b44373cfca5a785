"""The defaults of ``alphaloop data check``'s options, in a module that imports nothing.

The command line shows them in its help; kept here, they are read without loading the
modules that use them (pandas, numpy). :mod:`alphaloop.data.calendar` and
:mod:`alphaloop.data.report` import them from here.
"""

from __future__ import annotations

__all__ = ["AUTO", "SUSPICIOUS_MOVE"]

AUTO = "auto"
"""The calendar chosen from the asset classes: 24/7 when every asset is crypto, else the
exchange's (:data:`alphaloop.data.calendar.DEFAULT_EXCHANGE`)."""

SUSPICIOUS_MOVE = 0.25
"""A daily return larger than this in absolute value is listed for a human to check."""
