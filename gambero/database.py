"""The database side of `gambero db upgrade` and `gambero import`: open the store, migrate it,
import an event folder. Async (the store is); `gambero.cli` runs these with `asyncio.run`."""

from __future__ import annotations

from dataclasses import dataclass

from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from timing.event_rows import ImportReport
from timing.eventfile import EventFiles
from timing.store import Store, database_url

__all__ = ["ERRORS", "Migrated", "database_url", "failure_reason", "import_event",
           "report_lines", "shown_url", "upgrade"]

ERRORS = (OSError, SQLAlchemyError, ImportError)
"""What opening, migrating or writing a database raises when it cannot be done: an unreachable
server, a refused login, a bad URL, a missing driver."""


@dataclass(frozen=True)
class Migrated:
    """What bringing a database's schema up to date did."""

    url: str
    """The database, as shown to the operator (password hidden)."""
    before: str | None
    """The schema revision found (None: no schema yet)."""
    after: str | None

    def describe(self) -> str:
        if self.before == self.after:
            return f"schema already at revision {self.after}, nothing to do"
        if self.before is None:
            return f"schema created at revision {self.after}"
        return f"schema upgraded from revision {self.before} to {self.after}"


def shown_url(url: str) -> str:
    """`url` with any password replaced by ***, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def failure_reason(error: BaseException) -> str:
    """One line saying why a database operation failed (the driver's message, not SQL)."""
    cause = getattr(error, "orig", None) or error
    text = str(cause).strip()
    reason = text.splitlines()[0] if text else type(cause).__name__
    if isinstance(error, ImportError):
        reason += (" (PostgreSQL needs its driver: pip install 'gambero[postgres]')"
                   if "asyncpg" in text else
                   " (Gambero's databases are SQLite and PostgreSQL)")
    return reason


def report_lines(report: ImportReport) -> list[str]:
    """The bibs an import added, changed (with the fields that changed) and removed."""
    lines = []
    if report.added:
        lines.append(f"added ({len(report.added)}): {' '.join(report.added)}")
    lines.extend(f"changed {bib}: {', '.join(fields)}" for bib, fields in report.changed.items())
    if report.removed:
        lines.append(f"removed ({len(report.removed)}): {' '.join(report.removed)}")
    if report.kept:
        lines.append(f"kept as they were, rows to fix ({len(report.kept)}): "
                     f"{' '.join(report.kept)}")
    return lines


async def upgrade(url: str) -> Migrated:
    """Run the migrations on the database at `url` (created first if it is a new SQLite file)."""
    store = await Store.open(url, migrate=False)
    try:
        return await _upgrade(store, url)
    finally:
        await store.close()


async def import_event(url: str, files: EventFiles, source: str) -> tuple[Migrated, ImportReport]:
    """Migrate the database at `url`, then import the event folder `files` into it."""
    store = await Store.open(url, migrate=False)
    try:
        migrated = await _upgrade(store, url)
        report = await store.import_event(files, source)
    finally:
        await store.close()
    return migrated, report


async def _upgrade(store: Store, url: str) -> Migrated:
    before = await _revision(store)
    await store.upgrade()
    return Migrated(shown_url(url), before, await _revision(store))


async def _revision(store: Store) -> str | None:
    async with store.engine.connect() as connection:
        return await connection.run_sync(_current_revision)


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
