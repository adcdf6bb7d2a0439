"""Sending people to incidents, their answers, and joint-station reinforcement orders.

A person has at most one active assignment; the database enforces it (a partial
unique index), so of two concurrent dispatches of one person only one commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.audit.service import Actor
from fengqiao.clock import CHINA_TZ
from fengqiao.db import lock_for_update, utcnow
from fengqiao.dispatch.models import (
    ACTIVE_ASSIGNMENT,
    Assignment,
    AssignmentStatus,
    ReinforcementOrder,
    ReinforcementRequest,
)
from fengqiao.errors import Conflict, InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.incidents.models import Incident, IncidentEvent, IncidentStatus
from fengqiao.incidents.routing import (
    RESPONDER_KINDS,
    SpeedModel,
    available_people,
    rank_by_eta,
)
from fengqiao.labels import incident_status_label, kind_label, status_label
from fengqiao.live import service as live
from fengqiao.org.models import DutyStatus, Person, Station, Team


def active_assignments(session: Session, incident_id: int) -> list[Assignment]:
    return list(
        session.scalars(
            select(Assignment)
            .where(Assignment.incident_id == incident_id, Assignment.status.in_(ACTIVE_ASSIGNMENT))
            .order_by(Assignment.id)
        )
    )


def set_duty_status(session: Session, person: Person, status: DutyStatus) -> None:
    person.duty_status = status
    person.status_changed_at = utcnow()
    live.publish(
        session,
        kind="person",
        station_id=person.station_id,
        person_id=person.id,
        payload={
            "id": person.id,
            "name": person.name,
            "status": status.value,
            "lon": person.last_lon,
            "lat": person.last_lat,
        },
    )


def _incident_payload(incident: Incident) -> dict[str, object]:
    return {
        "id": incident.id,
        "number": number_of(incident),
        "status": incident.status.value,
        "lon": incident.lon,
        "lat": incident.lat,
        "priority": incident.priority.value,
        "category": incident.category.name_zh if incident.category else None,
        "attention": incident.needs_attention,
    }


def publish_incident(session: Session, incident: Incident) -> None:
    live.publish(
        session,
        kind="incident",
        station_id=incident.station_id,
        payload=_incident_payload(incident),
    )


def dispatch_person(
    session: Session,
    *,
    actor: Actor,
    incident: Incident,
    person: Person,
    request: ReinforcementRequest | None = None,
    note: str = "",
) -> Assignment:
    """Send ``person`` to ``incident``. Refused (409) when the person is not available or
    already sent elsewhere, or when the incident is past the point of dispatching."""
    if incident.status in (IncidentStatus.HANDLED, IncidentStatus.CLOSED):
        raise Conflict(
            _("Incident {number} is already {status}; nobody can be dispatched to it.").format(
                number=number_of(incident), status=incident_status_label(incident.status.value)
            )
        )
    if person.kind not in RESPONDER_KINDS:
        raise InvalidInput(
            _(
                "{name} is a {kind}; only officers and auxiliaries are dispatched to incidents."
            ).format(name=person.name, kind=kind_label(person.kind.value))
        )
    if person.duty_status is not DutyStatus.AVAILABLE:
        raise Conflict(
            _("{name} is not available (status: {status}).").format(
                name=person.name, status=status_label(person.duty_status.value)
            )
        )
    assignment = Assignment(
        incident_id=incident.id,
        person_id=person.id,
        status=AssignmentStatus.DISPATCHED,
        dispatched_by=actor.user_id,
        reinforcement_request_id=request.id if request else None,
    )
    try:
        with session.begin_nested():
            session.add(assignment)
            session.flush()
    except IntegrityError:
        raise Conflict(
            _("{name} has just been dispatched to another incident.").format(name=person.name)
        ) from None
    now = utcnow()
    first = incident.status is IncidentStatus.RECEIVED
    if first:
        incident.status = IncidentStatus.DISPATCHED
        incident.dispatched_at = now
    incident.needs_attention = False
    set_duty_status(session, person, DutyStatus.EN_ROUTE)
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            at=now,
            # The first dispatch is the incident's "dispatched" step; later ones add people.
            kind="status" if first else "dispatch",
            person_id=person.id,
            user_id=actor.user_id,
            status=incident.status,
            note=note,
        )
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="assignment",
        object_id=assignment.id,
        detail={"incident": incident.id, "person": person.id},
    )
    if first:
        # The incident's own "dispatched" step is audited like every other step.
        audit.record(
            session,
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="incident",
            object_id=incident.id,
            detail={"status": IncidentStatus.DISPATCHED.value, "person": person.id},
        )
    live.publish(
        session,
        kind="assignment",
        station_id=incident.station_id,
        person_id=person.id,
        payload={"incident": incident.id, "person": person.id, "status": "dispatched"},
    )
    publish_incident(session, incident)
    return assignment


def release(session: Session, assignment: Assignment, *, status: DutyStatus) -> None:
    assignment.status = AssignmentStatus.RELEASED
    assignment.released_at = utcnow()
    set_duty_status(session, assignment.person, status)


def redispatch(
    session: Session, *, actor: Actor, incident: Incident, person: Person, note: str = ""
) -> Assignment:
    """Withdraw whoever is on the way (not yet arrived) and send ``person`` instead."""
    lock_for_update(session, incident)
    for current in active_assignments(session, incident.id):
        if current.status is not AssignmentStatus.ARRIVED:
            release(session, current, status=DutyStatus.AVAILABLE)
            session.add(
                IncidentEvent(
                    incident_id=incident.id,
                    kind="withdrawn",
                    person_id=current.person_id,
                    user_id=actor.user_id,
                    note=note,
                )
            )
    session.flush()
    return dispatch_person(session, actor=actor, incident=incident, person=person, note=note)


def number_of(incident: Incident) -> str:
    """The incident's display number, e.g. JQ20261122000123."""
    return f"JQ{incident.received_at.astimezone(CHINA_TZ):%Y%m%d}{incident.id:06d}"


