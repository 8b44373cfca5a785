"""Judge the loop as a researcher would: research up to a cut-off, judge on the years after.

Clones this repository (its committed ``main``) into a temporary directory, runs
``alphaloop cycle --until CUTOFF`` for a number of cycles (the loop never receives a day
after the cut-off), then backtests - in the sandbox, through the trusted harness - the
original ``main``, every merged change and the final ``main`` on the years after the
cut-off, which no role ever saw. Each merged change is compared with the ``main`` it was
merged into by the same paired bootstrap Risk uses (reward, Sharpe, max drawdown), so its
improvement after the cut-off comes with an interval, next to the interval Risk measured
in-sample when it approved it.

    python -m benchmarks.bench_research --data real --cutoff 2019-12-31 --cycles 12 \
        --tasks benchmarks/research_tasks.md --approve
    python -m benchmarks.bench_research --data synthetic --cutoff 2020-12-31 --cycles 12

(run it from the repository's root with ``-m``, so that it imports this tree's
``alphaloop``; the approvals call ``python -m alphaloop`` of the same tree.)

``--tasks FILE`` commits a backlog of the researcher's own as ``task.md`` before the
first cycle (as a person would); ``--approve`` has the researcher approve, after each
cycle, a PR that Risk approved and that waits only for a human (the 20% rule or an
exposure), then merge it through the gate - Risk's verdict is never overridden. Such a
merge happens outside the cycle, so the ledger records the cycle as awaiting a human; the
judge finds the merge on the pull request. A merged change's claim *holds after the
cut-off* when its claimed metric is better there beyond the policy's minimum effect at
95% (one-sided, paired bootstrap).
Writes ``benchmarks/results/research-<name>.md`` and ``.json``; ``--keep DIR`` keeps the
repository the loop worked in.
"""

from __future__ import annotations

import argparse
import collections
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from alphaloop.cycle import CycleOptions, Outcome
from alphaloop.cycle.ledger import Ledger
from alphaloop.cycle.run import run_cycles
from alphaloop.data import open_source
from alphaloop.evaluation import EvalSettings, Evaluator
from alphaloop.forge import LocalForge
from alphaloop.harness import Window
from alphaloop.harness.compare import compare_paired
from alphaloop.policy import load_policies
from alphaloop.repo import GitRepo
from alphaloop.sandbox import open_sandbox

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
REAL = (ROOT.parent / "shared" / "data" / "real-multiasset"
        / "real_multiasset_long.csv").resolve()
DATA = {"real": f"file:{REAL}", "synthetic": "synthetic"}
METRICS = ("reward", "sharpe", "max_drawdown")
#: Who approves a PR the merge policy sends to a person (``--approve``).
RESEARCHER = "Researcher"


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:+.{digits}f}"


def _interval(comparison: dict[str, Any] | None, metric: str) -> str:
    if not comparison:
        return "n/a"
    m = comparison["metrics"][metric]
    return f"{m['estimate']:+.3f} [{m['ci_low']:+.3f}, {m['ci_high']:+.3f}] p {m['p_superior']:.3f}"


def _veto_reasons(risk: dict[str, Any]) -> list[str]:
    """The checks that vetoed (severity 2 or 3)."""
    return sorted({f["check"] for f in risk.get("findings", []) if f.get("severity", 0) >= 2})


def _alphaloop(*args: str) -> subprocess.CompletedProcess[str]:
    """``alphaloop ARGS`` of this tree (not whichever copy is installed)."""
    return subprocess.run([sys.executable, "-m", "alphaloop", *args], cwd=ROOT, check=False,
                          capture_output=True, text=True)


def _approve_and_merge(repo: Path, number: int) -> dict[str, Any]:
    """The researcher approves a PR Risk approved that waits only for a human, and merges
    it through the gate (which still requires Risk's signed approval of the head).

    Returns what happened: ``approved`` and ``merged`` (bool) and the commands' output.
    """
    forge = LocalForge(GitRepo.open(repo))
    reviews = forge.review_check(forge.get_pr(number))
    if not any(r.reviewer == "risk" and r.verdict == "approve" for r in reviews.valid):
        return {"pr": number, "approved": False, "merged": False,
                "output": "Risk did not approve the head commit: not approved"}
    approve = _alphaloop("pr", "approve", str(number), "--repo", str(repo), "--as", RESEARCHER,
                         "--comment", "Risk approved the change; the merge policy asks a "
                         "person for this move")
    merge = _alphaloop("pr", "merge", str(number), "--repo", str(repo))
    return {"pr": number, "approved": approve.returncode == 0,
            "merged": merge.returncode == 0,
            "output": " ".join((approve.stdout + approve.stderr + merge.stdout
                                + merge.stderr).split())}


