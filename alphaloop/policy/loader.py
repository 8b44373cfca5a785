"""Loading ``policies/`` into validated models, and the digest a review records."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alphaloop.policy.deploy import DeployPolicy
from alphaloop.policy.engineering import EngineeringPolicy
from alphaloop.policy.errors import PolicyError, describe_validation_error
from alphaloop.policy.imports import ImportPolicy
from alphaloop.policy.merge import MergePolicy
from alphaloop.policy.paths import PathPolicy
from alphaloop.policy.risk import RiskPolicy
from alphaloop.policy.search import SearchPolicy

__all__ = ["OPTIONAL_POLICY_FILES", "POLICY_FILES", "Policies", "load_optional", "load_policies",
           "load_toml", "policies_digest"]

POLICY_DIR = "policies"
POLICY_FILES: dict[str, str] = {
    "risk": "risk.toml",
    "imports": "imports.toml",
    "paths": "paths.toml",
    "merge": "merge.toml",
}
#: Policy files a repository may leave out; without one, its model's defaults apply.
OPTIONAL_POLICY_FILES: dict[str, str] = {
    "search": "search.toml",
    "engineering": "engineering.toml",
    "deploy": "deploy.toml",
}

M = TypeVar("M", bound=BaseModel)


class Policies(BaseModel):
    """The policy files of one repository state, validated.

    ``digest`` is a SHA-256 over the files' exact bytes, so a review can record which
    version of the policies it applied; ``file_digests`` holds one per file.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    risk: RiskPolicy
    imports: ImportPolicy
    paths: PathPolicy
    merge: MergePolicy
    search: SearchPolicy = Field(default_factory=SearchPolicy)
    engineering: EngineeringPolicy = Field(default_factory=EngineeringPolicy)
    deploy: DeployPolicy = Field(default_factory=DeployPolicy)
    digest: str
    file_digests: dict[str, str]


def _read(path: Path, label: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PolicyError(f"{label} is missing; restore it (for example "
                          f"`git checkout main -- {label}`)") from None
    except OSError as exc:
        raise PolicyError(f"{label} cannot be read: {exc}") from exc


def _parse(raw: bytes, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{label} is not UTF-8 text ({exc}); save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{label} is not valid TOML: {exc}; fix the syntax there") from exc


def load_toml(path: Path, *, shown: str | None = None) -> dict[str, Any]:
    """Parse one TOML file; :class:`PolicyError` naming the file when it cannot be read."""
    label = shown or str(path)
    return _parse(_read(path, label), label)


def _validated(model: type[M], data: dict[str, Any], label: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(describe_validation_error(label, exc)) from exc


def load_optional(repo_root: Path, relative: str, model: type[M]) -> M:
    """``model`` read from the optional file ``repo_root/relative``, or its defaults
    without it; :class:`PolicyError` naming the file and the key when it is wrong."""
    path = Path(repo_root) / relative
    if not path.is_file():
        return model()
    return _validated(model, load_toml(path, shown=relative), relative)


def load_policies(repo_root: Path | str) -> Policies:
    """Read and validate ``<repo_root>/policies/{risk,imports,paths,merge}.toml``, and
    ``search.toml``, ``engineering.toml`` and ``deploy.toml`` when the repository has
    them (their defaults otherwise).

    Raises :class:`PolicyError` naming the file, the key and what to do when a file is
    missing, is not TOML, or breaks its schema (unknown keys included).
    """
    root = Path(repo_root)
    folder = root / POLICY_DIR
    if not folder.is_dir():
        raise PolicyError(f"{folder} does not exist; policies are read from the repository "
                          "root's policies/ folder; pass the repository root")
    models: dict[str, type[BaseModel]] = {
        "risk": RiskPolicy, "imports": ImportPolicy, "paths": PathPolicy, "merge": MergePolicy,
        "search": SearchPolicy, "engineering": EngineeringPolicy, "deploy": DeployPolicy,
    }
    parsed: dict[str, BaseModel] = {}
    whole = hashlib.sha256()
    file_digests: dict[str, str] = {}
    present = {**POLICY_FILES, **{key: name for key, name in OPTIONAL_POLICY_FILES.items()
                                  if (folder / name).exists()}}
    for key, filename in present.items():
        label = f"{POLICY_DIR}/{filename}"
        raw = _read(folder / filename, label)
        parsed[key] = _validated(models[key], _parse(raw, label), label)
        file_digests[label] = hashlib.sha256(raw).hexdigest()
        whole.update(label.encode() + b"\0" + str(len(raw)).encode() + b"\0" + raw)
    return Policies(
        risk=parsed["risk"], imports=parsed["imports"], paths=parsed["paths"],
        merge=parsed["merge"], search=parsed.get("search", SearchPolicy()),
        engineering=parsed.get("engineering", EngineeringPolicy()),
        deploy=parsed.get("deploy", DeployPolicy()),
        digest=whole.hexdigest(), file_digests=file_digests,
    )


def policies_digest(source: Policies | Path | str) -> str:
    """The digest of loaded policies, or of the policies under a repository root."""
    if isinstance(source, Policies):
        return source.digest
    return load_policies(source).digest
