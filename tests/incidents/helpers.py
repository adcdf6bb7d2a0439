"""Helpers to build situations for the incident-loop tests."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import shapely
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fengqiao.audit.service import SYSTEM
from fengqiao.demo.county import CountyFiles
from fengqiao.grids.importing import import_units
from fengqiao.incidents.models import Channel, Priority
from fengqiao.incidents.schemas import IncidentIn
from fengqiao.incidents.service import ensure_reference_data
from fengqiao.org.importing import IMPORTERS
from fengqiao.org.models import (
    DutyStatus,
    GridAssignment,
    Person,
    PersonKind,
    PoliceDistrict,
    PoliceGrid,
    Station,
)

ORG_FILES = ("stations", "districts", "grids", "civil_grids", "personnel")


def import_org(session: Session, files: CountyFiles) -> None:
    """Stations, districts, grids, civil grids and personnel, plus categories and rules."""
    ensure_reference_data(session)
    for name in ORG_FILES:
        IMPORTERS[name.replace("_", "-")](session, getattr(files, name), actor=SYSTEM)
    import_units(session, files.units, actor=SYSTEM)


def station(session: Session, code: str) -> Station:
    return session.scalars(select(Station).where(Station.code == code)).one()


def rural_station(session: Session) -> Station:
    """The first rural station of the joint station QX-DB (by code)."""
    return session.scalars(
        select(Station).where(Station.joint_station_id.is_not(None)).order_by(Station.code)
    ).first()  # type: ignore[return-value]


def grids_of(session: Session, station_id: int) -> list[PoliceGrid]:
    return list(
        session.scalars(
            select(PoliceGrid)
            .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
            .where(PoliceDistrict.station_id == station_id)
            .order_by(PoliceGrid.id)
        )
    )


def grid_person(session: Session, grid_id: int, role: PersonKind) -> Person | None:
    return session.scalar(
        select(Person)
        .join(GridAssignment, GridAssignment.person_id == Person.id)
        .where(GridAssignment.grid_id == grid_id, GridAssignment.role == role)
    )


def staffed_grid(session: Session, station_id: int) -> PoliceGrid:
    """A grid of the station with both a fixed officer and a fixed auxiliary."""
    for grid in grids_of(session, station_id):
        if grid_person(session, grid.id, PersonKind.OFFICER) and grid_person(
            session, grid.id, PersonKind.AUXILIARY
        ):
            return grid
    raise AssertionError("no grid with an officer and an auxiliary")


def inside(grid: PoliceGrid) -> tuple[float, float]:
    point = shapely.point_on_surface(grid.geometry)
    assert grid.geometry.contains(point)
    return round(point.x, 6), round(point.y, 6)


def set_status(session: Session, people: Iterable[Person], status: DutyStatus) -> None:
    for person in people:
        person.duty_status = status
    session.flush()


def all_off_duty(session: Session, station_ids: Iterable[int] | None = None) -> None:
    """Everyone (of the given stations) off duty: a blank slate to build a situation on."""
    stmt = update(Person).values(duty_status=DutyStatus.OFF_DUTY)
    if station_ids is not None:
        stmt = stmt.where(Person.station_id.in_(list(station_ids)))
    session.execute(stmt)
    session.expire_all()


def people_of(session: Session, station_id: int) -> list[Person]:
    return list(
        session.scalars(select(Person).where(Person.station_id == station_id).order_by(Person.id))
    )


def report(
    category: str,
    point: tuple[float, float] | None,
    *,
    priority: Priority | None = None,
    address: str | None = None,
    **extra: object,
) -> IncidentIn:
    return IncidentIn(
        channel=Channel.PHONE,
        category_code=category,
        priority=priority,
        lon=point[0] if point else None,
        lat=point[1] if point else None,
        address=address,
        **extra,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Spot:
    """A place to report an incident at: a staffed grid and a point inside it."""

    station: Station
    grid: PoliceGrid
    point: tuple[float, float]
    officer: Person
    auxiliary: Person


def spot(session: Session, station_code: str | None = None) -> Spot:
    st = station(session, station_code) if station_code else rural_station(session)
    grid = staffed_grid(session, st.id)
    officer = grid_person(session, grid.id, PersonKind.OFFICER)
    auxiliary = grid_person(session, grid.id, PersonKind.AUXILIARY)
    assert officer is not None and auxiliary is not None
    return Spot(st, grid, inside(grid), officer, auxiliary)


def tmp_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path
