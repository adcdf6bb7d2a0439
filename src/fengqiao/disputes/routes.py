"""The dispute API (/api/v1/disputes): register (201, 200 on a retry), convert a call,
read (parties masked), risk, mediators, sessions, escalation, outcome, agreement (PDF,
signed scan), revisits, re-opening, the roster and the figures."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, Response, UploadFile

from fengqiao.auth import Permission, Principal
from fengqiao.disputes import agreements, conversion, mediation, mediators, revisits, service
from fengqiao.disputes import figures as stats
from fengqiao.disputes.models import Dispute, Mediator
from fengqiao.disputes.schemas import (
    AgreementIn,
    AssignIn,
    DisputeIn,
    DisputeOut,
    EscalateIn,
    MediatorIn,
    OutcomeIn,
    PartyIn,
    ReopenIn,
    RiskIn,
    SessionIn,
)
from fengqiao.privacy import mask_id_number, mask_name, mask_phone
from fengqiao.web import DbSession, download, requires, settings_of

router = APIRouter(tags=["disputes"])
Reader = Annotated[Principal, requires(Permission.VIEW_DISPUTES)]
Worker = Annotated[Principal, requires(Permission.MEDIATE_DISPUTES)]
RosterKeeper = Annotated[Principal, requires(Permission.MANAGE_MEDIATORS)]


def _out(session: DbSession, dispute: Dispute, *, parties: bool = True) -> DisputeOut:
    """A dispute as the API shows it: names and numbers masked; lists leave the parties
    out (one read of one dispute is one audited read)."""
    return DisputeOut(
        id=dispute.id,
        number=dispute.number,
        type_code=dispute.type_code,
        title=dispute.title,
        status=dispute.status.value,
        level=dispute.level.value,
        risk_level=dispute.risk_level.value,
        outcome=dispute.outcome.value if dispute.outcome else None,
        grid_id=dispute.grid_id,
        station_id=dispute.station_id,
        found_on=dispute.found_on,
        reopen_count=dispute.reopen_count,
        incident_id=dispute.incident_id,
        parties=[
            {
                "side": p.side.value,
                "name": p.name if p.is_organisation else mask_name(p.name),
                "phone": mask_phone(p.phone),
                "id_number": mask_id_number(p.id_number),
                "vulnerable": p.vulnerable,
            }
            for p in (service.parties_of(session, dispute.id) if parties else [])
        ],
    )


def _mediator(m: Mediator) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "kind": m.kind.value,
        "organisation": m.organisation,
        "levels": m.levels,
        "skills": m.skills,
        "weekdays": m.weekdays,
        "away_until": m.away_until.isoformat() if m.away_until else None,
        "active": m.active,
        "phone": mask_phone(m.phone),
    }


@router.get("/disputes", response_model=list[DisputeOut])
def list_disputes(
    session: DbSession,
    principal: Reader,
    status: str | None = None,
    level: str | None = None,
    risk: str | None = None,
    type: str | None = None,
    grid_id: int | None = None,
    limit: int = 200,
) -> list[DisputeOut]:
    rows = service.list_disputes(
        session,
        principal,
        status=status,
        level=level,
        risk=risk,
        type_code=type,
        grid_id=grid_id,
        limit=limit,
    )
    return [_out(session, d, parties=False) for d in rows]


@router.post("/disputes", response_model=DisputeOut, status_code=201)
def register(
    session: DbSession, principal: Worker, body: DisputeIn, response: Response
) -> DisputeOut:
    dispute, created = service.register(session, principal, body)
    if not created:
        response.status_code = 200
    return _out(session, dispute)


@router.post("/disputes/from-incident/{incident_id}", response_model=DisputeOut, status_code=201)
def from_incident(
    session: DbSession, principal: Worker, incident_id: int, response: Response
) -> DisputeOut:
    dispute, created = conversion.convert_incident(session, principal, incident_id)
    if not created:
        response.status_code = 200
    return _out(session, dispute)


@router.get("/disputes/figures")
def figures(
    session: DbSession,
    principal: Reader,
    first: date | None = None,
    last: date | None = None,
    by: str = "level",
) -> dict[str, Any]:
    result = stats.report(session, principal, first=first, last=last, by=by)
    return {
        "first": result.first.isoformat(),
        "last": result.last.isoformat(),
        "by": result.by,
        "total": result.total.as_dict(),
        "previous_year": result.previous.as_dict(),
        "resolution_rate_change_points": stats.change(
            result.total.resolution_rate, result.previous.resolution_rate
        ),
        "groups": {k: v.as_dict() for k, v in sorted(result.groups.items())},
        "previous_groups": {k: v.as_dict() for k, v in sorted(result.previous_groups.items())},
    }


@router.get("/disputes/mediators")
def roster(session: DbSession, principal: Reader) -> list[dict[str, Any]]:
    return [_mediator(m) for m in mediators.roster(session, principal, include_inactive=True)]


@router.post("/disputes/mediators", status_code=201)
def add_mediator(session: DbSession, principal: RosterKeeper, body: MediatorIn) -> dict[str, Any]:
    return _mediator(mediators.save_mediator(session, principal, body))


@router.put("/disputes/mediators/{mediator_id}")
def change_mediator(
    session: DbSession, principal: RosterKeeper, mediator_id: int, body: MediatorIn
) -> dict[str, Any]:
    return _mediator(mediators.save_mediator(session, principal, body, mediator_id=mediator_id))


@router.get("/disputes/{dispute_id}", response_model=DisputeOut)
def get_dispute(session: DbSession, principal: Reader, dispute_id: int) -> DisputeOut:
    return _out(session, service.get_dispute(session, principal, dispute_id))


@router.post("/disputes/{dispute_id}/parties", response_model=DisputeOut)
def add_party(session: DbSession, principal: Worker, dispute_id: int, body: PartyIn) -> DisputeOut:
    return _out(session, service.add_party(session, principal, dispute_id, body))


@router.post("/disputes/{dispute_id}/risk", response_model=DisputeOut)
def assess(session: DbSession, principal: Worker, dispute_id: int, body: RiskIn) -> DisputeOut:
    return _out(session, service.assess_risk(session, principal, dispute_id, body))


@router.post("/disputes/{dispute_id}/mediators", response_model=DisputeOut)
def assign(session: DbSession, principal: Worker, dispute_id: int, body: AssignIn) -> DisputeOut:
    dispute = mediation.assign(session, principal, dispute_id, body.mediator_id, lead=body.lead)
    return _out(session, dispute)


@router.post("/disputes/{dispute_id}/sessions", status_code=201)
def add_session(
    session: DbSession, principal: Worker, dispute_id: int, body: SessionIn
) -> dict[str, Any]:
    row = mediation.record_session(session, principal, dispute_id, body)
    return {"id": row.id, "level": row.level.value, "held_at": row.held_at.isoformat()}


@router.post("/disputes/{dispute_id}/escalate", response_model=DisputeOut)
def escalate(
    session: DbSession, principal: Worker, dispute_id: int, body: EscalateIn
) -> DisputeOut:
    return _out(session, mediation.escalate(session, principal, dispute_id, body))


@router.post("/disputes/{dispute_id}/outcome", response_model=DisputeOut)
def outcome(
    request: Request, session: DbSession, principal: Worker, dispute_id: int, body: OutcomeIn
) -> DisputeOut:
    days = settings_of(request).dispute_follow_up_days
    return _out(
        session, mediation.record_outcome(session, principal, dispute_id, body, revisit_days=days)
    )


@router.post("/disputes/{dispute_id}/agreement", status_code=201)
def agreement(
    request: Request, session: DbSession, principal: Worker, dispute_id: int, body: AgreementIn
) -> dict[str, Any]:
    days = settings_of(request).dispute_follow_up_days
    row = agreements.draw_up(session, principal, dispute_id, body, revisit_days=days)
    return {
        "id": row.id,
        "number": row.number,
        "signed_on": row.signed_on.isoformat(),
        "pdf": f"/api/v1/disputes/agreements/{row.id}/pdf",
    }


@router.get("/disputes/agreements/{agreement_id}/pdf")
def agreement_pdf(
    request: Request, session: DbSession, principal: Worker, agreement_id: int
) -> Response:
    name, data = agreements.printable(
        session, principal, agreement_id, font=settings_of(request).pdf_font
    )
    return download(data, name, "application/pdf")


@router.post("/disputes/agreements/{agreement_id}/scan")
def agreement_scan(
    session: DbSession,
    principal: Worker,
    agreement_id: int,
    file: Annotated[UploadFile, File()],
) -> dict[str, Any]:
    raw = file.file.read(agreements.MAX_SCAN_BYTES + 1)
    row = agreements.attach_scan(session, principal, agreement_id, raw)
    return {"id": row.id, "sha256": row.scan_sha256, "bytes": row.scan_bytes}


@router.post("/disputes/{dispute_id}/reopen", response_model=DisputeOut)
def reopen(session: DbSession, principal: Worker, dispute_id: int, body: ReopenIn) -> DisputeOut:
    return _out(session, mediation.reopen(session, principal, dispute_id, reason=body.reason))


@router.get("/disputes/{dispute_id}/follow-ups")
def follow_ups(session: DbSession, principal: Reader, dispute_id: int) -> list[dict[str, Any]]:
    service.get_dispute(session, principal, dispute_id, audited=False)
    rows = revisits.follow_ups_of(session, dispute_id)
    return [{"id": f.id, "due_on": f.due_on.isoformat(), "status": f.status.value} for f in rows]


@router.post("/disputes/{dispute_id}/follow-ups/{follow_up_id}/today")
def revisit_today(
    session: DbSession, principal: Worker, dispute_id: int, follow_up_id: int
) -> dict[str, Any]:
    task = revisits.visit_now(session, principal, dispute_id, follow_up_id)
    return {"task_id": task.id, "assignee_id": task.assignee_id, "day": task.day.isoformat()}
