"""Pinning a generated file's key figures: computed by the file's own ``key_figures()``
on the head commit, in the sandbox, and written into its ``PINNED`` block.

The same run re-reads the figures of every earlier generated file: where this change
moves a figure an earlier change pinned, the earlier file is re-pinned in QA's commit
and the move is reported, so a change that moves pinned figures is seen in its review
and in the diff, and the project's suite stays green after it merges.
"""

from __future__ import annotations

import ast
import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path

from alphaloop.roles.qa.render import PINNED_BLOCK, replace_pinned
from alphaloop.sandbox import Sandbox, SandboxError
from alphaloop.sandbox.redact import redact

__all__ = ["Repinned", "compute_figures", "pinned_files", "repin"]

_PIN = r"""
import importlib.util, json, os, sys
out = {}
for index, path in enumerate(json.loads(sys.argv[1])):
    try:
        spec = importlib.util.spec_from_file_location(f"generated_{index}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out[path] = {k: float(v) for k, v in module.key_figures().items()}
    except Exception as exc:
        out[path] = {"error": f"{type(exc).__name__}: {exc}"}
with open(os.path.join(os.environ["HOME"], "figures.json"), "w") as handle:
    json.dump(out, handle)
"""

Repinned = dict[str, dict[str, list[float]]]
"""Earlier file -> figure -> [pinned, now]."""


def pinned_files(checkout: Path, directory: str) -> list[str]:
    """Generated files of ``checkout`` holding a pinned-figures block."""
    return sorted(str(p.relative_to(checkout)) for p in (checkout / directory).glob("test_*.py")
                  if PINNED_BLOCK.search(p.read_text()))


def compute_figures(sandbox: Sandbox, checkout: Path, scratch: Path,
                    paths: Sequence[str]) -> dict[str, dict[str, float]]:
    """``key_figures()`` of each generated file in ``paths``, run on ``checkout``'s
    strategy in the sandbox; raises :class:`SandboxError` when a file cannot say."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    argv = sandbox.python_command(checkout, code=_PIN, args=[json.dumps(list(paths))])
    result = sandbox.run(argv, workdir=checkout, scratch=scratch)
    report = scratch / "figures.json"
    if not report.is_file():
        raise SandboxError("the key figures could not be computed in the sandbox: "
                           + redact(result.stderr[-2000:] or result.stdout[-400:]))
    raw = json.loads(report.read_text())
    out: dict[str, dict[str, float]] = {}
    for path in paths:
        figures = raw.get(path, {})
        if "error" in figures or not figures:
            raise SandboxError(f"{path}: key_figures() failed on the head commit: "
                               f"{redact(str(figures.get('error', 'no answer')), limit=1000)}")
        out[path] = {str(k): float(v) for k, v in figures.items()}
    return out


def repin(checkout: Path, figures: dict[str, dict[str, float]],
          tolerance: float) -> tuple[dict[str, str], Repinned]:
    """Earlier files whose pinned figures moved beyond ``tolerance`` (relative), with
    the figures replaced: (path -> new text, what moved)."""
    texts: dict[str, str] = {}
    moved: Repinned = {}
    for path, now in figures.items():
        source = (checkout / path).read_text()
        match = PINNED_BLOCK.search(source)
        if match is None:
            continue
        pinned = ast.literal_eval(match.group("json"))
        changes = {name: [float(pinned[name]), value] for name, value in now.items()
                   if name in pinned and not math.isclose(value, float(pinned[name]),
                                                          rel_tol=tolerance, abs_tol=1e-12)}
        if changes:
            texts[path] = replace_pinned(source, now)
            moved[path] = changes
    return texts, moved
