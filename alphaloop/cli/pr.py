"""``alphaloop pr``: read, approve, merge and close the pull requests of the local forge."""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.json import JSON
from rich.markup import escape
from rich.table import Table

from alphaloop.cli._errors import fail, stderr
from alphaloop.errors import Failure
from alphaloop.forge import (
    ForgeError,
    HypothesisBlockError,
    LocalForge,
    PullRequest,
    Review,
    strip_block,
)
from alphaloop.repo import GitError, GitRepo, Identity

if TYPE_CHECKING:
    from alphaloop.policy import Policies

__all__ = ["register"]

RepoOption = Annotated[Path, typer.Option("--repo", help="repository to work on")]
StateChoice = Literal["open", "merged", "closed", "all"]


def register(app: typer.Typer) -> None:
    group = typer.Typer(name="pr", no_args_is_help=True,
                        help="Pull requests and reviews of AlphaLoop's forge (kept in git).")
    group.command("list")(list_prs)
    group.command("show")(show)
    group.command("approve")(approve)
    group.command("merge")(merge)
    group.command("close")(close)
    app.add_typer(group, name="pr")


@contextlib.contextmanager
def _failures(command: str) -> Iterator[None]:
    """Turn the library's refusals into a red message on stderr and exit status 1."""
    try:
        yield
    except Failure as error:
        raise fail(f"pr {command}", str(error)) from None


def _open(path: Path) -> tuple[GitRepo, LocalForge]:
    repo = GitRepo.open(path)
    forge = LocalForge(repo)
    forge.require()
    return repo, forge


def _head(forge: LocalForge, pr: PullRequest) -> str | None:
    try:
        return forge.head_sha(pr)
    except ForgeError:
        return None


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _counts(review: Review, head: str | None, valid: set[int]) -> str:
    if review.id in valid:
        return "[green]valid: on head[/]"
    if head is not None and review.is_bound_to(head):
        return "[red]ignored: not signed by this bot[/]"
    return "[yellow]void: older commit[/]"


def _review_rows(reviews: list[Review], head: str | None, valid: set[int]) -> Table:
    table = Table(title="Reviews", title_justify="left")
    for column in ("#", "reviewer", "verdict", "severity", "commit", "counts", "summary"):
        table.add_column(column)
    for review in reviews:
        findings = f" [dim]({len(review.findings)} findings)[/]" if review.findings else ""
        who = f" (human: {review.approved_by})" if review.approved_by else (
            " (human)" if review.human else "")
        table.add_row(
            str(review.id), escape(review.reviewer + who),
            review.verdict, str(review.severity), review.commit_sha[:10],
            _counts(review, head, valid), escape(review.summary) + findings,
        )
    return table


def _valid_ids(forge: LocalForge, pr: PullRequest, head: str | None) -> set[int]:
    return {r.id for r in forge.valid_reviews(pr)} if head else set()


