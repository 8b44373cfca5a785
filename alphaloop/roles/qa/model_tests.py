"""Tests a model writes for a change, beside QA's fixed menu.

With a model, QA asks its charter's ``generate_tests`` prompt for a few test functions,
showing the model the file its menu generated (the helpers the functions may call) and
the diff as quoted data. Each answer must be one ``def test_...()`` function whose name
is new; it joins the generated file and goes through the same proof as every other
test: it must pass twice on the head and fail on at least one mutant of the change to
be kept. The model's tests never veto: one that fails on the head is reported and left
out, since every gate that can veto is code.
"""

from __future__ import annotations

import ast

from pydantic import BaseModel, ConfigDict, Field

from alphaloop.repo import GitRepo
from alphaloop.roles.base import RoleModel
from alphaloop.roles.qa.change import ChangeUnderTest
from alphaloop.roles.qa.plan import PlannedTest, TestPlan
from alphaloop.roles.qa.render import render_tests

__all__ = ["WrittenTest", "WrittenTests", "model_tests"]

_DIFF_CHARS = 20_000
#: What the generated file offers the model's functions.
HELPERS = (
    "The functions run inside the generated file shown above and may use what it "
    "defines: np, pd, UNIVERSE, MAX_SINGLE_ASSET, MAX_ASSET_CLASS, TOLERANCE, PROFILE, "
    "_prices(seed, days) -> prices array, _view(prices, upto=None) -> MarketView, "
    "_weights(view, strategy=None, held=None) -> dict ticker -> weight, and "
    "create_strategy(PROFILE). A strategy returns target weights from a point-in-time "
    "MarketView (as_of, assets, dates, prices); it may not see data after as_of. Use "
    "plain assert statements; import nothing.")


class WrittenTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^test_[a-z0-9_]{3,80}$")
    source: str = Field(min_length=10, max_length=4000,
                        description="the complete function: def name() -> None: ...")
    about: str = Field(default="", max_length=300, description="what it pins, in a line")


class WrittenTests(BaseModel):
    """A few test functions for the change."""

    model_config = ConfigDict(extra="forbid")

    tests: list[WrittenTest] = Field(default_factory=list, max_length=5)


def model_tests(model: RoleModel, repo: GitRepo, change: ChangeUnderTest, plan: TestPlan,
                hypothesis: str) -> tuple[list[PlannedTest], list[str]]:
    """The model's usable tests as planned tests, and why the others were refused."""
    diff = repo.git("diff", f"{change.base_sha}..{change.head_sha}", "--", "strategy").text
    if len(diff) > _DIFF_CHARS:
        diff = diff[:_DIFF_CHARS] + f"\n[... {len(diff) - _DIFF_CHARS} more characters]"
    answer = model.ask("qa", "generate_tests", WrittenTests, hypothesis=hypothesis,
                       diff=diff or "(no change)", existing_tests=render_tests(plan),
                       contract=HELPERS)
    planned: list[PlannedTest] = []
    refused: list[str] = []
    taken = set(plan.names)
    for test in answer.tests:
        problem = _problem(test, taken)
        if problem:
            refused.append(f"{test.name}: {problem}")
            continue
        taken.add(test.name)
        planned.append(PlannedTest(name=test.name, kind="model", source=test.source.strip(),
                                   doc=test.about))
    return planned, refused


def _problem(test: WrittenTest, taken: set[str]) -> str:
    if test.name in taken:
        return "the name is taken"
    try:
        tree = ast.parse(test.source)
    except SyntaxError as exc:
        return f"not valid Python ({exc.msg}, line {exc.lineno})"
    body = tree.body
    if len(body) != 1 or not isinstance(body[0], ast.FunctionDef) or body[0].name != test.name:
        return f"the source must be exactly one function named {test.name}"
    if body[0].args.args or body[0].args.vararg or body[0].args.kwarg:
        return "a test function takes no arguments"
    if any(isinstance(node, ast.Import | ast.ImportFrom) for node in ast.walk(tree)):
        return "a test may import nothing; use what the file defines"
    return ""
