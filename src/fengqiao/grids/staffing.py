"""Staffing the grids (1+1+N) and the coverage report by station."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Principal
from fengqiao.db import lock_for_update
from fengqiao.errors import InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.org.models import (
    GridAssignment,
    Person,
    PersonKind,
    PoliceDistrict,
    PoliceGrid,
    Station,
)

FIXED = (PersonKind.OFFICER, PersonKind.AUXILIARY)
MAX_GRIDS_PER_PERSON = 2  # a fixed person serving more grids than this is overloaded


def _grid_or_raise(session: Session, principal: Principal, grid_id: int) -> tuple[PoliceGrid, int]:
    row = session.execute(
        select(PoliceGrid, PoliceDistrict.station_id)
        .join(PoliceDistrict)
        .where(PoliceGrid.id == grid_id, PoliceGrid.active())
    ).first()
    if row is None or not principal.sees_station(row[1]):
        raise NotFound(_("Grid {id} not found or outside your area.").format(id=grid_id))
    return row[0], row[1]


def assign_post(session: Session, principal: Principal, *, grid_id: int, person_id: int) -> str:
    """Post a person on a grid in the role of their kind; a new fixed officer or auxiliary
    replaces the one before. Returns what happened, for the message."""
    grid, station_id = _grid_or_raise(session, principal, grid_id)
    person = session.get(Person, person_id)
    if person is None or person.station_id != station_id:
        raise InvalidInput(
            _("Person {id} is not on the staff of this grid's station.").format(id=person_id)
        )
    lock_for_update(session, grid)
    if grid.retired_at is not None:  # a layout was published meanwhile
        raise NotFound(_("Grid {id} not found or outside your area.").format(id=grid_id))
    posts = list(session.scalars(select(GridAssignment).where(GridAssignment.grid_id == grid.id)))
    if any(p.person_id == person.id for p in posts):
        return _("{name} already serves grid {code}.").format(name=person.name, code=grid.code)
    replaced = [p for p in posts if p.role is person.kind and person.kind in FIXED]
    for post in replaced:
        session.delete(post)
    session.flush()
    session.add(GridAssignment(person_id=person.id, grid_id=grid.id, role=person.kind))
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.CREATE,
        object_type="grid_assignment",
        object_id=f"{person.personnel_no}@{grid.code}",
        detail={"role": person.kind.value, "replaced": [p.person_id for p in replaced]},
    )
    session.flush()
    return _("{name} now serves grid {code}.").format(name=person.name, code=grid.code)


def remove_post(session: Session, principal: Principal, *, grid_id: int, person_id: int) -> None:
    grid, _station = _grid_or_raise(session, principal, grid_id)
    post = session.scalar(
        select(GridAssignment).where(
            GridAssignment.grid_id == grid.id, GridAssignment.person_id == person_id
        )
    )
    if post is None:
        raise NotFound(_("That person does not serve this grid."))
    session.delete(post)
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.DELETE,
        object_type="grid_assignment",
        object_id=f"{person_id}@{grid.code}",
        detail={"role": post.role.value},
    )
    session.flush()


@dataclass
class Overloaded:
    personnel_no: str
    name: str
    kind: str
    grids: int


@dataclass
class StationCoverage:
    station_id: int
    code: str
    name: str
    grids: int = 0
    population: int = 0
    officers: int = 0  # distinct fixed officers
    auxiliaries: int = 0
    grid_workers: int = 0
    without_officer: list[str] = field(default_factory=list)
    without_fixed: list[str] = field(default_factory=list)  # neither officer nor auxiliary
    overloaded: list[Overloaded] = field(default_factory=list)

    @property
    def residents_per_officer(self) -> float | None:
        return self.population / self.officers if self.officers else None

    @property
    def covered_share(self) -> float:
        return 1 - len(self.without_fixed) / self.grids if self.grids else 0.0


def coverage(
    session: Session, principal: Principal, *, max_grids: int = MAX_GRIDS_PER_PERSON
) -> list[StationCoverage]:
    """Per station: grids without a fixed officer or any fixed person, people with more
    than ``max_grids`` fixed grids, and residents per fixed officer."""
    stations = select(Station).order_by(Station.code)
    if principal.station_ids is not None:
        stations = stations.where(Station.id.in_(principal.station_ids))
    out = {s.id: StationCoverage(s.id, s.code, s.name) for s in session.scalars(stations)}
    grids = session.execute(
        select(PoliceGrid.id, PoliceGrid.code, PoliceGrid.population, PoliceDistrict.station_id)
        .join(PoliceDistrict)
        .where(PoliceGrid.active(), PoliceDistrict.station_id.in_(out))
        .order_by(PoliceGrid.code)
    ).all()
    posts = session.execute(
        select(GridAssignment.grid_id, GridAssignment.role, Person)
        .join(Person, Person.id == GridAssignment.person_id)
        .where(GridAssignment.grid_id.in_([g[0] for g in grids]))
    ).all()
    roles: dict[int, set[PersonKind]] = defaultdict(set)
    people: dict[int, dict[PersonKind, set[int]]] = defaultdict(lambda: defaultdict(set))
    load: Counter[int] = Counter()
    who: dict[int, Person] = {}
    station_of = {g[0]: g[3] for g in grids}
    for grid_id, role, person in posts:
        roles[grid_id].add(role)
        people[station_of[grid_id]][role].add(person.id)
        if role in FIXED:
            load[person.id] += 1
            who[person.id] = person
    for grid_id, code, population, station_id in grids:
        c = out[station_id]
        c.grids += 1
        c.population += population
        if PersonKind.OFFICER not in roles[grid_id]:
            c.without_officer.append(code)
        if not roles[grid_id] & set(FIXED):
            c.without_fixed.append(code)
    for station_id, c in out.items():
        c.officers = len(people[station_id][PersonKind.OFFICER])
        c.auxiliaries = len(people[station_id][PersonKind.AUXILIARY])
        c.grid_workers = len(people[station_id][PersonKind.GRID_WORKER])
    for person_id, count in sorted(load.items()):
        if count > max_grids:
            p = who[person_id]
            if p.station_id in out:
                out[p.station_id].overloaded.append(
                    Overloaded(p.personnel_no, p.name, p.kind.value, count)
                )
    return list(out.values())
