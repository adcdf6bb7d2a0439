"""JSON API for the organisation: stations, grids (with their teams), personnel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from fengqiao.auth import Permission, Principal
from fengqiao.org import service as org
from fengqiao.org.models import DutyStatus, PersonKind
from fengqiao.org.schemas import GridOut, PersonOut, StationOut
from fengqiao.web import DbSession, requires

router = APIRouter(tags=["organisation"])
GridReader = Annotated[Principal, requires(Permission.VIEW_GRIDS)]
PersonnelReader = Annotated[Principal, requires(Permission.VIEW_PERSONNEL)]


@router.get("/stations", response_model=list[StationOut])
def list_stations(session: DbSession, principal: GridReader) -> list[StationOut]:
    return org.list_stations(session, principal)


@router.get("/stations.geojson")
def stations_geojson(session: DbSession, principal: GridReader) -> dict[str, Any]:
    """Station areas as a GeoJSON FeatureCollection (WGS-84 lon/lat)."""
    return org.stations_geojson(session, principal)


@router.get("/grids", response_model=list[GridOut])
def list_grids(session: DbSession, principal: GridReader) -> list[GridOut]:
    """Police grids in your scope with population, officer, auxiliary and grid workers."""
    return org.list_grids(session, principal)


@router.get("/grids.geojson")
def grids_geojson(session: DbSession, principal: GridReader) -> dict[str, Any]:
    """Police grids as a GeoJSON FeatureCollection (WGS-84 lon/lat)."""
    return org.grids_geojson(session, principal)


@router.get("/grids/{grid_id}", response_model=GridOut)
def get_grid(session: DbSession, principal: GridReader, grid_id: int) -> GridOut:
    return org.get_grid_or_raise(session, principal, grid_id)


@router.get("/personnel", response_model=list[PersonOut])
def list_personnel(
    session: DbSession,
    principal: PersonnelReader,
    station_id: int | None = None,
    status: DutyStatus | None = None,
    kind: PersonKind | None = None,
) -> list[PersonOut]:
    """The roster of personnel in your scope; phone numbers are masked."""
    return org.list_personnel(session, principal, station_id=station_id, status=status, kind=kind)
