"""Reading incidents within the principal's scope: the queue, one incident with its
timeline, a person's assignments, the command-room map. Personal data is masked and
every read of it is audited."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import ColumnElement, Select, and_, case, or_, select
from sqlalchemy.orm import Session, joinedload

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Permission, Principal
from fengqiao.db import utcnow
from fengqiao.dispatch import service as dispatch
from fengqiao.dispatch.models import (
    ACTIVE_ASSIGNMENT,
    Assignment,
    AssignmentStatus,
    ReinforcementOrder,
    ReinforcementRequest,
)
from fengqiao.errors import NotFound
from fengqiao.i18n import _, gettext
from fengqiao.incidents import service as incidents
from fengqiao.incidents.models import (
    Incident,
    IncidentEvent,
    IncidentStatus,
    RoutingDecision,
)
from fengqiao.incidents.schemas import (
    AssignmentOut,
    IncidentOut,
    PersonBrief,
    ReinforcementOut,
    TimelineEntry,
)
from fengqiao.org import service as org
from fengqiao.org.models import Person, Station
from fengqiao.privacy import mask_name, mask_phone

_PRIORITY_RANK = case({"urgent": 0, "high": 1, "normal": 2}, value=Incident.priority, else_=3)
ACTIVE_STATUSES = frozenset(AssignmentStatus(s) for s in ACTIVE_ASSIGNMENT)
OPEN = (
    IncidentStatus.RECEIVED,
    IncidentStatus.DISPATCHED,
    IncidentStatus.ACCEPTED,
    IncidentStatus.ARRIVED,
)


def _scoped(principal: Principal) -> Select[Incident]:
    """Incidents of the principal's stations (and grids); unplaced ones only to those who
    dispatch, who must place them; plus any incident the principal reported or is sent to."""
    query = select(Incident).options(joinedload(Incident.category))
    own: list[ColumnElement[bool]] = [Incident.created_by == principal.user_id]
    if principal.person_id is not None:
        own.append(
            Incident.id.in_(
                select(Assignment.incident_id).where(
                    Assignment.person_id == principal.person_id,
                    Assignment.status.in_(ACTIVE_ASSIGNMENT),
                )
            )
        )
    if principal.station_ids is not None:
        area: ColumnElement[bool] = Incident.station_id.in_(principal.station_ids)
        if principal.grid_ids is not None:
            area = and_(area, Incident.grid_id.in_(principal.grid_ids))
        elif principal.can(Permission.DISPATCH):
            area = or_(area, Incident.station_id.is_(None))
        query = query.where(or_(area, *own))
    return query


def assignment_out(a: Assignment) -> AssignmentOut:
    return AssignmentOut(
        id=a.id,
        incident_id=a.incident_id,
        person=PersonBrief(
            id=a.person.id,
            name=a.person.name,
            personnel_no=a.person.personnel_no,
            status=a.person.duty_status.value,
        ),
        status=a.status.value,
        dispatched_at=a.dispatched_at,
        accepted_at=a.accepted_at,
        arrived_at=a.arrived_at,
        released_at=a.released_at,
    )


def _out(
    incident: Incident,
    grid_codes: dict[int, str],
    station_codes: dict[int, str],
    responsible: dict[int, str],
) -> IncidentOut:
    return IncidentOut(
        id=incident.id,
        number=dispatch.number_of(incident),
        channel=incident.channel,
        category_code=incident.category.code,
        category_name=incident.category.name_zh,
        priority=incident.priority,
        status=incident.status.value,
        description=incident.description,
        address=incident.address,
        reporter_name_masked=mask_name(incident.reporter_name),
        reporter_phone_masked=mask_phone(incident.reporter_phone),
        lon=incident.lon,
        lat=incident.lat,
        grid_code=grid_codes.get(incident.grid_id) if incident.grid_id else None,
        station_code=station_codes.get(incident.station_id) if incident.station_id else None,
        responsible_person=responsible.get(incident.responsible_person_id)
        if incident.responsible_person_id
        else None,
        needs_attention=incident.needs_attention,
        disposition=incident.disposition,
        received_at=incident.received_at,
        dispatched_at=incident.dispatched_at,
        accepted_at=incident.accepted_at,
        arrived_at=incident.arrived_at,
        handled_at=incident.handled_at,
        closed_at=incident.closed_at,
    )


def _outs(session: Session, rows: list[Incident]) -> list[IncidentOut]:
    grid_ids = {i.grid_id for i in rows if i.grid_id}
    station_ids = {i.station_id for i in rows if i.station_id}
    person_ids = {i.responsible_person_id for i in rows if i.responsible_person_id}
    grids = org.grid_codes(session, set(grid_ids))
    stations = (
        dict(
            session.execute(
                select(Station.id, Station.code).where(Station.id.in_(station_ids))
            ).all()
        )
        if station_ids
        else {}
    )
    people = (
        dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(person_ids))).all())
        if person_ids
        else {}
    )
    return [_out(i, grids, stations, people) for i in rows]


def list_open(session: Session, principal: Principal, *, limit: int = 300) -> list[IncidentOut]:
    """Open incidents, the ones needing attention first, then by priority and age."""
    rows = list(
        session.scalars(
            _scoped(principal)
            .where(Incident.status.in_(OPEN))
            .order_by(Incident.needs_attention.desc(), _PRIORITY_RANK, Incident.received_at)
            .limit(limit)
        ).unique()
    )
    outs = _outs(session, rows)
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.READ,
        object_type="incident",
        object_id="open",
        detail={"count": len(outs)},
    )
    return outs


def overdue(outs: list[IncidentOut], *, dispatch_min: int, arrival_min: int) -> set[int]:
    """Ids of open incidents not dispatched, or not reached, within the limits."""
    now = utcnow()
    late = set()
    for i in outs:
        if (i.dispatched_at is None and now - i.received_at > timedelta(minutes=dispatch_min)) or (
            i.arrived_at is None and now - i.received_at > timedelta(minutes=arrival_min)
        ):
            late.add(i.id)
    return late


def get_or_raise(session: Session, principal: Principal, incident_id: int) -> Incident:
    incident = session.scalars(_scoped(principal).where(Incident.id == incident_id)).first()
    if incident is None:
        raise NotFound(_("No incident {id} within your area.").format(id=incident_id))
    return incident


def _reason_text(decision: RoutingDecision) -> str:
    params = json.loads(decision.params or "{}")
    return gettext(decision.reason).format(**params) if decision.reason else ""


def detail(session: Session, principal: Principal, incident_id: int) -> IncidentOut:
    """One incident with its people and its timeline; the read is audited."""
    incident = get_or_raise(session, principal, incident_id)
    out = _outs(session, [incident])[0]
    assignments = list(
        session.scalars(
            select(Assignment)
            .where(Assignment.incident_id == incident.id)
            .options(joinedload(Assignment.person))
            .order_by(Assignment.id)
        )
    )
    names = {a.person_id: a.person.name for a in assignments}
    events = list(
        session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident.id)
            .order_by(IncidentEvent.at, IncidentEvent.id)
        )
    )
    decisions = list(
        session.scalars(
            select(RoutingDecision)
            .where(RoutingDecision.incident_id == incident.id)
            .order_by(RoutingDecision.id)
        )
    )
    timeline = [
        TimelineEntry(
            at=e.at,
            kind=e.kind,
            status=e.status.value if e.status else None,
            person=names.get(e.person_id) if e.person_id else None,
            text=e.note,
        )
        for e in events
    ]
    timeline += [
        TimelineEntry(
            at=d.at,
            kind="routed",
            status=None,
            person=names.get(d.person_id) if d.person_id else None,
            text=_reason_text(d),
        )
        for d in decisions
    ]
    timeline.sort(key=lambda t: t.at)
    out.assignments = [assignment_out(a) for a in assignments]
    out.timeline = timeline
    out.reinforcements = reinforcements(session, incident.id)
    out.linked_case, out.linked_dispute = incidents.linked_records(session, incident.id)
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.READ,
        object_type="incident",
        object_id=incident.id,
    )
    return out


def my_assignments(
    session: Session, principal: Principal
) -> list[tuple[AssignmentOut, IncidentOut]]:
    """The person's active assignments with their incidents (the phone page)."""
    if principal.person_id is None:
        return []
    rows = list(
        session.scalars(
            select(Assignment)
            .where(
                Assignment.person_id == principal.person_id,
                Assignment.status.in_(ACTIVE_ASSIGNMENT),
            )
            .options(joinedload(Assignment.person))
            .order_by(Assignment.dispatched_at.desc())
        )
    )
    incidents_by_id = (
        {
            i.id: i
            for i in session.scalars(
                select(Incident)
                .options(joinedload(Incident.category))
                .where(Incident.id.in_([a.incident_id for a in rows]))
            )
        }
        if rows
        else {}
    )
    outs = {o.id: o for o in _outs(session, list(incidents_by_id.values()))}
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.READ,
        object_type="assignment",
        object_id="mine",
        detail={"count": len(rows)},
    )
    return [(assignment_out(a), outs[a.incident_id]) for a in rows]


