"""Running cycles: the checks before the start, the lock, error translation, resume,
progress and ``--dry-run``.

``run_cycles`` first runs the :mod:`~alphaloop.cycle.preflight` checks (options,
profile, data source, policies, the repository's state), so a mistake stops it with a
:class:`~alphaloop.cycle.preflight.PreflightError` before anything is written; a
cycle's context that cannot be built (data too short for the windows, no sandbox, ...)
stops it the same way. It then holds the repository's cycle lock for the whole run, so a
second ``alphaloop cycle`` on the same repository stops with a clear message. Any later
failure is turned into a :class:`~alphaloop.cycle.options.CycleError` naming the
problem; the stages finished so far stay in the run store, and a ``failure`` record says
where it stopped, so ``--resume`` picks up from there (or ``--abandon`` closes it, see
:mod:`~alphaloop.cycle.abandon`). ``main`` and the user's files are left as they were.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alphaloop.cycle.context import CycleContext, build_context
from alphaloop.cycle.lock import CycleLock, CycleLocked
from alphaloop.cycle.machine import CycleRunner, StageEvent
from alphaloop.cycle.options import CycleError, CycleOptions
from alphaloop.cycle.preflight import PreflightError, changed_options, preflight
from alphaloop.cycle.progress import CycleProgress, stage_line
from alphaloop.deploy import live_window
from alphaloop.errors import Failure
from alphaloop.records import CycleSummary, Outcome, Stage, role_title
from alphaloop.roles import HypothesisSource

__all__ = ["dry_run", "run_cycles"]

_EXPECTED = (Failure,)  # every failure's message says what to do: no traceback
_STOP_AFTER = (Outcome.IDLE, Outcome.NO_HYPOTHESIS, Outcome.FAILED, Outcome.NOT_MERGEABLE)


class _Terminated(BaseException):
    """SIGTERM arrived: unwinds the cycle through every ``with`` and ``finally`` block."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While running, SIGTERM stops the cycle the way an error would: temporary folders
    removed, the lock released, the finished stages kept for ``--resume``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    except _Terminated:
        raise CycleError("stopped by SIGTERM; the finished stages are kept: run "
                         "`alphaloop cycle --resume` to finish the cycle, or `alphaloop "
                         "cycle --abandon` to close it") from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_options(ctx: CycleContext, options: CycleOptions) -> None:
    """Record the options a cycle starts with; refuse to resume it with other ones (a
    resumed cycle must not mix, say, two datasets in one ledger entry)."""
    current = options.model_dump(mode="json")
    recorded = ctx.run_store.load("options")
    if recorded is None:
        ctx.run_store.save("options", current)
        return
    changed = changed_options(recorded, current)
    if changed:
        raise PreflightError(f"{ctx.cycle_id} was started with other options: {changed}; "
                             "resume it with the options it started with")


class _StageWatch:
    """Turns the runner's "stage starts" events into started and finished events: a
    stage has finished when the next one starts, or when the run returns."""

    def __init__(self, runner: CycleRunner, progress: CycleProgress,
                 on_stage: StageEvent | None) -> None:
        self.runner, self.progress, self.on_stage = runner, progress, on_stage
        self.current: str | None = None

    def __call__(self, stage: str, note: str) -> None:
        self.finish()
        self.current = stage
        self.progress.stage_started(stage)
        if self.on_stage is not None:
            self.on_stage(stage, note)

    def finish(self) -> None:
        stage, self.current = self.current, None
        if stage is not None:
            self.progress.stage_finished(stage, self.runner.timings.get(stage, 0.0),
                                         stage_line(stage, self.runner.records.get(stage)))


def _context(path: Path, options: CycleOptions, *, resume: bool,
             workdir: Path) -> CycleContext:
    """The cycle's context; a problem found while building it (nothing is written yet)
    is a :class:`PreflightError`."""
    try:
        return build_context(path, options, resume=resume, workdir=workdir)
    except PreflightError:
        raise
    except CycleError as exc:
        raise PreflightError(str(exc)) from None


def _one(path: Path, options: CycleOptions, *, resume: bool, on_stage: StageEvent | None,
         hypothesis_source: HypothesisSource | None, scratch: Path,
         progress: CycleProgress, position: tuple[int, int]) -> CycleSummary:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="alphaloop-inputs-", dir=scratch) as inputs:
        ctx = _context(path, options, resume=resume, workdir=Path(inputs))
        if hypothesis_source is not None:
            _replace_search(ctx, hypothesis_source)
        runner = CycleRunner(ctx)
        watch = _StageWatch(runner, progress, on_stage)
        runner.on_stage = watch
        try:
            _check_options(ctx, options)
        except CycleError:
            ctx.evaluator.close()
            raise
        progress.cycle_started(*position, ctx.cycle_id)
        try:
            summary = runner.run()
            watch.finish()
        except (*_EXPECTED, OSError) as exc:  # OSError: a full disk, a missing folder
            stage = next((s for s in runner.stages if ctx.run_store.load(s) is None),
                         Stage.REPORT.value)
            with contextlib.suppress(OSError):  # the disk may be full
                ctx.run_store.save("failure", {"stage": stage, "error": type(exc).__name__,
                                               "message": str(exc)})
            raise CycleError(f"{ctx.cycle_id} stopped in {stage}: {exc}\nThe finished "
                             "stages are kept; fix the problem and run `alphaloop cycle "
                             "--resume`, or close the cycle with `alphaloop cycle "
                             "--abandon`.") from None
        finally:
            ctx.evaluator.close()
        ctx.run_store.clear()
        shutil.rmtree(ctx.evaluator.cache_dir / "scratch", ignore_errors=True)
        progress.cycle_finished(ctx.cycle_id, time.monotonic() - started)
        return summary