def _merge_of(forge: LocalForge, records: dict[str, Any]) -> tuple[str | None, str]:
    """The commit a cycle's change was merged as, and by whom (``cycle`` or ``human``)."""
    merge = records.get("merge") or {}
    if merge.get("merged"):
        return merge["merge_sha"], "cycle"
    number = (records.get("implement") or {}).get("pr_number")
    if number is not None:
        pr = forge.get_pr(int(number))
        if pr.state == "merged" and pr.merge_sha:
            return pr.merge_sha, "human"
    return None, ""


def run(args: argparse.Namespace) -> dict[str, Any]:
    spec = DATA.get(args.data, args.data)
    cutoff = date.fromisoformat(args.cutoff)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="alphaloop-research-") as tmp:
        options = CycleOptions(data=spec, until=cutoff)
        summaries: list[Any] = []
        approvals: list[dict[str, Any]] = []
        if args.judge:  # judge a repository a previous run kept, without running the loop
            repo_path = args.judge
            repo = GitRepo.open(repo_path)
            entries = [e.model_dump(mode="json") for e in Ledger(repo_path).entries()]
            baseline = entries[0]["records"]["plan"]["base_sha"]
        else:
            repo_path = Path(tmp) / "repo"
            subprocess.run(["git", "clone", "-q", str(ROOT), str(repo_path)], check=True)
            repo = GitRepo.open(repo_path)
            for key, value in (("user.name", RESEARCHER),
                               ("user.email", "researcher@localhost")):
                subprocess.run(["git", "-C", str(repo_path), "config", key, value], check=True)
            if args.tasks:
                shutil.copy(args.tasks, repo_path / "task.md")
                subprocess.run(["git", "-C", str(repo_path), "commit", "-q", "-am",
                                "Research backlog"], check=True)
            baseline = repo.branch_sha("main")
            assert baseline is not None
            for _ in range(args.cycles):
                [summary] = run_cycles(repo_path, options)
                summaries.append(summary)
                if (args.approve and summary.outcome == Outcome.AWAITING_HUMAN
                        and summary.pr_number is not None):
                    approvals.append(_approve_and_merge(repo_path, summary.pr_number))
                if summary.outcome in (Outcome.IDLE, Outcome.NO_HYPOTHESIS, Outcome.FAILED,
                                       Outcome.NOT_MERGEABLE):
                    break
            entries = [e.model_dump(mode="json") for e in Ledger(repo_path).entries()]
        loop_s = time.perf_counter() - started
        final = repo.branch_sha("main")
        assert final is not None

        full = open_source(spec).load()
        last = full.dates[-1].date()
        end = min(last, cutoff + timedelta(days=round(365.25 * args.after_years)))
        after = Window(start=cutoff + timedelta(days=1), end=end, label="after-cutoff")
        policies = load_policies(repo_path)
        lam = policies.risk.process.reward_lambda
        tests = policies.risk.improvement
        forge = LocalForge(repo)
        evaluator = Evaluator(repo, open_sandbox("process"),
                              EvalSettings(profile=options.profile, frequency=options.frequency,
                                           reward_lambda=lam),
                              cache_dir=Path(tmp) / "cache")
        judged: list[dict[str, Any]] = []
        try:
            def after_returns(sha: str) -> tuple[np.ndarray, np.ndarray]:
                result = evaluator.backtest(sha, full, after)
                return np.asarray(result.returns), np.asarray(result.turnover)

            def compare(head: str, base: str) -> dict[str, Any]:
                b, bt = after_returns(head)
                m, mt = after_returns(base)
                return compare_paired(b, m, branch_turnover=bt, main_turnover=mt,
                                      reward_lambda=lam, min_effect=tests.min_effect,
                                      margin=tests.margin, n_resamples=tests.n_resamples,
                                      seed=tests.seed, window="after-cutoff").model_dump(
                                          mode="json")

            for entry in entries:
                records = entry["records"]
                merged, merged_by = _merge_of(forge, records)
                if merged is None:
                    continue
                parent = repo.git("rev-parse", f"{merged}^1").text
                risk = records.get("risk_review") or {}
                judged.append({
                    "cycle": entry["cycle_id"],
                    "title": (records.get("hypothesis") or {}).get("title")
                    or (records.get("hypothesis") or {}).get("statement"),
                    "claim": (risk.get("claim") or {}), "merged_by": merged_by,
                    "edits": (records.get("hypothesis") or {}).get("edits", []),
                    "in_sample": risk.get("walk_forward_test"),
                    "holdout": risk.get("holdout_test"),
                    "after_cutoff": compare(merged, parent),
                })
            vetoed: list[dict[str, Any]] = []
            for entry in entries:  # would the vetoed changes have helped after the cut-off?
                records = entry["records"]
                risk = records.get("risk_review") or {}
                impl = records.get("implement") or {}
                if risk.get("verdict") != "veto" or not impl.get("head_sha"):
                    continue
                vetoed.append({
                    "cycle": entry["cycle_id"],
                    "title": (records.get("hypothesis") or {}).get("title")
                    or (records.get("hypothesis") or {}).get("statement"),
                    "checks": _veto_reasons(risk), "claim": risk.get("claim") or {},
                    "in_sample": risk.get("walk_forward_test"),
                    "after_cutoff": compare(impl["head_sha"], impl["base_sha"])})
            same = repo.tree_hash(final) == repo.tree_hash(baseline)
            overall = None if same else compare(final, baseline)
            after_metrics = {}
            for label, sha in (("baseline", baseline), ("final", final)):
                result = evaluator.backtest(sha, full, after)
                after_metrics[label] = result.metrics.model_dump(mode="json")
        finally:
            evaluator.close()
        if args.keep and not args.judge:
            shutil.copytree(repo_path, args.keep, symlinks=True, dirs_exist_ok=True)
    outcomes = collections.Counter((e["records"].get("summary") or {}).get("outcome")
                                   for e in entries)
    vetoes: collections.Counter[str] = collections.Counter()
    cycles = []
    for entry in entries:
        records = entry["records"]
        risk = records.get("risk_review") or {}
        summary = records.get("summary") or {}
        reasons = _veto_reasons(risk) if risk.get("verdict") == "veto" else []
        vetoes.update(reasons)
        human = next((m for m in judged if m["cycle"] == entry["cycle_id"]
                      and m["merged_by"] == "human"), None)
        cycles.append({"cycle": entry["cycle_id"], "outcome": summary.get("outcome"),
                       "task": summary.get("task_id"), "hypothesis": summary.get("hypothesis"),
                       "pr": summary.get("pr_number"), "merged_by_human": human is not None,
                       "veto_checks": reasons, "message": summary.get("message", "")})
    return {
        "data": args.data, "spec": spec, "cutoff": str(cutoff), "after": [str(after.start),
                                                                          str(after.end)],
        "cycles_asked": args.cycles, "cycles_run": len(summaries) or len(entries),
        "stopped_early": (summaries[-1].message if len(summaries) < args.cycles and summaries
                          else None),
        "outcomes": dict(outcomes), "veto_checks": dict(vetoes), "cycles": cycles,
        "human_approvals": approvals, "tasks": str(args.tasks) if args.tasks else "task.md",
        "note": args.note, "merged": judged, "vetoed": vetoed, "final_vs_baseline": overall,
        "after_metrics": after_metrics,
        "loop_seconds": round(loop_s, 1), "total_seconds": round(time.perf_counter() - started, 1),
        "machine": f"Python {platform.python_version()}, {platform.platform()}",
    }


