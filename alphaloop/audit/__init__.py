"""The audit trail: the bot's journal of what it committed, and the cross-check of ledger,
git history, journal and forge behind ``alphaloop audit verify``."""

from alphaloop.audit.journal import Journal, JournalLine
from alphaloop.audit.keys import bot_key
from alphaloop.audit.verify import AuditFinding, AuditReport, verify_repository

__all__ = ["AuditFinding", "AuditReport", "Journal", "JournalLine", "bot_key",
           "verify_repository"]
