"""Incident intake, routing, the timeline with its rules, closure and conversions."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.audit.service import Actor
from fengqiao.db import lock_for_update, utcnow
from fengqiao.dispatch import service as dispatch
from fengqiao.dispatch.models import Assignment, AssignmentStatus, ReinforcementRequest
from fengqiao.disputes.models import Dispute
from fengqiao.errors import Conflict, InvalidInput
from fengqiao.i18n import _
from fengqiao.incidents import defaults
from fengqiao.incidents.models import (
    CaseRecord,
    Disposition,
    Incident,
    IncidentCategory,
    IncidentEvent,
    IncidentStatus,
    Priority,
    RouteAction,
    RoutingDecision,
    RoutingRule,
)
from fengqiao.incidents.routing import SpeedModel, plan_routing
from fengqiao.incidents.schemas import IncidentIn
from fengqiao.labels import assignment_status_label, disposition_label, incident_status_label
from fengqiao.live import service as live
from fengqiao.org import placement
from fengqiao.org.models import DutyStatus, GridAssignment, PersonKind

# received → dispatched → accepted → arrived → handled → closed. A call that needs no
# one on the spot (invalid, repeated, transferred) may be handled straight from received.
NEXT_STATUS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.RECEIVED: frozenset({IncidentStatus.DISPATCHED, IncidentStatus.HANDLED}),
    IncidentStatus.DISPATCHED: frozenset({IncidentStatus.ACCEPTED}),
    IncidentStatus.ACCEPTED: frozenset({IncidentStatus.ARRIVED}),
    IncidentStatus.ARRIVED: frozenset({IncidentStatus.HANDLED}),
    IncidentStatus.HANDLED: frozenset({IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset(),
}
NO_SCENE_DISPOSITIONS = frozenset({Disposition.NO_ACTION, Disposition.REFERRED})


def ensure_reference_data(session: Session) -> int:
    """Seed the default categories, routing rules and kinds of dispute where missing;
    returns rows added."""
    added = 0
    existing = set(session.scalars(select(IncidentCategory.code)))
    parents: dict[str, int] = {
        c.code: c.id
        for c in session.scalars(
            select(IncidentCategory).where(IncidentCategory.parent_id.is_(None))
        )
    }
    for seed in [*defaults.TOP_LEVEL, *defaults.SECOND_LEVEL]:
        if seed.code in existing:
            continue
        category = IncidentCategory(
            code=seed.code,
            name_zh=seed.name_zh,
            name_en=seed.name_en,
            is_case=seed.is_case,
            is_emergency=seed.is_emergency,
            default_priority=Priority(seed.priority),
            parent_id=parents.get(seed.code[:2]) if len(seed.code) > 2 else None,
            active=True,
        )
        session.add(category)
        session.flush()
        if len(seed.code) == 2:
            parents[seed.code] = category.id
        added += 1
    if session.scalar(select(RoutingRule.id).limit(1)) is None:
        for rule in defaults.RULES:
            session.add(
                RoutingRule(
                    position=rule.position,
                    name=rule.name,
                    action=RouteAction(rule.action),
                    category_prefix=rule.category_prefix,
                    match_case=rule.match_case,
                    match_emergency=rule.match_emergency,
                    match_priority=Priority(rule.match_priority) if rule.match_priority else None,
                    units=rule.units,
                    alert_command_room=rule.alert_command_room,
                    active=True,
                )
            )
            added += 1
    session.flush()
    from fengqiao.disputes.types import ensure_types

    return added + ensure_types(session)


def get_category_or_raise(session: Session, code: str) -> IncidentCategory:
    category = session.scalar(select(IncidentCategory).where(IncidentCategory.code == code))
    if category is None or not category.active or len(code) < 4:
        raise InvalidInput(
            _(
                "Unknown or inactive incident category {code}; use a second-level "
                "code such as 0601."
            ).format(code=code)
        )
    return category


@dataclass(frozen=True)
class Intake:
    incident: Incident
    created: bool


def find_by_key(session: Session, key: str) -> Incident | None:
    return session.scalar(select(Incident).where(Incident.idempotency_key == key))


def _grid_officer_id(session: Session, grid_id: int | None) -> int | None:
    if grid_id is None:
        return None
    return session.scalar(
        select(GridAssignment.person_id).where(
            GridAssignment.grid_id == grid_id, GridAssignment.role == PersonKind.OFFICER
        )
    )


def create_incident(
    session: Session,
    *,
    actor: Actor,
    data: IncidentIn,
    idempotency_key: str | None = None,
    speeds: SpeedModel | None = None,
    route: bool = True,
) -> Intake:
    """Take in one report: place it, store it, route it. With an idempotency key a retry
    returns the first incident instead of creating a second."""
    if idempotency_key:
        found = find_by_key(session, idempotency_key)
        if found is not None:
            return Intake(found, created=False)
    category = get_category_or_raise(session, data.category_code)
    where = (
        placement.place_point(session, data.lon, data.lat)
        if data.lon is not None and data.lat is not None
        else None
    )
    incident = Incident(
        idempotency_key=idempotency_key or None,
        channel=data.channel,
        category_id=category.id,
        priority=data.priority or category.default_priority,
        status=IncidentStatus.RECEIVED,
        description=data.description,
        address=data.address,
        reporter_name=data.reporter_name,
        reporter_phone=data.reporter_phone,
        lon=data.lon,
        lat=data.lat,
        grid_id=where.grid_id if where else None,
        district_id=where.district_id if where else None,
        station_id=where.station_id if where else None,
        responsible_person_id=_grid_officer_id(session, where.grid_id if where else None),
        needs_attention=where is None,
        received_at=data.received_at or utcnow(),
        created_by=actor.user_id,
    )
    incident.category = category
    try:
        with session.begin_nested():
            session.add(incident)
            session.flush()
    except IntegrityError:
        # A concurrent retry with the same key committed first: return its incident.
        found = find_by_key(session, idempotency_key) if idempotency_key else None
        if found is None:
            raise
        return Intake(found, created=False)
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            at=incident.received_at,
            kind="status",
            status=IncidentStatus.RECEIVED,
            user_id=actor.user_id,
            note=data.channel.value,
        )
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="incident",
        object_id=incident.id,
        detail={"category": category.code, "channel": data.channel.value},
    )
    if route:
        route_incident(session, actor=actor, incident=incident, speeds=speeds or SpeedModel())
    dispatch.publish_incident(session, incident)
    return Intake(incident, created=True)


def route_incident(
    session: Session, *, actor: Actor, incident: Incident, speeds: SpeedModel
) -> None:
    """Apply the first-responder rules: record each decision and dispatch the first
    available people of the plan; alert the command room when the rule says so."""
    rules = list(session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True))))
    plan = plan_routing(session, incident, incident.category, rules, speeds)
    rule_id = plan.rule.id if plan.rule else None
    auto = plan.rule is not None and plan.rule.auto_dispatch
    chosen = 0
    # Stop before drawing the next candidate: later steps of the chain cost queries.
    candidates = iter(plan.candidates)
    while chosen < plan.units and (candidate := next(candidates, None)) is not None:
        if auto:
            try:
                dispatch.dispatch_person(
                    session, actor=actor, incident=incident, person=candidate.person
                )
            except Conflict:
                continue  # taken by a concurrent dispatch: try the next one along the chain
        session.add(
            RoutingDecision(
                incident_id=incident.id,
                rule_id=rule_id,
                person_id=candidate.person.id,
                step=candidate.step,
                proposed_only=not auto,
                reason=candidate.reason,
                params=json.dumps(candidate.params, ensure_ascii=False),
            )
        )
        chosen += 1
    if chosen == 0:
        session.add(
            RoutingDecision(
                incident_id=incident.id,
                rule_id=rule_id,
                step="none",
                proposed_only=False,
                reason=plan.no_one_reason or "",
                params="{}",
            )
        )
        incident.needs_attention = True
    elif not auto:
        incident.needs_attention = True  # proposals wait for the command room
    if plan.alert:
        session.add(
            IncidentEvent(
                incident_id=incident.id, kind="alert", note=plan.rule.name if plan.rule else ""
            )
        )
        live.publish(
            session,
            kind="alert",
            station_id=incident.station_id,
            payload={
                "incident": incident.id,
                "priority": incident.priority.value,
                "rule": plan.rule.name if plan.rule else None,
            },
        )


def _transition(
    session: Session,
    incident: Incident,
    new: IncidentStatus,
    *,
    actor: Actor,
    person_id: int | None = None,
    note: str = "",
) -> None:
    if new not in NEXT_STATUS[incident.status]:
        allowed = (
            "、".join(incident_status_label(s.value) for s in sorted(NEXT_STATUS[incident.status]))
            or "—"
        )
        raise Conflict(
            _(
                "Incident {number} is {current}; it cannot become {new}. Allowed next: {allowed}."
            ).format(
                number=dispatch.number_of(incident),
                current=incident_status_label(incident.status.value),
                new=incident_status_label(new.value),
                allowed=allowed,
            )
        )
    now = utcnow()
    incident.status = new
    setattr(incident, f"{new.value}_at", now)
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            at=now,
            kind="status",
            status=new,
            person_id=person_id,
            user_id=actor.user_id,
            note=note,
        )
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="incident",
        object_id=incident.id,
        detail={"status": new.value},
    )
    dispatch.publish_incident(session, incident)


def accept(session: Session, *, actor: Actor, assignment: Assignment) -> None:
    """The dispatched person accepts; the incident is accepted with its first acceptance."""
    incident = session.get(Incident, assignment.incident_id)
    assert incident is not None
    lock_for_update(session, incident, assignment)
    if assignment.status is not AssignmentStatus.DISPATCHED:
        raise Conflict(
            _("This assignment is {status}; only a dispatched one can be accepted.").format(
                status=assignment_status_label(assignment.status.value)
            )
        )
    if incident.status is IncidentStatus.DISPATCHED:
        _transition(
            session, incident, IncidentStatus.ACCEPTED, actor=actor, person_id=assignment.person_id
        )
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.accepted_at = utcnow()


def arrive(session: Session, *, actor: Actor, assignment: Assignment) -> None:
    incident = session.get(Incident, assignment.incident_id)
    assert incident is not None
    lock_for_update(session, incident, assignment)
    if assignment.status is not AssignmentStatus.ACCEPTED:
        raise Conflict(
            _("This assignment is {status}; accept it before arriving.").format(
                status=assignment_status_label(assignment.status.value)
            )
        )
    if incident.status is IncidentStatus.ACCEPTED:
        _transition(
            session, incident, IncidentStatus.ARRIVED, actor=actor, person_id=assignment.person_id
        )
    assignment.status = AssignmentStatus.ARRIVED
    assignment.arrived_at = utcnow()
    if assignment.reinforcement_request_id is not None:
        request = session.get(ReinforcementRequest, assignment.reinforcement_request_id)
        if request is not None and request.first_arrival_at is None:
            request.first_arrival_at = assignment.arrived_at
    dispatch.set_duty_status(session, assignment.person, DutyStatus.ON_SCENE)


def handle(
    session: Session, *, actor: Actor, incident: Incident, disposition: Disposition, note: str = ""
) -> None:
    """Record how the incident was dealt with; a conversion creates the linked record."""
    lock_for_update(session, incident)
    if incident.status is IncidentStatus.RECEIVED and disposition not in NO_SCENE_DISPOSITIONS:
        raise Conflict(
            _(
                "Incident {number} has had nobody on the scene; only {no_action} or {referred} "
                "can end it now."
            ).format(
                number=dispatch.number_of(incident),
                no_action=disposition_label(Disposition.NO_ACTION.value),
                referred=disposition_label(Disposition.REFERRED.value),
            )
        )
    _transition(session, incident, IncidentStatus.HANDLED, actor=actor, note=note)
    incident.disposition = disposition
    incident.needs_attention = False
    incident.disposition_note = note or None
    for assignment in dispatch.active_assignments(session, incident.id):
        dispatch.release(session, assignment, status=DutyStatus.AVAILABLE)
    if disposition is Disposition.CASE:
        case = CaseRecord(
            number=f"AJ{dispatch.number_of(incident)[2:]}",
            incident_id=incident.id,
            station_id=incident.station_id,
        )
        session.add(case)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action=AuditAction.CREATE,
            object_type="case_record",
            object_id=case.id,
            detail={"incident": incident.id},
        )
    elif disposition is Disposition.DISPUTE:
        from fengqiao.disputes.conversion import from_incident

        from_incident(session, actor, incident)


def close(session: Session, *, actor: Actor, incident: Incident, note: str = "") -> None:
    _transition(session, incident, IncidentStatus.CLOSED, actor=actor, note=note)


def finish(
    session: Session, *, actor: Actor, incident: Incident, disposition: Disposition, note: str = ""
) -> None:
    """Handle and close in one step (the officer's "close" button)."""
    handle(session, actor=actor, incident=incident, disposition=disposition, note=note)
    close(session, actor=actor, incident=incident)


def linked_records(session: Session, incident_id: int) -> tuple[str | None, str | None]:
    case = session.scalar(select(CaseRecord.number).where(CaseRecord.incident_id == incident_id))
    dispute = session.scalar(select(Dispute.number).where(Dispute.incident_id == incident_id))
    return case, dispute


def list_categories(session: Session) -> list[IncidentCategory]:
    """Active categories, parents before their children, by code."""
    return list(
        session.scalars(
            select(IncidentCategory)
            .where(IncidentCategory.active.is_(True))
            .order_by(IncidentCategory.code)
        )
    )
