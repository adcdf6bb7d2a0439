"""The per-process bus delivers each committed event once, also when ids commit out of order."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker

from fengqiao.db import unit_of_work
from fengqiao.live.bus import Event, EventBus
from fengqiao.live.models import LiveEvent


def _insert(factory: sessionmaker[Session], event_id: int) -> None:
    with unit_of_work(factory) as session:
        session.add(LiveEvent(id=event_id, kind="test", payload=f'{{"n": {event_id}}}'))


def test_late_commit_of_a_lower_id_is_delivered_once(
    session_factory: sessionmaker[Session],
) -> None:
    _insert(session_factory, 5)  # before the bus starts: not delivered

    async def scenario() -> list[int]:
        bus = EventBus(session_factory, interval_s=0.05)
        got: list[Event] = []
        with bus.subscribe() as queue:
            bus.start()
            while bus.last_id < 5:  # started: the head is read
                await asyncio.sleep(0.05)
            await asyncio.to_thread(_insert, session_factory, 20)
            got.append(await asyncio.wait_for(queue.get(), 10))
            # A transaction that took id 12 before id 20 commits only now.
            await asyncio.to_thread(_insert, session_factory, 12)
            got.append(await asyncio.wait_for(queue.get(), 10))
            await asyncio.to_thread(_insert, session_factory, 21)
            got.append(await asyncio.wait_for(queue.get(), 10))
            await asyncio.sleep(0.3)  # several more polls: nothing is delivered twice
            await bus.stop()
            while not queue.empty():
                got.append(queue.get_nowait())
        return [e.id for e in got]

    assert asyncio.run(scenario()) == [20, 12, 21]
