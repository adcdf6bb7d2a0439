"""HTML pages: the station overview map, the grid card, the grid list, the roster."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fengqiao.auth import Permission, Principal
from fengqiao.org import service as org
from fengqiao.org.models import DutyStatus
from fengqiao.web import DbSession, render, requires

router = APIRouter(include_in_schema=False)
MapReader = Annotated[Principal, requires(Permission.VIEW_MAP)]
GridReader = Annotated[Principal, requires(Permission.VIEW_GRIDS)]
PersonnelReader = Annotated[Principal, requires(Permission.VIEW_PERSONNEL)]


@router.get("/")
def overview_map(request: Request, session: DbSession, principal: MapReader) -> Response:
    stations = org.list_stations(session, principal)
    return render(request, "org/map.html", stations=stations)


@router.get("/grids/{grid_id}/card")
def grid_card(
    request: Request, session: DbSession, principal: GridReader, grid_id: int
) -> Response:
    return render(
        request, "org/grid_card.html", grid=org.get_grid_or_raise(session, principal, grid_id)
    )


@router.get("/grids")
def grid_list(request: Request, session: DbSession, principal: GridReader) -> Response:
    return render(request, "org/grids.html", grids=org.list_grids(session, principal))


@router.get("/personnel")
def roster(
    request: Request,
    session: DbSession,
    principal: PersonnelReader,
    station_id: int | None = None,
    status: DutyStatus | None = None,
) -> Response:
    people = org.list_personnel(session, principal, station_id=station_id, status=status)
    everyone = (
        people if status is None else org.list_personnel(session, principal, station_id=station_id)
    )
    return render(
        request,
        "org/personnel.html",
        people=people,
        summary=org.duty_summary(everyone),
        stations=org.list_stations(session, principal),
        station_id=station_id,
        status=status.value if status else None,
        statuses=[s.value for s in DutyStatus],
    )
