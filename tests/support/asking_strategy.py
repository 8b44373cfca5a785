"""The source of a small strategy that wants a model and asks it while it decides."""

from __future__ import annotations

import textwrap

__all__ = ["asking_strategy"]

_MODULE = '''\
import json

from alphaloop.contract import Decision, ModelUnavailable


class Asking:
    lookback = 5
    wants_llm = True

    def use_llm(self, llm):
        self.llm = llm

    def decide(self, view, portfolio):
{body}


def create_strategy(**kwargs):
    return Asking()
'''


def asking_strategy(decide_body: str) -> str:
    """A ``strategy/__init__.py`` whose ``decide`` runs ``decide_body`` (its client is
    ``self.llm``; ``json``, ``Decision`` and ``ModelUnavailable`` are imported)."""
    body = textwrap.indent(textwrap.dedent(decide_body).strip("\n"), " " * 8)
    return _MODULE.format(body=body)
