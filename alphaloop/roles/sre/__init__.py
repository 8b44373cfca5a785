"""The SRE role: deploy the merged commit, run the canary, roll back, halt.

Built by the registry from ``type = "sre"``; see :class:`SRE`.
"""

from alphaloop.roles.sre.role import SRE, SREConfig

__all__ = ["SRE", "SREConfig"]
