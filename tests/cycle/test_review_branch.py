"""``alphaloop review``'s engine: a person's branch goes through the cycle's reviewers."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cycle_repos import OPTIONS, fixed_hypothesis, git

from alphaloop.cycle.options import CycleError
from alphaloop.cycle.review import review_branch
from alphaloop.cycle.run import run_cycles
from alphaloop.forge import LocalForge
from alphaloop.records import Outcome
from alphaloop.repo import GitRepo


def _human_branch(repo: Path, name: str, path: str, old: str, new: str) -> str:
    git(repo, "switch", "-q", "-c", name)
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(target.read_text().replace(old, new) if old else new)
    git(repo, "commit", "-qam", f"{name}: my idea")
    git(repo, "switch", "-q", "main")
    return git(repo, "rev-parse", name)


def test_a_persons_branch_gets_the_verdict_the_bots_change_gets(cycle_repo: Path) -> None:
    head = _human_branch(cycle_repo, "idea/cash", "strategy/tunables.py",
                         "CASH_BUFFER = 0.10", "CASH_BUFFER = 0.11")
    result = review_branch(cycle_repo, OPTIONS, branch="idea/cash")
    assert result.opened and result.head_sha == head
    [risk] = result.verdicts
    forge = LocalForge(GitRepo.open(cycle_repo))
    pr = forge.get_pr(result.pr_number)
    assert (pr.head_branch, pr.author_role, pr.title) == ("idea/cash", "human",
                                                          "idea/cash: my idea")
    [posted] = forge.valid_reviews(pr.number)  # stored on the PR, signed, bound to the head
    assert (posted.reviewer, posted.commit_sha, posted.id) == ("risk", head, risk.review_id)
    assert posted.verdict == risk.verdict
    # A second review of the same branch reuses its pull request.
    again = review_branch(cycle_repo, OPTIONS, branch="idea/cash")
    assert not again.opened and again.pr_number == pr.number
    # The bot proposing the very same change gets the same verdict from Risk.
    [summary] = run_cycles(cycle_repo, OPTIONS,
                           hypothesis_source=fixed_hypothesis("CASH_BUFFER", 0.10, 0.11))
    bot = [r for r in forge.valid_reviews(summary.pr_number) if r.reviewer == "risk"]
    assert [r.verdict for r in bot] == [risk.verdict]
    assert (summary.outcome == Outcome.MERGED) == (risk.verdict == "approve")


def test_a_branch_touching_the_policies_is_vetoed_and_never_merged(cycle_repo: Path) -> None:
    _human_branch(cycle_repo, "loosen", "policies/risk.toml", "", "# looser\n")
    result = review_branch(cycle_repo, OPTIONS, branch="loosen", title="Loosen the limits")
    [risk] = result.verdicts
    assert risk.verdict == "veto" and not result.approved
    messages = [f["message"] for f in risk.record["findings"]]
    assert any("policies/risk.toml is protected" in m and "a human maintainer" in m
               for m in messages), messages


def test_a_branch_behind_main_is_refused_with_the_fix(cycle_repo: Path) -> None:
    _human_branch(cycle_repo, "old-idea", "strategy/tunables.py",
                  "CASH_BUFFER = 0.10", "CASH_BUFFER = 0.12")
    (cycle_repo / "notes.md").write_text("main moves on\n")
    git(cycle_repo, "add", "notes.md")
    git(cycle_repo, "commit", "-qm", "main moves on")
    with pytest.raises(CycleError, match=r"does not contain main's head .* \(`git rebase main "
                                          r"old-idea`"):
        review_branch(cycle_repo, OPTIONS, branch="old-idea")
    with pytest.raises(CycleError, match="there is no branch 'nosuch'"):
        review_branch(cycle_repo, OPTIONS, branch="nosuch")
    assert LocalForge(GitRepo.open(cycle_repo)).list_prs() == []  # nothing was opened
