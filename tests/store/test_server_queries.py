"""The store's queries for the server, on both databases: reader counts, the newest journal
entries, the reads of chips, and API tokens (hashes only, revocation)."""

from __future__ import annotations

from datetime import datetime

from timing.entries import ActionEntry, Entry, ReadEntry, RejectedEntry, gun
from timing.eventfile import load_event
from timing.reads import Read
from timing.store import Store

from .events import EXAMPLE


async def test_reader_counts_latest_and_reads_of_chips(store: Store) -> None:
    event_id = (await store.import_event(load_event(EXAMPLE / "event.toml"), "x")).event_id
    moment = datetime(2026, 5, 10, 9, 6, 40)
    entries: list[Entry] = [
        ReadEntry("finish-main", Read("058000ABC001", moment), 1000),
        ReadEntry("finish-main", Read("058000abc001", moment.replace(second=41)), 1500),
        ReadEntry("half-box", Read("058000000002", moment), 1200),
        RejectedEntry("finish-main", "garbage", "not a line", 1700, 3),
        gun("kids", 5, actor="tk", at_ms=1800),
    ]
    await store.append(event_id, 1, entries, 2000)
    assert await store.reader_counts(event_id) == {"finish-main": (2, 1, 1500),
                                                   "half-box": (1, 0, 1200)}
    newest = await store.latest(event_id, None, 2)
    assert [item.seq for item in newest] == [5, 4]
    assert isinstance(newest[0].entry, ActionEntry)
    rejected = await store.latest(event_id, "rejected", 10)
    assert [(item.seq, item.entry) for item in rejected] == [(4, entries[3])]
    reads = await store.reads_of_chips(event_id, ["058000abc001"])
    assert [(reader, chip) for reader, chip, _, _ in reads] == [
        ("finish-main", "058000ABC001"), ("finish-main", "058000abc001")]
    assert reads[0][3] == "local"
    assert await store.reads_of_chips(event_id, []) == []


async def test_tokens_keep_hashes_and_revocations(store: Store) -> None:
    first = await store.add_token("admin", None, "first start", "a" * 64, 10)
    second = await store.add_token("reader", "finish-main", "box", "b" * 64, 20)
    assert second > first
    records = await store.tokens()
    assert [(r.id, r.role, r.reader, r.token_hash, r.revoked_ms) for r in records] == [
        (first, "admin", None, "a" * 64, None), (second, "reader", "finish-main", "b" * 64, None)]
    assert await store.revoke_token(second, 30) is True
    assert await store.revoke_token(second, 40) is False
    assert await store.revoke_token(999, 40) is False
    assert [r.revoked_ms for r in await store.tokens()] == [None, 30]
