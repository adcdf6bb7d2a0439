"""Server-sent events: the live feed of the command room and of an officer's phone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from fengqiao.auth import Permission, Principal
from fengqiao.live.bus import Event, EventBus
from fengqiao.web import CurrentPrincipal

router = APIRouter(tags=["live"])
KEEPALIVE_S = 15.0


def visible(event: Event, principal: Principal) -> bool:
    """Own events always; station events within scope to those who watch incidents."""
    if principal.person_id is not None and event.person_id == principal.person_id:
        return True
    if not principal.can(Permission.VIEW_INCIDENTS):
        return False
    if principal.grid_ids is not None:
        return False
    if event.station_id is None:
        return principal.can(Permission.DISPATCH)
    return principal.sees_station(event.station_id)


@router.get("/live/stream")
async def stream(request: Request, principal: CurrentPrincipal) -> StreamingResponse:
    """``text/event-stream`` of incident, assignment, person and alert events in scope."""
    bus: EventBus = request.app.state.bus

    async def events() -> AsyncIterator[str]:
        yield f"event: hello\ndata: {json.dumps({'last_id': bus.last_id})}\n\n"
        listener = bus.listen().__aiter__()
        while not await request.is_disconnected():
            try:
                event = await asyncio.wait_for(listener.__anext__(), KEEPALIVE_S)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if visible(event, principal):
                data = json.dumps(event.payload, ensure_ascii=False, default=str)
                yield f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"
        await listener.aclose()  # type: ignore[attr-defined]  # an async generator

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
