"""Formatting-only fixes: the Engineer formats the lines a change added, as its own commit.

Only what the format check reports is touched: each run of added lines the formatter
would rewrite is formatted with ``ruff format --range`` (the statements it covers, under
the base's configuration), last run first so earlier line numbers hold; code the change
left alone stays as it is. Before committing, every rewritten file must keep its syntax tree
(:func:`~alphaloop.checks.check_formatting_only`, the rule ``policies/paths.toml`` sets
for the Engineer); otherwise the files are restored and nothing is committed. The
commit is authored by the Engineer's identity and moves the branch, so every review of
the earlier head is void (the forge binds reviews to a commit).
"""

from __future__ import annotations

import subprocess  # nosec B404 - ruff runs with an argument list, never a shell
import sys
from collections import defaultdict
from pathlib import Path

from alphaloop.checks import check_formatting_only
from alphaloop.checks.tools import ruff_config_args
from alphaloop.repo import GitRepo, Identity
from alphaloop.roles.engineer.change import read_change
from alphaloop.roles.engineer.layout import FormatFailure, format_hunks
from alphaloop.roles.engineer.trees import review_trees

__all__ = ["FORMAT_COMMIT_SUBJECT", "format_added_lines"]

FORMAT_COMMIT_SUBJECT = "Format the lines this change adds (ruff format, layout only)"


def _ranges(repo: GitRepo, base: str, head: str, root: Path,
            timeout: float) -> dict[str, list[tuple[int, int]]]:
    change = read_change(repo, base, head)
    ranges: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for hunk in format_hunks(change.python_files, root=root, timeout=timeout):
        added = sorted(n for n in hunk.lines if change.touches(hunk.path, n))
        for line in added:  # runs of consecutive added lines
            spans = ranges[hunk.path]
            if spans and spans[-1][1] == line - 1:
                spans[-1] = (spans[-1][0], line)
            else:
                spans.append((line, line))
    return ranges


def format_added_lines(repo: GitRepo, worktree: Path, base_sha: str, identity: Identity, *,
                       timeout: float) -> str | None:
    """Format what the change checked out in ``worktree`` added unformatted, and commit
    it as ``identity``; the new head, or None when there is nothing to format (or the
    formatter would change more than layout). The worktree must be clean."""
    if repo.is_dirty(cwd=worktree):
        raise FormatFailure(f"{worktree} has uncommitted changes; the Engineer formats "
                            "only a committed head")
    head = repo.git("rev-parse", "HEAD", cwd=worktree).text
    base = repo.rev_parse(base_sha)
    with review_trees(repo, base, head) as trees:
        ranges = _ranges(repo, base, head, trees.head, timeout)
        config = ruff_config_args(trees.head)
        for path, spans in ranges.items():
            for start, end in sorted(spans, reverse=True):
                subprocess.run(  # nosec B603 - fixed argument list, no shell
                    [sys.executable, "-m", "ruff", "format", "--no-cache", *config,
                     "--range", f"{start}-{end + 1}", "--", path],  # end: exclusive
                    cwd=worktree, capture_output=True, timeout=timeout, check=False)
    if not ranges:
        return None
    changes = {path: (repo.read_file(head, path).decode("utf-8", "surrogateescape"),
                      (worktree / path).read_text("utf-8", errors="surrogateescape"))
               for path in ranges}
    if check_formatting_only(changes) or not repo.is_dirty(cwd=worktree):
        repo.git("checkout", "--", *ranges, cwd=worktree)
        return None
    files = ", ".join(sorted(ranges))
    return repo.commit_all(worktree, f"{FORMAT_COMMIT_SUBJECT}\n\nFiles: {files}\n", identity)
