"""The Engineer: reviews a change's code and approves, requests changes or asks a human
(see :mod:`.role`)."""

from alphaloop.roles.engineer.role import Engineer, EngineerOptions

__all__ = ["Engineer", "EngineerOptions"]
