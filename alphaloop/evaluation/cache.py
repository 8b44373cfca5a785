"""The backtest cache: results keyed by everything that shapes them, bounded in size,
shared by every process working on the repository.

Layout under the cache directory (``.git/alphaloop/cache`` by default)::

    backtests/<key>.json     one BacktestResult per key
    checkouts/<tree>/        a strategy tree, written exactly as git stores it
    scratch/                 the sandboxed children's scratch directories
    stats                    one byte per lookup: ``h`` a hit, ``m`` a miss

A key hashes the strategy tree, the data, the window, the evaluation settings and the
AlphaLoop version, so any change to those (an upgrade included) is a miss. Entries are
written to a temporary file beside their final name and renamed, so a reader sees a
whole entry or none; an entry that cannot be read (cut short, edited, from an
incompatible version) is removed and counted as a miss.

Each :class:`BacktestCache` also keeps the results it read or wrote last in memory (up to
:data:`MEMO_BYTES` of their files), so a cycle that asks for one result from several
stages parses its file once. A remembered result is served only while its file is the
one it came from (same inode, size and modification time, checked on every lookup): an
entry rewritten, damaged, evicted or used by another process meanwhile is read again.

The cache is kept under ``[cache] max_mb`` of the optional ``policies/performance.toml``
(:data:`DEFAULT_MAX_MB` without it). When it grows past the cap, the least recently used
results and checkouts are removed first: a hit moves an entry's modification time to
now, so the order does not depend on the file system recording access times. What
another process may still be writing or running from (temporary files, half-written
checkouts, scratch, a checkout used in the last :data:`IN_USE_SECONDS`) is never evicted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from alphaloop import __version__
from alphaloop.evaluation.performance import (
    DEFAULT_MAX_MB,
    CacheSettings,
    read_performance_policy,
)
from alphaloop.harness import BacktestResult

__all__ = ["IN_USE_SECONDS", "MEMO_BYTES", "BacktestCache", "CacheInfo", "PruneReport",
           "read_cache_settings"]

#: A checkout, scratch directory or temporary file touched this recently may be in use by
#: another process, and is never removed.
IN_USE_SECONDS = 600.0

_MB = 1024 * 1024

#: The results a cache keeps in memory, counted by the size of their files (a result
#: takes about four times its file's size in memory).
MEMO_BYTES = 128 * _MB

_Stamp = tuple[int, int, int]  # inode, size, modification time (ns) of an entry's file


def _stamp(path: Path) -> _Stamp | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def read_cache_settings(repo_root: Path) -> CacheSettings:
    """``[cache]`` of the repository's ``policies/performance.toml`` (defaults without it)."""
    return read_performance_policy(repo_root).cache


class CacheInfo(BaseModel):
    """What ``alphaloop cache info`` shows."""

    location: str
    size_bytes: int
    max_bytes: int
    entries: int
    entry_bytes: int
    checkouts: int
    checkout_bytes: int
    other_bytes: int = Field(description="scratch, temporary files and the lookup counts")
    hits: int
    misses: int


class PruneReport(BaseModel):
    """What a prune removed."""

    removed: int
    freed_bytes: int
    size_bytes: int


def _tree_bytes(path: Path) -> int:
    """Bytes of the files under ``path`` (0 once it is gone)."""
    if not path.is_dir():
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return 0
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _is_temporary(path: Path) -> bool:
    """A file or directory some process is still writing (or left behind when it died)."""
    return path.name.startswith(".") or path.name.endswith((".tmp", ".partial"))


