"""AlphaLoop: a git-native multi-agent SDLC bot for a trading strategy."""

__version__ = "0.1.0"

__all__ = ["__version__"]
