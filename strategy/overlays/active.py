"""The overlays the engine applies, in this order (see :mod:`strategy.overlays`).

One import and one entry of ``ACTIVE`` per overlay module; a structural change appends
its overlay here.
"""

from __future__ import annotations

ACTIVE = ()