class BacktestCache:
    """Backtest results and strategy checkouts under ``root``, kept under ``max_bytes``."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_MB * _MB) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._checkout_bytes: dict[str, int] = {}  # checkouts never change once written
        self._memo: OrderedDict[str, tuple[_Stamp, BacktestResult]] = OrderedDict()
        self._memo_lock = threading.Lock()

    @property
    def backtests(self) -> Path:
        return self.root / "backtests"

    @property
    def checkouts(self) -> Path:
        return self.root / "checkouts"

    # -- keys and entries ---------------------------------------------------------------
    @staticmethod
    def key(body: Mapping[str, Any]) -> str:
        """The key of a backtest described by ``body`` under this AlphaLoop version."""
        text = json.dumps({**body, "alphaloop": __version__}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def path(self, key: str) -> Path:
        return self.backtests / f"{key}.json"

    def contains(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> BacktestResult | None:
        """The result stored under ``key``, or ``None`` (a miss). An entry that cannot be
        read is removed and is a miss."""
        path = self.path(key)
        result = self._remembered(key, _stamp(path))
        if result is None:
            try:
                result = BacktestResult.load(path)
            except FileNotFoundError:
                result = None
            except (OSError, ValueError, TypeError):  # cut short, edited, or another format
                _remove(path)
                result = None
        if result is not None:
            self.used(path)
            self._remember(key, result)
        self._count(b"h" if result is not None else b"m")
        return result

    def put(self, key: str, result: BacktestResult) -> None:
        """Store ``result`` under ``key`` atomically, then evict down to the cap."""
        result.save(self.path(key))
        self._remember(key, result)
        self.enforce()

    # -- the results kept in memory -------------------------------------------------------
    def _remembered(self, key: str, stamp: _Stamp | None) -> BacktestResult | None:
        """The result remembered under ``key`` if its file is still the one it was read
        from or written to; otherwise it is forgotten."""
        with self._memo_lock:
            kept = self._memo.get(key)
            if kept is None:
                return None
            if kept[0] != stamp:
                del self._memo[key]
                return None
            self._memo.move_to_end(key)
            return kept[1]

    def _remember(self, key: str, result: BacktestResult) -> None:
        """Keep ``result`` with the stamp of its file as it is now, then forget the least
        recently used results past :data:`MEMO_BYTES`."""
        stamp = _stamp(self.path(key))
        with self._memo_lock:
            self._memo.pop(key, None)
            if stamp is None or stamp[1] > MEMO_BYTES:
                return
            self._memo[key] = (stamp, result)
            total = sum(kept[0][1] for kept in self._memo.values())
            while total > MEMO_BYTES:
                _, (old, _result) = self._memo.popitem(last=False)
                total -= old[1]

    @staticmethod
    def used(path: Path) -> None:
        """Record that ``path`` was just used (its modification time is the use order)."""
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.utime(path)

    def _count(self, mark: bytes) -> None:
        with contextlib.suppress(OSError):
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / "stats", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, mark)  # one byte with O_APPEND: never interleaved
            finally:
                os.close(fd)

    # -- size ---------------------------------------------------------------------------
    def _entries(self) -> Iterator[tuple[Path, float, int]]:
        """Every evictable entry: finished results and checkouts, with mtime and size."""
        for folder in (self.backtests, self.checkouts):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if _is_temporary(path):
                    continue
                try:
                    st = path.stat()
                except FileNotFoundError:
                    continue
                if folder == self.checkouts:
                    size = self._checkout_bytes.get(path.name)
                    if size is None:
                        size = self._checkout_bytes[path.name] = _tree_bytes(path)
                else:
                    size = st.st_size
                yield path, st.st_mtime, size

    def _others(self) -> Iterator[Path]:
        """Everything else: temporary files, half-written checkouts, scratch, stats."""
        for folder in (self.backtests, self.checkouts):
            if folder.is_dir():
                yield from (p for p in folder.iterdir() if _is_temporary(p))
        scratch = self.root / "scratch"
        if scratch.is_dir():
            yield from scratch.iterdir()

    def size(self) -> int:
        return (sum(size for _, _, size in self._entries())
                + sum(_tree_bytes(p) for p in self._others())
                + _tree_bytes(self.root / "stats"))

    def enforce(self, max_bytes: int | None = None) -> PruneReport:
        """Remove the least recently used entries until the cache is under the cap."""
        cap = self.max_bytes if max_bytes is None else max_bytes
        entries = sorted(self._entries(), key=lambda e: e[1])
        total = (sum(size for _, _, size in entries)
                 + sum(_tree_bytes(p) for p in self._others())
                 + _tree_bytes(self.root / "stats"))
        removed = freed = 0
        now = time.time()
        for path, mtime, size in entries:
            if total <= cap:
                break
            if path.parent == self.checkouts and now - mtime < IN_USE_SECONDS:
                continue  # a sandboxed child may be running from it
            _remove(path)
            self._checkout_bytes.pop(path.name, None)
            removed, freed, total = removed + 1, freed + size, total - size
        return PruneReport(removed=removed, freed_bytes=freed, size_bytes=total)

    # -- commands -----------------------------------------------------------------------
    def info(self) -> CacheInfo:
        entries = list(self._entries())
        results = [e for e in entries if e[0].parent == self.backtests]
        checkouts = [e for e in entries if e[0].parent == self.checkouts]
        other = sum(_tree_bytes(p) for p in self._others()) + _tree_bytes(self.root / "stats")
        try:
            marks = (self.root / "stats").read_bytes()
        except FileNotFoundError:
            marks = b""
        entry_bytes = sum(e[2] for e in results)
        checkout_bytes = sum(e[2] for e in checkouts)
        return CacheInfo(
            location=str(self.root), size_bytes=entry_bytes + checkout_bytes + other,
            max_bytes=self.max_bytes, entries=len(results), entry_bytes=entry_bytes,
            checkouts=len(checkouts), checkout_bytes=checkout_bytes, other_bytes=other,
            hits=marks.count(b"h"), misses=marks.count(b"m"))

    def prune(self, max_bytes: int | None = None, *, everything: bool = False) -> PruneReport:
        """Evict down to ``max_bytes`` (the cap by default), or with ``everything`` remove
        every entry and the lookup counts. Either way, leftovers of processes that died
        while writing (temporary files and scratch untouched for :data:`IN_USE_SECONDS`)
        go too; what is in use stays."""
        now = time.time()
        removed = freed = 0
        for path in list(self._others()):
            try:
                stale = now - path.stat().st_mtime >= IN_USE_SECONDS
            except FileNotFoundError:
                continue
            if stale:
                size = _tree_bytes(path)
                _remove(path)
                removed, freed = removed + 1, freed + size
        if everything:
            freed += _tree_bytes(self.root / "stats")
            _remove(self.root / "stats")
        report = self.enforce(0 if everything else max_bytes)
        return PruneReport(removed=removed + report.removed, freed_bytes=freed
                           + report.freed_bytes, size_bytes=self.size())
