"""The kill-switch's local half: a flag every running service checks between bars.

``alphaloop halt`` records the halt in the deployment ledger (on the base branch, where
every cycle and deploy checks it before starting) and also writes this flag under
``.git/alphaloop/``, so a service already trading in another process stops at its next
bar. ``alphaloop resume`` removes it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["clear_halt", "halt_flag", "read_halt", "write_halt"]


def halt_flag(alphaloop_dir: Path) -> Path:
    return alphaloop_dir / "halt.json"


def write_halt(alphaloop_dir: Path, reason: str, by: str) -> None:
    path = halt_flag(alphaloop_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(f".{os.getpid()}.tmp")
    temp.write_text(json.dumps({"reason": reason, "by": by}), encoding="utf-8")
    temp.replace(path)


def read_halt(alphaloop_dir: Path) -> str | None:
    """Why deployments are halted here, or None."""
    path = halt_flag(alphaloop_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return "halted (the halt flag could not be read)"
    return f"halted by {data.get('by', 'someone')}: {data.get('reason', '')}"


def clear_halt(alphaloop_dir: Path) -> None:
    halt_flag(alphaloop_dir).unlink(missing_ok=True)
