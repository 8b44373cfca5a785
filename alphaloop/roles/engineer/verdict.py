"""From the Engineer's findings to its review record: approve, request changes or ask a
human.

Any finding of severity 2 requests changes (verdict ``veto`` at severity 2, which the
forge shows as "request changes": the change goes back to its author with the findings;
the Engineer never blocks an idea, severity 3 is Risk's). Otherwise a dependency change
asks for a human (the Engineer approves the code at severity 1 and says who must
decide), and anything else is approved. The summary is the review's body in markdown:
a headline, then one ``path:line — rule — message`` line per finding.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from alphaloop.checks import Severity
from alphaloop.records import EngineerFinding, EngineerReviewRecord

__all__ = ["review_record"]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _headline(decision: str, findings: Sequence[EngineerFinding], size: str,
              human_reasons: Sequence[str]) -> str:
    if decision == "request_changes":
        severe = [f for f in findings if f.severity >= Severity.RESTRICT]
        kinds = Counter(f.check.removeprefix("engineer.").replace("_", " ") for f in severe)
        counted = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        return (f"changes requested: {_plural(len(severe), 'finding')} ({counted}) in {size}; "
                "the change goes back to its author")
    if decision == "needs_human":
        return "needs a human: " + "; ".join(human_reasons)
    notes = sum(1 for f in findings if f.severity >= Severity.WARN)
    return f"approved: {size}" + (f", {_plural(notes, 'note')}" if notes else ", no finding")


def review_record(findings: Sequence[EngineerFinding], **fields: Any) -> EngineerReviewRecord:
    """The record for ``findings``; ``fields`` are the record's other fields (``head_sha``,
    ``base_sha``, ``changed_files``, ``lines_added``, ...)."""
    severity = max((int(f.severity) for f in findings), default=0)
    human = [f.message for f in findings if f.needs_human]
    if severity >= Severity.RESTRICT:
        decision, verdict, severity, human = "request_changes", "veto", 2, []
    elif human:
        decision, verdict, severity = "needs_human", "approve", 1
    else:
        decision, verdict = "approve", "approve"
    files = len(fields.get("changed_files", []))
    size = (f"{_plural(files, 'file')}, +{fields.get('lines_added', 0)} "
            f"-{fields.get('lines_deleted', 0)} lines")
    record = EngineerReviewRecord(
        decision=decision, verdict=verdict, severity=severity, human_reasons=human,
        summary=_headline(decision, findings, size, human),
        findings=[f.model_dump(mode="json") for f in findings], **fields)
    return record.model_copy(update={"summary": record.markdown()})