def list_prs(repo: RepoOption = Path("."),
             state: Annotated[StateChoice, typer.Option(help="which PRs to list")] = "open",
             as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """List pull requests (open ones by default)."""
    with _failures("list"):
        _, forge = _open(repo)
        prs = forge.list_prs(state=None if state == "all" else state)
        if as_json:
            typer.echo(json.dumps([pr.model_dump(mode="json") for pr in prs], indent=2))
            return
        if not prs:
            Console().print(f"No {'' if state == 'all' else state + ' '}pull requests.")
            return
        table = Table(title=f"Pull requests ({state})")
        for column in ("#", "state", "title", "branch", "author", "labels", "head",
                       "valid reviews"):
            table.add_column(column, overflow="fold")
        for pr in prs:
            head = _head(forge, pr)
            valid = forge.valid_reviews(pr) if head else []
            table.add_row(str(pr.number), pr.state, escape(pr.title),
                          escape(f"{pr.head_branch} -> {pr.base_branch}"),
                          escape(pr.author_role), escape(", ".join(pr.labels)),
                          head[:10] if head else "(branch gone)",
                          escape(", ".join(f"{r.reviewer}:{r.verdict}" for r in valid)) or "-")
        Console().print(table)


def show(number: Annotated[int, typer.Argument(help="PR number")],
         repo: RepoOption = Path("."),
         as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Show one pull request: state, head, labels, hypothesis and reviews."""
    with _failures("show"):
        _, forge = _open(repo)
        pr = forge.get_pr(number)
        head = _head(forge, pr)
        reviews = forge.reviews(number)
        valid = _valid_ids(forge, pr, head)
        if as_json:
            typer.echo(json.dumps({
                "pull_request": pr.model_dump(mode="json"), "head_sha": head,
                "reviews": [{**r.model_dump(mode="json"), "valid": r.id in valid}
                            for r in reviews]}, indent=2))
            return
        out = Console()
        out.print(f"[bold]#{pr.number} {escape(pr.title)}[/]", highlight=False)
        facts = [
            ("state", pr.state + (f" ({pr.closed_reason})" if pr.closed_reason else "")),
            ("branch", f"{pr.head_branch} -> {pr.base_branch}"),
            ("head", head or "(branch no longer exists)"),
            ("author", pr.author_role), ("labels", ", ".join(pr.labels) or "-"),
            ("opened", _when(pr.created_at)), ("updated", _when(pr.updated_at)),
        ]
        if pr.merge_sha:
            facts.append(("merged as", pr.merge_sha))
        for key, value in facts:
            out.print(f"  {key:<9} {escape(value)}", highlight=False)
        prose = strip_block(pr.body)
        if prose:
            out.print()
            out.print(prose, highlight=False, markup=False)
        try:
            hypothesis = pr.hypothesis
        except HypothesisBlockError as error:
            out.print(f"\n[yellow]Hypothesis block unreadable:[/] {escape(str(error))}")
        else:
            if hypothesis is not None:
                out.print("\n[bold]Hypothesis[/]")
                out.print(JSON.from_data(hypothesis))
        out.print()
        if reviews:
            out.print(_review_rows(reviews, head, valid))
        else:
            out.print("No reviews yet.")


def _git_identity(repo: GitRepo) -> str | None:
    name, email = repo.config_get("user.name"), repo.config_get("user.email")
    if not name and not email:
        return None
    return f"{name or '?'} <{email or '?'}>"


def _reviewer_name(repo: GitRepo, name: str | None) -> str:
    from alphaloop.roles.charter import ROLE_NAMES

    chosen = (name or repo.config_get("user.name") or "").strip()
    if not chosen:
        raise ForgeError("who is approving? Pass --as NAME or set `git config user.name`.")
    if chosen.lower() in ROLE_NAMES:
        raise ForgeError(f"{chosen!r} is the name of one of AlphaLoop's roles; a human "
                         f"approval must carry the person's own name (--as NAME).")
    return chosen


def approve(number: Annotated[int, typer.Argument(help="PR number")],
            repo: RepoOption = Path("."),
            as_: Annotated[str | None, typer.Option(
                "--as", help="your name (default: git config user.name)")] = None,
            comment: Annotated[str | None, typer.Option(help="why you approve")] = None) -> None:
    """Approve the PR's current head commit as a human (void once the branch moves)."""
    with _failures("approve"):
        git_repo, forge = _open(repo)
        reviewer = _reviewer_name(git_repo, as_)
        pr = forge.get_pr(number)
        head = forge.head_sha(pr)
        forge.add_review(number, reviewer=reviewer, commit_sha=head, verdict="approve",
                         human=True, summary=comment or f"approved by {reviewer}",
                         approved_by=_git_identity(git_repo) or reviewer)
        Console().print(f"Approved #{number} at {head[:10]} as {escape(reviewer)}. The "
                        f"approval holds for this commit only; it is void if the branch moves.",
                        highlight=False)


def _policies_at(repo: GitRepo, rev: str) -> Policies:
    """The policies as committed at ``rev`` (uncommitted edits cannot loosen the gate)."""
    from alphaloop.policy import POLICY_FILES, load_policies

    with tempfile.TemporaryDirectory(prefix="alphaloop-policies-") as scratch:
        folder = Path(scratch) / "policies"
        folder.mkdir()
        for filename in POLICY_FILES.values():
            with contextlib.suppress(GitError):  # a missing file is named by load_policies
                (folder / filename).write_bytes(repo.read_file(rev, f"policies/{filename}"))
        return load_policies(scratch)


def _merger(repo: GitRepo) -> Identity:
    name, email = repo.config_get("user.name"), repo.config_get("user.email")
    if not name or not email:
        raise ForgeError("the merge commit needs your identity: set `git config user.name` "
                         "and `git config user.email`, then merge again.")
    return Identity(name=name, email=email)


def merge(number: Annotated[int, typer.Argument(help="PR number")],
          repo: RepoOption = Path(".")) -> None:
    """Merge the PR if the merge gate allows it; otherwise print why not (exit 1)."""
    from alphaloop.cycle.gate import GateDecision, merge_through_gate

    with _failures("merge"):
        git_repo, forge = _open(repo)
        pr = forge.get_pr(number)
        out = Console()
        if pr.state == "merged":
            out.print(f"#{number} is already merged as {pr.merge_sha}.", highlight=False)
            return
        policies = _policies_at(git_repo, pr.base_branch)
        identity = _merger(git_repo)

        def message(decision: GateDecision) -> str:
            approvals = ", ".join(sorted({r.reviewer for r in forge.valid_reviews(pr)
                                          if r.verdict == "approve"}))
            return (f"{pr.title} (#{number})\n\nMerged by {identity.name} through the merge "
                    f"gate; approved on {decision.head_sha[:10]} by {approvals}.")

        result = merge_through_gate(git_repo, forge, number, policies, message=message,
                                    identity=identity)
        decision = result.decision
        for note in decision.ignored_reviews if decision else ():
            stderr().print(f"[yellow]warning:[/] {escape(note)}", highlight=False)
        if result.merge_sha is None and decision is not None:
            err = stderr()
            err.print(f"[red]#{number} may not merge at {decision.head_sha[:10]}:[/]")
            for reason in decision.reasons:
                err.print(f"  - {escape(reason)}", highlight=False)
            if decision.needs_human and not decision.human_approved:
                err.print(f"A person can approve this commit with `alphaloop pr approve "
                          f"{number}`.", highlight=False)
            raise typer.Exit(1)
        out.print(f"Merged #{number} into {pr.base_branch} as {result.merge_sha[:10]}.",
                  highlight=False)
        for note in result.notes:
            out.print(f"({escape(note)})", highlight=False)


def close(number: Annotated[int, typer.Argument(help="PR number")],
          repo: RepoOption = Path("."),
          reason: Annotated[str | None, typer.Option(help="why it is closed")] = None) -> None:
    """Close a pull request without merging it."""
    with _failures("close"):
        _, forge = _open(repo)
        if forge.get_pr(number).state == "closed":
            Console().print(f"#{number} is already closed.")
            return
        forge.update_pr(number, state="closed", closed_reason=reason or "closed by hand")
        Console().print(f"Closed #{number}" + (f": {escape(reason)}" if reason else "."),
                        highlight=False)
