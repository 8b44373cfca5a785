"""The AST policy's literal-limit rule: code may not declare a limit above policy.

A declaration is an assignment, an annotated assignment (a dataclass or pydantic field,
``Field(default=...)`` included), a keyword argument, a parameter default, a dict entry,
a ``.get("name", default)`` fallback, or a numeric argument of a call that names the
limit in a string (a tunable's declared range in ``strategy/parameters.py``). It is a
limit when its name, in any case, is a hard limit of ``policies/risk.toml`` or one of
its ``limit_names``, alone or as a suffix (``AGGRESSIVE_MAX_SINGLE_ASSET``). A literal
value above the policy's hard limit blocks (severity 3) unless ``limit_exceptions``
accepts that exact file, name and value, which is reported as a warning. Values are
compared by magnitude, so a VaR written as a negative return counts as a loss.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from alphaloop.checks.ast_common import SourceFile, literal_number
from alphaloop.checks.findings import Severity
from alphaloop.policy import RiskPolicy

__all__ = ["LimitMatcher", "check_literal_limits"]

_TOLERANCE = 1e-12
_FIELD_FUNCTIONS = frozenset({"Field", "field"})
_FALLBACK_METHODS = frozenset({"get", "setdefault", "pop"})
_BOUND_KEYWORDS = frozenset({"default", "value", "low", "high", "lower", "upper", "lo", "hi",
                             "min", "max", "minimum", "maximum"})


class LimitMatcher:
    """Maps a declared name to the hard limit it stands for."""

    def __init__(self, risk: RiskPolicy) -> None:
        names = risk.hard_limit_names()
        canonical: dict[str, str] = {key: key for key in risk.hard_limits.model_dump()}
        for key, aliases in risk.limit_names.items():
            canonical.update({alias.lower(): key for alias in aliases})
        # longest first, so the most specific name wins a suffix match
        self._names = sorted(names.items(), key=lambda item: -len(item[0]))
        self._canonical = canonical

    def match(self, name: str) -> tuple[str, float] | None:
        """``(hard limit key, limit value)`` when ``name`` declares a limit."""
        lower = name.lower()
        for known, value in self._names:
            if lower == known or lower.endswith("_" + known):
                return self._canonical[known], value
        return None


def _field_default(value: ast.expr) -> ast.expr | None:
    """The default inside ``Field(default)``/``Field(default=...)``, else ``value``."""
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else (
            func.attr if isinstance(func, ast.Attribute) else None)
        if name in _FIELD_FUNCTIONS:
            for keyword in value.keywords:
                if keyword.arg == "default":
                    return keyword.value
            return value.args[0] if value.args else None
    return value


def _target_names(target: ast.expr, value: ast.expr) -> Iterator[tuple[str, ast.expr]]:
    if isinstance(target, ast.Name):
        yield target.id, value
    elif isinstance(target, ast.Attribute):
        yield target.attr, value
    elif (isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant)
          and isinstance(target.slice.value, str)):
        yield target.slice.value, value
    elif isinstance(target, ast.Tuple | ast.List) and isinstance(value, ast.Tuple | ast.List):
        for sub_target, sub_value in zip(target.elts, value.elts, strict=False):
            yield from _target_names(sub_target, sub_value)


def _declarations(tree: ast.AST) -> Iterator[tuple[str, ast.expr | None, ast.AST]]:
    """Every ``(name, value node, where)`` that declares a named value."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name, value in _target_names(target, node.value):
                    yield name, _field_default(value), node
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            for name, value in _target_names(node.target, node.value):
                yield name, _field_default(value), node
        elif isinstance(node, ast.Call):
            yield from _call_declarations(node)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    yield key.value, value, key
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            for arg, default in zip(positional[len(positional) - len(args.defaults):],
                                    args.defaults, strict=True):
                yield arg.arg, default, default
            for arg, maybe in zip(args.kwonlyargs, args.kw_defaults, strict=True):
                if maybe is not None:
                    yield arg.arg, maybe, maybe


def _call_declarations(node: ast.Call) -> Iterator[tuple[str, ast.expr | None, ast.AST]]:
    for keyword in node.keywords:
        if keyword.arg is not None:
            yield keyword.arg, _field_default(keyword.value), keyword.value
    func = node.func
    if (isinstance(func, ast.Attribute) and func.attr in _FALLBACK_METHODS
            and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)):
        yield node.args[0].value, node.args[1], node
        return
    # a call declaring a named value, e.g. _float("MAX_SINGLE_ASSET", 0.05, 0.25, "...") or
    # Spec(name="MAX_SINGLE_ASSET", high=0.25): its numbers are values declared for the name
    name = next((k.value for k in node.keywords if k.arg == "name"), None)
    if name is None and node.args:
        name = node.args[0]
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        numbers = [*node.args[1:],
                   *(k.value for k in node.keywords if k.arg in _BOUND_KEYWORDS)]
        for number in numbers:
            if literal_number(number) is not None:
                yield name.value, number, number


def check_literal_limits(src: SourceFile, risk: RiskPolicy) -> None:
    """Add a finding to ``src`` for every literal limit above the policy's hard limit."""
    matcher = LimitMatcher(risk)
    for name, value_node, where in _declarations(src.tree):
        matched = matcher.match(name)
        if matched is None:
            continue
        value = literal_number(value_node)
        if value is None or abs(value) <= matched[1] + _TOLERANCE:
            continue
        key, limit = matched
        accepted = risk.limit_exception(src.path, name, abs(value))
        if accepted is not None:
            src.report("ast.limits", where,
                       f"{name} = {value:g} is above the policy's {key} ({limit:g}) under an "
                       f"accepted exception: {accepted.reason}", rule="literal-limit",
                       severity=Severity.WARN, name=name, value=value, limit=limit,
                       policy_key=key)
            continue
        src.report("ast.limits", where,
                   f"{name} = {value:g} is above the policy's hard limit {key} = {limit:g}; "
                   f"use at most {limit:g} (limits are raised in policies/risk.toml by a "
                   "human, never in strategy code)", rule="literal-limit", name=name,
                   value=value, limit=limit, policy_key=key)
