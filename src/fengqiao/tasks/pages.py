"""HTML pages: the phone page "today" (installable, works offline), the chief's task
board with ad-hoc tasks, one task with its evidence, and the assessment table."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from fengqiao.auth import Permission, Principal
from fengqiao.clock import CHINA_TZ, local_day
from fengqiao.db import utcnow
from fengqiao.errors import DomainError, InvalidInput
from fengqiao.i18n import _
from fengqiao.registry.media import MAX_PHOTO_BYTES, MAX_VOICE_BYTES
from fengqiao.registry.models import AttachmentKind
from fengqiao.tasks import assessment, manage
from fengqiao.tasks import service as tasks
from fengqiao.tasks.kinds import KIND_LABELS, PRIORITY_LABELS, RESULT_FIELDS
from fengqiao.tasks.models import TaskKind, TaskStatus
from fengqiao.web import CurrentPrincipal, DbSession, render, requires

router = APIRouter(include_in_schema=False)
Worker = Annotated[Principal, requires(Permission.DO_TASKS)]
Chief = Annotated[Principal, requires(Permission.MANAGE_TASKS)]
Assessor = Annotated[Principal, requires(Permission.VIEW_ASSESSMENT)]
STATIC = Path(__file__).resolve().parent.parent / "static"


def hm(value: datetime) -> str:
    """Local wall-clock time, e.g. 09:30."""
    return value.astimezone(CHINA_TZ).strftime("%H:%M")


def _labels() -> dict[str, Any]:
    return {
        "hm": hm,
        "kind_labels": KIND_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "result_fields": RESULT_FIELDS,
        "TaskStatus": TaskStatus,
    }


def _today_page(
    request: Request, session: DbSession, principal: Principal, **extra: Any
) -> Response:
    day = tasks.today(session, principal)
    pins = [
        {
            "id": t.id,
            "lon": t.lon,
            "lat": t.lat,
            "title": t.title,
            "status": t.status.value,
            "overdue": tasks.is_overdue(t, day.now),
        }
        for t in day.tasks
        if t.lon is not None and t.lat is not None
    ]
    map_data = {"grids": tasks.grid_shapes(session, day.grid_ids), "pins": pins}
    return render(
        request,
        "tasks/today.html",
        status_code=extra.pop("status_code", 200),
        today=day,
        map_data=map_data,
        keys={t.id: uuid.uuid4().hex for t in day.tasks},
        is_overdue=tasks.is_overdue,
        **_labels(),
        **extra,
    )


@router.get("/today")
def today_page(request: Request, session: DbSession, principal: Worker) -> Response:
    return _today_page(request, session, principal)


@router.post("/today/tasks/{task_id}/check-in")
def today_check_in(
    request: Request,
    session: DbSession,
    principal: Worker,
    task_id: int,
    key: Annotated[str, Form()] = "",
    lon: Annotated[str, Form()] = "",
    lat: Annotated[str, Form()] = "",
    accuracy_m: Annotated[str, Form()] = "",
) -> Response:
    """Check-in without the page's script (the position fields filled by the browser)."""
    try:
        try:
            x, y = (float(lon) if lon else None), (float(lat) if lat else None)
            accuracy = float(accuracy_m) if accuracy_m else None
        except ValueError:
            raise InvalidInput(
                _("The position is not a longitude/latitude pair (WGS-84).")
            ) from None
        tasks.check_in(
            session, principal, task_id, lon=x, lat=y, accuracy_m=accuracy, key=key or None
        )
    except DomainError as exc:
        session.rollback()
        return _today_page(
            request,
            session,
            principal,
            error=exc.message,
            error_task=task_id,
            status_code=exc.status,
        )
    return RedirectResponse(f"/today#task-{task_id}", status_code=303)


async def _uploads(form: Any, key: str) -> list[tasks.Upload]:
    out: list[tasks.Upload] = []
    for i, item in enumerate(form.getlist("photos")):
        if isinstance(item, UploadFile) and (item.filename or item.size):
            raw = await item.read(MAX_PHOTO_BYTES + 1)
            out.append(
                tasks.Upload(
                    raw, item.filename or "", AttachmentKind.PHOTO, f"{key}:p{i}" if key else None
                )
            )
    voice = form.get("voice")
    if isinstance(voice, UploadFile) and (voice.filename or voice.size):
        raw = await voice.read(MAX_VOICE_BYTES + 1)
        out.append(
            tasks.Upload(
                raw, voice.filename or "", AttachmentKind.VOICE, f"{key}:v" if key else None
            )
        )
    return out


@router.post("/today/tasks/{task_id}/complete")
async def today_complete(
    request: Request, session: DbSession, principal: Worker, task_id: int
) -> Response:
    """Completion without the page's script: result fields are ``r_<name>`` and checklist
    answers ``check_<code>``; on an error the page comes back with the input kept."""
    form = await request.form()
    key = str(form.get("key") or "")[:56]
    values: dict[str, Any] = {
        str(k)[2:]: v
        for k, v in form.multi_items()
        if str(k).startswith("r_") and isinstance(v, str)
    }
    values.update(
        {
            str(k): v
            for k, v in form.multi_items()
            if str(k).startswith("check_") and isinstance(v, str)
        }
    )
    uploads = await _uploads(form, key)

    def position(name: str) -> float | None:
        raw = form.get(name)
        return float(raw) if isinstance(raw, str) and raw else None

    try:
        await run_in_threadpool(
            tasks.complete,
            session,
            principal,
            task_id,
            values=values,
            key=key or None,
            uploads=uploads,
            lon=position("lon"),
            lat=position("lat"),
        )
    except (DomainError, ValueError) as exc:
        message = exc.message if isinstance(exc, DomainError) else str(exc)
        status = exc.status if isinstance(exc, DomainError) else 422
        await run_in_threadpool(session.rollback)
        return await run_in_threadpool(
            lambda: _today_page(
                request,
                session,
                principal,
                error=message,
                error_task=task_id,
                kept=values,
                status_code=status,
            )
        )
    return RedirectResponse(f"/today#task-{task_id}", status_code=303)


