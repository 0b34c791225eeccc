"""What the benchmarks share: the databases they run on (a temporary SQLite file, or a schema
of their own on PostgreSQL) and the machine's facts and costs (CPU, peak memory, CPU time).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import platform
import resource
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from timing.store import Store

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


class Unavailable(Exception):
    """The backend cannot be used here (PostgreSQL not reachable): skip it, saying why."""


def postgres_url(explicit: str | None = None) -> str:
    raw = (explicit or os.environ.get("GAMBERO_BENCH_POSTGRES_URL")
           or os.environ.get("GAMBERO_TEST_POSTGRES_URL") or DEFAULT_POSTGRES).strip()
    for plain in ("postgresql://", "postgres://"):
        if raw.startswith(plain):
            return "postgresql+asyncpg://" + raw[len(plain):]
    return raw


def shown_url(url: str) -> str:
    """A database URL without its password, for printing."""
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, user = head.partition("//")
    return f"{scheme}//{user.split(':', 1)[0]}:***@{tail}"


def sqlite_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'gambero.db'}"


async def open_postgres(url: str, schema: str, store_class: type[Store] = Store,
                        *, create: bool = True) -> Store:
    """A store on PostgreSQL whose tables live in `schema` (made empty first if `create`), so
    that a benchmark never touches the `public` schema the test suite resets."""
    admin = create_async_engine(url)
    try:
        async with asyncio.timeout(15), admin.begin() as connection:
            if create:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # no server, refused, bad credentials, timeout
        raise Unavailable(f"PostgreSQL at {shown_url(url)} is not reachable: "
                          f"{type(error).__name__}: {error}") from None
    finally:
        await admin.dispose()
    engine = create_async_engine(
        url, connect_args={"server_settings": {"search_path": schema}})
    store = store_class(engine)
    if create:
        await store.upgrade()
    return store


async def drop_postgres_schema(url: str, schema: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def backend_store(backend: str, folder: Path, postgres: str | None, tag: str,
                        store_class: type[Store] = Store) -> AsyncIterator[tuple[Store, str]]:
    """An empty, migrated store on `backend` and a description of where it is."""
    if backend == "sqlite":
        store = await store_class.open(sqlite_url(folder))
        try:
            yield store, f"SQLite file in {folder} (WAL, synchronous=FULL)"
        finally:
            await store.close()
        return
    url = postgres_url(postgres)
    schema = f"bench_{tag}_{os.getpid()}"
    store = await open_postgres(url, schema, store_class)
    try:
        yield store, f"PostgreSQL {shown_url(url)}, schema {schema}"
    finally:
        await store.close()
        await drop_postgres_schema(url, schema)


def machine_line() -> str:
    return (f"machine: {platform.machine()}, {cpu_name()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def peak_rss_mb() -> float:
    """This process's peak resident memory. /proc's VmHWM where there is one: ru_maxrss of a
    process started by another also counts the parent's memory at the fork."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu_seconds() -> float:
    """CPU time of this process's running children (the SQLite journal writer), from /proc
    (0 where there is none): getrusage counts children only once they have been waited for."""
    total = 0.0
    me = str(os.getpid())
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[1] == me:  # fields from the state on: state, ppid, ..., utime, stime
                total += (int(fields[11]) + int(fields[12])) / ticks
    return total


class CollectionTimer:
    """Times this process's garbage collections (each one stops the event loop)."""

    def __init__(self) -> None:
        self.collections: list[tuple[int, float, float]] = []
        """(generation, started, ended) per collection, perf_counter seconds."""
        self._started: float | None = None
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:  # not one that began before this timer
            self.collections.append((info["generation"], self._started, time.perf_counter()))

    def stop(self) -> None:
        gc.callbacks.remove(self._note)

    def summary(self, start: float, end: float) -> str:
        """The collections that started between `start` and `end`, by generation."""
        parts = []
        for generation, name in ((0, "young"), (1, "middle"), (2, "full")):
            pauses = [ended - began for gen, began, ended in self.collections
                      if gen == generation and start <= began <= end]
            longest = f" (longest {max(pauses) * 1000:.1f} ms)" if pauses else ""
            parts.append(f"{len(pauses)} {name}{longest}")
        return ", ".join(parts)
