"""JSON API: reading the audit log (no route can change it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from fengqiao.audit import service as audit
from fengqiao.auth import Permission, Principal
from fengqiao.web import DbSession, requires

router = APIRouter(tags=["audit"])
AuditReader = Annotated[Principal, requires(Permission.VIEW_AUDIT)]


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    username: str | None
    role: str | None
    ip: str | None
    action: str
    object_type: str
    object_id: str | None
    outcome: str
    detail: str


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    first_bad_id: int | None
    reason: str | None


@router.get("/audit", response_model=list[AuditEventOut])
def list_events(
    session: DbSession, principal: AuditReader, limit: int = 100, before_id: int | None = None
) -> list[AuditEventOut]:
    rows = audit.list_events(session, limit=min(max(limit, 1), 1000), before_id=before_id)
    return [
        AuditEventOut(
            id=r.id,
            at=r.at,
            username=r.username,
            role=r.role,
            ip=r.ip,
            action=r.action.value,
            object_type=r.object_type,
            object_id=r.object_id,
            outcome=r.outcome,
            detail=r.detail,
        )
        for r in rows
    ]


@router.get("/audit/verify", response_model=VerifyOut)
def verify(session: DbSession, principal: AuditReader) -> VerifyOut:
    result = audit.verify_chain(session)
    return VerifyOut(
        ok=result.ok, checked=result.checked, first_bad_id=result.first_bad_id, reason=result.reason
    )
