"""Building the Docker images the sandbox runs: backtest and deploy (``sandbox/*.Dockerfile``).

:func:`build_backtest_image` prepares a build context holding wheels of the allowed
libraries at exactly the versions installed here (downloaded on the host; the build
reaches no registry), their pins, and the staged contract and child runtime (see
:mod:`alphaloop.sandbox._runtime`), then builds ``sandbox/backtest.Dockerfile`` on the
given base. :func:`build_deploy_image` adds a strategy checkout at a commit on top. Both
are cached: the same inputs reuse the image already built.

    tag = build_backtest_image("alphaloop/base:bookworm")
    image = build_deploy_image(worktree, commit=sha, cycle_id="c0007")
    DockerSandbox(image=image.tag, baked_checkout=True)
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from alphaloop.sandbox._runtime import DEFAULT_LIBRARIES, _closure, python_runtime
from alphaloop.sandbox.base import SandboxError, SandboxUnavailable
from alphaloop.sandbox.docker_engine import docker_client

if TYPE_CHECKING:
    import docker

__all__ = ["BACKTEST_REPOSITORY", "DEFAULT_BASE", "DEPLOY_REPOSITORY", "LOCAL_BASE",
           "DeployImage", "ImageBuildError", "build_backtest_image", "build_deploy_image",
           "find_backtest_image", "require_backtest_image", "runtime_key"]

#: The base image users get when they name none (pulled by the engine if missing).
DEFAULT_BASE = "python:3.11-slim"
#: The base CI and offline machines make with ``scripts/make-base-image``.
LOCAL_BASE = "alphaloop/base:bookworm"
BACKTEST_REPOSITORY = "alphaloop-backtest"
DEPLOY_REPOSITORY = "alphaloop-deploy"
RUNTIME_LABEL = "org.alphaloop.runtime"
_DOCKERFILES = Path(__file__).resolve().parents[2] / "sandbox"
_LOG_TAIL = 30


class ImageBuildError(SandboxError):
    """An image could not be built; the message ends with the tail of the build log."""


class DeployImage(BaseModel):
    """A deploy image: the backtest image plus a strategy checkout at one commit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tag: str
    image_id: str
    commit: str
    cycle: str | None
    created: datetime
    backtest_image: str


# -- inputs -------------------------------------------------------------------------------
def _dockerfile(name: str) -> Path:
    path = _DOCKERFILES / name
    if not path.is_file():
        raise ImageBuildError(
            f"{path} is missing: the Dockerfiles ship in the repository's sandbox/ folder; "
            "run from a checkout of AlphaLoop installed with scripts/install")
    return path


def _pins(libraries: tuple[str, ...]) -> list[str]:
    """``name==version`` of every distribution the sandbox's libraries need, as installed."""
    dists = _closure(tuple(sorted(set(libraries))))
    return sorted(f"{d.name}=={metadata.version(d.name)}" for d in dists)


def _code_files(libraries: tuple[str, ...]) -> dict[str, bytes]:
    code = python_runtime(tuple(libraries)).code_dir
    return {str(p.relative_to(code)): p.read_bytes()
            for p in sorted(code.rglob("*")) if p.is_file()}


def runtime_key(libraries: tuple[str, ...] = DEFAULT_LIBRARIES) -> str:
    """What a backtest image must hold for this version of AlphaLoop, as a short hash:
    the Dockerfile, the pinned libraries and the staged code (any base image)."""
    digest = hashlib.sha256(_dockerfile("backtest.Dockerfile").read_bytes())
    for pin in _pins(libraries):
        digest.update(pin.encode() + b"\0")
    for name, content in _code_files(libraries).items():
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()[:16]


# -- wheels -------------------------------------------------------------------------------
def _wheel_cache() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "alphaloop" / "wheels"


