"""Server-sent events: the live feed of the command room and of an officer's phone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from fengqiao.auth import Permission, Principal
from fengqiao.live.bus import Event, EventBus
from fengqiao.web import CurrentPrincipal, settings_of

router = APIRouter(tags=["live"])


def visible(event: Event, principal: Principal) -> bool:
    """Own events always; station events within scope to those who watch incidents."""
    if principal.person_id is not None and event.person_id == principal.person_id:
        return True
    # Anti-fraud orders go to the warning desk only (personal data, 三员分立).
    watch = (
        Permission.RECEIVE_WARNINGS
        if event.kind.startswith("fraud_")
        else Permission.VIEW_INCIDENTS
    )
    if not principal.can(watch):
        return False
    if principal.grid_ids is not None:
        return False
    if event.station_id is None:
        # The bureau's unplaced warnings: every desk; other unplaced events: dispatchers.
        return watch is Permission.RECEIVE_WARNINGS or principal.can(Permission.DISPATCH)
    return principal.sees_station(event.station_id)


@router.get("/live/stream")
async def stream(request: Request, principal: CurrentPrincipal) -> StreamingResponse:
    """``text/event-stream`` of incident, assignment, person and alert events in scope."""
    bus: EventBus = request.app.state.bus
    keepalive = settings_of(request).live_keepalive_seconds

    async def events() -> AsyncIterator[str]:
        with bus.subscribe() as queue:
            yield f"event: hello\ndata: {json.dumps({'last_id': bus.last_id})}\n\n"
            while not await request.is_disconnected():
                try:
                    # Waiting on the queue itself: a timeout leaves the subscription intact.
                    event = await asyncio.wait_for(queue.get(), keepalive)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if visible(event, principal):
                    data = json.dumps(event.payload, ensure_ascii=False, default=str)
                    yield f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
