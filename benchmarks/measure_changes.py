"""Which kinds of change can pass Risk's improvement test at all? Measure before searching.

A research run spends minutes a cycle; this script answers a narrower question cheaply.
It clones this repository's committed ``main``, commits a handful of candidate changes
(tunable edits, or overlays from the structural catalogue) on branches of the clone, and
backtests each - in the sandbox, through the trusted harness, on the data up to the
cut-off only - exactly on the windows a cycle uses: the in-sample run (whose walk-forward
test days Risk compares) and the held-out window. Every candidate is then compared with
``main`` by the paired stationary-bootstrap test of :mod:`alphaloop.harness.compare`,
with the policy's minimum effects, margins, resamples and seed (``policies/risk.toml``).

For each metric a change could claim, the report gives the walk-forward estimate, its
interval and p for superiority, and ``k``: the largest number of distinct trials against
one ``main`` after which the claim still passes Risk's Sidak-deflated test (0: it does not
pass even as the first trial). A change can merge only if, besides its claim, the reward
is non-inferior on the folds and on the held-out window; both are shown.

    python -m benchmarks.measure_changes                       # the default candidates
    python -m benchmarks.measure_changes --only rebalance      # names containing a word
    python -m benchmarks.measure_changes --change REBALANCE_THRESHOLD=0.06 \
        --change "REBALANCE_THRESHOLD=0.06 overlay=trend_filter"   # changes of your own

Writes ``benchmarks/results/research-measure.md`` and ``.json``. It reads nothing after
the cut-off: what it learns may shape the search without leaking the years that judge it.
"""

from __future__ import annotations

import argparse
import math
import platform
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from alphaloop.cycle import CycleOptions
from alphaloop.data import open_source
from alphaloop.evaluation import EvalSettings, Evaluator
from alphaloop.evaluation.tunables import TUNABLES_PATH, apply_edits, read_tunables
from alphaloop.harness import research_windows
from alphaloop.harness.compare import PairedComparison, compare_paired
from alphaloop.policy import load_policies
from alphaloop.records import ParamEdit
from alphaloop.repo import GitRepo
from alphaloop.roles.quant.structural import apply_structural
from alphaloop.roles.risk.improvement import fold_series
from alphaloop.roles.risk.limits import decisions_identical
from alphaloop.sandbox import open_sandbox
from benchmarks.bench_research import DATA, ROOT, write_results

#: The metrics a task's goal may claim, in the order the report shows them.
CLAIMS = ("reward", "sharpe", "max_drawdown", "turnover", "annual_volatility",
          "annual_return", "calmar")


@dataclass(frozen=True)
class Candidate:
    """One change to measure: tunable edits (name -> new value) and/or an overlay."""

    name: str
    edits: dict[str, float | int | str] = field(default_factory=dict)
    overlay: str | None = None


#: Changes of each kind the Quant can propose: the rebalance band across a third of its
#: range, risk-scaling and de-risking moves across a real part of their ranges,
#: conviction, window and cooldown moves, and the catalogue's overlays.
DEFAULT: tuple[Candidate, ...] = (
    *(Candidate(f"rebalance 0.02 -> {v:g}", {"REBALANCE_THRESHOLD": v})
      for v in (0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.1, 0.12)),
    Candidate("vol scaling 1.0 -> 0.5", {"VOLATILITY_SCALING_STRENGTH": 0.5}),
    Candidate("derisk factor 0.25 -> 0.5", {"DRAWDOWN_DERISK_FACTOR": 0.5}),
    Candidate("derisk factor 0.25 -> 0.0", {"DRAWDOWN_DERISK_FACTOR": 0.0}),
    Candidate("expert tilt 0.5 -> 0.2", {"EXPERT_TILT_STRENGTH": 0.2}),
    Candidate("expert tilt 0.5 -> 0.8", {"EXPERT_TILT_STRENGTH": 0.8}),
    Candidate("covariance 252 -> 504 days", {"COVARIANCE_LOOKBACK_DAYS": 504}),
    Candidate("volatility 63 -> 126 days", {"VOLATILITY_LOOKBACK_DAYS": 126}),
    Candidate("momentum 252 -> 378 days", {"MOMENTUM_LOOKBACK_DAYS": 378}),
    Candidate("drawdown cooldown 21 -> 63 days", {"DRAWDOWN_COOLDOWN_DAYS": 63}),
    Candidate("hedge max ratio 0.25 -> 0.0", {"HEDGE_MAX_RATIO": 0.0}),
    Candidate("regime tilt 0.5 -> 1.0", {"REGIME_TILT_STRENGTH": 1.0}),
    Candidate("trend overlay", overlay="trend_filter"),
    Candidate("drawdown brake overlay", overlay="drawdown_brake"),
)


