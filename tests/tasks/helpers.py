"""Helpers to build registry records, incidents and follow-ups for the task tests."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fengqiao.accounts.models import UserAccount
from fengqiao.audit.service import SYSTEM
from fengqiao.auth import Principal, build_principal
from fengqiao.clock import at_local
from fengqiao.db import utcnow
from fengqiao.i18n import language
from fengqiao.incidents import service as incidents
from fengqiao.org import placement
from fengqiao.org.models import GridAssignment, Person, PersonKind, PoliceGrid
from fengqiao.registry.models import (
    Address,
    AddressLevel,
    Establishment,
    EstablishmentKind,
    House,
    HouseUse,
    RecordStatus,
    Resident,
    ResidentKind,
)
from fengqiao.tasks.generation import HOTSPOT_CELL_DEG
from fengqiao.tasks.models import FollowUp, FollowUpStatus, Task, TaskKind
from tests.incidents.helpers import inside, report

MONDAY = date(2031, 3, 3)  # a Monday in the future: every grid exists by then
assert MONDAY.weekday() == 0
TIMEOUT = 60.0


def morning(day: date) -> datetime:
    """6:30 local, after the daily job's hour."""
    return at_local(day, 6, 30)


def principal_of(session: Session, username: str) -> Principal:
    user = session.scalars(select(UserAccount).where(UserAccount.username == username)).one()
    return build_principal(session, user)


def team(session: Session, grid_id: int) -> dict[PersonKind, list[int]]:
    out: dict[PersonKind, list[int]] = {}
    for pid, kind in session.execute(
        select(Person.id, Person.kind)
        .join(GridAssignment, GridAssignment.person_id == Person.id)
        .where(GridAssignment.grid_id == grid_id)
        .order_by(Person.id)
    ):
        out.setdefault(kind, []).append(pid)
    return out


def team_grids(session: Session, count: int, *, station_id: int | None = None) -> list[PoliceGrid]:
    """Grids whose team is exactly one officer, one auxiliary and two grid workers."""
    found = []
    query = select(PoliceGrid).where(PoliceGrid.active()).order_by(PoliceGrid.id)
    for grid in session.scalars(query):
        if station_id is not None and grid.district.station_id != station_id:
            continue
        members = team(session, grid.id)
        if {k: len(v) for k, v in members.items()} == {
            PersonKind.OFFICER: 1,
            PersonKind.AUXILIARY: 1,
            PersonKind.GRID_WORKER: 2,
        }:
            found.append(grid)
            if len(found) == count:
                return found
    raise AssertionError(f"fewer than {count} grids with a 1+1+2 team")


def grid_count(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).select_from(PoliceGrid).where(PoliceGrid.active())) or 0
    )


def keep_active(session: Session, grids: list[PoliceGrid]) -> int:
    """Retire every other grid (fewer grids for the daily job to go through); returns the
    number of active grids."""
    keep = [g.id for g in grids]
    session.execute(
        update(PoliceGrid)
        .where(PoliceGrid.id.not_in(keep), PoliceGrid.retired_at.is_(None))
        .values(retired_at=utcnow())
    )
    session.expire_all()
    placement.invalidate()
    return grid_count(session)


def point_in(grid: PoliceGrid, step: int = 0) -> tuple[float, float]:
    """A point inside the grid (a few metres apart for different ``step``)."""
    x, y = inside(grid)
    return x + step * 0.00001, y


def add_address(
    session: Session,
    grid: PoliceGrid,
    name: str,
    *,
    use: HouseUse | None = None,
    visited: datetime | None = None,
    level: AddressLevel = AddressLevel.ROOM,
    residents: int | None = None,
) -> Address:
    """An address; rooms and numbers without a house record get one registered
    resident (a household) unless ``residents=0`` (a door without people, e.g. a shop)."""
    lon, lat = point_in(grid)
    address = Address(
        parent_id=None,
        level=level,
        name=name,
        full_name=f"测试路{grid.id}号{name}",
        station_id=grid.district.station_id,
        grid_id=grid.id,
        lon=lon,
        lat=lat,
        code=uuid.uuid4().hex[:10].upper(),
        status=RecordStatus.ACTIVE,
        last_visited_at=visited,
    )
    session.add(address)
    session.flush()
    if use is not None:
        session.add(
            House(
                address_id=address.id,
                use=use,
                station_id=address.station_id,
                grid_id=grid.id,
            )
        )
        session.flush()
    if residents is None:
        residents = 1 if use is None and level in (AddressLevel.ROOM, AddressLevel.NUMBER) else 0
    for i in range(residents):
        session.add(
            Resident(
                name=f"住户{i}",
                initials="zh",
                kind=ResidentKind.REGISTERED,
                address_id=address.id,
                station_id=address.station_id,
                grid_id=grid.id,
                status=RecordStatus.ACTIVE,
            )
        )
    session.flush()
    return address


def add_place(
    session: Session,
    grid: PoliceGrid,
    name: str,
    *,
    kind: EstablishmentKind = EstablishmentKind.HOTEL,
    key_place: bool = True,
    every: int | None = 30,
    inspected: datetime | None = None,
) -> Establishment:
    # A road-level address: not a household to visit.
    address = add_address(session, grid, name, level=AddressLevel.ROAD)
    place = Establishment(
        name=name,
        initials="x",
        kind=kind,
        key_place=key_place,
        inspection_every_days=every if key_place else None,
        last_inspected_at=inspected,
        address_id=address.id,
        station_id=address.station_id,
        grid_id=grid.id,
        lon=address.lon,
        lat=address.lat,
        status=RecordStatus.ACTIVE,
    )
    session.add(place)
    session.flush()
    return place


def add_follow_up(
    session: Session,
    grid: PoliceGrid,
    due_on: date,
    *,
    kind: TaskKind = TaskKind.DISPUTE_FOLLOW_UP,
    label: str = "纠纷当事人",
) -> FollowUp:
    lon, lat = point_in(grid)
    row = FollowUp(
        kind=kind,
        station_id=grid.district.station_id,
        grid_id=grid.id,
        due_on=due_on,
        target_type="grid",
        target_id=grid.id,
        target_label=label,
        lon=lon,
        lat=lat,
        note="回访",
        status=FollowUpStatus.PENDING,
    )
    session.add(row)
    session.flush()
    return row


def add_incidents(
    session: Session,
    point: tuple[float, float],
    times: list[datetime],
    *,
    address: str = "菜市场门口",
) -> None:
    cx, cy = HOTSPOT_CELL_DEG
    spots = [(point[0] + i * 0.00002, point[1] + i * 0.00001) for i in range(len(times))]
    # A few metres apart, all in one hotspot cell.
    assert len({(int(x // cx), int(y // cy)) for x, y in spots}) == 1
    for spot, at in zip(spots, times, strict=True):
        incident = incidents.create_incident(
            session, actor=SYSTEM, data=report("0601", spot, address=address), route=False
        ).incident
        incident.received_at = at
    session.flush()


def tasks_of(session: Session, **where: object) -> list[Task]:
    query = select(Task).order_by(Task.id)
    for name, value in where.items():
        query = query.where(getattr(Task, name) == value)
    return list(session.scalars(query))


def race(work: Callable[[int], object]) -> list[object]:
    """Run ``work(0)`` and ``work(1)`` in two threads; their results or exceptions."""
    results: list[object] = [None, None]

    def run(i: int) -> None:
        with language("en"):
            try:
                results[i] = work(i)
            except BaseException as exc:  # reported by the test, not lost in the thread
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a racing transaction hung"
    return results


def days(n: int) -> timedelta:
    return timedelta(days=n)
