"""Reading a sandbox's properties creates no cgroup; a command's groups come with it.

Each command gets its own cgroups when it starts (see ``alphaloop/sandbox/_cgroup.py``),
so asking a sandbox what it enforces - before or between commands - must not create
any. The fake hierarchy below stands in for ``/sys/fs/cgroup`` (cgroup v1 layout, this
process at the top of each controller), so a group made by mistake shows up as a
directory in ``tmp_path`` rather than on the machine.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

from alphaloop.sandbox import Limits, ProcessSandbox, UnsandboxedRunner, _cgroup
from alphaloop.sandbox._cgroup import SandboxCgroups

BACKENDS = (ProcessSandbox, UnsandboxedRunner)


@pytest.fixture()
def fake_hierarchy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cgroup"
    for controller in ("memory", "pids"):
        (root / controller).mkdir(parents=True)
    monkeypatch.setattr(_cgroup, "_ROOT", root)
    monkeypatch.setattr(_cgroup, "_own_path", lambda controller: "/")
    return root


def _read_every_property(box: object) -> None:
    for name, _ in inspect.getmembers(type(box), lambda member: isinstance(member, property)):
        getattr(box, name)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reading_properties_creates_no_cgroup_directory(
        backend: type[ProcessSandbox | UnsandboxedRunner], fake_hierarchy: Path) -> None:
    box = backend(Limits())
    _read_every_property(box)
    assert sorted(p.relative_to(fake_hierarchy).as_posix()
                  for p in fake_hierarchy.rglob("*")) == ["memory", "pids"]
    # what the hierarchy allows, judged without trying
    assert box.isolation.process_limit == "cgroup"
    assert box.isolation.memory_limit == "cgroup"


@pytest.mark.parametrize("backend", BACKENDS)
def test_reading_properties_never_asks_for_cgroups(
        backend: type[ProcessSandbox | UnsandboxedRunner],
        monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> SandboxCgroups:
        raise AssertionError("a property created cgroups")

    monkeypatch.setattr(SandboxCgroups, "create", refuse)
    _read_every_property(backend(Limits()))


def test_the_isolation_says_what_the_last_command_got(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made: list[SandboxCgroups] = []

    def memory_only(**limits: int) -> SandboxCgroups:
        # a memory group that holds nothing and no pids group, as on a machine without one
        made.append(SandboxCgroups(memory=tmp_path / "memory-group", pids=None))
        return made[-1]

    monkeypatch.setattr(SandboxCgroups, "create", memory_only)
    box = UnsandboxedRunner(Limits(wall_seconds=30))
    result = box.run([sys.executable, "-c", "pass"], workdir=tmp_path,
                     scratch=tmp_path / "scratch")
    assert result.ok and len(made) == 1
    assert (result.isolation.memory_limit, result.isolation.process_limit) == (
        "cgroup", "rlimit")
    assert box.isolation == result.isolation
    assert len(made) == 1


def test_available_only_reads_the_hierarchy(fake_hierarchy: Path) -> None:
    assert SandboxCgroups.available() == (True, True)
    (fake_hierarchy / "pids").rmdir()
    assert SandboxCgroups.available() == (True, False)
    assert sorted(p.name for p in fake_hierarchy.iterdir()) == ["memory"]
