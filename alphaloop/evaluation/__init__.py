"""Evaluation as a service: sandboxed, cached backtests of a commit's strategy, and the
strategy's declared parameter space.

Not a role: the Quant, Risk and the PM's report all measure strategies through
:class:`Evaluator`, and read the tunables a strategy declares through
:func:`read_param_space`, so no role imports another to do either.
"""

from alphaloop.evaluation.service import EvalSettings, Evaluator, fold_scores, reward, run_metrics
from alphaloop.evaluation.space import ParamSpace, ParamSpec, read_param_space

__all__ = [
    "EvalSettings",
    "Evaluator",
    "ParamSpace",
    "ParamSpec",
    "fold_scores",
    "read_param_space",
    "reward",
    "run_metrics",
]
