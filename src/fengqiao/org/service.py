"""Queries on the organisation, scoped to what the principal may see."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from shapely.geometry import mapping
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, joinedload

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Principal
from fengqiao.errors import NotFound
from fengqiao.i18n import _
from fengqiao.live import service as live
from fengqiao.org.models import (
    CivilGrid,
    DutyStatus,
    GridAssignment,
    Person,
    PersonKind,
    PoliceDistrict,
    PoliceGrid,
    Station,
)
from fengqiao.org.schemas import GridOut, PersonOut, PersonRef, StationOut
from fengqiao.privacy import mask_phone


def _scoped_grids(principal: Principal) -> Select[PoliceGrid]:
    query = (
        select(PoliceGrid)
        .join(PoliceGrid.district)
        .options(joinedload(PoliceGrid.district).joinedload(PoliceDistrict.station))
        .where(PoliceGrid.active())
        .order_by(PoliceGrid.code)
    )
    if principal.station_ids is not None:
        query = query.where(PoliceDistrict.station_id.in_(principal.station_ids))
    if principal.grid_ids is not None:
        query = query.where(PoliceGrid.id.in_(principal.grid_ids))
    return query


def grids_in_scope(session: Session, principal: Principal) -> list[PoliceGrid]:
    """Active grids the principal may see, by code (for lists and forms)."""
    return list(session.scalars(_scoped_grids(principal)))


def grid_codes(session: Session, ids: set[int | None]) -> dict[int, str]:
    """Grid id → code, for lists of records, in one query."""
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    rows = session.execute(select(PoliceGrid.id, PoliceGrid.code).where(PoliceGrid.id.in_(wanted)))
    return {r[0]: r[1] for r in rows}


def grid_responsible(session: Session, grid_ids: set[int]) -> dict[int, int]:
    """Grid → the person who answers for it: the grid's officer, else its auxiliary."""
    if not grid_ids:
        return {}
    rows = session.execute(
        select(GridAssignment.grid_id, GridAssignment.role, GridAssignment.person_id).where(
            GridAssignment.grid_id.in_(sorted(grid_ids)),
            GridAssignment.role.in_((PersonKind.OFFICER, PersonKind.AUXILIARY)),
        )
    ).all()
    out: dict[int, int] = {}
    for grid_id, _role, person_id in sorted(rows, key=lambda r: r[1] is not PersonKind.OFFICER):
        out.setdefault(grid_id, person_id)
    return out


def _ref(person: Person) -> PersonRef:
    return PersonRef(
        id=person.id,
        personnel_no=person.personnel_no,
        name=person.name,
        kind=person.kind.value,
        phone_masked=mask_phone(person.phone),
    )


def _grid_outs(session: Session, grids: list[PoliceGrid]) -> list[GridOut]:
    ids = [g.id for g in grids]
    team: dict[int, list[tuple[PersonKind, Person]]] = defaultdict(list)
    civil: dict[int, list[str]] = defaultdict(list)
    if ids:
        for assignment in session.scalars(
            select(GridAssignment)
            .where(GridAssignment.grid_id.in_(ids))
            .options(joinedload(GridAssignment.person))
            .order_by(GridAssignment.id)
        ):
            team[assignment.grid_id].append((assignment.role, assignment.person))
        for grid_id, name in session.execute(
            select(CivilGrid.police_grid_id, CivilGrid.name)
            .where(CivilGrid.police_grid_id.in_(ids))
            .order_by(CivilGrid.code)
        ):
            civil[grid_id].append(name)
    outs = []
    for g in grids:
        members = team[g.id]

        def first(
            kind: PersonKind, members: list[tuple[PersonKind, Person]] = members
        ) -> Person | None:
            return next((p for role, p in members if role is kind), None)

        officer, auxiliary = first(PersonKind.OFFICER), first(PersonKind.AUXILIARY)
        outs.append(
            GridOut(
                id=g.id,
                code=g.code,
                name=g.name,
                kind=g.kind.value,
                population=g.population,
                places=[p for p in (g.places or "").split(";") if p],
                district_code=g.district.code,
                district_name=g.district.name,
                station_id=g.district.station_id,
                station_code=g.district.station.code,
                station_name=g.district.station.name,
                officer=_ref(officer) if officer else None,
                auxiliary=_ref(auxiliary) if auxiliary else None,
                grid_workers=[_ref(p) for r, p in members if r is PersonKind.GRID_WORKER],
                volunteers=[_ref(p) for r, p in members if r is PersonKind.VOLUNTEER],
                civil_grids=civil[g.id],
            )
        )
    return outs


def list_grids(session: Session, principal: Principal) -> list[GridOut]:
    """Every grid the principal may see, with its team (three queries whatever the count)."""
    grids = list(session.scalars(_scoped_grids(principal)).unique())
    outs = _grid_outs(session, grids)
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.READ,
        object_type="police_grid",
        object_id="list",
        detail={"count": len(outs)},
    )
    return outs


def get_grid_or_raise(session: Session, principal: Principal, grid_id: int) -> GridOut:
    grid = session.scalars(_scoped_grids(principal).where(PoliceGrid.id == grid_id)).first()
    if grid is None:
        raise NotFound(_("No grid {id} within your area.").format(id=grid_id))
    out = _grid_outs(session, [grid])[0]
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.READ,
        object_type="police_grid",
        object_id=grid.id,
    )
    return out


