"""The digest identifies the exact bytes of the policies a review applied."""

from __future__ import annotations

import hashlib
from pathlib import Path

from alphaloop.policy import (
    OPTIONAL_POLICY_FILES,
    POLICY_FILES,
    Policies,
    load_policies,
    policies_digest,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_digest_is_stable_and_matches_every_entry_point(policies: Policies) -> None:
    again = load_policies(REPO_ROOT)
    assert policies.digest == again.digest == policies_digest(REPO_ROOT)
    assert policies_digest(policies) == policies.digest
    assert len(policies.digest) == 64


def test_file_digests_are_sha256_of_each_file(policies: Policies) -> None:
    files = (*POLICY_FILES.values(), *OPTIONAL_POLICY_FILES.values())
    assert set(policies.file_digests) == {f"policies/{n}" for n in files}
    for label, digest in policies.file_digests.items():
        assert digest == hashlib.sha256((REPO_ROOT / label).read_bytes()).hexdigest()


def test_any_byte_changes_the_digest(policy_copy: Path) -> None:
    before = policies_digest(policy_copy)
    merge = policy_copy / "policies/merge.toml"
    merge.write_text(merge.read_text() + "\n# a comment\n")
    after = load_policies(policy_copy)
    assert after.digest != before
    assert after.merge.method == "squash"  # same meaning, different version
