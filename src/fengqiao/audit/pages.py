"""HTML page: the audit log, newest first, with the chain check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fengqiao.audit import service as audit
from fengqiao.auth import Permission, Principal
from fengqiao.web import DbSession, render, requires

router = APIRouter(include_in_schema=False)
AuditReader = Annotated[Principal, requires(Permission.VIEW_AUDIT)]


@router.get("/audit")
def audit_page(
    request: Request, session: DbSession, principal: AuditReader, before_id: int | None = None
) -> Response:
    events = audit.list_events(session, limit=100, before_id=before_id)
    return render(request, "audit/list.html", events=events)
