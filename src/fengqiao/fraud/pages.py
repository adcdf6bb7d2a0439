"""HTML pages of anti-fraud warnings: the warning desk (queue, open orders, manual
entry, files), one order (call, contact, outcome; placing and reopening for the desk),
a batch's report, and the figures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from fengqiao.auth import Permission, Principal
from fengqiao.clock import CHINA_TZ, local_day
from fengqiao.db import utcnow
from fengqiao.errors import DomainError, InvalidInput
from fengqiao.fraud import batch as batches
from fengqiao.fraud import figures as stats
from fengqiao.fraud import intake, orders
from fengqiao.fraud.announce import TYPE_LABELS
from fengqiao.fraud.models import (
    CallResult,
    Channel,
    ContactMethod,
    FraudOrder,
    MatchStep,
    OrderStatus,
    Outcome,
    WarningLevel,
    WarningType,
)
from fengqiao.i18n import N_, _
from fengqiao.org import service as org
from fengqiao.privacy import mask_id_number, mask_name, mask_phone
from fengqiao.registry.service import person_names
from fengqiao.web import DbSession, render, requires, settings_of

router = APIRouter(include_in_schema=False)
Desk = Annotated[Principal, requires(Permission.RECEIVE_WARNINGS)]
Handler = Annotated[Principal, requires(Permission.HANDLE_WARNINGS)]
Viewer = Annotated[Principal, requires(Permission.VIEW_METRICS)]

LABELS: dict[str, dict[Any, str]] = {
    "type": TYPE_LABELS,
    "level": {
        WarningLevel.URGENT: N_("Urgent"),
        WarningLevel.HIGH: N_("High"),
        WarningLevel.NORMAL: N_("Normal"),
    },
    "status": {
        OrderStatus.QUEUED: N_("In the command room's queue"),
        OrderStatus.OPEN: N_("Sent, not yet contacted"),
        OrderStatus.CONTACTED: N_("Contacted"),
        OrderStatus.CLOSED: N_("Closed"),
    },
    "outcome": {
        Outcome.DISSUADED: N_("Dissuaded"),
        Outcome.MONEY_LOST: N_("Already defrauded"),
        Outcome.UNREACHABLE: N_("Unreachable"),
        Outcome.FALSE_ALARM: N_("False alarm"),
        Outcome.NOT_IN_AREA: N_("Not in our area"),
    },
    "method": {
        ContactMethod.PHONE: N_("Phone call"),
        ContactMethod.VISIT: N_("Home visit"),
        ContactMethod.VIDEO: N_("Video call"),
        ContactMethod.SMS: N_("SMS"),
    },
    "call": {
        CallResult.ANSWERED: N_("Answered"),
        CallResult.NO_ANSWER: N_("No answer"),
        CallResult.BUSY: N_("Busy"),
        CallResult.REFUSED: N_("Hung up or refused"),
        CallResult.WRONG_NUMBER: N_("Wrong number"),
    },
    "step": {
        MatchStep.ADDRESS: N_("Standard address in the registry"),
        MatchStep.RESIDENT: N_("Person in the registry"),
        MatchStep.POINT: N_("Position sent with the warning"),
        MatchStep.FUZZY: N_("Road or compound named alike"),
        MatchStep.COMMUNITY: N_("Centre of the community"),
        MatchStep.STATION: N_("Station of the street or town"),
        MatchStep.NONE: N_("Not matched"),
    },
    "event": {
        "merged": N_("Repeat warning merged"),
        "assigned": N_("Given to a person"),
        "call": N_("Call"),
        "contacted": N_("Contacted"),
        "visited": N_("Visited"),
        "escalated": N_("Escalated: deadline passed"),
        "outcome": N_("Outcome recorded"),
        "reopened": N_("Reopened"),
    },
}


def when(value: datetime | None) -> str:
    return value.astimezone(CHINA_TZ).strftime("%m-%d %H:%M") if value else "—"


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "labels": LABELS,
        "when": when,
        "mask_name": mask_name,
        "mask_phone": mask_phone,
        "mask_id_number": mask_id_number,
        "WarningType": WarningType,
        "WarningLevel": WarningLevel,
        "Outcome": Outcome,
        "ContactMethod": ContactMethod,
        "CallResult": CallResult,
        "OrderStatus": OrderStatus,
        **extra,
    }


def _names(session: DbSession, ids: set[int | None]) -> dict[int, str]:
    return person_names(session, {i for i in ids if i is not None})


def _desk(request: Request, session: DbSession, principal: Principal, **extra: Any) -> Response:
    queued = orders.list_orders(session, principal, queue=True, limit=100)
    pressing = orders.list_orders(session, principal, open_only=True, limit=100)
    pressing = [o for o in pressing if o.status is not OrderStatus.QUEUED]
    everyone = [*queued, *pressing]
    return render(
        request,
        "fraud/desk.html",
        **_context(
            queued=queued,
            pressing=pressing,
            people=_names(session, {o.assignee_id for o in everyone}),
            grids=org.grid_codes(session, {o.grid_id for o in everyone}),
            batches=batches.recent_batches(session, principal, limit=10),
            now=utcnow(),
            **extra,
        ),
    )


@router.get("/fraud")
def desk_page(request: Request, session: DbSession, principal: Desk) -> Response:
    return _desk(request, session, principal)


@router.post("/fraud/new")
def new_warning(
    request: Request,
    session: DbSession,
    principal: Desk,
    type: Annotated[str, Form()],
    level: Annotated[str, Form()] = "urgent",
    name: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    id_number: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    detail: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
) -> Response:
    """A warning typed in by the desk (a call from the centre, a walk-in)."""
    kept = {
        "type": type,
        "level": level,
        "name": name,
        "phone": phone,
        "id_number": id_number,
        "address": address,
        "detail": detail,
        "source": source,
    }
    raw = {k: v for k, v in kept.items() if v.strip()}
    try:
        got = intake.take_one(
            session,
            principal,
            settings_of(request),
            raw,
            channel=Channel.MANUAL,
            source=source.strip() or "manual",
        )
    except DomainError as exc:
        session.rollback()
        return _desk(
            request, session, principal, error=exc.message, kept=kept, status_code=exc.status
        )
    return RedirectResponse(f"/fraud/orders/{got.order_id}", status_code=303)


@router.post("/fraud/upload")
def upload(
    request: Request,
    session: DbSession,
    principal: Desk,
    file: Annotated[UploadFile, File()],
    source: Annotated[str, Form()] = "batch",
) -> Response:
    session.commit()  # the upload opens its batch in a transaction of its own (SQLite's lock)
    try:
        batch_id = batches.upload(
            request.app.state.sessionmaker,
            settings_of(request),
            principal,
            file.file,
            filename=file.filename or "upload.csv",
            source=source,
        )
    except DomainError as exc:
        return _desk(request, session, principal, upload_error=exc.message, status_code=exc.status)
    return RedirectResponse(f"/fraud/batches/{batch_id}", status_code=303)


@router.get("/fraud/batches/{batch_id}")
def batch_page(request: Request, session: DbSession, principal: Desk, batch_id: int) -> Response:
    batch = batches.get_batch(session, principal, batch_id)
    return render(
        request,
        "fraud/batch.html",
        **_context(batch=batch, problems=batches.problems(session, batch.id, limit=300)),
    )


def _order_page(
    request: Request, session: DbSession, principal: Principal, order: FraudOrder, **extra: Any
) -> Response:
    events = orders.timeline(session, order)
    calls = orders.calls(session, order)
    team = (
        orders.team_of(session, principal, order)
        if principal.can(Permission.RECEIVE_WARNINGS)
        else []
    )
    ids = {order.assignee_id, *(e.person_id for e in events), *(c.person_id for c in calls)}
    return render(
        request,
        "fraud/order.html",
        **_context(
            order=order,
            events=events,
            calls=calls,
            warnings=orders.warnings_of(session, order),
            team=team,
            people=_names(session, ids),
            grids=org.grid_codes(session, {order.grid_id}),
            desk=principal.can(Permission.RECEIVE_WARNINGS),
            now=utcnow(),
            **extra,
        ),
    )


@router.get("/fraud/orders/{order_id}")
def order_page(request: Request, session: DbSession, principal: Handler, order_id: int) -> Response:
    order = orders.get_order(session, principal, order_id)
    return _order_page(request, session, principal, order)


def _act(
    request: Request,
    session: DbSession,
    principal: Principal,
    order_id: int,
    action: Any,
    kept: dict[str, str],
) -> Response:
    """Run a change; on a refusal show the order again with the message and the form."""
    try:
        action()
    except (DomainError, ValueError, OverflowError) as exc:  # OverflowError: int("inf" min)
        session.rollback()
        message = (
            exc.message
            if isinstance(exc, DomainError)
            else _("Check the form: {error}").format(error=exc)
        )
        status = exc.status if isinstance(exc, DomainError) else 422
        order = orders.get_order(session, principal, order_id, audited=False)
        return _order_page(
            request, session, principal, order, error=message, kept=kept, status_code=status
        )
    return RedirectResponse(f"/fraud/orders/{order_id}", status_code=303)


def _amount(value: str, what: str) -> int:
    text = value.replace(",", "").replace("，", "").replace(" ", "").strip()
    if not text:
        return 0
    try:
        amount = float(text)
    except ValueError:
        raise InvalidInput(
            _("{what}: “{value}” is not an amount in yuan.").format(what=what, value=value)
        ) from None
    if amount < 0 or not amount.is_integer():
        raise InvalidInput(_("{what}: give whole yuan, 0 or more.").format(what=what))
    return int(amount)


@router.post("/fraud/orders/{order_id}/outcome")
def outcome_form(
    request: Request,
    session: DbSession,
    principal: Handler,
    order_id: int,
    outcome: Annotated[str, Form()],
    method: Annotated[str, Form()] = "",
    money_saved: Annotated[str, Form()] = "",
    money_lost: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    kept = {
        "outcome": outcome,
        "method": method,
        "money_saved": money_saved,
        "money_lost": money_lost,
        "note": note,
    }

    def action() -> None:
        orders.record_outcome(
            session,
            principal,
            settings_of(request),
            order_id,
            orders.OutcomeIn(
                outcome=Outcome(outcome),
                method=ContactMethod(method) if method else None,
                money_saved=_amount(money_saved, _("Money saved")),
                money_lost=_amount(money_lost, _("Money lost")),
                note=note,
            ),
        )

    return _act(request, session, principal, order_id, action, kept)


@router.post("/fraud/orders/{order_id}/call")
def call_form(
    request: Request,
    session: DbSession,
    principal: Handler,
    order_id: int,
    result: Annotated[str, Form()],
    called: Annotated[str, Form()] = "person",
    duration_min: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    client_key: Annotated[str, Form()] = "",
) -> Response:
    kept = {"result": result, "called": called, "duration_min": duration_min, "note": note}

    def action() -> None:
        minutes = float(duration_min) if duration_min.strip() else 0.0
        orders.log_call(
            session,
            principal,
            order_id,
            called=called,
            result=CallResult(result),
            duration_s=int(minutes * 60),
            note=note,
            client_key=client_key or None,
        )

    return _act(request, session, principal, order_id, action, kept)


@router.post("/fraud/orders/{order_id}/contact")
def contact_form(
    request: Request,
    session: DbSession,
    principal: Handler,
    order_id: int,
    method: Annotated[str, Form()],
) -> Response:
    return _act(
        request,
        session,
        principal,
        order_id,
        lambda: orders.contact(session, principal, order_id, method=ContactMethod(method)),
        {"method": method},
    )


@router.post("/fraud/orders/{order_id}/assign")
def assign_form(
    request: Request,
    session: DbSession,
    principal: Desk,
    order_id: int,
    person_id: Annotated[str, Form()] = "",  # "—" sends an empty value: refused below
) -> Response:
    def action() -> None:
        if not person_id.strip().isdigit():
            raise InvalidInput(_("Choose the person to give the order to."))
        orders.assign(session, principal, settings_of(request), order_id, person_id=int(person_id))

    return _act(request, session, principal, order_id, action, {"person_id": person_id})


@router.post("/fraud/orders/{order_id}/reopen")
def reopen_form(
    request: Request,
    session: DbSession,
    principal: Desk,
    order_id: int,
    reason: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        session,
        principal,
        order_id,
        lambda: orders.reopen(session, principal, order_id, reason=reason),
        {"reason": reason},
    )


@router.get("/fraud/figures")
def figures_page(
    request: Request,
    session: DbSession,
    principal: Viewer,
    first: str | None = None,
    last: str | None = None,
    by: str = "station",
) -> Response:
    today = local_day(utcnow())
    try:
        start, end = stats.period(first, last, today)
        found = stats.figures(
            session, principal, first=start, last=end, by=by if by in stats.BY_VALUES else "station"
        )
    except DomainError as exc:
        start, end = stats.period(None, None, today)
        found = stats.figures(session, principal, first=start, last=end, by="station")
        return render(
            request,
            "fraud/figures.html",
            **_context(found=found, error=exc.message, status_code=exc.status),
        )
    return render(request, "fraud/figures.html", **_context(found=found))
