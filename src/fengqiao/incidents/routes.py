"""JSON API: intake, the open queue, one incident, dispatch, the officer's answers, closure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from fengqiao.auth import Permission, Principal
from fengqiao.dispatch import service as dispatch
from fengqiao.errors import Forbidden
from fengqiao.i18n import _
from fengqiao.incidents import queries
from fengqiao.incidents import service as incidents
from fengqiao.incidents.models import IncidentStatus
from fengqiao.incidents.routing import SpeedModel
from fengqiao.incidents.schemas import (
    AssignmentOut,
    CloseIn,
    DispatchIn,
    IncidentIn,
    IncidentOut,
    PositionIn,
    ReinforcementIn,
)
from fengqiao.org import service as org
from fengqiao.web import DbSession, requires, settings_of

router = APIRouter(tags=["incidents"])
Reporter = Annotated[Principal, requires(Permission.REPORT_INCIDENT)]
Reader = Annotated[Principal, requires(Permission.VIEW_INCIDENTS)]
Dispatcher = Annotated[Principal, requires(Permission.DISPATCH)]
Responder = Annotated[Principal, requires(Permission.RESPOND)]


def speed_model(request: Request) -> SpeedModel:
    s = settings_of(request)
    return SpeedModel(
        urban_kmh=s.speed_urban_kmh, rural_kmh=s.speed_rural_kmh, road_factor=s.road_factor
    )


@router.post("/incidents", response_model=IncidentOut, status_code=201)
def report_incident(
    request: Request,
    response: Response,
    session: DbSession,
    principal: Reporter,
    body: IncidentIn,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> IncidentOut:
    """Take in a report; it is placed, routed and dispatched at once. Send an
    ``Idempotency-Key`` header: a retry with the same key returns the first incident (200)."""
    intake = incidents.create_incident(
        session,
        actor=principal.actor,
        data=body,
        idempotency_key=idempotency_key,
        speeds=speed_model(request),
    )
    if not intake.created:
        response.status_code = 200
    session.flush()
    return queries.detail(session, principal, intake.incident.id)


@router.get("/incidents/open", response_model=list[IncidentOut])
def open_incidents(session: DbSession, principal: Reader) -> list[IncidentOut]:
    return queries.list_open(session, principal)


@router.get("/incidents/{incident_id}", response_model=IncidentOut)
def get_incident(session: DbSession, principal: Reader, incident_id: int) -> IncidentOut:
    return queries.detail(session, principal, incident_id)


@router.post("/incidents/{incident_id}/dispatch", response_model=IncidentOut)
def dispatch_incident(
    session: DbSession, principal: Dispatcher, incident_id: int, body: DispatchIn
) -> IncidentOut:
    """Send a person (refused with 409 when that person is busy or already sent elsewhere)."""
    incident = queries.get_or_raise(session, principal, incident_id)
    person = org.get_person_in_scope_or_raise(session, principal, body.person_id)
    dispatch.dispatch_person(
        session, actor=principal.actor, incident=incident, person=person, note=body.note
    )
    return queries.detail(session, principal, incident_id)


@router.post("/incidents/{incident_id}/redispatch", response_model=IncidentOut)
def redispatch_incident(
    session: DbSession, principal: Dispatcher, incident_id: int, body: DispatchIn
) -> IncidentOut:
    """Withdraw whoever is still on the way and send another person."""
    incident = queries.get_or_raise(session, principal, incident_id)
    person = org.get_person_in_scope_or_raise(session, principal, body.person_id)
    dispatch.redispatch(
        session, actor=principal.actor, incident=incident, person=person, note=body.note
    )
    return queries.detail(session, principal, incident_id)


@router.post("/incidents/{incident_id}/reinforcement", response_model=IncidentOut, status_code=201)
def order_reinforcement(
    session: DbSession, principal: Dispatcher, incident_id: int, body: ReinforcementIn
) -> IncidentOut:
    """Joint station: ask every other community team for ``per_team`` people."""
    incident = queries.get_or_raise(session, principal, incident_id)
    dispatch.order_reinforcement(
        session, actor=principal.actor, incident=incident, per_team=body.per_team
    )
    return queries.detail(session, principal, incident_id)


@router.post("/incidents/{incident_id}/close", response_model=IncidentOut)
def close_incident(
    session: DbSession, principal: Responder, incident_id: int, body: CloseIn
) -> IncidentOut:
    """Record the disposition and close (from arrived; or from received for no-action and
    referred calls). Impossible transitions are refused with 409."""
    incident = queries.get_or_raise(session, principal, incident_id)
    still_open = incident.status not in (IncidentStatus.HANDLED, IncidentStatus.CLOSED)
    if (
        still_open
        and not principal.can(Permission.DISPATCH)
        and not queries.is_sent_to(session, principal, incident_id)
    ):
        raise Forbidden(_("Only the command room or someone sent to the incident can close it."))
    incidents.finish(
        session,
        actor=principal.actor,
        incident=incident,
        disposition=body.disposition,
        note=body.note,
    )
    return queries.detail(session, principal, incident_id)


@router.get("/me/assignments", response_model=list[AssignmentOut])
def my_assignments(session: DbSession, principal: Responder) -> list[AssignmentOut]:
    return [a for a, _i in queries.my_assignments(session, principal)]


@router.post("/assignments/{assignment_id}/accept", response_model=AssignmentOut)
def accept_assignment(
    session: DbSession, principal: Responder, assignment_id: int
) -> AssignmentOut:
    assignment = queries.own_assignment_or_raise(session, principal, assignment_id)
    incidents.accept(session, actor=principal.actor, assignment=assignment)
    return queries.assignment_out(assignment)


@router.post("/assignments/{assignment_id}/arrive", response_model=AssignmentOut)
def arrive_assignment(
    session: DbSession, principal: Responder, assignment_id: int
) -> AssignmentOut:
    assignment = queries.own_assignment_or_raise(session, principal, assignment_id)
    incidents.arrive(session, actor=principal.actor, assignment=assignment)
    return queries.assignment_out(assignment)


@router.post("/me/position", status_code=204)
def report_position(session: DbSession, principal: Responder, body: PositionIn) -> None:
    """The officer's phone reports where its owner is (for nearest-unit dispatch)."""
    org.update_position(session, principal, lon=body.lon, lat=body.lat)