def parse_change(text: str) -> Candidate:
    """``NAME=VALUE ...`` (and ``overlay=NAME``) as a candidate; values as Python reads
    them (``0.06``, ``126``, ``"sample"``)."""
    edits: dict[str, float | int | str] = {}
    overlay = None
    for item in text.split():
        name, _, value = item.partition("=")
        if not value:
            raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {item!r}")
        if name == "overlay":
            overlay = value
            continue
        try:
            edits[name] = int(value) if value.lstrip("-").isdigit() else float(value)
        except ValueError:
            edits[name] = value.strip("\"'")
    return Candidate(text, edits, overlay)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def commit_candidate(repo: Path, base: str, candidate: Candidate, index: int) -> str:
    """Commit ``candidate`` on a branch of ``repo`` from ``base``; its sha."""
    _git(repo, "checkout", "-q", "-B", f"measure/{index:02d}", base)
    if candidate.edits:
        path = repo / TUNABLES_PATH
        source = path.read_text()
        current = read_tunables(source)
        edits = [ParamEdit(name=n, old=current[n], new=v) for n, v in candidate.edits.items()]
        path.write_text(apply_edits(source, edits))
    if candidate.overlay:
        apply_structural(repo, candidate.overlay)
    _git(repo, "add", "-A", "strategy")
    _git(repo, "-c", "user.name=measure", "-c", "user.email=measure@localhost",
         "commit", "-q", "-m", candidate.name)
    return _git(repo, "rev-parse", "HEAD")


def passes_up_to(p_value: float, alpha: float) -> int:
    """The most distinct trials after which ``p_value`` still passes the Sidak-deflated
    level ``1 - (1 - alpha) ** (1 / k)`` (0: not even the first)."""
    if p_value > alpha:
        return 0
    # 1 - (1 - alpha) ** (1 / k) >= p  <=>  k <= log(1 - alpha) / log(1 - p)
    return 10_000 if p_value <= 0 else int(math.log(1 - alpha) / math.log(1 - p_value))


def _summary(wf: PairedComparison, ho: PairedComparison, alpha: float) -> dict[str, Any]:
    claims = {}
    for metric in CLAIMS:
        m = wf.metric(metric)
        claims[metric] = {"estimate": m.estimate, "ci_low": m.ci_low, "ci_high": m.ci_high,
                          "main": m.main, "branch": m.branch, "p_superior": m.p_superior,
                          "passes_up_to": passes_up_to(m.p_superior, alpha)}
    reward, held = wf.metric("reward"), ho.metric("reward")
    return {"claims": claims,
            "reward_noninferior": {"p": reward.p_noninferior, "ok": reward.noninferior},
            "holdout_reward": {"estimate": held.estimate, "ci_low": held.ci_low,
                               "ci_high": held.ci_high, "p": held.p_noninferior,
                               "ok": held.noninferior}}


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    spec = DATA.get(args.data, args.data)
    options = CycleOptions(data=spec, until=date.fromisoformat(args.cutoff))
    data = open_source(spec).load().slice(end=options.until)
    windows = research_windows(data, holdout_days=options.holdout_days,
                               n_folds=options.n_folds, warmup_days=options.warmup_days)
    in_sample = data.slice(end=windows.in_sample.end)
    panels = {"in_sample": (in_sample, windows.in_sample), "holdout": (data, windows.holdout)}
    candidates = list(args.change) or [c for c in DEFAULT if not args.only
                                       or any(word in c.name for word in args.only)]
    cache = args.cache or Path(tempfile.gettempdir()) / "alphaloop-measure-cache"
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="alphaloop-measure-") as tmp:
        repo_path = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo_path)], check=True)
        base = _git(repo_path, "rev-parse", "main")
        policies = load_policies(repo_path)
        tests, lam = policies.risk.improvement, policies.risk.process.reward_lambda
        alpha = 1 - tests.confidence
        evaluator = Evaluator(GitRepo.open(repo_path), open_sandbox("process"),
                              EvalSettings(profile=options.profile,
                                           frequency=options.frequency, reward_lambda=lam),
                              cache_dir=cache)
        try:
            main = {k: evaluator.backtest(base, p, w) for k, (p, w) in panels.items()}
            main_metrics = {k: evaluator.metrics(r, k).model_dump(mode="json")
                            for k, r in main.items()}
            for index, candidate in enumerate(candidates):
                t0 = time.perf_counter()
                sha = commit_candidate(repo_path, base, candidate, index)
                runs = {k: evaluator.backtest(sha, p, w) for k, (p, w) in panels.items()}
                (b_ret, b_to), (m_ret, m_to) = (fold_series(runs["in_sample"], windows.folds),
                                                fold_series(main["in_sample"], windows.folds))
                common = {"reward_lambda": lam, "min_effect": tests.min_effect,
                          "n_resamples": tests.n_resamples, "seed": tests.seed}
                wf = compare_paired(b_ret, m_ret, branch_turnover=b_to, main_turnover=m_to,
                                    margin=tests.margin, confidence=tests.confidence,
                                    window="walk_forward", **common)
                held = runs["holdout"]
                ho = compare_paired(np.asarray(held.returns),
                                    np.asarray(main["holdout"].returns),
                                    branch_turnover=np.asarray(held.turnover),
                                    main_turnover=np.asarray(main["holdout"].turnover),
                                    margin={**tests.margin, "reward": tests.holdout_margin},
                                    confidence=tests.holdout_confidence, window="holdout",
                                    **common)
                rows.append({"name": candidate.name, "edits": candidate.edits,
                             "overlay": candidate.overlay,
                             "identical": {k: decisions_identical(runs[k], main[k])
                                           for k in runs},
                             **_summary(wf, ho, alpha),
                             "seconds": round(time.perf_counter() - t0, 1)})
                print(f"{candidate.name}: {rows[-1]['seconds']} s", flush=True)
        finally:
            evaluator.close()
    return {"data": args.data, "cutoff": args.cutoff, "alpha": alpha,
            "min_effect": dict(tests.min_effect), "in_sample": [str(windows.in_sample.start),
                                                                str(windows.in_sample.end)],
            "holdout": [str(windows.holdout.start), str(windows.holdout.end)],
            "folds": [[str(f.test.start), str(f.test.end)] for f in windows.folds],
            "main": main_metrics, "candidates": rows,
            "seconds": round(time.perf_counter() - started, 1),
            "machine": f"Python {platform.python_version()}, {platform.platform()}"}


