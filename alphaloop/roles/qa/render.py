"""Writing a :class:`~.plan.TestPlan` as a test file, from the template
``templates/generated_tests.py.j2`` (the tests' text is data; this module only fills it).

Only the tests in ``keep`` are written, and only the imports they use, so the file a
change ends up with is lint-clean and holds no test that proves nothing.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path

import jinja2

from alphaloop.roles.qa.plan import TestPlan

__all__ = ["PINNED_BLOCK", "format_source", "render_tests", "replace_pinned", "test_file_name"]

TEMPLATES = Path(__file__).with_name("templates")

#: The lines of a generated file between which its pinned figures are written.
PINNED_BLOCK = re.compile(r"(# pinned figures: begin\n)PINNED = (?P<json>.*?)\n"
                          r"(# pinned figures: end)", re.DOTALL)


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True,
                              autoescape=False)  # Python source, not HTML


def test_file_name(slug: str, pr_number: int | None) -> str:
    """``tests/generated/test_pr<N>_<slug>.py``."""
    stem = re.sub(r"[^0-9a-z]+", "_", slug.lower()).strip("_") or "change"
    prefix = f"pr{pr_number}_" if pr_number is not None else ""
    return f"tests/generated/test_{prefix}{stem}.py"


def render_tests(plan: TestPlan, keep: Collection[str] | None = None) -> str:
    """The test file of ``plan`` with the tests named in ``keep`` (default: all)."""
    kept = set(plan.names if keep is None else keep)
    kinds = {t.kind for t in plan.tests if t.name in kept}
    template = _environment().get_template("generated_tests.py.j2")
    return template.render(
        **plan.model_dump(exclude={"tests"}), keep=kept,
        uses_pytest="regression" in kinds, uses_hypothesis="property" in kinds,
        uses_class_totals=("stress" in kinds
                           or "test_no_asset_class_exceeds_the_class_limit" in kept),
        range_tests=plan.of_kind("range") if "range" in kinds else [],
        pinned_tests=plan.of_kind("regression") if "regression" in kinds else [],
        stress_tests=plan.of_kind("stress") if "stress" in kinds else [],
        model_tests=plan.of_kind("model"))


def format_source(source: str, *, root: Path | None = None,
                  path: str = "tests/generated/generated.py") -> str:
    """``source`` with its imports sorted and its layout as ``ruff`` writes them, under the
    configuration and layout of the repository at ``root`` (where its first-party
    packages are); without ``root``, ruff's defaults at 100 columns. Unchanged where ruff
    cannot read it."""
    config = [] if root is not None else ["--isolated", "--line-length", "100"]
    for step in (["check", "--fix", "--select", "I", "--exit-zero", "--quiet"], ["format"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *step, *config, "--stdin-filename", path, "-"],
            input=source, capture_output=True, text=True, check=False, timeout=60,
            cwd=root)
        if done.returncode == 0 and done.stdout:
            source = done.stdout
    return source


def replace_pinned(source: str, figures: dict[str, float]) -> str:
    """``source`` (a generated file) with its pinned figures replaced by ``figures``."""
    return PINNED_BLOCK.sub(lambda m: f"{m.group(1)}PINNED = {json.dumps(figures)}\n"
                                      f"{m.group(3)}", source, count=1)
