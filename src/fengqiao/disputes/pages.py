"""HTML pages of dispute mediation: the list, registering (and converting a call), one
dispute (risk, mediators, sessions, escalation, outcome, agreement and its PDF and scan,
revisits, later incidents, timeline), the roster of mediators, and the figures."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from fengqiao.auth import Permission, Principal
from fengqiao.clock import CHINA_TZ
from fengqiao.disputes import agreements, conversion, mediation, revisits, service, views
from fengqiao.disputes import types as kinds
from fengqiao.disputes.labels import LABELS
from fengqiao.disputes.models import (
    DisputeSource,
    DisputeStatus,
    MediationLevel,
    MediatorKind,
    Outcome,
    PartySide,
    RiskLevel,
)
from fengqiao.disputes.risk import QUESTIONS
from fengqiao.disputes.schemas import (
    AgreementIn,
    DisputeIn,
    EscalateIn,
    OutcomeIn,
    PartyIn,
    ReopenIn,
    RiskIn,
    SessionIn,
)
from fengqiao.errors import DomainError, InvalidInput
from fengqiao.i18n import _
from fengqiao.org import service as org
from fengqiao.privacy import mask_id_number, mask_name, mask_phone
from fengqiao.web import DbSession, download, render, requires, settings_of

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, requires(Permission.VIEW_DISPUTES)]
Mediator_ = Annotated[Principal, requires(Permission.MEDIATE_DISPUTES)]
RosterKeeper = Annotated[Principal, requires(Permission.MANAGE_MEDIATORS)]


def when(value: datetime | None) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if value else "—"


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "labels": LABELS,
        "when": when,
        "mask_name": mask_name,
        "mask_phone": mask_phone,
        "mask_id_number": mask_id_number,
        "DisputeStatus": DisputeStatus,
        "MediationLevel": MediationLevel,
        "RiskLevel": RiskLevel,
        "Outcome": Outcome,
        "PartySide": PartySide,
        "DisputeSource": DisputeSource,
        "MediatorKind": MediatorKind,
        "QUESTIONS": QUESTIONS,
        "LEVELS": list(MediationLevel),
        "new_key": lambda: uuid.uuid4().hex,
        **extra,
    }


def refusal(exc: Exception) -> tuple[str, int]:
    """The message and status of a refused form: a rule of the domain, or a value that
    did not parse."""
    if isinstance(exc, DomainError):
        return exc.message, exc.status
    return _("Check the form: {error}").format(error=exc), 422


def _day(value: str, what: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            _("{what}: “{value}” is not a day (YYYY-MM-DD).").format(what=what, value=value)
        ) from None


def _number(value: str, what: str) -> float | None:
    text = value.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(
            _("{what}: “{value}” is not a number.").format(what=what, value=value)
        ) from None


@router.get("/disputes")
def list_page(
    request: Request,
    session: DbSession,
    principal: Reader,
    status: str = "",
    level: str = "",
    risk: str = "",
    type: str = "",
) -> Response:
    rows = service.list_disputes(
        session, principal, status=status, level=level, risk=risk, type_code=type, limit=300
    )
    return render(
        request,
        "disputes/list.html",
        **_context(
            rows=rows,
            filters={"status": status, "level": level, "risk": risk, "type": type},
            types=kinds.list_types(session),
            **views.list_context(session, principal, rows),
        ),
    )


def _new_form(request: Request, session: DbSession, principal: Principal, **extra: Any) -> Response:
    return render(
        request,
        "disputes/new.html",
        **_context(
            types=kinds.list_types(session),
            grids=org.grids_in_scope(session, principal),
            **extra,
        ),
    )


@router.get("/disputes/new")
def new_page(request: Request, session: DbSession, principal: Mediator_) -> Response:
    return _new_form(request, session, principal, kept={}, client_key=uuid.uuid4().hex)


@router.post("/disputes/new")
async def new_form(request: Request, session: DbSession, principal: Mediator_) -> Response:
    form = await request.form()
    kept = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    try:
        parties = []
        for i in range(3):
            name = kept.get(f"party{i}_name", "").strip()
            if not name:
                continue
            parties.append(
                PartyIn(
                    side=PartySide(kept.get(f"party{i}_side", "applicant")),
                    name=name,
                    is_organisation=bool(kept.get(f"party{i}_org")),
                    gender=kept.get(f"party{i}_gender") or None,
                    id_number=kept.get(f"party{i}_id_number") or None,
                    phone=kept.get(f"party{i}_phone") or None,
                    address=kept.get(f"party{i}_address", "")[:200],
                    vulnerable=bool(kept.get(f"party{i}_vulnerable")),
                )
            )
        grid = kept.get("grid_id", "").strip()
        data = DisputeIn(
            type_code=kept.get("type_code", "other"),
            title=kept.get("title", "")[:200],
            summary=kept.get("summary", "")[:5000],
            source=DisputeSource(kept.get("source", "other")),
            place=kept.get("place", "")[:200],
            lon=_number(kept.get("lon", ""), _("Longitude")),
            lat=_number(kept.get("lat", ""), _("Latitude")),
            grid_id=int(grid) if grid.isdigit() else None,
            found_on=_day(kept.get("found_on", ""), _("Day found")),
            parties=parties,
            risk={q.name: kept.get(f"risk_{q.name}", "") for q in QUESTIONS},
            client_key=kept.get("client_key") or None,
        )
        dispute, _created = service.register(session, principal, data)
    except (DomainError, ValueError) as exc:
        session.rollback()
        message, status = refusal(exc)
        return _new_form(
            request,
            session,
            principal,
            kept=kept,
            client_key=kept.get("client_key") or uuid.uuid4().hex,
            error=message,
            status_code=status,
        )
    return RedirectResponse(f"/disputes/{dispute.id}", status_code=303)


@router.post("/disputes/from-incident")
def from_incident(
    session: DbSession, principal: Mediator_, incident_id: Annotated[int, Form()]
) -> Response:
    dispute, _created = conversion.convert_incident(session, principal, incident_id)
    return RedirectResponse(f"/disputes/{dispute.id}", status_code=303)


def _dispute_page(
    request: Request, session: DbSession, principal: Principal, dispute_id: int, **extra: Any
) -> Response:
    view = views.detail(session, principal, dispute_id)
    return render(request, "disputes/detail.html", **_context(v=view, d=view.dispute, **extra))


@router.get("/disputes/{dispute_id:int}")
def dispute_page(
    request: Request, session: DbSession, principal: Reader, dispute_id: int
) -> Response:
    return _dispute_page(request, session, principal, dispute_id)


def _act(
    request: Request,
    session: DbSession,
    principal: Principal,
    dispute_id: int,
    action: Callable[[], Any],
    kept: dict[str, str],
    *,
    anchor: str = "",
) -> Response:
    """Run a change; on a refusal show the dispute again with the message and the form."""
    try:
        action()
    except (DomainError, ValueError) as exc:
        session.rollback()
        message, status = refusal(exc)
        return _dispute_page(
            request, session, principal, dispute_id, error=message, kept=kept, status_code=status
        )
    return RedirectResponse(f"/disputes/{dispute_id}{anchor}", status_code=303)


@router.post("/disputes/{dispute_id}/risk")
async def risk_form(
    request: Request, session: DbSession, principal: Mediator_, dispute_id: int
) -> Response:
    form = await request.form()
    kept = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    data = RiskIn(
        risk={q.name: kept.get(f"risk_{q.name}", "") for q in QUESTIONS},
        raise_to=kept.get("raise_to") or None,
        reason=kept.get("reason", "")[:500],
    )
    return _act(
        request,
        session,
        principal,
        dispute_id,
        lambda: service.assess_risk(session, principal, dispute_id, data),
        kept,
    )


@router.post("/disputes/{dispute_id}/parties")
def party_form(
    request: Request,
    session: DbSession,
    principal: Mediator_,
    dispute_id: int,
    side: Annotated[str, Form()],
    name: Annotated[str, Form()],
    phone: Annotated[str, Form()] = "",
    id_number: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    is_organisation: Annotated[str, Form()] = "",
) -> Response:
    kept = {"party_side": side, "party_name": name, "party_phone": phone}
    return _act(
        request,
        session,
        principal,
        dispute_id,
        lambda: service.add_party(
            session,
            principal,
            dispute_id,
            PartyIn(
                side=PartySide(side),
                name=name[:100] or " ",
                phone=phone or None,
                id_number=id_number or None,
                address=address[:200],
                is_organisation=bool(is_organisation),
            ),
        ),
        kept,
    )


@router.post("/disputes/{dispute_id}/parties/{party_id}/reveal")
def reveal_form(
    request: Request,
    session: DbSession,
    principal: Mediator_,
    dispute_id: int,
    party_id: int,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """The page again with one party's full numbers (never in a URL or a redirect)."""
    try:
        party = service.reveal_party(session, principal, dispute_id, party_id, reason=reason)
    except DomainError as exc:
        session.rollback()
        return _dispute_page(
            request, session, principal, dispute_id, error=exc.message, status_code=exc.status
        )
    response = _dispute_page(request, session, principal, dispute_id, revealed=party.id)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/disputes/{dispute_id}/mediators")
