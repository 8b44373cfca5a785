"""The audit trail's cross-check behind ``alphaloop audit verify``: the ledger, git history,
the bot's journal (:mod:`alphaloop.cycle.journal`) and the forge must agree."""

from alphaloop.audit.verify import AuditFinding, AuditReport, verify_repository

__all__ = ["AuditFinding", "AuditReport", "verify_repository"]
