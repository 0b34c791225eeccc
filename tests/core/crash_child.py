"""A timing core in a process of its own, for the crash test (`tests/core/test_crash.py`).

    python -m tests.core.crash_child DATABASE_URL EVENT_ID      (from the repository root)

It opens the store (migrating it if need be), starts the core on the event (which replays the
journal), prints `READY <seq>`, then reads commands from stdin, one a line:

- `<token> <reader> <hex>`: bytes the reader `<reader>` sent (one or more raw records with their
  line endings, hex-encoded). They go through that reader's parser (`make_parser` of its format
  in the event; IPICO for a reader the event does not know, which the core then rejects) and are
  submitted; once `core.submit` has returned, i.e. once they are durable, the child prints
  `ACK <token> <accepted> <duplicates> <rejected> <last_seq>`. A submission the core refuses
  prints `FAIL <token> <error>` instead, and is not acknowledged.
- `QUIT` (or the end of stdin): finish what was submitted, stop the core, print
  `RESULTS <hex of the results CSV>` from the live standings, and exit 0.

Each reader is a connection of its own (a task and a parser): its lines are submitted one after
another, in the order received, while the readers run concurrently, so that one group commit
gathers the submissions of several readers.
"""

from __future__ import annotations

import asyncio
import sys

from readers.protocols import Parser, make_parser
from timing.core import TimingCore
from timing.results import results_csv
from timing.store import Store

Item = tuple[str, bytes] | None


def say(text: str) -> None:
    """One line to stdout, flushed at once: the test reads it as soon as it is written."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


async def connection(core: TimingCore, reader_id: str, parser: Parser,
                     queue: asyncio.Queue[Item]) -> None:
    while (item := await queue.get()) is not None:
        token, data = item
        records = parser.feed(data)
        try:
            answer = await core.submit(reader_id, records)
        except Exception as error:  # not durable, so not acknowledged
            say(f"FAIL {token} {type(error).__name__}: {error}".replace("\n", " "))
            continue
        say(f"ACK {token} {answer.accepted} {answer.duplicates} {answer.rejected} "
            f"{answer.last_seq}")


async def stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), sys.stdin)
    return stream


async def run(url: str, event_id: int) -> None:
    store = await Store.open(url)
    try:
        core = await TimingCore.start(store, event_id)
        formats = {reader.id: reader.format for reader in core.event.readers}
        say(f"READY {core.seq}")
        lines = await stdin_lines()
        queues: dict[str, asyncio.Queue[Item]] = {}
        async with asyncio.TaskGroup() as group:
            while True:
                raw = await lines.readline()
                line = raw.decode("ascii").strip()
                if not raw or line == "QUIT":
                    break
                if not line:
                    continue
                token, reader_id, data = line.split(" ")
                queue = queues.get(reader_id)
                if queue is None:
                    queue = queues[reader_id] = asyncio.Queue()
                    parser = make_parser(formats.get(reader_id, "ipico"))
                    group.create_task(connection(core, reader_id, parser, queue))
                queue.put_nowait((token, bytes.fromhex(data)))
            for queue in queues.values():
                queue.put_nowait(None)
        await core.stop()
        say("RESULTS " + results_csv(core.event, core.standings.results()).encode().hex())
    finally:
        await store.close()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m tests.core.crash_child DATABASE_URL EVENT_ID", file=sys.stderr)
        return 2
    asyncio.run(run(argv[0], int(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