def grids_geojson(session: Session, principal: Principal) -> dict[str, Any]:
    """The principal's grids as a GeoJSON FeatureCollection (WGS-84) for the map."""
    grids = list(session.scalars(_scoped_grids(principal)).unique())
    outs = {o.id: o for o in _grid_outs(session, grids)}
    features = []
    for g in grids:
        out = outs[g.id]
        features.append(
            {
                "type": "Feature",
                "id": g.id,
                "geometry": mapping(g.geometry),
                "properties": {
                    "id": g.id,
                    "code": g.code,
                    "name": g.name,
                    "kind": g.kind.value,
                    "population": g.population,
                    "station": out.station_name,
                    "district": out.district_name,
                    "officer": out.officer.name if out.officer else None,
                },
            }
        )
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.READ,
        object_type="police_grid",
        object_id="map",
        detail={"count": len(features)},
    )
    return {"type": "FeatureCollection", "features": features}


def stations_geojson(session: Session, principal: Principal) -> dict[str, Any]:
    """Station areas (WGS-84) for the map's boundary layer; no personal data."""
    query = select(Station).where(Station.geometry.is_not(None)).order_by(Station.code)
    if principal.station_ids is not None:
        query = query.where(Station.id.in_(principal.station_ids))
    features = [
        {
            "type": "Feature",
            "id": s.id,
            "geometry": mapping(s.geometry),
            "properties": {"id": s.id, "code": s.code, "name": s.name, "kind": s.kind.value},
        }
        for s in session.scalars(query)
        if s.geometry is not None
    ]
    return {"type": "FeatureCollection", "features": features}


def list_stations(session: Session, principal: Principal) -> list[StationOut]:
    query = (
        select(
            Station,
            func.count(func.distinct(PoliceDistrict.id)),
            func.count(PoliceGrid.id),
            func.coalesce(func.sum(PoliceGrid.population), 0),
        )
        .outerjoin(PoliceDistrict, PoliceDistrict.station_id == Station.id)
        .outerjoin(PoliceGrid, (PoliceGrid.district_id == PoliceDistrict.id) & PoliceGrid.active())
        .options(joinedload(Station.joint_station))
        .group_by(Station.id)
        .order_by(Station.code)
    )
    if principal.station_ids is not None:
        query = query.where(Station.id.in_(principal.station_ids))
    return [
        StationOut(
            id=s.id,
            code=s.code,
            name=s.name,
            kind=s.kind.value,
            joint_station=s.joint_station.name if s.joint_station else None,
            districts=d,
            grids=n,
            population=int(pop),
        )
        for s, d, n, pop in session.execute(query).unique()
    ]


# Roster order: officers, auxiliaries, grid workers, volunteers.
_ROSTER_ORDER = case(
    {k.value: i for i, k in enumerate(PersonKind)}, value=Person.kind, else_=len(PersonKind)
)


def list_personnel(
    session: Session,
    principal: Principal,
    *,
    station_id: int | None = None,
    status: DutyStatus | None = None,
    kind: PersonKind | None = None,
) -> list[PersonOut]:
    """The roster (实有警力一览表) within scope; phones masked; the read is audited."""
    query = (
        select(Person)
        .options(
            joinedload(Person.station),
            joinedload(Person.assignments).joinedload(GridAssignment.grid),
        )
        .order_by(Person.station_id, _ROSTER_ORDER, Person.personnel_no)
    )
    if principal.station_ids is not None:
        query = query.where(Person.station_id.in_(principal.station_ids))
    if principal.grid_ids is not None:
        query = query.where(
            Person.id.in_(
                select(GridAssignment.person_id).where(
                    GridAssignment.grid_id.in_(principal.grid_ids)
                )
            )
        )
    if station_id is not None:
        query = query.where(Person.station_id == station_id)
    if status is not None:
        query = query.where(Person.duty_status == status)
    if kind is not None:
        query = query.where(Person.kind == kind)
    people = list(session.scalars(query).unique())
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.READ,
        object_type="person",
        object_id="roster",
        detail={
            "count": len(people),
            "station_id": station_id,
            "status": status.value if status else None,
        },
    )
    return [
        PersonOut(
            id=p.id,
            personnel_no=p.personnel_no,
            name=p.name,
            kind=p.kind.value,
            team=p.team.value if p.team else None,
            position=p.position,
            station_code=p.station.code,
            station_name=p.station.name,
            phone_masked=mask_phone(p.phone),
            duty_status=p.duty_status.value,
            grids=[a.grid.code for a in p.assignments],
            lon=p.last_lon,
            lat=p.last_lat,
        )
        for p in people
    ]


def duty_summary(people: list[PersonOut]) -> dict[str, int]:
    counts = {s.value: 0 for s in DutyStatus}
    for p in people:
        counts[p.duty_status] += 1
    return counts


def get_person_in_scope_or_raise(session: Session, principal: Principal, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None or not principal.sees_station(person.station_id):
        raise NotFound(_("No person {id} within your area.").format(id=person_id))
    return person


def update_position(session: Session, principal: Principal, *, lon: float, lat: float) -> None:
    """Store the principal's own last known position and tell the live map."""
    if principal.person_id is None:
        raise NotFound(_("Your account is not linked to a person."))
    person = session.get(Person, principal.person_id)
    assert person is not None
    person.last_lon, person.last_lat = lon, lat
    live.publish(
        session,
        kind="position",
        station_id=person.station_id,
        person_id=person.id,
        payload={
            "id": person.id,
            "name": person.name,
            "lon": lon,
            "lat": lat,
            "status": person.duty_status.value,
        },
    )
