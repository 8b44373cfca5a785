"""``alphaloop ledger``: browse every trial the cycles made, from ``ledger/cycles/``.

``alphaloop ledger list`` shows one row per cycle (a cycle tries at most one
hypothesis): cycle, date, task, hypothesis with its edits, outcome, the walk-forward
reward of main and of the branch, Sharpe, max drawdown, the p-value of the paired test
of the claim, and the reasons of a veto. Filter with ``--task``, ``--outcome`` and
``--since`` (a cycle or a date), sort with ``--sort``. ``--json`` prints::

    {"format": "alphaloop-trials/1", "repository": "/path", "trials": [
      {"cycle": "c0001", "number": 1, "date": "2024-05-01", "clock": "2019-12-31",
       "task": "T-001", "outcome": "vetoed", "pr": 1, "branch": "alphaloop/c0001-...",
       "hypothesis": {"key": ..., "kind": "parameters", "title": ..., "statement": ...,
                      "edits": [{"name": ..., "old": ..., "new": ...}],
                      "patch_name": null, "claim": "reward up"},
       "reviews": {"risk": "veto"},
       "figures": {"reward_main": 0.52, "reward_branch": 0.49, "sharpe_main": ...,
                   "sharpe_branch": ..., "max_drawdown_main": ...,
                   "max_drawdown_branch": ..., "holdout_reward_main": ...,
                   "holdout_reward_branch": ..., "test_metric": "reward",
                   "estimate": -0.03, "interval": [-0.08, 0.01], "p_value": 0.91,
                   "deflated_sharpe": ..., "pbo": ..., "holdout_reads": 3},
       "veto_reasons": ["claim not met: ..."]}]}

(``null`` where the ledger records nothing; the shape is documented in
``docs/ledger.md`` and only grows). ``alphaloop ledger show ID`` shows one cycle in full,
or with ``--json`` its ledger entry as stored.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alphaloop.cli._errors import fail
from alphaloop.errors import Failure

if TYPE_CHECKING:
    from alphaloop.cli._trials import TrialRow
    from alphaloop.cycle.ledger import LedgerEntry

__all__ = ["register"]

RepoOption = Annotated[Path, typer.Option("--repo", help="repository whose ledger is read")]
#: Longest veto reason shown in the table (``ledger show`` and ``--json`` have them whole).
REASON_CHARS = 200


def register(app: typer.Typer) -> None:
    group = typer.Typer(name="ledger", no_args_is_help=True,
                        help="Every cycle's trial, from the ledger (ledger/cycles/).")
    group.command("list")(list_trials)
    group.command("show")(show)
    app.add_typer(group, name="ledger")


@contextlib.contextmanager
def _failures(command: str) -> Iterator[None]:
    """The library's refusals and bad filters as one red line, exit status 2."""
    try:
        yield
    except (Failure, ValueError) as error:
        raise fail(f"ledger {command}", str(error), 2) from None


def _entries(repo: Path) -> tuple[Path, list[LedgerEntry]]:
    """The work tree and its ledger's entries, verified (oldest first)."""
    from alphaloop.cycle.ledger import Ledger
    from alphaloop.repo import GitRepo

    root = GitRepo.open(repo).work_tree
    return root, Ledger(root).entries()


def _hypothesis(row: TrialRow) -> str:
    """The hypothesis in a cell: its parameter edits (or its title), and the claim when it
    is not the default one."""
    h = row.hypothesis
    if h is None:
        return "-"
    lines = [f"{e.name} {e.old}→{e.new}" for e in h.edits] or [h.title]
    if h.claim != "reward up":
        lines.append(f"[dim]claim: {escape(h.claim)}[/]")
    return "\n".join(escape(line) if not line.startswith("[dim]") else line
                     for line in lines)


def _pair(main: str, branch: str, tried: bool) -> str:
    """Main's figure, and under it the branch's when the branch was measured."""
    return f"{main}\n→ {branch}" if tried else main


_OUTCOME_STYLE = {"merged": "green", "vetoed": "red", "failed": "red",
                  "escalated": "yellow", "awaiting_human": "yellow"}


def _table(rows: list[TrialRow], repository: Path) -> Table:
    from alphaloop.cli._cycle_view import number, percent

    table = Table(title=f"Trials in {repository} ({len(rows)})", title_justify="left",
                  box=box.SIMPLE_HEAD, caption_justify="left",
                  caption="main's figure, then → the branch's, over the walk-forward folds "
                          "(mean reward and Sharpe of the folds, worst drawdown); p: the "
                          "paired test of the claim over the folds' days")
    table.add_column("cycle\ndate", no_wrap=True)
    table.add_column("outcome\ntask", no_wrap=True)
    table.add_column("hypothesis", overflow="fold", ratio=1, min_width=16)
    for column in ("reward", "Sharpe", "max DD", "p"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        f, tried = row.figures, row.figures.reward_branch is not None
        style = _OUTCOME_STYLE.get(row.outcome, "")
        outcome = f"[{style}]{row.outcome}[/]" if style else row.outcome
        table.add_row(f"{row.cycle}\n[dim]{row.date or '-'}[/]",
                      f"{outcome}\n{escape(row.task or '-')}", _hypothesis(row),
                      _pair(number(f.reward_main), number(f.reward_branch), tried),
                      _pair(number(f.sharpe_main, 2), number(f.sharpe_branch, 2), tried),
                      _pair(percent(f.max_drawdown_main), percent(f.max_drawdown_branch),
                            tried),
                      number(f.p_value), end_section=True)
    return table


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 1] + "…"


