"""The vocabulary every stage of a cycle shares: its records, the search's trials and
what the ledger's history says.

This package sits low: it imports nothing of AlphaLoop above the harness's comparison
records, so the cycle, the roles, the reports and the audit all speak it without
importing one another. Field names are part of the ledger format (``docs/ledger.md``):
add fields, never rename them.
"""

from alphaloop.records.history import CycleHistory, TrialHistory, read_history
from alphaloop.records.stages import (
    STAGE_MODELS,
    STAGE_ORDER,
    Claim,
    CycleSummary,
    EngineerFinding,
    EngineerReviewRecord,
    Escalation,
    FoldScore,
    Hypothesis,
    Implementation,
    MergeRecord,
    OtherReviewRecord,
    Outcome,
    ParamEdit,
    PerformanceReview,
    PlanRecord,
    QADiscardedTest,
    QAKeptTest,
    QAMutant,
    QAReviewRecord,
    QATestResult,
    ReportRecord,
    ReviewRecord,
    RiskReviewRecord,
    RunMetrics,
    Stage,
    TaskRef,
    record_model,
    review_stage,
    role_title,
)
from alphaloop.records.trial import Trial, point_key

__all__ = [
    "STAGE_MODELS",
    "STAGE_ORDER",
    "Claim",
    "CycleHistory",
    "CycleSummary",
    "EngineerFinding",
    "EngineerReviewRecord",
    "Escalation",
    "FoldScore",
    "Hypothesis",
    "Implementation",
    "MergeRecord",
    "OtherReviewRecord",
    "Outcome",
    "ParamEdit",
    "PerformanceReview",
    "PlanRecord",
    "QADiscardedTest",
    "QAKeptTest",
    "QAMutant",
    "QAReviewRecord",
    "QATestResult",
    "ReportRecord",
    "ReviewRecord",
    "RiskReviewRecord",
    "RunMetrics",
    "Stage",
    "TaskRef",
    "Trial",
    "TrialHistory",
    "point_key",
    "read_history",
    "record_model",
    "review_stage",
    "role_title",
]