def get_assignment_or_raise(session: Session, assignment_id: int) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound(_("No assignment {id}.").format(id=assignment_id))
    return assignment


def order_reinforcement(
    session: Session, *, actor: Actor, incident: Incident, per_team: int
) -> ReinforcementOrder:
    """Ask every other community team of the incident's joint station for ``per_team`` people."""
    if not 1 <= per_team <= 20:
        raise InvalidInput(_("Ask for 1 to 20 people per team."))
    station = session.get(Station, incident.station_id) if incident.station_id else None
    if station is None or station.joint_station_id is None:
        raise Conflict(_("Reinforcement orders need a station that belongs to a joint station."))
    order = ReinforcementOrder(
        incident_id=incident.id,
        joint_station_id=station.joint_station_id,
        per_team=per_team,
        created_by=actor.user_id,
    )
    session.add(order)
    session.flush()
    others = session.scalars(
        select(Station)
        .where(Station.joint_station_id == station.joint_station_id, Station.id != station.id)
        .order_by(Station.code)
    )
    for other in others:
        session.add(
            ReinforcementRequest(order_id=order.id, station_id=other.id, requested=per_team)
        )
        live.publish(
            session,
            kind="reinforcement",
            station_id=other.id,
            payload={"order": order.id, "incident": incident.id, "per_team": per_team},
        )
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            kind="reinforcement",
            user_id=actor.user_id,
            note=_("Reinforcement ordered: {n} from each other community team.").format(n=per_team),
        )
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="reinforcement_order",
        object_id=order.id,
        detail={"incident": incident.id, "per_team": per_team},
    )
    session.flush()
    return order


def answer_request(
    session: Session,
    *,
    actor: Actor,
    request: ReinforcementRequest,
    person_ids: Sequence[int] | None = None,
    speeds: SpeedModel | None = None,
) -> list[Assignment]:
    """A team answers: the chosen people (or its nearest available ones) set off."""
    if request.answer != "pending":
        raise Conflict(_("This reinforcement request was already answered."))
    incident = session.get(Incident, request.order.incident_id)
    assert incident is not None
    if person_ids:
        people = list(
            session.scalars(
                select(Person).where(
                    Person.id.in_(person_ids), Person.station_id == request.station_id
                )
            )
        )
    else:
        station = session.get(Station, request.station_id)
        assert station is not None
        ranked = rank_by_eta(
            available_people(session, [station.id], team=Team.COMMUNITY),
            incident,
            station.kind,
            speeds or SpeedModel(),
        )
        people = [p for p, _eta in ranked]
    sent: list[Assignment] = []
    for person in people:
        if len(sent) >= request.requested:
            break
        try:
            sent.append(
                dispatch_person(
                    session, actor=actor, incident=incident, person=person, request=request
                )
            )
        except Conflict:
            continue
    request.sent = len(sent)
    request.answer = "sent" if sent else "declined"
    request.answered_at = utcnow()
    return sent


def order_and_send_reinforcement(
    session: Session, *, actor: Actor, incident: Incident, per_team: int, speeds: SpeedModel
) -> ReinforcementOrder:
    """The command room's one-click order: every other team sends its nearest available people."""
    order = order_reinforcement(session, actor=actor, incident=incident, per_team=per_team)
    for request in order.requests:
        answer_request(session, actor=actor, request=request, speeds=speeds)
    return order
