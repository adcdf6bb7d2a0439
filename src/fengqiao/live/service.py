"""Publishing live events (in the caller's transaction) and reading them back in order.

The ``live_event`` table is the bus: any process appends, every process tails it, so
live pages work with several application processes behind one database.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from fengqiao.db import utcnow
from fengqiao.live.models import LiveEvent

KEEP = timedelta(days=2)


def publish(
    session: Session,
    *,
    kind: str,
    payload: dict[str, Any],
    station_id: int | None = None,
    person_id: int | None = None,
) -> None:
    """Append an event; listeners see it once the caller's transaction commits."""
    session.add(
        LiveEvent(
            kind=kind,
            station_id=station_id,
            person_id=person_id,
            payload=json.dumps(payload, ensure_ascii=False, default=str),
        )
    )


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(LiveEvent.id))) or 0)


def events_after(session: Session, after_id: int, *, limit: int = 500) -> list[LiveEvent]:
    return list(
        session.scalars(
            select(LiveEvent).where(LiveEvent.id > after_id).order_by(LiveEvent.id).limit(limit)
        )
    )


def prune(session: Session) -> int:
    """Drop events older than two days (live pages only need the recent ones)."""
    result = session.execute(delete(LiveEvent).where(LiveEvent.at < utcnow() - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)
