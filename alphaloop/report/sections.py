"""Parts of ``walkthrough.md`` shown elsewhere, such as a GitHub Actions job summary."""

from __future__ import annotations

import re

__all__ = ["SUMMARY_SECTIONS", "latest_sections"]

#: The walkthrough's sections about the latest cycle, by the start of their heading.
SUMMARY_SECTIONS = ("Needs a human", "Latest cycle")

_HEADING = re.compile(r"^## (.*)$", re.MULTILINE)


def latest_sections(walkthrough: str, wanted: tuple[str, ...] = SUMMARY_SECTIONS) -> str:
    """The ``## `` sections of ``walkthrough`` whose titles start with one of ``wanted``,
    in the order they appear, under the walkthrough's title; a line saying so if none."""
    starts = list(_HEADING.finditer(walkthrough))
    parts: list[str] = []
    for index, match in enumerate(starts):
        if match.group(1).startswith(wanted):
            end = starts[index + 1].start() if index + 1 < len(starts) else len(walkthrough)
            parts.append(walkthrough[match.start():end].rstrip() + "\n")
    if not parts:
        return "# AlphaLoop\n\nThe walkthrough has no cycle to report yet.\n"
    return "# AlphaLoop\n\n" + "\n".join(parts)
