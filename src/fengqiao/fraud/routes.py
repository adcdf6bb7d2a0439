"""JSON API of anti-fraud warnings: a centre pushes warnings (idempotent by its id or
by content), uploads files; the warning desk places and calls; the grid's police
record contact and outcome; figures by station, grid, type and day."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from fengqiao.auth import Permission, Principal
from fengqiao.clock import local_day
from fengqiao.db import utcnow
from fengqiao.errors import InvalidInput
from fengqiao.fraud import batch as batches
from fengqiao.fraud import figures as stats
from fengqiao.fraud import intake, orders
from fengqiao.fraud.models import Channel, OrderStatus
from fengqiao.fraud.schemas import (
    AssignIn,
    BatchOut,
    CallIn,
    ContactIn,
    OrderOut,
    OutcomeIn,
    ReceivedOut,
    ReopenIn,
    WarningIn,
)
from fengqiao.web import DbSession, requires, settings_of

router = APIRouter(tags=["fraud"])
Desk = Annotated[Principal, requires(Permission.RECEIVE_WARNINGS)]
Handler = Annotated[Principal, requires(Permission.HANDLE_WARNINGS)]
Viewer = Annotated[Principal, requires(Permission.VIEW_METRICS)]


@router.post("/fraud/warnings", status_code=201)
def post_warning(
    request: Request, session: DbSession, principal: Desk, body: WarningIn
) -> JSONResponse:
    """Take one warning. 201 with the order it made or joined; 200 when it was received
    before (a retry: nothing added)."""
    raw = body.model_dump(exclude_none=True)
    if body.warned_at is not None:
        raw["warned_at"] = body.warned_at
    got = intake.take_one(session, principal, settings_of(request), raw, channel=Channel.API)
    out = ReceivedOut(
        order_id=got.order_id,
        duplicate=got.duplicate,
        merged=got.merged,
        queued=got.queued,
        step=got.step,
        confidence=got.confidence,
        assignee_id=got.assignee_id,
    )
    return JSONResponse(out.model_dump(mode="json"), status_code=200 if got.duplicate else 201)


@router.post("/fraud/batches", status_code=202)
def upload_batch(
    request: Request,
    session: DbSession,
    principal: Desk,
    file: Annotated[UploadFile, File()],
    source: Annotated[str, Form()] = "batch",
) -> dict[str, int]:
    """Upload a CSV or Excel file of warnings; its rows are taken in the background
    (GET the batch for its progress and report)."""
    # The batch is opened and run in transactions of their own: end the request's first
    # (on SQLite it holds the write lock, and the upload would wait for itself).
    session.commit()
    batch_id = batches.upload(
        request.app.state.sessionmaker,
        settings_of(request),
        principal,
        file.file,
        filename=file.filename or "upload.csv",
        source=source,
    )
    return {"batch_id": batch_id}


@router.get("/fraud/batches/{batch_id}")
def get_batch(session: DbSession, principal: Desk, batch_id: int) -> BatchOut:
    return BatchOut.of(batches.get_batch(session, principal, batch_id))


@router.get("/fraud/batches/{batch_id}/report.csv")
def batch_report(session: DbSession, principal: Desk, batch_id: int) -> Response:
    """The per-row report (errors to fix and send again, notices), UTF-8 CSV."""
    batch = batches.get_batch(session, principal, batch_id)
    batches.audit_report(session, principal, batch.id)
    return Response(
        batches.report_csv(session, batch.id),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="fraud-batch-{batch.id}-report.csv"'
        },
    )


@router.get("/fraud/orders")
def list_orders(
    session: DbSession,
    principal: Handler,
    status: OrderStatus | None = None,
    queue: bool = False,
    mine: bool = False,
    limit: int = 200,
) -> list[OrderOut]:
    rows = orders.list_orders(
        session, principal, status=status, queue=queue, mine=mine, limit=limit
    )
    return [OrderOut.of(o) for o in rows]


@router.get("/fraud/orders/{order_id}")
def get_order(session: DbSession, principal: Handler, order_id: int) -> OrderOut:
    return OrderOut.of(orders.get_order(session, principal, order_id))


@router.post("/fraud/orders/{order_id}/assign")
def assign(
    request: Request, session: DbSession, principal: Desk, order_id: int, body: AssignIn
) -> OrderOut:
    order = orders.assign(
        session,
        principal,
        settings_of(request),
        order_id,
        person_id=body.person_id,
        grid_id=body.grid_id,
    )
    return OrderOut.of(order)


@router.post("/fraud/orders/{order_id}/calls", status_code=201)
def log_call(session: DbSession, principal: Handler, order_id: int, body: CallIn) -> dict[str, Any]:
    call = orders.log_call(
        session,
        principal,
        order_id,
        called=body.called,
        result=body.result,
        duration_s=body.duration_s,
        note=body.note,
        client_key=body.client_key,
    )
    return {"id": call.id, "order_id": call.order_id, "result": call.result.value}


@router.post("/fraud/orders/{order_id}/contact")
def contact(session: DbSession, principal: Handler, order_id: int, body: ContactIn) -> OrderOut:
    return OrderOut.of(orders.contact(session, principal, order_id, method=body.method))


@router.post("/fraud/orders/{order_id}/outcome")
def outcome(
    request: Request, session: DbSession, principal: Handler, order_id: int, body: OutcomeIn
) -> OrderOut:
    order = orders.record_outcome(
        session,
        principal,
        settings_of(request),
        order_id,
        orders.OutcomeIn(
            outcome=body.outcome,
            method=body.method,
            money_saved=body.money_saved,
            money_lost=body.money_lost,
            note=body.note,
        ),
    )
    return OrderOut.of(order)


@router.post("/fraud/orders/{order_id}/reopen")
def reopen(session: DbSession, principal: Desk, order_id: int, body: ReopenIn) -> OrderOut:
    return OrderOut.of(orders.reopen(session, principal, order_id, reason=body.reason))


@router.get("/fraud/figures")
def figures(
    session: DbSession,
    principal: Viewer,
    first: str | None = None,
    last: str | None = None,
    by: str = "station",
) -> dict[str, Any]:
    """Received, matched %, median minutes to contact, dissuasion rate, money saved and
    lost, by station, grid, type or day (China days; the last 7 by default)."""
    start, end = stats.period(first, last, local_day(utcnow()))
    if by not in stats.BY_VALUES:
        raise InvalidInput(stats.wrong_by_message())
    found = stats.figures(session, principal, first=start, last=end, by=by)
    return {
        "first": found.first.isoformat(),
        "last": found.last.isoformat(),
        "by": found.by,
        "rows": [r.as_dict() for r in found.rows],
        "total": found.total.as_dict(),
    }
