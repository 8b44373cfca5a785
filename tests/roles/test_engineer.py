"""The Engineer reviews a change's code in a real temporary git repository.

The repository is laid out like a project (the real ``policies/``, ``pyproject.toml``
and its ruff configuration, the quick test strategy, whose engine ruff format would
rewrite in two places the changes below leave alone). Each test commits a change on a
branch and reviews ``main..branch``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cycle_repos import git, make_repo

from alphaloop.cycle.gate import evaluate_gate
from alphaloop.forge import LocalForge
from alphaloop.policy import PolicyError, load_policies
from alphaloop.records import EngineerReviewRecord, record_model
from alphaloop.repo import GitRepo, Identity
from alphaloop.roles import forge_verdict
from alphaloop.roles.charter import load_charter
from alphaloop.roles.engineer import Engineer

ENGINE = "strategy/engine.py"
CASH_LINE = "        weights = weights / weights.sum() * (1.0 - tunables.CASH_BUFFER)\n"

COMPLEX = '''

def regime(a: int, b: int, c: int, d: int, e: int, f: int) -> int:
    """A made-up regime label with one branch per case."""
    if a > 0:
        return 1
    if b > 0:
        return 2
    if c > 0:
        return 3
    if d > 0:
        return 4
    if e > 0:
        return 5
    if f > 0:
        return 6
    if a > b:
        return 7
    if b > c:
        return 8
    if c > d:
        return 9
    if d > e:
        return 10
    if e > f:
        return 11
    return 0
'''


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project")


def _change(repo: Path, edits: dict[str, str], *, branch: str = "change") -> str:
    """Commit ``edits`` (path -> new text) on ``branch`` off main; return the head."""
    git(repo, "checkout", "-q", "-b", branch, "main")
    for path, text in edits.items():
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a change")
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    return head


def _engine(repo: Path, old: str, new: str) -> str:
    text = (repo / ENGINE).read_text()
    assert old in text, f"the engine no longer holds {old!r}"
    return text.replace(old, new, 1)


def _review(repo: Path, head: str, *, pr_number: int | None = None) -> EngineerReviewRecord:
    git_repo = GitRepo.open(repo)
    engineer = Engineer(git_repo, LocalForge(git_repo), load_policies(repo))
    return engineer.review(git(repo, "rev-parse", "main"), head, pr_number=pr_number)


def _line_of(repo: Path, head: str, path: str, text: str) -> int:
    lines = git(repo, "show", f"{head}:{path}").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def _rules(record: EngineerReviewRecord) -> list[tuple[str, str | None, int | None]]:
    return [(f.rule, f.path, f.line) for f in record.issues]


def test_a_clean_change_is_approved(repo: Path) -> None:
    documented = ('\n\ndef cash_share(buffer: float) -> float:\n'
                  '    """The share of the portfolio left in cash."""\n'
                  '    return max(0.0, min(1.0, buffer))\n')
    head = _change(repo, {ENGINE: _engine(repo, CASH_LINE, CASH_LINE.replace(
        "tunables.CASH_BUFFER)", "cash_share(tunables.CASH_BUFFER))")) + documented})
    record = _review(repo, head)
    assert (record.decision, record.verdict, record.severity) == ("approve", "approve", 0)
    assert record.issues == []
    assert record.summary.startswith("approved: 1 file, +6 -1 lines, no finding")
    assert record.changed_files == [ENGINE] and record.head_sha == head
    assert {"ruff", "format", "complexity", "docstrings", "dead_code"} <= set(record.checks_run)
    assert forge_verdict(record) == "approve"


def test_badly_formatted_lines_are_sent_back_with_file_and_line(repo: Path) -> None:
    ugly = CASH_LINE.replace("weights.sum() * (1.0 - tunables.CASH_BUFFER)",
                             "weights.sum()*(1.0-tunables.CASH_BUFFER)")
    head = _change(repo, {ENGINE: _engine(repo, CASH_LINE, ugly)})
    record = _review(repo, head)
    assert (record.decision, record.verdict, record.severity) == ("request_changes", "veto", 2)
    line = _line_of(repo, head, ENGINE, "weights.sum()*(1.0-")
    assert _rules(record) == [("format", ENGINE, line)]
    [finding] = record.issues
    assert "+        weights = weights / weights.sum() * (1.0 - tunables.CASH_BUFFER)" in \
        finding.evidence["diff"]
    # the engine's two older unformatted places are not this change's findings
    assert finding.evidence["lines"] == [line]
    assert forge_verdict(record) == "request_changes"
    assert f"`{ENGINE}:{line}` — format — ruff format would rewrite" in record.summary


def test_a_function_above_the_complexity_limit_is_sent_back(repo: Path) -> None:
    head = _change(repo, {"strategy/regimes.py": '"""Regime labels."""\n' + COMPLEX})
    record = _review(repo, head)
    assert record.decision == "request_changes"
    line = _line_of(repo, head, "strategy/regimes.py", "def regime(")
    assert _rules(record) == [("C901", "strategy/regimes.py", line)]
    [finding] = record.issues
    assert finding.check == "engineer.complexity"
    assert finding.evidence["complexity"] == 12 and finding.evidence["max_complexity"] == 10
    assert "new in this change" in finding.message
    assert record.limits["max_complexity"] == 10


def test_editing_inside_an_already_complex_function_is_not_held_against_the_change(
        repo: Path) -> None:
    git(repo, "checkout", "-q", "main")
    (repo / "strategy" / "regimes.py").write_text('"""Regime labels."""\n' + COMPLEX)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a complex function a human accepted")
    text = (repo / "strategy" / "regimes.py").read_text()
    head = _change(repo, {"strategy/regimes.py": text.replace("return 11", "return 12")})
    assert _review(repo, head).decision == "approve"
    # one more branch raises its complexity: that is the change's doing
    more = text.replace("    return 0\n", "    if f > a:\n        return 13\n    return 0\n")
    record = _review(repo, _change(repo, {"strategy/regimes.py": more}, branch="more"))
    [finding] = record.issues
    assert finding.rule == "C901" and finding.evidence["base_complexity"] == 12
    assert finding.evidence["complexity"] == 13


def test_the_complexity_limit_is_policy(repo: Path) -> None:
    policy = repo / "policies" / "engineering.toml"
    policy.write_text(policy.read_text().replace("max_complexity = 10", "max_complexity = 15"))
    git(repo, "commit", "-qam", "allow more complex functions")
    head = _change(repo, {"strategy/regimes.py": '"""Regime labels."""\n' + COMPLEX})
    record = _review(repo, head)
    assert record.decision == "approve" and record.limits["max_complexity"] == 15


def test_a_dependency_change_needs_a_human(repo: Path) -> None:
    text = (repo / "pyproject.toml").read_text()
    head = _change(repo, {"pyproject.toml": text.replace(
        '  "typer>=0.12",\n', '  "typer>=0.12",\n  "leftpad>=1.0",\n')})
    record = _review(repo, head)
    assert (record.decision, record.verdict, record.severity) == ("needs_human", "approve", 1)
    [finding] = record.issues
    assert finding.needs_human and finding.path == "pyproject.toml"
    assert finding.line == _line_of(repo, head, "pyproject.toml", "leftpad")
    assert finding.evidence["added"] == ["project.dependencies: leftpad>=1.0"]
    assert record.human_reasons == [finding.message]
    assert record.summary.startswith("needs a human: pyproject.toml adds "
                                     "project.dependencies: leftpad>=1.0")


def test_a_requirements_file_needs_a_human_even_beside_requested_changes(repo: Path) -> None:
    head = _change(repo, {"requirements-dev.txt": "leftpad==1.0\n",
                          "strategy/helpers.py": '"""Helpers."""\n\n\ndef helper():\n'
                                                 '    return 1\n'})
    record = _review(repo, head)
    assert record.decision == "request_changes"  # the code goes back first
    assert {(f.rule, f.needs_human) for f in record.issues} == {
        ("dependency-change", True), ("missing-docstring", False)}


def test_a_new_public_function_without_a_docstring_is_reported(repo: Path) -> None:
    text = (repo / ENGINE).read_text()
    head = _change(repo, {ENGINE: text + (
        "\n\ndef blend(a: float, b: float) -> float:\n    return (a + b) / 2\n"
        "\n\ndef _private(a: float) -> float:\n    return a\n"),
        "tests/test_blend.py": "def test_blend():\n    assert 1 + 1 == 2\n"})
    record = _review(repo, head)
    line = _line_of(repo, head, ENGINE, "def blend(")
    assert _rules(record) == [("missing-docstring", ENGINE, line)]
    assert "`blend`" in record.issues[0].message
    # create_strategy had no docstring at the base already: not this change's finding
    assert "create_strategy" not in record.summary


def test_dead_code_is_reported_where_the_change_adds_it(repo: Path) -> None:
    with_import = _engine(repo, "import numpy as np\n", "import math\n\nimport numpy as np\n")
    dead = with_import.replace(
        "    return TiltedInverseVol()\n",
        "    return TiltedInverseVol()\n    print(profile)\n")
    head = _change(repo, {ENGINE: dead})
    record = _review(repo, head)
    assert record.decision == "request_changes"
    assert _rules(record) == [
        ("F401", ENGINE, _line_of(repo, head, ENGINE, "import math")),
        ("unreachable", ENGINE, _line_of(repo, head, ENGINE, "print(profile)"))]
    assert {f.check for f in record.issues} == {"engineer.dead_code"}


def test_a_change_outside_its_authors_paths_or_too_large_is_sent_back(repo: Path) -> None:
    policy = repo / "policies" / "engineering.toml"
    policy.write_text(policy.read_text().replace("max_changed_lines = 400",
                                                 "max_changed_lines = 30"))
    git(repo, "commit", "-qam", "a small diff limit")
    notes = "".join(f"line {n}\n" for n in range(40))
    head = _change(repo, {"docs/notes.md": notes})
    pr = LocalForge(GitRepo.open(repo)).open_pr(
        title="notes", body="", head_branch="change", base_branch="main", author_role="quant")
    record = _review(repo, head, pr_number=pr.number)
    assert record.author_role == "quant"
    assert sorted(f.rule for f in record.issues) == ["max-changed-lines", "outside-scope"]
    scope = next(f for f in record.issues if f.rule == "outside-scope")
    assert scope.path == "docs/notes.md" and "quant" in scope.message
    # without a pull request there is no author to hold the change to: size only
    assert [f.rule for f in _review(repo, head).issues] == ["max-changed-lines"]


def test_the_record_is_stored_and_read_back_as_the_engineer_review(repo: Path) -> None:
    head = _change(repo, {"strategy/regimes.py": '"""Regime labels."""\n' + COMPLEX})
    record = _review(repo, head)
    model = record_model("engineer_review")
    assert model is EngineerReviewRecord
    again = model.model_validate(record.model_dump(mode="json"))
    assert again == record and again.issues[0].rule == "C901"
    broken = record.model_dump(mode="json") | {"verdict": "approve"}
    with pytest.raises(ValueError, match="decision 'request_changes' takes verdict 'veto'"):
        model.model_validate(broken)


def test_the_engineering_policy_is_validated_on_load(repo: Path) -> None:
    policy = repo / "policies" / "engineering.toml"
    policy.write_text(policy.read_text().replace("max_complexity = 10", "max_complexity = 0")
                      + "\nmax_branches = 3\n")
    with pytest.raises(PolicyError) as caught:
        load_policies(repo)
    text = str(caught.value)
    assert "policies/engineering.toml: max_complexity:" in text
    assert "policies/engineering.toml: max_branches: unknown key" in text
    policy.unlink()  # the file is optional: its defaults apply
    assert load_policies(repo).engineering.max_complexity == 10


def test_the_engineer_formats_the_added_lines_as_its_own_commit_which_voids_reviews(
        repo: Path) -> None:
    git_repo = GitRepo.open(repo)
    forge = LocalForge(git_repo)
    worktree = git_repo.create_worktree("ugly", git_repo.branch_sha("main"))
    engine = worktree / ENGINE
    engine.write_text(engine.read_text().replace(CASH_LINE, CASH_LINE.replace(
        "weights.sum() * (1.0 - tunables.CASH_BUFFER)",
        "weights.sum()*(1.0-tunables.CASH_BUFFER)")))
    quant = Identity(name="AlphaLoop Quant", email="quant@alphaloop.local")
    ugly = git_repo.commit_all(worktree, "More cash, badly laid out", quant)
    number = forge.open_pr(title="More cash", body="", head_branch="ugly", base_branch="main",
                           author_role="quant").number
    forge.add_review(number, reviewer="risk", commit_sha=ugly, verdict="approve")
    engineer = Engineer(git_repo, forge, load_policies(repo),
                        identity=load_charter(repo, "engineer").identity)
    main = git_repo.branch_sha("main")
    assert engineer.review(main, ugly).decision == "request_changes"

    fixed = engineer.fix_formatting(worktree, main)
    assert fixed is not None and git_repo.branch_sha("ugly") == fixed
    assert git(repo, "log", "-1", "--format=%an <%ae>", fixed) == \
        "AlphaLoop Engineer <engineer@alphaloop.local>"
    assert git(repo, "diff", "--unified=0", ugly, fixed).count("\n+ ") == 1
    assert git(repo, "show", f"{fixed}:{ENGINE}").count(CASH_LINE.strip()) == 1
    # the engine's older unformatted code is not the Engineer's to rewrite in this change
    assert "returns[-tunables.VOL_LOOKBACK_DAYS:]" in git(repo, "show", f"{fixed}:{ENGINE}")
    record = engineer.review(main, fixed, pr_number=number)
    assert record.decision == "approve", record.summary
    decision = evaluate_gate(git_repo, forge, number, load_policies(repo),
                             required=["risk"])
    assert not decision.allowed
    assert any("no risk review of the head commit" in r for r in decision.reasons)
    assert engineer.fix_formatting(worktree, main) is None  # nothing left to format