def _reasons(rows: list[TrialRow]) -> list[str]:
    """One line per refused trial: its first reason, clipped (show ID has them all)."""
    lines = []
    for row in rows:
        if row.veto_reasons:
            more = len(row.veto_reasons) - 1
            lines.append(f"{row.cycle}: {_clip(row.veto_reasons[0])}"
                         + (f" (+{more} more)" if more else ""))
    return lines


def list_trials(
    repo: RepoOption = Path("."),
    task: Annotated[list[str] | None, typer.Option(
        "--task", help="only these tasks (repeat for more)")] = None,
    outcome: Annotated[list[str] | None, typer.Option(
        "--outcome", help="only these outcomes: merged, vetoed, awaiting_human, "
                          "not_mergeable, escalated, idle, no_hypothesis, failed")] = None,
    since: Annotated[str | None, typer.Option(
        help="from this cycle (c0003) or date (YYYY-MM-DD) on")] = None,
    sort: Annotated[str, typer.Option(
        help="cycle, date, reward, gain (branch - main), sharpe, drawdown, p, outcome, "
             "task")] = "cycle",
    reverse: Annotated[bool, typer.Option("--reverse", help="reverse the order")] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="print the trials as JSON (format alphaloop-trials/1)")] = False,
) -> None:
    """Every trial of every cycle: hypothesis, outcome, key figures, veto reasons."""
    from alphaloop.cli._trials import TRIALS_FORMAT, select_rows, trial_row
    from alphaloop.records import Outcome
    from alphaloop.report.history import load_history

    with _failures("list"):
        unknown = sorted(set(outcome or ()) - {o.value for o in Outcome})
        if unknown:
            raise ValueError(f"unknown outcome {', '.join(unknown)}; use "
                             f"{', '.join(o.value for o in Outcome)}")
        root, entries = _entries(repo)
        rows = [trial_row(e) for e in load_history(e.model_dump(mode="json")
                                                     for e in entries)]
        rows = select_rows(rows, tasks=task or (), outcomes=outcome or (), since=since,
                           sort=sort, reverse=reverse)
    if as_json:
        typer.echo(json.dumps({"format": TRIALS_FORMAT, "repository": str(root),
                               "trials": [r.model_dump(mode="json") for r in rows]},
                              indent=2))
        return
    out = Console()
    if not entries:
        out.print(f"No cycles in the ledger of {root} yet: run `alphaloop cycle`.",
                  highlight=False, soft_wrap=True)
        return
    if not rows:
        out.print(f"None of the {len(entries)} cycles matches the filters.")
        return
    out.print(_table(rows, root))
    reasons = _reasons(rows)
    if reasons:
        out.print("[bold]Veto reasons[/] (alphaloop ledger show CYCLE has every finding)")
        for line in reasons:
            out.print(f"  {escape(line)}", highlight=False)


def show(cycle: Annotated[str, typer.Argument(help="the cycle: c0003 or 3")],
         repo: RepoOption = Path("."),
         as_json: Annotated[bool, typer.Option(
             "--json", help="print the ledger entry as stored")] = False) -> None:
    """One cycle in full: plan, reviews, hypothesis, branch, figures, findings, merge."""
    from alphaloop.cli._cycle_view import cycle_view
    from alphaloop.cycle.ledger import cycle_id
    from alphaloop.report.history import CycleEntry

    with _failures("show"):
        text = cycle.strip().lower().removeprefix("c")
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"{cycle!r} is not a cycle: use c0003 or 3")
        wanted = cycle_id(int(text))
        root, entries = _entries(repo)
        found = [e for e in entries if e.cycle_id == wanted]
        if not found:
            last = entries[-1].cycle_id if entries else None
            raise ValueError(f"the ledger of {root} has no cycle {wanted}"
                             + (f" (it runs from c0001 to {last})" if last else
                                " (it is empty)"))
        envelope = found[0].envelope()
        if as_json:
            typer.echo(json.dumps(envelope, indent=2, sort_keys=True))
            return
        view = cycle_view(CycleEntry.from_envelope(envelope))
    Console().print(view)
    usage = envelope.get("records", {}).get("llm")
    if usage:
        total = usage["total"]
        roles = ", ".join(f"{role} {row['calls']}" for role, row in usage["by_role"].items())
        Console(soft_wrap=True).print(
            f"Model: {usage['provider']} {usage['model']}: {total['calls']} calls "
            f"({roles}), {total['input_tokens']} input and {total['output_tokens']} output "
            f"tokens, ${total['cost_usd']:.6f}", style="dim", highlight=False)