@functools.cache
def _worker_script() -> bytes:
    """sw.js with a version: a hash of the files it caches, so that phones fetch new ones
    after a release (a changed worker script installs itself again)."""
    digest = hashlib.sha256()
    for path in sorted((STATIC / "js").glob("*.js")) + sorted((STATIC / "css").glob("*.css")):
        digest.update(path.read_bytes())
    template = (STATIC / "js" / "sw.js").read_text(encoding="utf-8")
    return template.replace("__VERSION__", digest.hexdigest()[:12]).encode("utf-8")


@router.get("/sw.js")
def service_worker() -> Response:
    """The offline worker, served from the root so that it may control /today."""
    return Response(
        _worker_script(), media_type="text/javascript", headers={"Cache-Control": "no-cache"}
    )


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    body = {
        "name": _("Fengqiao · Today's tasks"),
        "short_name": _("Today"),
        "start_url": "/today",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1c4e80",
        "lang": "zh-CN",
        "icons": [
            {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return Response(
        json.dumps(body, ensure_ascii=False),
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


def _board(request: Request, session: DbSession, principal: Principal, **extra: Any) -> Response:
    day_text = request.query_params.get("day")
    try:
        day = date.fromisoformat(day_text) if day_text else local_day(utcnow())
    except ValueError:
        raise InvalidInput(_("Give the day as YYYY-MM-DD.")) from None
    status = request.query_params.get("status") or None
    rows = tasks.board(session, principal, day=day, status=status)
    from fengqiao.org import service as org

    return render(
        request,
        "tasks/board.html",
        status_code=extra.pop("status_code", 200),
        day=day,
        status=status,
        rows=rows,
        now=utcnow(),
        is_overdue=tasks.is_overdue,
        people={p.id: p for p in tasks.station_people(session, principal)},
        grids=org.list_grids(session, principal),
        kinds=list(TaskKind),
        **_labels(),
        **extra,
    )


@router.get("/tasks")
def board_page(request: Request, session: DbSession, principal: Chief) -> Response:
    return _board(request, session, principal)


@router.post("/tasks/new")
def new_task(
    request: Request,
    session: DbSession,
    principal: Chief,
    kind: Annotated[str, Form()],
    title: Annotated[str, Form()],
    grid_id: Annotated[str, Form()] = "",
    address_id: Annotated[str, Form()] = "",
    day: Annotated[str, Form()] = "",
    due_from_hour: Annotated[int, Form()] = 9,
    due_by_hour: Annotated[int, Form()] = 18,
    priority: Annotated[int, Form()] = 3,
    assignee_id: Annotated[str, Form()] = "",
    detail: Annotated[str, Form()] = "",
) -> Response:
    kept = {
        "kind": kind,
        "title": title,
        "grid_id": grid_id,
        "address_id": address_id,
        "detail": detail,
    }
    try:
        task = manage.create_task(
            session,
            principal,
            manage.NewTask(
                kind=TaskKind(kind),
                title=title,
                grid_id=int(grid_id) if grid_id else None,
                address_id=int(address_id) if address_id else None,
                day=date.fromisoformat(day) if day else None,
                due_from_hour=due_from_hour,
                due_by_hour=due_by_hour,
                priority=priority,
                assignee_id=int(assignee_id) if assignee_id else None,
                detail=detail,
            ),
        )
    except (DomainError, ValueError) as exc:
        session.rollback()
        message = (
            exc.message
            if isinstance(exc, DomainError)
            else _("Check the form: {error}").format(error=exc)
        )
        status = exc.status if isinstance(exc, DomainError) else 422
        return _board(request, session, principal, error=message, kept=kept, status_code=status)
    return RedirectResponse(f"/tasks?day={task.day.isoformat()}#task-{task.id}", status_code=303)


@router.get("/tasks/assessment")
def assessment_page(request: Request, session: DbSession, principal: Assessor) -> Response:
    by = request.query_params.get("by", "day")
    today = local_day(utcnow())
    try:
        last = date.fromisoformat(request.query_params.get("last") or today.isoformat())
        first = date.fromisoformat(
            request.query_params.get("first") or (last - timedelta(days=6)).isoformat()
        )
    except ValueError:
        raise InvalidInput(_("Give the days as YYYY-MM-DD.")) from None
    lines = assessment.feed(session, principal, first=first, last=last, by=by)
    return render(request, "tasks/assessment.html", lines=lines, first=first, last=last, by=by)


@router.get("/tasks/{task_id}")
def task_page(
    request: Request, session: DbSession, principal: CurrentPrincipal, task_id: int
) -> Response:
    from fengqiao.registry import attachments

    task = tasks.get_task(session, principal, task_id)
    return render(
        request,
        "tasks/detail.html",
        task=task,
        files=attachments.list_attachments(session, "task", task.id),
        now=utcnow(),
        is_overdue=tasks.is_overdue,
        people={p.id: p for p in tasks.station_people(session, principal)},
        **_labels(),
    )