def _cell(claim: dict[str, Any]) -> str:
    k = claim["passes_up_to"]
    mark = "" if not k else f" **k<={k}**" if k < 10_000 else " **any k**"
    return f"{claim['estimate']:+.3f} [{claim['ci_low']:+.3f}, {claim['ci_high']:+.3f}] " \
           f"p {claim['p_superior']:.3f}{mark}"


def render(report: dict[str, Any]) -> str:
    shown = ("reward", "sharpe", "max_drawdown", "turnover")
    lines = [f"# Which changes can pass Risk's improvement test? ({report['data']} data, "
             f"cut-off {report['cutoff']})", "",
             f"Each candidate against `main` on the walk-forward test days of the in-sample "
             f"window {report['in_sample'][0]} .. {report['in_sample'][1]} (paired stationary "
             f"bootstrap, the policy's minimum effects, one-sided alpha {report['alpha']:g}), "
             f"and on the held-out window {report['holdout'][0]} .. {report['holdout'][1]}. "
             "Each cell: estimate [95% bounds], p for superiority beyond the minimum effect; "
             "**k<=N**: the claim passes while at most N distinct trials have been made "
             "against this `main` (Risk deflates alpha by Sidak). Nothing after the cut-off "
             "is read. Produced by `python -m benchmarks.measure_changes`.", "",
             "| candidate | " + " | ".join(shown) + " | reward no worse (folds) | "
             "held-out reward (no worse within 0.25) |",
             "| --- | " + " | ".join("---" for _ in shown) + " | --- | --- |"]
    for row in report["candidates"]:
        held = row["holdout_reward"]
        cells = [_cell(row["claims"][m]) for m in shown]
        verdict = ("identical to main there: unconfirmed, a veto" if row["identical"]["holdout"]
                   else "yes" if held["ok"] else "no")
        lines.append(f"| {row['name']} | " + " | ".join(cells)
                     + f" | {'yes' if row['reward_noninferior']['ok'] else 'no'} "
                     f"(p {row['reward_noninferior']['p']:.3f}) | {held['estimate']:+.3f} "
                     f"[{held['ci_low']:+.3f}, {held['ci_high']:+.3f}] {verdict} |")
    main = report["main"]["in_sample"]
    lines += ["", f"`main` in-sample: Sharpe {main['sharpe']:.3f}, max drawdown "
              f"{main['max_drawdown']:.1%}, turnover {main['turnover']:.2f}, reward "
              f"{main['reward']:.3f}.", "",
              f"Machine: {report['machine']}; {report['seconds']:.0f} s in all."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="real", help="real, synthetic or a data spec")
    parser.add_argument("--cutoff", default="2019-12-31", help="last day read")
    parser.add_argument("--only", nargs="*", default=None,
                        help="measure only candidates whose name contains one of these")
    parser.add_argument("--change", type=parse_change, action="append", default=[],
                        help="measure this change instead of the defaults: NAME=VALUE "
                             "pairs and/or overlay=NAME, space-separated (repeatable)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="backtest cache (default: a directory under the temp dir)")
    parser.add_argument("--name", default=None, help="results file suffix (default: measure)")
    args = parser.parse_args()
    report = run(args)
    print(write_results(args.name or "measure", report, render(report)))


if __name__ == "__main__":
    main()
