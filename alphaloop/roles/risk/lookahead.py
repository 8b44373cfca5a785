"""Risk's dynamic look-ahead check: decisions must not know the future.

Risk runs the prefix-invariance and oracle tests of
:mod:`alphaloop.evaluation.lookahead` on the in-sample window of every change, with a
seed keyed by the bot's secret; the tests live there so that ``alphaloop check
lookahead`` runs the same code without importing a role. See that module for what each
test does.

    findings = lookahead_findings(evaluator, head_sha, data, window, rules, seed=seed)
"""

from __future__ import annotations

from alphaloop.evaluation.lookahead import (
    lookahead_findings,
    lookahead_seed,
    oracle_finding,
    perturb_future,
    prefix_finding,
    probe_runs,
)

__all__ = [
    "lookahead_findings",
    "lookahead_seed",
    "oracle_finding",
    "perturb_future",
    "prefix_finding",
    "probe_runs",
]
