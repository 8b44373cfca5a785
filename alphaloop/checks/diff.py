"""The files a change touches, read from git with their modes (``git diff --raw``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from alphaloop.repo import GitRepo

__all__ = ["ChangedFile", "changed_files"]

REGULAR_MODES = frozenset({"100644", "100755"})
_MODE_NAMES = {"120000": "symbolic link", "160000": "submodule (gitlink)",
               "040000": "directory", "000000": "absent"}


class ChangedFile(BaseModel):
    """One path that differs between two commits (renames appear as delete + add)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    status: Literal["A", "M", "D", "T"]
    old_mode: str
    new_mode: str

    @property
    def deleted(self) -> bool:
        return self.status == "D"

    @property
    def is_python(self) -> bool:
        return self.path.endswith(".py")

    def odd_mode(self) -> str | None:
        """A description of the new mode when it is not a regular file (deletions: None)."""
        if self.deleted or self.new_mode in REGULAR_MODES:
            return None
        return _MODE_NAMES.get(self.new_mode, f"mode {self.new_mode}")


def changed_files(repo: GitRepo, base_sha: str, head_sha: str) -> list[ChangedFile]:
    """Every path that differs between ``base_sha`` and ``head_sha``, sorted by path."""
    out = repo.git("diff", "--raw", "-z", "--no-renames", "--no-abbrev", "--no-ext-diff",
                   repo.rev_parse(base_sha), repo.rev_parse(head_sha))
    fields = out.nul_fields()
    files: list[ChangedFile] = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=True):
        old_mode, new_mode, _old_sha, _new_sha, status = meta.lstrip(":").split()
        files.append(ChangedFile(path=path, status=status[0], old_mode=old_mode,  # type: ignore[arg-type]
                                 new_mode=new_mode))
    return sorted(files, key=lambda f: f.path)