def _replace_search(ctx: CycleContext, source: HypothesisSource) -> None:
    proposer = ctx.team.proposer
    if not hasattr(proposer, "search"):
        raise CycleError(f"the proposer {proposer.role!r} has no search to replace; a "
                         "replayed hypothesis needs the Quant as the proposer")
    proposer.search = source  # type: ignore[attr-defined]  # checked above


def run_cycles(path: Path, options: CycleOptions, *, count: int = 1, resume: bool = False,
               on_stage: StageEvent | None = None,
               hypothesis_source: HypothesisSource | None = None,
               progress: CycleProgress | None = None) -> list[CycleSummary]:
    """Run ``count`` cycles in a row (the first one resumed if asked).

    ``hypothesis_source`` replaces the Quant's search (same keyword arguments as
    :func:`~alphaloop.roles.quant.hypothesize.choose_hypothesis`), e.g. to replay a
    hypothesis a human wrote. ``progress`` hears which cycle and stage run, and a line
    per finished stage. Raises :class:`PreflightError` for a mistake found before the
    first stage, :class:`CycleError` for a failure after it.
    """
    progress = progress or CycleProgress()
    checked = preflight(path, options, resume=resume)
    for warning in checked.warnings:
        progress.warning(warning)
    repo = checked.repo
    summaries: list[CycleSummary] = []
    try:
        with _sigterm_unwinds(), CycleLock(repo.common_dir):
            scratch = repo.alphaloop_dir / "tmp"  # under the lock: only a killed run's
            shutil.rmtree(scratch, ignore_errors=True)  # leftovers can be in it
            scratch.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                summary = _one(path, options, resume=resume and index == 0,
                               on_stage=on_stage, hypothesis_source=hypothesis_source,
                               scratch=scratch, progress=progress,
                               position=(index + 1, count))
                summaries.append(summary)
                if summary.outcome in _STOP_AFTER:
                    break
    except CycleLocked as exc:
        raise PreflightError(str(exc)) from None
    return summaries


def dry_run(path: Path, options: CycleOptions) -> str:
    """What the next cycle would do: task, review of main and hypothesis. Writes nothing
    to git (backtests land in the cache under ``.git/alphaloop/cache``)."""
    checked = preflight(path, options, dry_run=True)
    with tempfile.TemporaryDirectory(prefix="alphaloop-inputs-") as inputs:
        ctx = _context(path, options, resume=True, workdir=Path(inputs))
        runner = CycleRunner(ctx)
        try:
            runner.run(stop_after=Stage.HYPOTHESIS, persist=False)
        except _EXPECTED as exc:
            raise CycleError(str(exc)) from None
        finally:
            ctx.evaluator.close()
        return "\n".join([*(f"Warning: {w}" for w in checked.warnings),
                          _describe_dry_run(ctx, runner)])


def _deploy_line(ctx: CycleContext) -> str:
    """What the SRE would do with a merge: the live bars it would trade."""
    if ctx.team.deployer is None:
        return "deploy: off (policies/deploy.toml after_merge = false)"
    window = live_window(ctx.market, ctx.clock, ctx.policies.deploy.deploy.live_days)
    if window is None:
        return "deploy: a merge would wait for bars after the clock (none in the data yet)"
    return f"deploy: a merge would paper-trade {window.start} .. {window.end}"


def _describe_dry_run(ctx: CycleContext, runner: CycleRunner) -> str:
    lines = [f"Dry run of {ctx.cycle_id} on {ctx.base_branch} ({ctx.base_sha[:10]}), "
             f"data {ctx.data.source} to {ctx.clock}",
             f"  in-sample {ctx.windows.in_sample.start} .. {ctx.windows.in_sample.end}, "
             f"held out {ctx.windows.holdout.start} .. {ctx.windows.holdout.end}",
             f"  sandbox: {ctx.sandbox.isolation.describe()}",
             f"  {_deploy_line(ctx)}"]
    plan = runner.records[Stage.PLAN]
    for escalation in plan.escalations:
        lines.append(f"  PM would escalate {escalation.task_id} "
                     f"(after {escalation.describe()})")
    if plan.task is None:
        lines.append(f"  PM: nothing to do ({plan.reason})")
        return "\n".join(lines)
    lines.append(f"  PM would pick {plan.task.id}: {plan.task.title}")
    review = runner.records[Stage.QUANT_REVIEW]
    m = review.metrics
    lines.append(f"  Quant review of main (in-sample): Sharpe {m.sharpe:.2f}, "
                 f"max drawdown {m.max_drawdown:.1%}, walk-forward reward "
                 f"{review.reward:.3f}")
    lines += [f"    - {note}" for note in review.diagnosis]
    hypothesis = runner.records.get(Stage.HYPOTHESIS)
    if hypothesis is None:
        lines.append("  Quant: no untried hypothesis near main")
    else:
        reviewers = ", ".join(role_title(r) for r in ctx.team.reviewer_roles)
        lines.append(f"  Quant would propose: {hypothesis.statement}")
        lines.append(f"    on branch alphaloop/{ctx.cycle_id}-{hypothesis.slug}; "
                     f"{reviewers} would then review it")
    return "\n".join(lines)
