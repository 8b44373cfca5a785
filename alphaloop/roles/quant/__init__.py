"""The Quant: reviews ``main``, searches for the next change and implements it (see
:mod:`.role`)."""

from alphaloop.roles.quant.role import Quant, QuantConfig

__all__ = ["Quant", "QuantConfig"]
