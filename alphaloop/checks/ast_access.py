"""The AST policy's import and access rules for strategy code.

Strategy code may import only what ``policies/imports.toml`` allows and may not reach
files, the network, processes, the environment or code built at run time. The rules
work on names as the code binds them: ``import numpy as np`` makes ``np.load`` the
forbidden ``numpy.load``, and a use of a refused import (``os.environ``) is reported
where it happens as well as at the import. Finding checks:

- ``ast.imports``       an import outside the allowlist, a denied module, a star import
- ``ast.access``        file, network, process or environment access
- ``ast.dynamic``       eval/exec/compile/__import__, dynamic access to or changes of modules
- ``ast.introspection`` globals()/vars()/__dict__/__subclasses__ and similar escapes

The AST policy is a gate, not a proof: the sandbox enforces the same rules at run time.
"""

from __future__ import annotations

import ast

from alphaloop.checks.ast_common import SourceFile, module_name_for
from alphaloop.policy import ImportPolicy
from alphaloop.policy.imports import module_within

__all__ = ["AccessVisitor"]

_DYNAMIC = "runs code built at run time"
_NAMESPACES = "reaches the interpreter's namespaces"
_BUILTIN_KIND: dict[str, tuple[str, str]] = {
    "eval": ("ast.dynamic", _DYNAMIC),
    "exec": ("ast.dynamic", _DYNAMIC),
    "compile": ("ast.dynamic", _DYNAMIC),
    "__import__": ("ast.dynamic", "imports a module chosen at run time"),
    "__build_class__": ("ast.dynamic", _DYNAMIC),
    "globals": ("ast.introspection", _NAMESPACES),
    "locals": ("ast.introspection", _NAMESPACES),
    "vars": ("ast.introspection", _NAMESPACES),
    "__builtins__": ("ast.introspection", _NAMESPACES),
    "__loader__": ("ast.introspection", _NAMESPACES),
    "__spec__": ("ast.introspection", _NAMESPACES),
    "open": ("ast.access", "opens files"),
}
_ATTRIBUTE_FUNCTIONS = frozenset({"getattr", "setattr", "delattr", "hasattr"})


