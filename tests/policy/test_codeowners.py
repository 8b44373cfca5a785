"""CODEOWNERS guards every path the bot never merges."""

from __future__ import annotations

from pathlib import Path

from alphaloop.policy import Policies

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_protected_folder_has_an_owner(policies: Policies) -> None:
    owners: dict[str, list[str]] = {}
    for line in (REPO_ROOT / ".github/CODEOWNERS").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            pattern, *handles = line.split()
            owners[pattern] = handles
    for glob in policies.paths.protected:
        folder = "/" + glob.removesuffix("**")
        assert folder in owners, f"{glob} is protected but CODEOWNERS has no {folder}"
        assert owners[folder] and all(h.startswith("@") for h in owners[folder])
