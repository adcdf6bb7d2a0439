"""HTML pages of the roster of mediators and of the dispute figures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from fengqiao.auth import Permission, Principal
from fengqiao.disputes import figures as stats
from fengqiao.disputes import mediators, service, views
from fengqiao.disputes import types as kinds
from fengqiao.disputes.models import LEVEL_ORDER, MediationLevel, MediatorKind
from fengqiao.disputes.pages import _context, _day, refusal
from fengqiao.disputes.schemas import MediatorIn
from fengqiao.errors import DomainError
from fengqiao.i18n import _
from fengqiao.org import service as org
from fengqiao.web import DbSession, render, requires

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, requires(Permission.VIEW_DISPUTES)]
RosterKeeper = Annotated[Principal, requires(Permission.MANAGE_MEDIATORS)]


@router.get("/disputes/mediators")
def roster_page(request: Request, session: DbSession, principal: Reader) -> Response:
    return _roster(request, session, principal)


def _roster(request: Request, session: DbSession, principal: Principal, **extra: Any) -> Response:
    rows = mediators.roster(session, principal, include_inactive=True)
    return render(
        request,
        "disputes/mediators.html",
        **_context(
            rows=rows,
            load=mediators.open_load(session, [m.id for m in rows]),
            types=kinds.list_types(session),
            type_names=kinds.type_names(session),
            today=service.today(),
            available=mediators.is_available,
            **extra,
        ),
    )


@router.post("/disputes/mediators")
async def roster_form(request: Request, session: DbSession, principal: RosterKeeper) -> Response:
    form = await request.form()
    kept = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    try:
        mediators.save_mediator(
            session,
            principal,
            MediatorIn(
                name=kept.get("name", "").strip()[:50] or " ",
                kind=MediatorKind(kept.get("kind", "volunteer")),
                organisation=kept.get("organisation", "")[:100],
                phone=kept.get("phone") or None,
                skills=[str(v) for v in form.getlist("skills") if isinstance(v, str)],
                levels=[
                    MediationLevel(str(v)) for v in form.getlist("levels") if isinstance(v, str)
                ],
                weekdays=[
                    int(v) for v in form.getlist("weekdays") if isinstance(v, str) and v.isdigit()
                ],
                away_until=_day(kept.get("away_until", ""), _("Away until")),
                note=kept.get("note", "")[:200],
            ),
        )
    except (DomainError, ValueError) as exc:
        session.rollback()
        message, status = refusal(exc)
        return _roster(request, session, principal, error=message, kept=kept, status_code=status)
    return RedirectResponse("/disputes/mediators", status_code=303)


@router.post("/disputes/mediators/{mediator_id}/availability")
def availability_form(
    session: DbSession,
    principal: RosterKeeper,
    mediator_id: int,
    active: Annotated[str, Form()] = "",
    away_until: Annotated[str, Form()] = "",
) -> Response:
    row = mediators.get_mediator(session, principal, mediator_id)
    mediators.save_mediator(
        session,
        principal,
        MediatorIn(
            name=row.name,
            kind=row.kind,
            person_id=row.person_id,
            organisation=row.organisation,
            phone=row.phone,
            skills=list(row.skills or []),
            levels=[MediationLevel(v) for v in row.levels or []],
            weekdays=list(row.weekdays or []),
            away_until=_day(away_until, _("Away until")),
            active=bool(active),
            note=row.note,
        ),
        mediator_id=row.id,
    )
    return RedirectResponse("/disputes/mediators", status_code=303)


@router.get("/disputes/figures")
def figures_page(
    request: Request,
    session: DbSession,
    principal: Reader,
    first: str = "",
    last: str = "",
    by: str = "level",
) -> Response:
    try:
        result = stats.report(
            session,
            principal,
            first=_day(first, _("First day")),
            last=_day(last, _("Last day")),
            by=by,
        )
    except DomainError as exc:
        return render(
            request,
            "disputes/figures.html",
            **_context(error=exc.message, result=None, by=by, first=first, last=last),
            status_code=exc.status,
        )
    order = [level.value for level in LEVEL_ORDER]  # levels bottom up, the rest by name
    keys = sorted(
        set(result.groups) | set(result.previous_groups),
        key=lambda k: (order.index(k) if by == "level" and k in order else 0, k),
    )
    return render(
        request,
        "disputes/figures.html",
        **_context(
            result=result,
            keys=keys,
            by=by,
            first=result.first.isoformat(),
            last=result.last.isoformat(),
            change=stats.change,
            type_names=kinds.type_names(session),
            grids=org.grid_codes(session, {int(k) for k in keys if by == "grid" and k.isdigit()}),
            stations=views.station_names(session) if by == "station" else {},
        ),
    )