def own_assignment_or_raise(
    session: Session, principal: Principal, assignment_id: int
) -> Assignment:
    assignment = dispatch.get_assignment_or_raise(session, assignment_id)
    if assignment.person_id != principal.person_id or assignment.status not in ACTIVE_STATUSES:
        raise NotFound(_("No assignment {id} of yours.").format(id=assignment_id))
    return assignment


def proposals(session: Session, incident_ids: list[int]) -> dict[int, list[int]]:
    """People proposed by routing and awaiting the command room, per incident."""
    out: dict[int, list[int]] = {}
    if not incident_ids:
        return out
    for incident_id, person_id in session.execute(
        select(RoutingDecision.incident_id, RoutingDecision.person_id)
        .where(
            RoutingDecision.incident_id.in_(incident_ids),
            RoutingDecision.proposed_only.is_(True),
            RoutingDecision.person_id.is_not(None),
        )
        .order_by(RoutingDecision.id)
    ).all():
        if person_id is not None:
            out.setdefault(incident_id, []).append(person_id)
    return out


def reinforcements(session: Session, incident_id: int) -> list[ReinforcementOut]:
    """Each reinforcement request of the incident with its answer and first arrival."""
    rows = session.execute(
        select(ReinforcementRequest, ReinforcementOrder.created_at, Station.name)
        .join(ReinforcementOrder, ReinforcementOrder.id == ReinforcementRequest.order_id)
        .join(Station, Station.id == ReinforcementRequest.station_id)
        .where(ReinforcementOrder.incident_id == incident_id)
        .order_by(ReinforcementRequest.id)
    ).all()
    return [
        ReinforcementOut(
            order_id=r.order_id,
            station=name,
            requested=r.requested,
            sent=r.sent,
            answer=r.answer,
            ordered_at=ordered_at,
            answered_at=r.answered_at,
            first_arrival_at=r.first_arrival_at,
            minutes_to_arrival=round((r.first_arrival_at - ordered_at).total_seconds() / 60, 1)
            if r.first_arrival_at
            else None,
        )
        for r, ordered_at, name in rows
    ]


def is_sent_to(session: Session, principal: Principal, incident_id: int) -> bool:
    """Whether the principal's person has an active assignment on the incident."""
    if principal.person_id is None:
        return False
    return (
        session.scalar(
            select(Assignment.id).where(
                Assignment.incident_id == incident_id,
                Assignment.person_id == principal.person_id,
                Assignment.status.in_(ACTIVE_ASSIGNMENT),
            )
        )
        is not None
    )
