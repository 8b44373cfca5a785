"""Quant.implement: turn a hypothesis into a branch, a commit and a pull request.

The work happens in a separate ``git worktree`` on ``alphaloop/cNNNN-<slug>``, created
from the base commit; the user's checkout is never touched. Each step is idempotent, so a
resumed cycle finds the branch, the commit (by its ``AlphaLoop-Cycle`` trailer) and the PR
it made before instead of making new ones.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from alphaloop.evaluation.tunables import write_edits
from alphaloop.forge import Forge
from alphaloop.forge.hypothesis import render_block
from alphaloop.records import Hypothesis, Implementation
from alphaloop.repo import GitRepo, Identity
from alphaloop.roles.quant.structural import apply_structural

__all__ = ["branch_name", "implement"]


def branch_name(cycle_id: str, hypothesis: Hypothesis) -> str:
    return f"alphaloop/{cycle_id}-{hypothesis.slug}"


def _pr_body(hypothesis: Hypothesis, cycle_id: str) -> str:
    lines = [f"**Hypothesis.** {hypothesis.statement}", "",
             f"**Rationale.** {hypothesis.rationale}", "",
             f"**Expected effect.** {hypothesis.expected_effect}", ""]
    if hypothesis.edits:
        lines += ["| tunable | main | proposed |", "| --- | --- | --- |"]
        lines += [f"| `{e.name}` | {e.old!r} | {e.new!r} |" for e in hypothesis.edits]
        lines.append("")
    if hypothesis.patch_name:
        lines += [f"Structural change: `{hypothesis.patch_name}` (see the diff).", ""]
    lines.append(render_block(hypothesis.model_dump(mode="json", exclude={"patch"})
                              | {"cycle": cycle_id}))
    return "\n".join(lines)


def _write_change(worktree: Path, hypothesis: Hypothesis) -> None:
    if hypothesis.kind == "parameters":
        write_edits(worktree, hypothesis.edits)
        return
    if hypothesis.patch:
        done = subprocess.run(
            ["git", "apply", "--whitespace=nowarn", "-"], cwd=worktree,
            input=hypothesis.patch.encode(), capture_output=True, check=False)
        if done.returncode != 0:
            raise ValueError(f"the patch of {hypothesis.slug} does not apply: "
                             f"{done.stderr.decode().strip()}")
        return
    apply_structural(worktree, hypothesis.patch_name or "")


def implement(repo: GitRepo, forge: Forge, hypothesis: Hypothesis, *, cycle_id: str,
              base_branch: str, base_sha: str, identity: Identity) -> Implementation:
    branch = branch_name(cycle_id, hypothesis)
    worktree = repo.create_worktree(branch, base_sha)
    head = repo.branch_sha(branch) or base_sha
    if head == base_sha:
        if repo.is_dirty(cwd=worktree):  # a change half-written by a killed run: start over
            repo.git("reset", "--hard", "--quiet", base_sha, cwd=worktree)
            repo.git("clean", "-d", "--force", "--quiet", cwd=worktree)
        _write_change(worktree, hypothesis)
        message = (f"{hypothesis.headline}\n\n{hypothesis.description}\n\n"
                   f"AlphaLoop-Cycle: {cycle_id}\nAlphaLoop-Hypothesis: {hypothesis.key}\n")
        head = repo.commit_all(worktree, message, identity)
    pr = forge.open_pr(title=f"[{cycle_id}] {hypothesis.headline}"[:120],
                       body=_pr_body(hypothesis, cycle_id), head_branch=branch,
                       base_branch=base_branch, author_role="quant",
                       labels=("alphaloop", f"hypothesis:{hypothesis.kind}"))
    return Implementation(branch=branch, base_sha=base_sha, head_sha=head,
                          pr_number=pr.number, changed_files=repo.changed_files(base_sha, head))
