from timing.store import Store


async def test_store_opens_migrated(store: Store) -> None:
    assert await store.event_ids() == {}
    assert await store.last_seq(1) == 0
