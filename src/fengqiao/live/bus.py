"""In each process, one task tails the event table and fans events out to listeners
(server-sent-event streams). Listeners filter by what their user may see."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from fengqiao.db import unit_of_work
from fengqiao.live import service as live

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 600.0
LOOKBACK_IDS = 200


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    station_id: int | None
    person_id: int | None
    payload: dict[str, Any]


class EventBus:
    def __init__(self, factory: sessionmaker[Session], *, interval_s: float = 0.25) -> None:
        self._factory = factory
        self._interval = interval_s
        self._queues: set[asyncio.Queue[Event]] = set()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._delivered: set[int] = set()
        self._floor = 0
        self.last_id = 0

    def _read(self, after: int) -> list[Event]:
        with self._factory() as session:
            return [
                Event(e.id, e.kind, e.station_id, e.person_id, json.loads(e.payload))
                for e in live.events_after(session, after)
            ]

    def _head(self) -> int:
        with self._factory() as session:
            return live.last_event_id(session)

    def _prune(self) -> None:
        with unit_of_work(self._factory) as session:
            live.prune(session)

    async def _run(self) -> None:
        self.last_id = await asyncio.to_thread(self._head)
        self._floor = self.last_id  # nothing from before this process started
        next_prune = 0.0
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            if loop.time() >= next_prune:
                next_prune = loop.time() + PRUNE_EVERY_S
                try:
                    await asyncio.to_thread(self._prune)
                except Exception:  # pruning is housekeeping; live updates go on without it
                    log.exception("pruning live events failed")
            try:
                # Ids come from a sequence, not in commit order: a transaction holding a
                # lower id may commit after a higher one was read. Re-read a window
                # behind the newest id and deliver each event once.
                events = await asyncio.to_thread(self._read, max(self.last_id - LOOKBACK_IDS, 0))
            except Exception:  # a database hiccup must not kill live updates for good
                log.exception("reading live events failed")
                events = []
            fresh = [e for e in events if e.id > self._floor and e.id not in self._delivered]
            for event in fresh:
                self._delivered.add(event.id)
                self.last_id = max(self.last_id, event.id)
                for queue in list(self._queues):
                    with contextlib.suppress(asyncio.QueueFull):
                        queue.put_nowait(event)
            self._floor = max(self._floor, self.last_id - LOOKBACK_IDS)
            self._delivered = {i for i in self._delivered if i > self._floor}
            if not fresh:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Let the loop finish its current read (a thread cannot be cancelled), then end."""
        if self._task is not None:
            self._stop.set()
            try:
                await asyncio.wait_for(self._task, 10)
            except TimeoutError:
                self._task.cancel()
            self._task = None

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Event]]:
        """A queue that receives every event until the block ends."""
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)
