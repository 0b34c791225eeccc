"""Publish/subscribe inside one process, with a bounded queue per subscriber.

The core publishes one message per committed batch; it never waits for a subscriber. A
subscriber that falls behind (its queue full) loses messages from then on until it has emptied
its queue, and is then told so once (`Lagged`): it must reload a snapshot. Every message carries
the journal sequence number, so a gap is visible to anyone downstream as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Generic, TypeVar

Message = TypeVar("Message")


@dataclass(frozen=True, slots=True)
class Lagged:
    """The subscriber missed messages (its queue was full): reload a snapshot."""

    missed: int


class Subscription(Generic[Message]):
    def __init__(self, bus: Bus[Message], size: int) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[Message | Lagged] = asyncio.Queue(size)
        self._missed = 0
        self.closed = False

    def offer(self, message: Message) -> None:
        if self._missed == 0:
            try:
                self._queue.put_nowait(message)
                return
            except asyncio.QueueFull:
                pass
        self._missed += 1

    async def get(self) -> Message | Lagged:
        if self._queue.empty() and self._missed:
            missed, self._missed = self._missed, 0
            return Lagged(missed)
        return await self._queue.get()

    def get_nowait(self) -> Message | Lagged:
        """The next message already waiting (see `pending`); asyncio.QueueEmpty if none. A
        `Lagged` comes only from `get`, once the queue is empty."""
        return self._queue.get_nowait()

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        self.closed = True
        self._bus.unsubscribe(self)

    async def __aiter__(self) -> AsyncIterator[Message | Lagged]:
        while not self.closed:
            yield await self.get()


class Bus(Generic[Message]):
    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self._subscribers: list[Subscription[Message]] = []

    def subscribe(self, queue_size: int | None = None) -> Subscription[Message]:
        subscription = Subscription(self, queue_size or self.queue_size)
        self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription[Message]) -> None:
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)

    def publish(self, message: Message) -> None:
        """Hand `message` to every subscriber without waiting for any of them."""
        for subscription in self._subscribers:
            subscription.offer(message)
