"""``alphaloop pr``: read, approve, merge and close the pull requests of the local forge.

The forge and git are imported when a command runs, not with this module, so
``alphaloop --help`` starts without them.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from alphaloop.cli._errors import fail, stderr
from alphaloop.cli._forge_option import ForgeChoice, ForgeOption
from alphaloop.errors import Failure

if TYPE_CHECKING:
    from alphaloop.forge import Forge, PullRequest, Review
    from alphaloop.policy import Policies
    from alphaloop.records import Hypothesis
    from alphaloop.repo import GitRepo, Identity

__all__ = ["register"]

RepoOption = Annotated[Path, typer.Option("--repo", help="repository to work on")]
StateChoice = Literal["open", "merged", "closed", "all"]


def register(app: typer.Typer) -> None:
    group = typer.Typer(name="pr", no_args_is_help=True,
                        help="Pull requests and reviews of AlphaLoop's forge (kept in git).")
    group.command("list")(list_prs)
    group.command("open")(open_pr)
    group.command("show")(show)
    group.command("diff")(diff)
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


def _open(path: Path, kind: ForgeChoice = ForgeChoice.local) -> tuple[GitRepo, Forge]:
    from alphaloop.forge import LocalForge
    from alphaloop.forge.open import open_forge
    from alphaloop.repo import GitRepo

    repo = GitRepo.open(path)
    if kind is ForgeChoice.local:
        forge = LocalForge(repo)
        forge.require()
        return repo, forge
    try:
        approvers = _policies_at(repo, "HEAD").merge.approvers
    except Failure:  # no usable policies here: no person's approval counts (the stricter side)
        approvers = ()
    return repo, open_forge(repo, kind.value, approvers=approvers)


def _head(forge: Forge, pr: PullRequest) -> str | None:
    from alphaloop.forge import ForgeError

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


def _review_rows(reviews: list[Review], head: str | None, valid: set[int], *,
                 shown_above: str | None = None) -> Table:
    """Every review of the PR: who, verdict, on which commit, whether it still counts.

    The summary of ``shown_above`` (a reviewer whose review is shown in full above) is
    not repeated.
    """
    table = Table(title="Reviews", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("#", "reviewer", "verdict", "sev", "commit", "counts"):
        table.add_column(column, no_wrap=True)
    table.add_column("summary", ratio=1, min_width=12)
    for review in reviews:
        findings = f" [dim]({len(review.findings)} findings)[/]" if review.findings else ""
        who = f" (human: {review.approved_by})" if review.approved_by else (
            " (human)" if review.human else "")
        summary = ("[dim](above)[/]" if review.reviewer == shown_above else
                   escape(_clip(review.summary)) + findings)
        table.add_row(
            str(review.id), escape(review.reviewer + who),
            review.verdict, str(review.severity), review.commit_sha[:10],
            _counts(review, head, valid), summary,
        )
    return table


def _valid_ids(forge: Forge, pr: PullRequest, head: str | None) -> set[int]:
    return {r.id for r in forge.valid_reviews(pr)} if head else set()


def list_prs(repo: RepoOption = Path("."),
             state: Annotated[StateChoice, typer.Option(help="which PRs to list")] = "open",
             as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
             forge_kind: ForgeOption = ForgeChoice.local) -> None:
    """List pull requests (open ones by default)."""
    with _failures("list"):
        _, forge = _open(repo, forge_kind)
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


def _cycle_of(repo: GitRepo, number: int) -> dict[str, Any] | None:
    """The records of the cycle that opened PR ``number``: its ledger entry (newest
    first), or the run store of a cycle still running; None when neither has it."""
    from alphaloop.cycle.ledger import Ledger, LedgerError, RunStore

    def opened_it(records: dict[str, Any]) -> bool:
        return (records.get("implement") or {}).get("pr_number") == number

    try:
        entries = Ledger(repo.work_tree).entries()
    except LedgerError:
        entries = []
    for entry in reversed(entries):
        if opened_it(entry.records):
            return entry.envelope()
    for cid in reversed(RunStore.in_progress(repo.common_dir)):
        with contextlib.suppress(LedgerError):
            records = RunStore(repo.common_dir, cid).records()
            if opened_it(records):
                return {"cycle_id": cid, "records": records, "in_progress": True}
    return None


def _hypothesis(pr: PullRequest, cycle: dict[str, Any] | None) -> dict[str, Any] | None:
    """The hypothesis as the cycle recorded it, else the PR body's block (or None)."""
    from alphaloop.forge import HypothesisBlockError

    recorded = (cycle or {}).get("records", {}).get("hypothesis")
    if recorded:
        return dict(recorded)
    try:
        return pr.hypothesis
    except HypothesisBlockError:
        return None


