"""The options that say what a cycle researches on, shared so that every command taking
them (``alphaloop cycle``, ``alphaloop review``) reads them alike: the data and its
cut-off, the clock, the strategy profile, the rebalance frequency, the held-out window, the folds,
the warm-up and the base branch."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from alphaloop.harness.config import Frequency
from alphaloop.harness.windows import MIN_HOLDOUT_DAYS

__all__ = ["BaseOption", "ClockOption", "DataOption", "FoldsOption", "FrequencyOption",
           "HoldoutOption", "ProfileOption", "SandboxOption", "UntilOption", "WarmupOption"]

DataOption = Annotated[str, typer.Option(help="data source: synthetic, file:PATH, fmp")]
UntilOption = Annotated[datetime | None, typer.Option(
    formats=["%Y-%m-%d"], help="give the loop the data up to this date (YYYY-MM-DD) only")]
ClockOption = Annotated[datetime | None, typer.Option(
    formats=["%Y-%m-%d"], help="start the loop's clock on this date (YYYY-MM-DD) when no "
                               "deployment has moved it: research sees the data up to it, "
                               "deployments paper-trade the bars after it")]
ProfileOption = Annotated[str, typer.Option(
    help="strategy profile (FinSage: default, conservative or aggressive)")]
FrequencyOption = Annotated[Frequency, typer.Option(
    help="rebalance frequency of the backtests")]
HoldoutOption = Annotated[int, typer.Option(
    min=MIN_HOLDOUT_DAYS, help="trading days held out for Risk (at least "
                               f"{MIN_HOLDOUT_DAYS}, what its paired test needs)")]
FoldsOption = Annotated[int, typer.Option(min=0, help="walk-forward folds in-sample")]
WarmupOption = Annotated[int, typer.Option(min=0, help="history before the first decision")]
SandboxOption = Annotated[str, typer.Option(
    help="where strategy code runs: process (bubblewrap) or docker (hardened containers; "
         "build the images first with `alphaloop sandbox build`)")]
BaseOption = Annotated[str | None, typer.Option(help="branch to improve (default: main)")]