def mediator_form(
    request: Request,
    session: DbSession,
    principal: Mediator_,
    dispute_id: int,
    mediator_id: Annotated[int, Form()],
    lead: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        session,
        principal,
        dispute_id,
        lambda: mediation.assign(session, principal, dispute_id, mediator_id, lead=bool(lead)),
        {},
    )


@router.post("/disputes/{dispute_id}/sessions")
async def session_form(
    request: Request, session: DbSession, principal: Mediator_, dispute_id: int
) -> Response:
    form = await request.form()
    kept = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    ids = [int(v) for v in form.getlist("mediator_ids") if isinstance(v, str) and v.isdigit()]

    def action() -> None:
        held = kept.get("held_at", "").strip()
        held_at = datetime.fromisoformat(held).replace(tzinfo=CHINA_TZ) if held else None
        mediation.record_session(
            session,
            principal,
            dispute_id,
            SessionIn(
                held_at=held_at,
                place=kept.get("place", "")[:200],
                mediator_ids=ids,
                attendees=kept.get("attendees", "")[:400],
                notes=kept.get("notes", "").strip()[:10000],
                client_key=kept.get("client_key") or None,
            ),
        )

    return _act(request, session, principal, dispute_id, action, kept)


@router.post("/disputes/{dispute_id}/escalate")
def escalate_form(
    request: Request,
    session: DbSession,
    principal: Mediator_,
    dispute_id: int,
    to: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        session,
        principal,
        dispute_id,
        lambda: mediation.escalate(
            session,
            principal,
            dispute_id,
            EscalateIn(to=MediationLevel(to), reason=reason.strip()[:1000]),
        ),
        {"escalate_reason": reason},
    )