def _facts(pr: PullRequest, head: str | None, cycle: dict[str, Any] | None) -> list[str]:
    state = pr.state + (f": {_clip(pr.closed_reason, 60)}" if pr.closed_reason else "")
    facts = [
        ("state", state),
        ("branch", f"{pr.head_branch} -> {pr.base_branch}"),
        ("head", head or "(branch no longer exists)"),
        ("author", f"{pr.author_role}; labels {', '.join(pr.labels) or '-'}"),
        ("opened", f"{_when(pr.created_at)}, updated {_when(pr.updated_at)}"),
    ]
    if pr.merge_sha:
        facts.append(("merged", f"as {pr.merge_sha[:10]}"))
    if cycle is not None:
        note = " (still running)" if cycle.get("in_progress") else ""
        facts.append(("cycle", f"{cycle['cycle_id']}{note}: alphaloop ledger show "
                               f"{cycle['cycle_id']}"))
    return [f"  {key:<7} {escape(value)}" for key, value in facts]


def _clip(text: str, chars: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[:chars - 1] + "…"


def _risk_part(cycle: dict[str, Any] | None, reviews: list[Review]) -> RenderableType | None:
    """Risk's verdict and figures from the cycle's record, else its review on the forge."""
    from alphaloop.cli._cycle_view import findings_table, risk_view
    from alphaloop.records import RiskReviewRecord

    if cycle is not None and cycle["records"].get("risk_review"):
        from alphaloop.report.history import CycleEntry

        entry = CycleEntry.from_envelope({"cycle_id": cycle["cycle_id"], "records": {
            "risk_review": cycle["records"]["risk_review"]}})
        review: RiskReviewRecord | None = entry.risk_review
        if review is not None:
            return risk_view(review)
    posted = [r for r in reviews if r.reviewer == "risk"]
    if not posted:
        return None
    last = posted[-1]
    severe = [f for f in last.findings if int(f.get("severity", 0)) >= 2]
    head = Text.from_markup(
        f"[bold]Risk:[/] {last.verdict} (severity {last.severity}) on {last.commit_sha[:10]}: "
        f"{escape(last.summary)} [dim](its figures are in the ledger once the cycle is "
        f"recorded)[/]")
    if not severe:
        return head
    return Group(head, findings_table(severe, title="Findings of severity 2 or more"))


def _other_parts(reviews: list[Review], head: str | None) -> list[RenderableType]:
    """Every other bot reviewer's latest review of the head: verdict, and its findings
    that are not a pass (file and line where they have them)."""
    from alphaloop.cli._cycle_view import findings_table
    from alphaloop.records import role_title

    latest: dict[str, Review] = {}
    for review in reviews:
        if not review.human and review.reviewer != "risk" and review.commit_sha == head:
            latest[review.reviewer] = review
    parts: list[RenderableType] = []
    for role, review in latest.items():
        colour = "green" if review.verdict == "approve" else "red"
        line = Text.from_markup(
            f"[bold]{escape(role_title(role))}:[/] [{colour}]"
            f"{review.verdict.replace('_', ' ')}[/] (severity {review.severity}) on "
            f"{review.commit_sha[:10]}: {escape(_clip(review.summary, 160))}")
        shown = [f for f in review.findings
                 if int(f.get("severity", 0)) >= 1 and f.get("check") != "qa.report"]
        parts.append(Group(line, findings_table(shown, title="Findings")) if shown else line)
    return parts


def show(number: Annotated[int, typer.Argument(help="PR number")],
         repo: RepoOption = Path("."),
         as_json: Annotated[bool, typer.Option(
             "--json", help="print the full record as JSON")] = False,
         forge_kind: ForgeOption = ForgeChoice.local) -> None:
    """Show one pull request: state, branch, the hypothesis, Risk's figures and findings
    (severity 2 and up first), every review. `alphaloop pr diff N` shows the change."""
    from alphaloop.cli._cycle_view import hypothesis_view
    from alphaloop.forge import strip_block

    with _failures("show"):
        git_repo, forge = _open(repo, forge_kind)
        pr = forge.get_pr(number)
        head = _head(forge, pr)
        reviews = forge.reviews(number)
        valid = _valid_ids(forge, pr, head)
        cycle = _cycle_of(git_repo, number)
        hypothesis = _hypothesis(pr, cycle)
        if as_json:
            typer.echo(json.dumps({
                "pull_request": pr.model_dump(mode="json"), "head_sha": head,
                "hypothesis": hypothesis, "cycle": cycle,
                "reviews": [{**r.model_dump(mode="json"), "valid": r.id in valid}
                            for r in reviews]}, indent=2))
            return
        out = Console()
        out.print(f"[bold]#{pr.number} {escape(pr.title)}[/]", highlight=False)
        for line in _facts(pr, head, cycle):
            out.print(line, highlight=False)
        out.print()
        try:  # the hypothesis once; a body without a full one is shown as written
            out.print(hypothesis_view(_known_fields(hypothesis or {})))
        except ValidationError:
            out.print(strip_block(pr.body) or "(no description)", highlight=False,
                      markup=False)
            if hypothesis is not None:
                out.print(Text.assemble(("Hypothesis: ", "bold"),
                                        str(hypothesis.get("statement", "(no statement)"))))
        risk = _risk_part(cycle, reviews)
        if risk is not None:
            out.print()
            out.print(risk)
        for part in _other_parts(reviews, head):
            out.print()
            out.print(part)
        out.print()
        if reviews:
            out.print(_review_rows(reviews, head, valid,
                                   shown_above="risk" if risk is not None else None))
        else:
            out.print("No reviews yet.")
        out.print(f"[dim]The change: alphaloop pr diff {number}; everything: "
                  f"alphaloop pr show {number} --json[/]", highlight=False)


def _known_fields(hypothesis: dict[str, Any]) -> Hypothesis:
    """The hypothesis model of a PR block (which may carry more keys, e.g. the cycle)."""
    from alphaloop.records import Hypothesis

    return Hypothesis.model_validate({k: v for k, v in hypothesis.items()
                                      if k in Hypothesis.model_fields})


def diff(number: Annotated[int, typer.Argument(help="PR number")],
         repo: RepoOption = Path("."),
         stat: Annotated[bool, typer.Option("--stat", help="only the files and the "
                                                          "lines changed")] = False,
         forge_kind: ForgeOption = ForgeChoice.local) -> None:
    """The PR's change against its base, as `git diff BASE...HEAD` shows it."""
    from alphaloop.forge import ForgeError

    with _failures("diff"):
        git_repo, forge = _open(repo, forge_kind)
        pr = forge.get_pr(number)
        head = _head(forge, pr)
        if head is None:
            cycle = _cycle_of(git_repo, number) or {}
            head = (cycle.get("records", {}).get("implement") or {}).get("head_sha")
        if head is None:
            raise ForgeError(f"branch {pr.head_branch!r} of #{number} no longer exists and "
                             f"no cycle recorded its head commit: there is no diff to show")
        colour = "--color=always" if sys.stdout.isatty() else "--color=never"
        args = ["diff", colour, *(["--stat"] if stat else []), f"{pr.base_branch}...{head}"]
        shown = git_repo.git(*args)
    raw = getattr(sys.stdout, "buffer", None)
    if raw is None:
        typer.echo(shown.text)
        return
    raw.write(shown.stdout)  # git's bytes as git wrote them
    raw.flush()


def _git_identity(repo: GitRepo) -> str | None:
    name, email = repo.config_get("user.name"), repo.config_get("user.email")
    if not name and not email:
        return None
    return f"{name or '?'} <{email or '?'}>"


def _reviewer_name(repo: GitRepo, name: str | None) -> str:
    from alphaloop.forge import ForgeError
    from alphaloop.roles.charter import ROLE_NAMES

    chosen = (name or repo.config_get("user.name") or "").strip()
    if not chosen:
        raise ForgeError("who is approving? Pass --as NAME or set `git config user.name`.")
    if chosen.lower() in ROLE_NAMES:
        raise ForgeError(f"{chosen!r} is the name of one of AlphaLoop's roles; a human "
                         f"approval must carry the person's own name (--as NAME).")
    return chosen


def open_pr(branch: Annotated[str, typer.Argument(help="branch with the change")],
            title: Annotated[str, typer.Option(help="what the change does")],
            repo: RepoOption = Path("."),
            body: Annotated[str, typer.Option(help="why, for the reviewers")] = "",
            base: Annotated[str, typer.Option(help="branch it merges into")] = "main",
            forge_kind: ForgeOption = ForgeChoice.local) -> None:
    """Put BRANCH on the forge as a pull request; review it with `alphaloop review`."""
    from alphaloop.forge import ForgeError, LocalForge
    from alphaloop.repo import GitRepo

    with _failures("open"):
        git_repo = GitRepo.open(repo)
        # the first pull request creates the local forge
        forge = LocalForge(git_repo) if forge_kind is ForgeChoice.local \
            else _open(repo, forge_kind)[1]
        if not git_repo.branch_exists(branch):
            raise ForgeError(f"there is no branch {branch!r}; list them with `git branch`.")
        if not title.strip():
            raise ForgeError("give the pull request a title (--title) saying what it does.")
        known = {pr.number for pr in forge.list_prs(state="open")}
        pr = forge.open_pr(title=title.strip(), body=body, head_branch=branch,
                           base_branch=base, author_role="human")
        said = "already open as" if pr.number in known else "opened"
        Console().print(f"{escape(branch)} -> {escape(base)}: {said} PR #{pr.number}. Review "
                        f"it with `alphaloop review --pr {pr.number}`.", highlight=False)


def approve(number: Annotated[int, typer.Argument(help="PR number")],
            repo: RepoOption = Path("."),
            as_: Annotated[str | None, typer.Option(
                "--as", help="your name (default: git config user.name)")] = None,
            comment: Annotated[str | None, typer.Option(help="why you approve")] = None,
            forge_kind: ForgeOption = ForgeChoice.local) -> None:
    """Approve the PR's current head commit as a human (void once the branch moves)."""
    with _failures("approve"):
        git_repo, forge = _open(repo, forge_kind)
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
    from alphaloop.policy import OPTIONAL_POLICY_FILES, POLICY_FILES, load_policies
    from alphaloop.repo import GitError

    with tempfile.TemporaryDirectory(prefix="alphaloop-policies-") as scratch:
        folder = Path(scratch) / "policies"
        folder.mkdir()
        for filename in (*POLICY_FILES.values(), *OPTIONAL_POLICY_FILES.values()):
            with contextlib.suppress(GitError):  # a missing file is named by load_policies
                (folder / filename).write_bytes(repo.read_file(rev, f"policies/{filename}"))
        return load_policies(scratch)


def _merger(repo: GitRepo) -> Identity:
    from alphaloop.forge import ForgeError
    from alphaloop.repo import Identity

    name, email = repo.config_get("user.name"), repo.config_get("user.email")
    if not name or not email:
        raise ForgeError("the merge commit needs your identity: set `git config user.name` "
                         "and `git config user.email`, then merge again.")
    return Identity(name=name, email=email)


def merge(number: Annotated[int, typer.Argument(help="PR number")],
          repo: RepoOption = Path("."),
          forge_kind: ForgeOption = ForgeChoice.local) -> None:
    """Merge the PR if the merge gate allows it; otherwise print why not (exit 1)."""
    from alphaloop.cycle.gate import GateDecision, merge_through_gate
    from alphaloop.repo import Identity

    with _failures("merge"):
        git_repo, forge = _open(repo, forge_kind)
        pr = forge.get_pr(number)
        out = Console()
        if pr.state == "merged":
            out.print(f"#{number} is already merged as {pr.merge_sha}.", highlight=False)
            return
        policies = _policies_at(git_repo, pr.base_branch)
        # on GitHub, GitHub commits the squash; the policy's committer names the gate
        committer = policies.merge.committer
        identity = _merger(git_repo) if forge_kind is ForgeChoice.local else \
            Identity(name=committer.name, email=committer.email)

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
                how = f"`alphaloop pr approve {number}`" if forge_kind is ForgeChoice.local \
                    else "an approving review on GitHub (by a login in approvers)"
                err.print(f"A person can approve this commit with {how}.", highlight=False)
            raise typer.Exit(1)
        out.print(f"Merged #{number} into {pr.base_branch} as {result.merge_sha[:10]}.",
                  highlight=False)
        for note in result.notes:
            out.print(f"({escape(note)})", highlight=False)


def close(number: Annotated[int, typer.Argument(help="PR number")],
          repo: RepoOption = Path("."),
          reason: Annotated[str | None, typer.Option(help="why it is closed")] = None,
          forge_kind: ForgeOption = ForgeChoice.local) -> None:
    """Close a pull request without merging it."""
    with _failures("close"):
        _, forge = _open(repo, forge_kind)
        if forge.get_pr(number).state == "closed":
            Console().print(f"#{number} is already closed.")
            return
        forge.update_pr(number, state="closed", closed_reason=reason or "closed by hand")
        Console().print(f"Closed #{number}" + (f": {escape(reason)}" if reason else "."),
                        highlight=False)
