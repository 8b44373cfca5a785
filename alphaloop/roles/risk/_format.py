"""Numbers in findings: never round a failing value onto its threshold."""

from __future__ import annotations

import math

__all__ = ["beside"]


def beside(value: float, threshold: float, digits: int = 4) -> str:
    """``value`` with at least ``digits`` significant digits, and as many more as it
    takes for the printed number to fall on the same side of ``threshold`` as the value
    (``beside(0.50003, 0.5)`` is ``0.50003``, never ``0.5``)."""
    if not math.isfinite(value) or not math.isfinite(threshold):
        return f"{value:.{digits}g}"
    for d in range(digits, 18):
        text = f"{value:.{d}g}"
        shown = float(text)
        if (shown > threshold) == (value > threshold) and \
                (shown < threshold) == (value < threshold):
            return text
    return repr(value)