class AccessVisitor(ast.NodeVisitor):
    """Collects import and access findings for one strategy file into ``src.findings``.

    ``runner`` marks ``strategy/__main__.py``: it may import the runner's extra modules
    and touch files, but dynamic code and introspection stay forbidden.
    """

    def __init__(self, src: SourceFile, policy: ImportPolicy, *, runner: bool = False) -> None:
        self.src = src
        self.policy = policy
        self.runner = runner
        self.module, self.is_package = module_name_for(src.path)
        self.aliases: dict[str, str] = {}  # local name -> dotted name it is bound to
        self.refused: dict[str, str] = {}  # local name -> dotted name of a refused import

    def run(self) -> None:
        """Check imports first (they bind names), then every other node."""
        for node in ast.walk(self.src.tree):
            if isinstance(node, ast.Import):
                self._import(node)
            elif isinstance(node, ast.ImportFrom):
                self._import_from(node)
        for node in ast.walk(self.src.tree):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)):
                self._bind_assigned(node.targets[0].id, node.value)
        self.visit(self.src.tree)

    # -- imports -------------------------------------------------------------------------
    def _import(self, node: ast.Import) -> None:
        for alias in node.names:
            module = alias.name
            bound = module if alias.asname else module.split(".")[0]
            local = alias.asname or bound
            refusal = self.policy.refusal(module, runner=self.runner)
            if refusal is None and not self.runner:
                refusal = self._forbidden_name_reason(module)
            if refusal is not None:
                self.src.report("ast.imports", node, f"imports {module}: {refusal}; remove "
                                "the import", rule="import", name=module)
                self.refused[local] = bound
            else:
                self.aliases[local] = bound

    def _import_from(self, node: ast.ImportFrom) -> None:
        base = self._resolve_from(node)
        if base is None:
            return
        for alias in node.names:
            if alias.name == "*":
                self.src.report("ast.imports", node, f"star import from {base} hides which "
                                "names are used; import them by name", rule="star-import",
                                name=base)
                continue
            full = f"{base}.{alias.name}"
            local = alias.asname or alias.name
            refusal = self._from_refusal(base, alias.name)
            if refusal is not None:
                self.src.report("ast.imports", node, f"imports {full}: {refusal}; remove the "
                                "import", rule="import", name=full)
                self.refused[local] = full
            else:
                self.aliases[local] = full

    def _resolve_from(self, node: ast.ImportFrom) -> str | None:
        if node.level == 0:
            return node.module or ""
        package = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
        keep = len(package) - (node.level - 1)
        dots = "." * node.level
        if keep < 1:
            self.src.report("ast.imports", node, f"relative import {dots}{node.module or ''} "
                            f"climbs out of the {self.policy.strategy.package} package; "
                            "import inside the package", rule="relative-escape")
            return None
        base = ".".join(package[:keep]) + (f".{node.module}" if node.module else "")
        if not module_within(base, self.policy.strategy.package):
            self.src.report("ast.imports", node, f"relative import resolves to {base}, outside "
                            f"the {self.policy.strategy.package} package",
                            rule="relative-escape", name=base)
            return None
        return base

    def _from_refusal(self, base: str, name: str) -> str | None:
        full = f"{base}.{name}"
        for module in (full, base):
            denied = self.policy.denied_by(module)
            if denied is not None:
                return f"{module} is denied by policy ({denied})"
        if not self.runner:
            reason = self._forbidden_name_reason(full) or self._restricted_reason(full)
            if reason is not None:
                return reason
        if self.policy.is_allowed(full, runner=self.runner):
            return None
        if self.policy.is_allowed(base, runner=self.runner):
            return None
        return self.policy.refusal(base, runner=self.runner)

    def _bind_assigned(self, target: str, value: ast.expr) -> None:
        dotted = self._dotted(value)
        if dotted is None:
            return
        table, name = dotted
        if table == "alias":
            self.aliases.setdefault(target, name)
        else:
            self.refused.setdefault(target, name)

    def _dotted(self, node: ast.expr) -> tuple[str, str] | None:
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        tail = "".join(f".{a}" for a in reversed(attrs))
        if node.id in self.aliases:
            return "alias", self.aliases[node.id] + tail
        if node.id in self.refused:
            return "refused", self.refused[node.id] + tail
        return None

    # -- reasons ----------------------------------------------------------------------
    def _forbidden_name_reason(self, dotted: str) -> str | None:
        pattern = self.policy.forbidden_name(dotted)
        if pattern is None:
            return None
        return f"{dotted} reads or writes files or fetches data (policy: {pattern})"

    def _restricted_reason(self, dotted: str) -> str | None:
        for module, names in self.policy.strategy.restricted_modules.items():
            if module_within(dotted, module):
                rest = dotted[len(module) + 1:].split(".")[0] if dotted != module else ""
                if rest not in names:
                    used = f"{module}.{rest}" if rest else f"the {module} module itself"
                    return (f"{module} may be used only for {', '.join(names)}, not {used}")
        return None

    # -- uses ---------------------------------------------------------------------------
    def _check_dotted(self, node: ast.AST, bound: str, dotted: str) -> None:
        denied = self.policy.denied_by(dotted)
        if denied is not None:
            self.src.report("ast.imports", node, f"uses {dotted}, inside the denied module "
                            f"{denied}", rule="denied-module", name=dotted)
            return
        if not self.runner:
            reason = self._forbidden_name_reason(dotted)
            if reason is not None:
                self.src.report("ast.access", node, f"uses {reason}", rule="forbidden-name",
                                name=dotted)
                return
            reason = self._restricted_reason(dotted)
            if reason is not None:
                self.src.report("ast.access", node, reason, rule="restricted-module",
                                name=dotted)
                return
        if (not self.policy.is_allowed(bound, runner=self.runner)
                and not self.policy.is_allowed(dotted, runner=self.runner)):
            self.src.report("ast.imports", node, f"reaches {dotted} through {bound}; only "
                            "allowlisted modules may be used", rule="import", name=dotted)

    def _report_refused_use(self, node: ast.AST, dotted: str) -> None:
        self.src.report("ast.access", node, f"uses {dotted}, from a module strategy code may "
                        "not import", rule="refused-module-use", name=dotted)

    def _report_builtin(self, node: ast.AST, name: str) -> None:
        check, why = _BUILTIN_KIND.get(name, ("ast.access", "is forbidden by policy"))
        if self.runner and check == "ast.access":
            return
        self.src.report(check, node, f"uses the builtin {name}, which {why}; strategy code "
                        "may not", rule="forbidden-builtin", name=name)

    def _check_attribute_name(self, node: ast.AST, attr: str) -> None:
        access = self.policy.access
        if attr in access.forbidden_attributes:
            self.src.report("ast.introspection", node, f"uses the attribute {attr}, which "
                            "leads to globals, builtins or code objects",
                            rule="forbidden-attribute", name=attr)
        elif attr in access.forbidden_methods and not self.runner:
            self.src.report("ast.access", node, f"calls .{attr}(), which reads or writes "
                            "files", rule="forbidden-method", name=attr)

    def visit_Import(self, node: ast.Import) -> None:  # handled in run()
        return

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:  # handled in run()
        return

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            return
        if node.id in self.policy.access.forbidden_builtins:
            self._report_builtin(node, node.id)
        elif node.id in self.refused:
            self._report_refused_use(node, self.refused[node.id])
        elif node.id in self.aliases:
            self._check_dotted(node, self.aliases[node.id], self.aliases[node.id])

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attrs: list[str] = []
        base: ast.expr = node
        while isinstance(base, ast.Attribute):
            attrs.append(base.attr)
            self._check_attribute_name(base, base.attr)
            base = base.value
        if not isinstance(base, ast.Name):
            self.visit(base)
            return
        tail = "".join(f".{a}" for a in reversed(attrs))
        if base.id in self.policy.access.forbidden_builtins:
            self._report_builtin(base, base.id)
        elif base.id in self.refused:
            self._report_refused_use(node, self.refused[base.id] + tail)
        elif base.id in self.aliases:
            bound = self.aliases[base.id]
            self._check_dotted(node, bound, bound + tail)
            if not isinstance(node.ctx, ast.Load):
                self.src.report("ast.dynamic", node, f"changes {bound + tail}; strategy code "
                                "may not modify imported modules", rule="module-write",
                                name=bound + tail)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (isinstance(func, ast.Name) and func.id in _ATTRIBUTE_FUNCTIONS and node.args
                and isinstance(node.args[0], ast.Name)):
            self._attribute_function(node, func.id, node.args[0])
        if (isinstance(func, ast.Attribute) and func.attr in self.policy.access.target_methods
                and not self.runner):
            keywords = {k.arg for k in node.keywords}
            if node.args or keywords & set(self.policy.access.target_keywords):
                self.src.report("ast.access", node, f"calls .{func.attr}() with a target, "
                                "which writes a file; call it without one to get text",
                                rule="forbidden-method", name=func.attr)
        self.generic_visit(node)

    def _attribute_function(self, node: ast.Call, function: str, target: ast.Name) -> None:
        if target.id in self.refused:
            return  # reported where the name is used
        bound = self.aliases.get(target.id)
        if bound is None:
            return
        if function in ("setattr", "delattr"):
            self.src.report("ast.dynamic", node, f"{function}() on {bound}; strategy code may "
                            "not modify imported modules", rule="module-write", name=bound)
            return
        name = node.args[1] if len(node.args) > 1 else None
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            self._check_attribute_name(node, name.value)
            self._check_dotted(node, bound, f"{bound}.{name.value}")
        elif not module_within(bound, self.policy.strategy.package):
            # the strategy's own modules (e.g. reading tunables by name) hold only names
            # the policy has checked; another module could hand out anything it holds
            self.src.report("ast.dynamic", node, f"{function}() on {bound} with a computed "
                            "name can reach any of its functions; use the attribute directly",
                            rule="dynamic-attribute", name=bound)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and (
                node.value in self.policy.access.forbidden_attributes
                or node.value in ("__builtins__", "__import__")):
            self.src.report("ast.introspection", node, f"the string {node.value!r} names a "
                            "forbidden attribute (a getattr-style escape)",
                            rule="forbidden-attribute", name=node.value)
