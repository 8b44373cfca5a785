"""``alphaloop review``: put any branch or pull request through the cycle's reviewers.

A person's branch gets exactly the reviews the cycle's own changes get (the reviewers
``policies/merge.toml`` requires, on the same data and windows), posted on its pull
request (opened if there is none). The exit code is for CI: 0 every reviewer approved,
1 a reviewer requested changes or vetoed, 2 the review could not run (a mistake in the
options or the repository, or a failure while reviewing).

The cycle and the data are imported when the command runs, not with this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alphaloop.cli._errors import EXIT_USER_ERROR, fail, invalid_options, stderr
from alphaloop.cli._forge_option import ForgeChoice, ForgeOption
from alphaloop.cli._llm_options import (
    BaseURLOption,
    LLMChoice,
    LLMOption,
    MaxCostOption,
    MaxTokensOption,
    ModelOption,
    PriceInOption,
    PriceOutOption,
    ReplayOption,
    llm_config,
)
from alphaloop.cli._research_options import (
    BaseOption,
    DataOption,
    FoldsOption,
    FrequencyOption,
    HoldoutOption,
    ProfileOption,
    SandboxOption,
    UntilOption,
    WarmupOption,
)
from alphaloop.contract import TRADING_DAYS_PER_YEAR
from alphaloop.errors import Failure
from alphaloop.harness.windows import HOLDOUT_DAYS

if TYPE_CHECKING:
    from alphaloop.cycle.review import BranchReview

__all__ = ["register"]

#: The exit code of a review in which some reviewer did not approve.
EXIT_NOT_APPROVED = 1


def register(app: typer.Typer) -> None:
    app.command("review")(review)


def review(
    branch: Annotated[str | None, typer.Argument(help="branch to review")] = None,
    pr: Annotated[int | None, typer.Option("--pr", min=1,
                                           help="review this pull request instead")] = None,
    title: Annotated[str | None, typer.Option(
        help="title of the pull request opened for BRANCH (default: its last commit's "
             "subject)")] = None,
    repo: Annotated[Path, typer.Option(help="repository to work on")] = Path("."),
    data: DataOption = "synthetic",
    until: UntilOption = None,
    profile: ProfileOption = "default",
    frequency: FrequencyOption = "weekly",
    holdout_days: HoldoutOption = HOLDOUT_DAYS,
    folds: FoldsOption = 4,
    warmup_days: WarmupOption = TRADING_DAYS_PER_YEAR,
    base: BaseOption = None,
    sandbox: SandboxOption = "process",
    llm: LLMOption = LLMChoice.offline,
    model: ModelOption = None,
    llm_base_url: BaseURLOption = None,
    llm_replay: ReplayOption = False,
    max_cost_usd: MaxCostOption = None,
    llm_max_tokens: MaxTokensOption = 4096,
    llm_price_in: PriceInOption = None,
    llm_price_out: PriceOutOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the verdicts as JSON")]
    = False,
    forge: ForgeOption = ForgeChoice.local,
) -> None:
    """Review BRANCH (or --pr N) with Risk and every reviewer the merge policy requires."""
    from alphaloop.cycle import CycleOptions
    from alphaloop.cycle.review import review_branch
    from alphaloop.records import role_title

    if (branch is None) == (pr is None):
        raise fail("review", "name one branch to review, or pass --pr N (not both)",
                   EXIT_USER_ERROR)
    try:
        options = CycleOptions(data=data, until=until.date() if until else None,
                               profile=profile, frequency=frequency,
                               holdout_days=holdout_days, n_folds=folds,
                               warmup_days=warmup_days, base_branch=base,
                               sandbox=sandbox,
                               forge=forge.value)
    except ValidationError as exc:
        raise fail("review", invalid_options(exc), EXIT_USER_ERROR) from None
    options = options.model_copy(update={"llm": llm_config(
        "review", llm=llm, model=model, base_url=llm_base_url, replay=llm_replay,
        max_cost_usd=max_cost_usd, max_tokens=llm_max_tokens, price_in=llm_price_in,
        price_out=llm_price_out)})
    progress = stderr()
    try:
        result = review_branch(repo, options, branch=branch, pr_number=pr, title=title,
                               on_role=lambda role: progress.print(
                                   f"{role_title(role)}: reviewing ...", highlight=False))
    except Failure as exc:
        raise fail("review", str(exc), EXIT_USER_ERROR) from None
    if as_json:
        typer.echo(result.model_dump_json(indent=2, exclude={"verdicts": {"__all__":
                                                                          {"record"}}}))
    else:
        _print(result)
    if not result.approved:
        raise typer.Exit(EXIT_NOT_APPROVED)


def _print(result: BranchReview) -> None:
    console = Console(soft_wrap=True)
    opened = "opened for this review" if result.opened else "updated"
    console.print(f"PR #{result.pr_number} ({escape(result.branch)} -> "
                  f"{escape(result.base_branch)}), {opened}; head {result.head_sha[:10]}",
                  highlight=False)
    table = Table(show_edge=False, pad_edge=False)
    for column in ("reviewer", "verdict", "severity", "summary"):
        table.add_column(column)
    for verdict in result.verdicts:
        style = {"approve": "green", "request_changes": "yellow"}.get(verdict.verdict, "red")
        table.add_row(verdict.role, f"[{style}]{verdict.verdict.replace('_', ' ')}[/]",
                      str(verdict.severity), escape(verdict.summary))
    console.print(table)
    state = ("every reviewer approved" if result.approved else
             "not approved: fix what the reviews say and push, then review again")
    console.print(f"{state}. The reviews are on the pull request: `alphaloop pr show "
                  f"{result.pr_number}`.", highlight=False)