@router.post("/disputes/{dispute_id}/outcome")
def outcome_form(
    request: Request,
    session: DbSession,
    principal: Mediator_,
    dispute_id: int,
    outcome: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        session,
        principal,
        dispute_id,
        lambda: mediation.record_outcome(
            session,
            principal,
            dispute_id,
            OutcomeIn(outcome=Outcome(outcome), note=note[:2000]),
            revisit_days=settings_of(request).dispute_follow_up_days,
        ),
        {"outcome": outcome, "outcome_note": note},
    )


@router.post("/disputes/{dispute_id}/agreement")
def agreement_form(
    request: Request,
    session: DbSession,
    principal: Mediator_,
    dispute_id: int,
    facts: Annotated[str, Form()] = "",
    terms: Annotated[str, Form()] = "",
    performance: Annotated[str, Form()] = "",
    signed_on: Annotated[str, Form()] = "",
) -> Response:
    kept = {"facts": facts, "terms": terms, "performance": performance, "signed_on": signed_on}

    def action() -> None:
        lines = [t.strip() for t in terms.splitlines() if t.strip()]
        if not facts.strip():
            raise InvalidInput(_("Write the facts of the dispute for the agreement."))
        if not lines:
            raise InvalidInput(_("Write at least one term the parties agreed to."))
        if len(lines) > 30 or len(facts) > 10000 or len(performance) > 2000:
            raise InvalidInput(
                _(
                    "An agreement holds at most 30 terms, 10 000 characters of facts and "
                    "2 000 of how it is carried out: shorten it."
                )
            )
        agreements.draw_up(
            session,
            principal,
            dispute_id,
            AgreementIn(
                facts=facts,
                terms=lines,
                performance=performance,
                signed_on=_day(signed_on, _("Signed on")),
            ),
            revisit_days=settings_of(request).dispute_follow_up_days,
        )

    return _act(request, session, principal, dispute_id, action, kept, anchor="#agreements")


@router.post("/disputes/{dispute_id}/reopen")
def reopen_form(
    request: Request,
    session: DbSession,
    principal: Mediator_,
    dispute_id: int,
    reason: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        session,
        principal,
        dispute_id,
        lambda: mediation.reopen(
            session, principal, dispute_id, reason=ReopenIn(reason=reason[:1000]).reason
        ),
        {"reopen_reason": reason},
    )


@router.post("/disputes/{dispute_id}/follow-ups/{follow_up_id}/today")
def revisit_today(
    request: Request, session: DbSession, principal: Mediator_, dispute_id: int, follow_up_id: int
) -> Response:
    return _act(
        request,
        session,
        principal,
        dispute_id,
        lambda: revisits.visit_now(session, principal, dispute_id, follow_up_id),
        {},
        anchor="#revisits",
    )


@router.get("/disputes/agreements/{agreement_id}/pdf")
def agreement_pdf(
    request: Request, session: DbSession, principal: Mediator_, agreement_id: int
) -> Response:
    name, data = agreements.printable(
        session, principal, agreement_id, font=settings_of(request).pdf_font
    )
    return download(data, name, "application/pdf")


@router.post("/disputes/agreements/{agreement_id}/scan")
def scan_form(
    request: Request,
    session: DbSession,
    principal: Mediator_,
    agreement_id: int,
    file: Annotated[UploadFile, File()],
) -> Response:
    raw = file.file.read(agreements.MAX_SCAN_BYTES + 1)
    _dispute, row = agreements.get_agreement(session, principal, agreement_id, purpose="scan")
    return _act(
        request,
        session,
        principal,
        row.dispute_id,
        lambda: agreements.attach_scan(session, principal, agreement_id, raw),
        {},
        anchor="#agreements",
    )


@router.get("/disputes/agreements/{agreement_id}/scan")
def scan_file(session: DbSession, principal: Mediator_, agreement_id: int) -> Response:
    _dispute, row = agreements.get_agreement(session, principal, agreement_id, purpose="scan")
    if row.scan_data is None:
        raise InvalidInput(_("No signed scan has been attached to this agreement yet."))
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
    kind = row.scan_content_type or "application/octet-stream"
    name = f"agreement-{row.id}-signed.{ext.get(kind, 'bin')}"
    return download(row.scan_data, name, kind, inline=True)
