"""HTML pages: the intake form, an incident with its timeline, the live command room,
the officer's phone page."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from fengqiao.auth import Permission, Principal
from fengqiao.dispatch import service as dispatch
from fengqiao.errors import DomainError
from fengqiao.i18n import _
from fengqiao.incidents import queries
from fengqiao.incidents import service as incidents
from fengqiao.incidents.models import Channel, Disposition, Priority
from fengqiao.incidents.routes import speed_model
from fengqiao.incidents.schemas import IncidentIn
from fengqiao.org import service as org
from fengqiao.org.models import DutyStatus
from fengqiao.web import DbSession, render, requires, settings_of

router = APIRouter(include_in_schema=False)
Reporter = Annotated[Principal, requires(Permission.REPORT_INCIDENT)]
Reader = Annotated[Principal, requires(Permission.VIEW_INCIDENTS)]
Dispatcher = Annotated[Principal, requires(Permission.DISPATCH)]
Responder = Annotated[Principal, requires(Permission.RESPOND)]


def _form_context(session: DbSession, error: str | None = None, **values: object) -> dict[str, Any]:
    return {
        "channels": [c.value for c in Channel],
        "priorities": [p.value for p in Priority],
        "categories": incidents.list_categories(session),
        "error": error,
        "key": values.pop("key", None) or uuid.uuid4().hex,
        "values": values,
    }


@router.get("/incidents/new")
def new_incident(request: Request, session: DbSession, principal: Reporter) -> Response:
    return render(request, "incidents/new.html", **_form_context(session))


@router.post("/incidents/new")
def submit_incident(
    request: Request,
    session: DbSession,
    principal: Reporter,
    key: Annotated[str, Form()],
    channel: Annotated[str, Form()],
    category_code: Annotated[str, Form()],
    priority: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    reporter_name: Annotated[str, Form()] = "",
    reporter_phone: Annotated[str, Form()] = "",
    lon: Annotated[str, Form()] = "",
    lat: Annotated[str, Form()] = "",
) -> Response:
    values = {
        "channel": channel,
        "category_code": category_code,
        "priority": priority,
        "description": description,
        "address": address,
        "reporter_name": reporter_name,
        "reporter_phone": reporter_phone,
        "lon": lon,
        "lat": lat,
    }
    try:
        data = IncidentIn.model_validate(
            {k: (v or None) for k, v in values.items() if k not in ("description",)}
            | {"description": description}
        )
        intake = incidents.create_incident(
            session,
            actor=principal.actor,
            data=data,
            idempotency_key=f"web-{key}",
            speeds=speed_model(request),
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or _('form')}: {e['msg']}" for e in exc.errors()
        )
        return render(
            request,
            "incidents/new.html",
            status_code=422,
            **_form_context(
                session,
                _("Please correct: {problems}").format(problems=problems),
                key=key,
                **values,
            ),
        )
    except DomainError as exc:
        return render(
            request,
            "incidents/new.html",
            status_code=exc.status,
            **_form_context(session, exc.message, key=key, **values),
        )
    session.flush()
    return RedirectResponse(f"/incidents/{intake.incident.id}", status_code=303)


@router.get("/incidents/{incident_id}")
def incident_page(
    request: Request, session: DbSession, principal: Reader, incident_id: int
) -> Response:
    return render(
        request,
        "incidents/detail.html",
        incident=queries.detail(session, principal, incident_id),
        dispositions=[d.value for d in Disposition],
    )


@router.get("/command")
def command_room(request: Request, session: DbSession, principal: Dispatcher) -> Response:
    return render(request, "incidents/command.html")


@router.get("/command/queue")
def command_queue(request: Request, session: DbSession, principal: Dispatcher) -> Response:
    settings = settings_of(request)
    open_incidents = queries.list_open(session, principal)
    people = org.list_personnel(session, principal, status=DutyStatus.AVAILABLE)
    late = queries.overdue(
        open_incidents,
        dispatch_min=settings.overdue_dispatch_minutes,
        arrival_min=settings.overdue_arrival_minutes,
    )
    return render(
        request,
        "incidents/_queue.html",
        incidents=open_incidents,
        late=late,
        proposed=queries.proposals(session, [i.id for i in open_incidents]),
        available=[p for p in people if p.kind in ("officer", "auxiliary")],
    )


@router.get("/command/roster")
def command_roster(request: Request, session: DbSession, principal: Dispatcher) -> Response:
    people = [
        p for p in org.list_personnel(session, principal) if p.kind in ("officer", "auxiliary")
    ]
    return render(
        request, "incidents/_roster.html", people=people, summary=org.duty_summary(people)
    )


@router.post("/command/incidents/{incident_id}/dispatch")
def command_dispatch(
    request: Request,
    session: DbSession,
    principal: Dispatcher,
    incident_id: int,
    person_id: Annotated[int, Form()],
) -> Response:
    incident = queries.get_or_raise(session, principal, incident_id)
    person = org.get_person_in_scope_or_raise(session, principal, person_id)
    # Adds a unit; withdrawing people is an explicit re-dispatch (API), never a side effect.
    dispatch.dispatch_person(session, actor=principal.actor, incident=incident, person=person)
    session.flush()
    return command_queue(request, session, principal)


@router.post("/command/incidents/{incident_id}/reinforcement")
def command_reinforcement(
    request: Request,
    session: DbSession,
    principal: Dispatcher,
    incident_id: int,
    per_team: Annotated[int, Form()],
) -> Response:
    incident = queries.get_or_raise(session, principal, incident_id)
    dispatch.order_and_send_reinforcement(
        session,
        actor=principal.actor,
        incident=incident,
        per_team=per_team,
        speeds=speed_model(request),
    )
    session.flush()
    return command_queue(request, session, principal)


@router.get("/m")
def phone_page(request: Request, session: DbSession, principal: Responder) -> Response:
    return render(
        request,
        "incidents/phone.html",
        items=queries.my_assignments(session, principal),
        dispositions=[d.value for d in Disposition],
    )


@router.post("/m/assignments/{assignment_id}/{step}")
def phone_step(
    request: Request,
    session: DbSession,
    principal: Responder,
    assignment_id: int,
    step: str,
    disposition: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    assignment = queries.own_assignment_or_raise(session, principal, assignment_id)
    if step == "accept":
        incidents.accept(session, actor=principal.actor, assignment=assignment)
    elif step == "arrive":
        incidents.arrive(session, actor=principal.actor, assignment=assignment)
    elif step == "close":
        incident = queries.get_or_raise(session, principal, assignment.incident_id)
        try:
            chosen = Disposition(disposition)
        except ValueError:
            raise DomainError(_("Choose how the incident was dealt with.")) from None
        incidents.finish(
            session, actor=principal.actor, incident=incident, disposition=chosen, note=note
        )
    else:
        raise DomainError(_("Unknown step {step}.").format(step=step))
    return RedirectResponse("/m", status_code=303)
