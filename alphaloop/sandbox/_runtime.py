"""What a sandboxed Python sees: the interpreter, the allowed libraries and the contract.

:func:`python_runtime` stages, once per set of libraries, a directory holding

* ``code/alphaloop/`` with an empty ``__init__.py`` and ``contract.py`` (the only part of
  AlphaLoop strategy code may import) and ``code/alphaloop_sandbox_child/`` (the child's
  runtime, built from ``_child.py`` and ``_wire.py``, outside the ``alphaloop`` name);
* ``site/``, one empty mount point per top-level entry of each allowed distribution and
  its dependency closure (found with :mod:`importlib.metadata`, ``*.libs`` included);
* ``empty/``, bound over the interpreter's own ``site-packages`` to hide it.

:meth:`Runtime.binds` lists the read-only bind mounts (host path, sandbox path) that
make up this view, and :meth:`Runtime.command` the interpreter command that starts it:
``python -s -S -P -c BOOTSTRAP`` with ``sys.path`` set explicitly (stdlib, then the
staged code, the libraries, and last the strategy checkout). ``-I`` is not used: it
would ignore ``PYTHONHASHSEED``, which the sandbox sets to make runs reproducible.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata as metadata
import re
import shutil
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

__all__ = ["DEFAULT_LIBRARIES", "SYSTEM_PATHS", "Runtime", "python_runtime"]

#: Third-party top-level modules strategy code may import (policies/imports.toml).
DEFAULT_LIBRARIES = ("numpy", "pandas", "pydantic", "scipy")

#: System directories the interpreter and the libraries load shared objects from.
SYSTEM_PATHS = ("/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/localtime")

#: Where the staged parts appear inside the sandbox.
SANDBOX_CODE = "/opt/alphaloop/code"
SANDBOX_SITE = "/opt/alphaloop/site"
SANDBOX_CHECKOUT = "/sandbox/checkout"
SANDBOX_SCRATCH = "/sandbox/scratch"

BOOTSTRAP = (
    "import sys\n"
    "paths, root, mode, target = sys.argv[1].split(':'), *sys.argv[2:5]\n"
    "sys.argv = [target, *sys.argv[5:]]\n"
    "sys.path.extend([*paths, root])\n"
    "if mode == '-m':\n"
    "    import runpy\n"
    "    runpy.run_module(target, run_name='__main__', alter_sys=True)\n"
    "else:\n"
    "    sys.argv[0] = '-c'\n"
    "    exec(compile(target, '<sandbox>', 'exec'), {'__name__': '__main__'})\n"
)

_CHILD_MAIN = "from alphaloop_sandbox_child._child import main\n\nmain()\n"


@dataclass(frozen=True)
class Runtime:
    """A staged runtime view; see the module docstring."""

    stage: Path
    executable: Path
    binds: tuple[tuple[str, str], ...]
    libraries: tuple[str, ...]

    @property
    def code_dir(self) -> Path:
        return self.stage / "code"

    def command(self, root: Path, *, module: str | None = None, code: str | None = None,
                args: tuple[str, ...] = (), sandboxed: bool = True) -> list[str]:
        """The interpreter command running ``module`` (``-m``) or ``code`` with ``root`` last
        on ``sys.path``; unsandboxed, the host's site directories stand in for the view.
        Sandboxed, ``root`` must be the command's working directory, which the sandbox
        mounts at :data:`SANDBOX_CHECKOUT`."""
        if (module is None) == (code is None):
            raise ValueError("give exactly one of module and code")
        if sandboxed:
            paths = [SANDBOX_CODE, SANDBOX_SITE]
            root = Path(SANDBOX_CHECKOUT)
        else:
            paths = [str(self.code_dir), *sorted(_host_site_dirs())]
        mode, target = ("-m", module) if module is not None else ("-c", code)
        return [str(self.executable), "-s", "-S", "-P", "-c", BOOTSTRAP,
                ":".join(paths), str(root), mode, str(target), *args]


def _host_site_dirs() -> set[str]:
    return {p for p in sys.path if p.endswith(("site-packages", "dist-packages"))}


class _Dist(BaseModel):
    name: str
    root: str
    entries: tuple[str, ...]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str | None:
    """The distribution a requirement names, or None when only an extra pulls it in."""
    head, _, marker = spec.partition(";")
    if "extra ==" in marker.replace("extra==", "extra =="):
        return None
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._\-]*)", head)
    return match.group(1) if match else None


def _closure(libraries: tuple[str, ...]) -> list[_Dist]:
    """The distributions providing ``libraries`` and everything they require."""
    providers = metadata.packages_distributions()
    todo = [d for lib in libraries for d in providers.get(lib, ())]
    missing = [lib for lib in libraries if lib not in providers]
    if missing:
        raise LookupError(f"allowed libraries not installed: {', '.join(missing)}")
    seen: dict[str, _Dist] = {}
    while todo:
        name = todo.pop()
        key = _normalise(name)
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency that is not installed
        root = Path(str(dist.locate_file(""))).resolve()
        entries = set()
        for file in dist.files or ():
            parts = Path(str(file)).parts
            if not parts or parts[0] in ("..", "__pycache__") or parts[0].endswith(".pth"):
                continue
            if (root / parts[0]).exists():
                entries.add(parts[0])
        seen[key] = _Dist(name=dist.metadata["Name"], root=str(root),
                          entries=tuple(sorted(entries)))
        todo.extend(n for n in map(_requirement_name, dist.requires or ()) if n)
    return sorted(seen.values(), key=lambda d: d.name)


def _interpreter() -> tuple[Path, list[Path], Path]:
    """The real executable, the files and directories it needs, and its site-packages."""
    base = Path(sys.base_prefix).resolve()
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    executable = Path(sys.executable).resolve()
    if not executable.is_relative_to(base):  # a venv's interpreter is a link to the base
        executable = (base / "bin" / version).resolve()
    stdlib = Path(sysconfig.get_paths(vars={"base": str(base), "platbase": str(base)})["stdlib"])
    files = [executable, stdlib]
    libdir = base / "lib"
    files += sorted(libdir.glob(f"libpython{sys.version_info.major}.{sys.version_info.minor}*.so*"))
    return executable, files, stdlib / "site-packages"


def _source(name: str) -> str:
    return (Path(__file__).with_name(name)).read_text()


@functools.lru_cache(maxsize=8)
def python_runtime(libraries: tuple[str, ...] = DEFAULT_LIBRARIES,
                   stage_root: Path | None = None) -> Runtime:
    """Stage (or reuse) the runtime for ``libraries`` and describe its bind mounts."""
    from alphaloop import contract as contract_module

    contract = Path(contract_module.__file__).read_text()
    child, wire = _source("_child.py"), _source("_wire.py")
    dists = _closure(tuple(sorted(set(libraries))))
    executable, interpreter_files, site_packages = _interpreter()
    digest = hashlib.sha256("\x00".join(
        [contract, child, wire, _CHILD_MAIN, *(d.model_dump_json() for d in dists)]).encode())
    root = stage_root or Path(tempfile.gettempdir()) / "alphaloop-sandbox-runtime"
    stage = root / digest.hexdigest()[:20]
    if not (stage / "complete").exists():
        _stage(stage, contract=contract, child=child, wire=wire, dists=dists)
    binds: list[tuple[str, str]] = []
    for path in interpreter_files:
        binds.append((str(path), str(path)))
    if sys.executable != str(executable):  # the name callers use may be a link
        binds.append((str(executable), str(Path(sys.executable).absolute())))
    if site_packages.exists():
        binds.append((str(stage / "empty"), str(site_packages)))
    binds.append((str(stage / "code"), SANDBOX_CODE))
    binds.append((str(stage / "site"), SANDBOX_SITE))
    for dist in dists:
        for entry in dist.entries:
            binds.append((str(Path(dist.root) / entry), f"{SANDBOX_SITE}/{entry}"))
    return Runtime(stage=stage, executable=executable, binds=tuple(binds),
                   libraries=tuple(d.name for d in dists))


def _stage(stage: Path, *, contract: str, child: str, wire: str, dists: list[_Dist]) -> None:
    partial = Path(tempfile.mkdtemp(prefix=stage.name + ".", dir=stage.parent)
                   if stage.parent.exists() else _mkparent(stage))
    (partial / "empty").mkdir()
    package = partial / "code" / "alphaloop"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "contract.py").write_text(contract)
    runner = partial / "code" / "alphaloop_sandbox_child"
    runner.mkdir()
    (runner / "__init__.py").write_text("")
    (runner / "_child.py").write_text(child)
    (runner / "_wire.py").write_text(wire)
    (runner / "__main__.py").write_text(_CHILD_MAIN)
    site = partial / "site"
    site.mkdir()
    for dist in dists:
        for entry in dist.entries:
            target = site / entry
            if (Path(dist.root) / entry).is_dir():
                target.mkdir(exist_ok=True)
            else:
                target.touch()
    (partial / "complete").write_text("")
    for path in (partial, *partial.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    try:
        partial.rename(stage)
    except OSError:  # another process staged it first
        shutil.rmtree(partial, ignore_errors=True)


def _mkparent(stage: Path) -> str:
    stage.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix=stage.name + ".", dir=stage.parent)