def _holds(comparison: dict[str, Any] | None, metric: str) -> str:
    """Whether ``metric`` is better beyond its minimum effect at 95% (one-sided)."""
    if not comparison:
        return "n/a"
    m = comparison["metrics"][metric]
    if m["superior"]:
        return "yes"
    better = m["estimate"] > 0 if m["higher_is_better"] else m["estimate"] < 0
    return "better, not significantly" if better else "no"


def _claim_after(v: dict[str, Any]) -> str:
    """A vetoed change's claimed metric after the cut-off and whether the claim held."""
    metric = (v.get("claim") or {}).get("metric")
    if not metric or metric == "reward":
        return "(the reward)" if metric else "n/a"
    return f"{metric} {_interval(v['after_cutoff'], metric)}: {_holds(v['after_cutoff'], metric)}"


def _approvals(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The researcher's approvals (older reports list PR numbers only)."""
    return [a if isinstance(a, dict) else {"pr": a, "approved": True, "merged": None,
                                           "output": ""}
            for a in report["human_approvals"]]


def _short(text: str, limit: int = 90) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, marked when cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " ..."


def _cycle_row(c: dict[str, Any]) -> str:
    outcome = c["outcome"] or ""
    if c.get("merged_by_human"):
        outcome = f"{outcome}, then merged by the researcher (#{c['pr']})"
    why = ", ".join(f"`{v}`" for v in c["veto_checks"]) or _short(c["message"])
    return (f"| {c['cycle']} | {outcome} | {c['task'] or ''} | "
            f"{(c['hypothesis'] or '').replace('|', '/')} | {why.replace('|', '/')} |")


def _merged_section(m: dict[str, Any]) -> list[str]:
    claim = m["claim"] or {}
    metric = claim.get("metric")
    claim_text = f"{metric} {claim.get('direction')}" if claim else "n/a"
    who = ("merged by the cycle" if m.get("merged_by") != "human" else
           "Risk approved it; the merge policy asked a person (a move beyond its autonomy "
           "limit), the researcher approved and merged it through the gate")
    metrics = [metric] if metric and metric not in METRICS else []
    lines = [f"### {m['cycle']}: {m['title']}", "",
             f"Claim: {claim_text} ({claim.get('source', '')}); {who}.", "",
             "| metric | walk-forward (in-sample) | held-out | after the cut-off |",
             "| --- | --- | --- | --- |"]
    for name in (*metrics, *METRICS):
        lines.append(f"| {name} | {_interval(m['in_sample'], name)} | "
                     f"{_interval(m['holdout'], name)} | "
                     f"{_interval(m['after_cutoff'], name)} |")
    if metric:
        lines += ["", f"Claim holds after the cut-off ({metric} better beyond its minimum "
                  f"effect at 95%): **{_holds(m['after_cutoff'], metric)}**."]
    return [*lines, ""]


def render(report: dict[str, Any]) -> str:
    lines = [f"# Research benchmark: `{report['data']}` data, cut-off {report['cutoff']}", "",
             f"The loop ran `alphaloop cycle --until {report['cutoff']}` on `{report['spec']}` "
             f"({report['cycles_run']} of {report['cycles_asked']} cycles asked, "
             f"{report['loop_seconds']:.0f} s). Every merged change and the final `main` were "
             f"then judged on {report['after'][0]} .. {report['after'][1]}, data the loop "
             "never received, with the paired stationary-bootstrap test Risk uses "
             "(95% one-sided bounds; estimate [low, high], p for superiority beyond the "
             "policy's minimum effect). "
             "Produced by `python -m benchmarks.bench_research`.", ""]
    if report.get("note"):
        lines += [report["note"], ""]
    approvals = _approvals(report)
    done = ", ".join(f"#{a['pr']}" for a in approvals if a["approved"])
    lines += [f"Backlog: `{report['tasks']}`. "
              + (f"The researcher approved PR(s) {done} after Risk had approved them and "
                 "the merge policy asked for a human (a tunable moved beyond its 20% "
                 "autonomy limit); Risk's verdict was never overridden." if done else
                 "No PR was approved by a person."), ""]
    if report["stopped_early"]:
        lines += [f"The loop stopped early: {report['stopped_early']}", ""]
    lines += ["## Outcomes", "", "| outcome | cycles |", "| --- | ---: |"]
    lines += [f"| {k} | {v} |" for k, v in sorted(report["outcomes"].items())]
    lines += ["", "Vetoes by the check that vetoed (a veto may name several):", "",
              "| check | vetoes |", "| --- | ---: |"]
    lines += [f"| `{k}` | {v} |" for k, v in sorted(report["veto_checks"].items())] or [
        "| (none) | 0 |"]
    lines += ["", "## Every cycle", "", "| cycle | outcome | task | hypothesis | why |",
              "| --- | --- | --- | --- | --- |"]
    lines += [_cycle_row(c) for c in report["cycles"]]
    lines += ["", "## Merged changes: in-sample (as Risk approved them) and after the cut-off",
              ""]
    if not report["merged"]:
        lines += ["Nothing merged.", ""]
    for m in report["merged"]:
        lines += _merged_section(m)
    lines += ["## Vetoed changes after the cut-off: was the veto right?", "",
              "Each vetoed branch against the `main` it was reviewed against, on the years "
              "after the cut-off (reward: estimate [95% bounds], p for superiority beyond "
              f"the minimum effect, not deflated for the {len(report['vetoed'])} comparisons).",
              "", "| cycle | change | vetoed by | reward in-sample (walk-forward) | reward "
              "after the cut-off | reward better after? | its claim after the cut-off |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for v in report["vetoed"]:
        lines.append(f"| {v['cycle']} | {(v['title'] or '').replace('|', '/')} | "
                     + ", ".join(f"`{c}`" for c in v["checks"])
                     + f" | {_interval(v['in_sample'], 'reward')} | "
                     f"{_interval(v['after_cutoff'], 'reward')} | "
                     f"{_holds(v['after_cutoff'], 'reward')} | {_claim_after(v)} |")
    lines.append("")
    lines += ["## Final `main` against the original `main` after the cut-off", ""]
    overall = report["final_vs_baseline"]
    if overall is None:
        lines += ["`main` did not change.", ""]
    else:
        lines += ["| metric | final - original [interval], p |", "| --- | --- |"]
        lines += [f"| {metric} | {_interval(overall, metric)} |"
                  for metric in (*METRICS, "turnover")]
        lines.append("")
    a = report["after_metrics"]
    lines += ["| after the cut-off | Sharpe | max drawdown | annual return | turnover |",
              "| --- | ---: | ---: | ---: | ---: |"]
    for label in ("baseline", "final"):
        x = a[label]
        lines.append(f"| {label} | {x['sharpe']:.3f} | {x['max_drawdown']:.1%} | "
                     f"{x['annual_return']:.1%} | {x['turnover']:.2f} |")
    lines += ["", "## Each cycle's decision in full", "",
              "The cycle's own summary (Risk's findings with their statistics)"
              + (", and the researcher's approval where there was one" if approvals else "")
              + ".", ""]
    by_pr = {a["pr"]: a for a in approvals}
    for c in report["cycles"]:
        lines.append(f"- **{c['cycle']}** ({c['task'] or 'no task'}): "
                     f"{c['message'].replace('|', '/')}")
        if c.get("pr") in by_pr and by_pr[c["pr"]]["output"]:
            lines.append(f"  Researcher: {by_pr[c['pr']]['output']}")
    lines += ["", f"Machine: {report['machine']}; {report['total_seconds']:.0f} s in all."]
    return "\n".join(lines) + "\n"


def write_results(name: str, report: dict[str, Any], text: str) -> str:
    """Write ``report`` as ``benchmarks/results/research-<name>.json`` and ``text`` as
    ``.md`` beside it; returns ``text``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"research-{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"research-{name}.md").write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="real", help="real, synthetic or a data spec")
    parser.add_argument("--cutoff", default="2019-12-31", help="last day the loop receives")
    parser.add_argument("--cycles", type=int, default=12)
    parser.add_argument("--after-years", type=float, default=3.0,
                        help="years after the cut-off to judge on (bounded by the data)")
    parser.add_argument("--name", default=None, help="results file name (default: the data)")
    parser.add_argument("--tasks", type=Path, default=None, help="a backlog to use as task.md")
    parser.add_argument("--approve", action="store_true",
                        help="approve PRs that Risk approved and wait only for a human")
    parser.add_argument("--keep", type=Path, default=None, help="keep the repository here")
    parser.add_argument("--note", default=None,
                        help="a paragraph for the report: why this run, what to read it with")
    parser.add_argument("--judge", type=Path, default=None,
                        help="only judge the repository a previous run kept (--keep)")
    args = parser.parse_args()
    report = run(args)
    if args.judge:
        previous = RESULTS / f"research-{args.name or args.data}.json"
        if previous.exists():  # keep what the loop itself measured
            old = json.loads(previous.read_text())
            for key in ("cycles_run", "stopped_early", "human_approvals", "tasks",
                        "loop_seconds"):
                report[key] = old.get(key, report[key])
            report["note"] = args.note or old.get("note")
    print(write_results(args.name or args.data, report, render(report)))


if __name__ == "__main__":
    main()