def _escaped(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _has_wheel(folder: Path, pin: str) -> bool:
    name, _, version = pin.partition("==")
    prefix = f"{_escaped(name)}-{version}-"
    return any(p.name.lower().startswith(prefix) for p in folder.glob("*.whl"))


def _download_wheels(pins: Iterable[str], folder: Path) -> None:
    """Put a wheel of every pin (and of pip itself) in ``folder``, downloading what is
    missing from the package index pip is configured with."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [*pins, f"pip=={metadata.version('pip')}"]
    missing = [pin for pin in wanted if not _has_wheel(folder, pin)]
    if not missing:
        return
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", "--no-deps", "--dest", str(folder), *missing],
        capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ImageBuildError(
            f"could not download wheels of {', '.join(missing)} (the image installs the "
            f"versions this machine runs, from wheels downloaded here):\n"
            f"{_tail(done.stderr.splitlines())}")


# -- building -----------------------------------------------------------------------------
def _tail(lines: Iterable[str]) -> str:
    kept = [line.rstrip() for line in lines if line.strip()]
    return "\n".join(kept[-_LOG_TAIL:])


def _log_lines(log: Iterable[object]) -> list[str]:
    lines: list[str] = []
    for chunk in log:
        if isinstance(chunk, dict):
            text = chunk.get("stream") or chunk.get("error") or chunk.get("status") or ""
            lines.extend(str(text).splitlines())
    return lines


def _build(client: docker.DockerClient, context: Path, dockerfile: str, *, tag: str,
           buildargs: dict[str, str], labels: dict[str, str], what: str) -> str:
    from docker.errors import APIError, BuildError

    try:
        image, _ = client.images.build(
            path=str(context), dockerfile=dockerfile, tag=tag, buildargs=buildargs,
            labels=labels, rm=True, forcerm=True, network_mode="none", pull=False)
    except BuildError as exc:
        raise ImageBuildError(_build_failed(what, buildargs.get("BASE_IMAGE", ""),
                                            _tail(_log_lines(exc.build_log)))) from None
    except APIError as exc:
        raise ImageBuildError(_build_failed(what, buildargs.get("BASE_IMAGE", ""),
                                            str(exc))) from None
    return str(image.id)


def _build_failed(what: str, base: str, log: str) -> str:
    hint = ""
    if base and any(w in log for w in ("pull access", "not found", "dial tcp", "lookup ")):
        hint = (f" The base image {base} is not on this machine and could not be pulled; "
                f"make one locally with `scripts/make-base-image` and pass "
                f"`--base {LOCAL_BASE}`.")
    return f"building the {what} image failed.{hint} Last lines of the build log:\n{log}"


def _image_or_none(client: docker.DockerClient, name: str) -> docker.models.images.Image | None:
    from docker.errors import ImageNotFound

    try:
        return client.images.get(name)
    except ImageNotFound:
        return None


def find_backtest_image(client: docker.DockerClient | None = None, *,
                        libraries: tuple[str, ...] = DEFAULT_LIBRARIES) -> str | None:
    """The newest backtest image built for this version of AlphaLoop, or None."""
    client = client or docker_client()
    # only images of the backtest repository: images built on it inherit its labels
    images = client.images.list(name=BACKTEST_REPOSITORY,
                                filters={"label": f"{RUNTIME_LABEL}={runtime_key(libraries)}"})
    if not images:
        return None
    newest = max(images, key=lambda image: str(image.attrs.get("Created", "")))
    tags = sorted(t for t in newest.tags if t.startswith(BACKTEST_REPOSITORY + ":"))
    return next((t for t in tags if not t.endswith(":latest")), str(newest.id))


def build_backtest_image(base: str | None = None, *,
                         libraries: tuple[str, ...] = DEFAULT_LIBRARIES,
                         client: docker.DockerClient | None = None) -> str:
    """Build (or reuse) the backtest image on ``base`` (default :data:`DEFAULT_BASE`);
    return its tag, ``alphaloop-backtest:<hash of the inputs>``, also tagged ``latest``."""
    client = client or docker_client()
    base = base or DEFAULT_BASE
    key = runtime_key(libraries)
    base_image = _image_or_none(client, base)
    base_id = str(base_image.id) if base_image is not None else ""
    tag = (f"{BACKTEST_REPOSITORY}:"
           f"{hashlib.sha256(f'{key}|{base}|{base_id}'.encode()).hexdigest()[:12]}")
    existing = _image_or_none(client, tag) if base_id else None
    if existing is None:
        pins = _pins(libraries)
        wheels = _wheel_cache()
        _download_wheels(pins, wheels)
        with tempfile.TemporaryDirectory(prefix="alphaloop-image-") as tmp:
            context = Path(tmp)
            shutil.copy2(_dockerfile("backtest.Dockerfile"), context / "Dockerfile")
            (context / "requirements.txt").write_text("\n".join(pins) + "\n")
            (context / "wheels").mkdir()
            for pin in [*pins, f"pip=={metadata.version('pip')}"]:
                name, _, version = pin.partition("==")
                prefix = f"{_escaped(name)}-{version}-"
                for wheel in wheels.glob("*.whl"):
                    if wheel.name.lower().startswith(prefix):
                        _link_or_copy(wheel, context / "wheels" / wheel.name)
            for name, content in _code_files(libraries).items():
                target = context / "code" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            _build(client, context, "Dockerfile", tag=tag, buildargs={"BASE_IMAGE": base},
                   labels={RUNTIME_LABEL: key, "org.alphaloop.base": base},
                   what="backtest")
    client.images.get(tag).tag(BACKTEST_REPOSITORY, "latest")
    return tag


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")


def build_deploy_image(checkout: Path, *, commit: str, cycle_id: str | None = None,
                       base: str | None = None,
                       libraries: tuple[str, ...] = DEFAULT_LIBRARIES,
                       client: docker.DockerClient | None = None) -> DeployImage:
    """Build (or reuse) ``alphaloop-deploy:<commit[:12]>``: the backtest image (on
    ``base``) with ``checkout`` (the strategy at ``commit``, without ``.git``) baked in at
    ``/sandbox/checkout``, labelled with the commit and the cycle."""
    commit = commit.strip().lower()
    if not _COMMIT.match(commit):
        raise ImageBuildError(f"{commit!r} is not a commit id: pass the full hex sha of "
                              "the commit the checkout holds")
    checkout = Path(checkout)
    if not (checkout / "strategy").is_dir():
        raise ImageBuildError(f"{checkout} holds no strategy/ package: pass the checkout "
                              "(worktree) of the commit to deploy")
    client = client or docker_client()
    backtest = build_backtest_image(base, libraries=libraries, client=client)
    backtest_id = str(client.images.get(backtest).id)
    tag = f"{DEPLOY_REPOSITORY}:{commit[:12]}"
    labels = {"org.alphaloop.commit": commit, "org.alphaloop.cycle": cycle_id or "",
              "org.alphaloop.backtest-image": backtest_id}
    existing = _image_or_none(client, tag)
    if existing is None or any(existing.labels.get(k) != v for k, v in labels.items()):
        with tempfile.TemporaryDirectory(prefix="alphaloop-deploy-") as tmp:
            context = Path(tmp)
            shutil.copy2(_dockerfile("deploy.Dockerfile"), context / "Dockerfile")
            _copy_checkout(checkout, context / "checkout")
            _build(client, context, "Dockerfile", tag=tag,
                   buildargs={"BASE_IMAGE": backtest, "COMMIT": commit,
                              "CYCLE": cycle_id or ""},
                   labels=labels, what="deploy")
        existing = client.images.get(tag)
    return DeployImage(tag=tag, image_id=str(existing.id), commit=commit, cycle=cycle_id,
                       created=_created(existing.attrs.get("Created", "")),
                       backtest_image=backtest)


def _created(text: str) -> datetime:
    # the engine writes nanoseconds; datetime keeps microseconds
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?", text)
    if not match:
        return datetime.now().astimezone()
    fraction = (match.group(2) or ".0")[:7]
    zone = match.group(3) or "Z"
    return datetime.fromisoformat(match.group(1) + fraction + zone.replace("Z", "+00:00"))


def _copy_checkout(source: Path, target: Path) -> None:
    """Copy the checkout without git metadata or caches, readable by the image's user."""
    shutil.copytree(source, target, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", "__pycache__", "*.pyc"))
    for path in (target, *target.rglob("*")):
        if path.is_symlink():
            continue
        path.chmod(0o755 if path.is_dir() else 0o644)


def require_backtest_image(client: docker.DockerClient,
                           libraries: tuple[str, ...] = DEFAULT_LIBRARIES) -> str:
    """The backtest image for this version, or :class:`SandboxUnavailable` naming the fix."""
    tag = find_backtest_image(client, libraries=libraries)
    if tag is None:
        raise SandboxUnavailable(
            "no Docker sandbox image for this version of AlphaLoop: build it with "
            "`alphaloop sandbox build` (or `alphaloop sandbox build --base "
            f"{LOCAL_BASE}` after `scripts/make-base-image` where no registry is "
            "reachable), or use `--sandbox process`")
    return tag
