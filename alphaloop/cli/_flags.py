"""Help screens that show a flag as a flag: ``--dry-run``, not ``--dry-run <bool>``.

Typer's rich help prints a type beside every option, flags included, although a flag
takes no value. :func:`flags_as_flags` gives every command and group of an app a class
that blanks the type of its flags (``--help`` too) when the help is drawn; parsing is
unchanged. (``python -m strategy``, which may not import this package, does the same
with a command class of its own in :mod:`alphaloop.backtest.entry`.)
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.models import DefaultPlaceholder

__all__ = ["flags_as_flags"]


def _blank_flag_types(params: list[Any]) -> list[Any]:
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""  # the help shows the metavar in place of the type
    return params


class FlagCommand(TyperCommand):
    """A typer command whose help shows flags without a type."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _blank_flag_types(super().get_params(ctx))


class FlagGroup(TyperGroup):
    """A typer group whose help shows flags without a type."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _blank_flag_types(super().get_params(ctx))


def flags_as_flags(app: typer.Typer) -> None:
    """Use :class:`FlagCommand` and :class:`FlagGroup` for ``app``, its commands and its
    sub-apps (those with a class of their own keep it)."""
    _default_cls(app.info, FlagGroup, TyperGroup)
    for command in app.registered_commands:
        _default_cls(command, FlagCommand, TyperCommand)
    for group in app.registered_groups:
        _default_cls(group, FlagGroup, TyperGroup)
        if group.typer_instance is not None:
            flags_as_flags(group.typer_instance)


def _default_cls(info: Any, cls: type, default: type) -> None:
    """Set ``info.cls`` to ``cls`` unless a class other than typer's default was chosen."""
    if info.cls is None or isinstance(info.cls, DefaultPlaceholder) or info.cls is default:
        info.cls = cls
