"""JSON API of tasks: my day, check-in and completion (idempotent by the phone's key),
the chief's board, ad-hoc tasks, follow-ups, the daily job, the assessment feed."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from fengqiao.auth import Permission, Principal
from fengqiao.clock import local_day
from fengqiao.db import utcnow
from fengqiao.errors import InvalidInput
from fengqiao.i18n import _
from fengqiao.registry.media import MAX_PHOTO_BYTES, MAX_VOICE_BYTES
from fengqiao.registry.models import AttachmentKind
from fengqiao.tasks import assessment, follow_ups, manage
from fengqiao.tasks import service as tasks
from fengqiao.tasks.generation import run_due
from fengqiao.tasks.jobs import rules_of
from fengqiao.tasks.schemas import (
    AssessmentLineOut,
    AssignIn,
    CancelIn,
    CheckInIn,
    CompletionOut,
    FollowUpIn,
    NewTaskIn,
    RunOut,
    TaskOut,
    TodayOut,
    result_fields,
)
from fengqiao.web import CurrentPrincipal, DbSession, requires, settings_of

router = APIRouter(tags=["tasks"])
Worker = Annotated[Principal, requires(Permission.DO_TASKS)]
Chief = Annotated[Principal, requires(Permission.MANAGE_TASKS)]
Assessor = Annotated[Principal, requires(Permission.VIEW_ASSESSMENT)]
MAX_PHOTOS = 6


@router.get("/me/tasks")
def my_tasks(session: DbSession, principal: Worker) -> TodayOut:
    """Today's tasks of the logged-in person (and unfinished ones of the last days)."""
    day = tasks.today(session, principal)
    return TodayOut(
        day=day.day,
        counts=day.counts,
        grid_ids=day.grid_ids,
        tasks=[TaskOut.of(t, day.now) for t in day.tasks],
    )


@router.get("/tasks")
def task_board(
    session: DbSession,
    principal: Chief,
    day: date | None = None,
    grid_id: int | None = None,
    status: str | None = None,
) -> list[TaskOut]:
    now = utcnow()
    rows = tasks.board(
        session, principal, day=day or local_day(now), grid_id=grid_id, status=status
    )
    return [TaskOut.of(t, now) for t in rows]


@router.post("/tasks", status_code=201)
def create_task(session: DbSession, principal: Chief, body: NewTaskIn) -> TaskOut:
    task = manage.create_task(session, principal, manage.NewTask(**body.model_dump()))
    return TaskOut.of(task, utcnow())


@router.get("/tasks/{task_id}")
def get_task(session: DbSession, principal: CurrentPrincipal, task_id: int) -> dict[str, Any]:
    """A task with the result form of its kind and its evidence files."""
    from fengqiao.registry import attachments

    task = tasks.get_task(session, principal, task_id)
    files = attachments.list_attachments(session, "task", task.id)
    return {
        "task": TaskOut.of(task, utcnow()).model_dump(mode="json"),
        "result_fields": result_fields(task.kind),
        "files": [
            {
                "id": f.id,
                "kind": f.kind.value,
                "content_type": f.content_type,
                "width": f.width,
                "height": f.height,
            }
            for f in files
        ],
    }


@router.post("/tasks/{task_id}/check-in")
def check_in(session: DbSession, principal: Worker, task_id: int, body: CheckInIn) -> TaskOut:
    """Start the work where it is done (browser geolocation). A replay is a no-op."""
    task = tasks.check_in(
        session,
        principal,
        task_id,
        lon=body.lon,
        lat=body.lat,
        accuracy_m=body.accuracy_m,
        key=body.key,
        at=body.at,
    )
    return TaskOut.of(task, utcnow())


def _read(upload: UploadFile, limit: int) -> bytes:
    # One byte past the limit is enough for the media checks to refuse it by size.
    return upload.file.read(limit + 1)


@router.post("/tasks/{task_id}/complete")
def complete(
    session: DbSession,
    principal: Worker,
    task_id: int,
    values: Annotated[str, Form(description="Result fields as a JSON object")] = "{}",
    key: Annotated[str | None, Form(max_length=56)] = None,
    lon: Annotated[float | None, Form()] = None,
    lat: Annotated[float | None, Form()] = None,
    accuracy_m: Annotated[float | None, Form()] = None,
    at: Annotated[datetime | None, Form()] = None,
    photos: Annotated[list[UploadFile] | None, File()] = None,
    voice: Annotated[UploadFile | None, File()] = None,
) -> JSONResponse:
    """Complete a task with its result, photos (resized on the server) and a voice note.
    The same ``key`` sent again returns the stored completion (200, ``stored`` false)."""
    try:
        raw = json.loads(values or "{}")
    except json.JSONDecodeError:
        raise InvalidInput(_("The result must be a JSON object.")) from None
    if not isinstance(raw, dict):
        raise InvalidInput(_("The result must be a JSON object."))
    files = [p for p in photos or [] if p.filename or p.size]
    if len(files) > MAX_PHOTOS:
        raise InvalidInput(_("Send at most {n} photos with a task.").format(n=MAX_PHOTOS))
    uploads = [
        tasks.Upload(
            raw=_read(p, MAX_PHOTO_BYTES),
            filename=p.filename or "",
            kind=AttachmentKind.PHOTO,
            key=f"{key}:p{i}" if key else None,
        )
        for i, p in enumerate(files)
    ]
    if voice is not None and (voice.filename or voice.size):
        uploads.append(
            tasks.Upload(
                raw=_read(voice, MAX_VOICE_BYTES),
                filename=voice.filename or "",
                kind=AttachmentKind.VOICE,
                key=f"{key}:v" if key else None,
            )
        )
    task, stored = tasks.complete(
        session,
        principal,
        task_id,
        values=raw,
        key=key,
        uploads=uploads,
        lon=lon,
        lat=lat,
        accuracy_m=accuracy_m,
        at=at,
    )
    body = CompletionOut(task=TaskOut.of(task, utcnow()), stored=stored)
    return JSONResponse(body.model_dump(mode="json"), status_code=201 if stored else 200)


@router.post("/tasks/{task_id}/assign")
def assign(session: DbSession, principal: Chief, task_id: int, body: AssignIn) -> TaskOut:
    return TaskOut.of(
        manage.reassign(session, principal, task_id, assignee_id=body.assignee_id), utcnow()
    )


@router.post("/tasks/{task_id}/cancel")
def cancel(session: DbSession, principal: Chief, task_id: int, body: CancelIn) -> TaskOut:
    return TaskOut.of(manage.cancel(session, principal, task_id, reason=body.reason), utcnow())


@router.post("/follow-ups", status_code=201)
def add_follow_up(session: DbSession, principal: Chief, body: FollowUpIn) -> dict[str, Any]:
    row = follow_ups.schedule_visit(
        session,
        principal,
        kind=body.kind,
        grid_id=body.grid_id,
        due_on=body.due_on,
        address_id=body.address_id,
        note=body.note,
    )
    return {"id": row.id, "due_on": row.due_on.isoformat(), "status": row.status.value}


@router.post("/tasks/generate")
def generate(request: Request, session: DbSession, principal: Chief) -> RunOut:
    """Run the daily job now for every grid and day still to do (normally the scheduler
    does this each morning); grids already done are skipped, never doubled."""
    # The job writes grid by grid in transactions of its own: end the request's first
    # (on SQLite it holds the write lock).
    session.commit()
    summary = run_due(request.app.state.sessionmaker, rules=rules_of(settings_of(request)))
    return RunOut(
        runs=summary.runs,
        tasks=summary.tasks,
        skipped=summary.skipped,
        failed=[f"{g} {d.isoformat()}: {m}" for g, d, m in summary.failed],
    )


@router.get("/assessment")
def assessment_feed(
    session: DbSession,
    principal: Assessor,
    first: date,
    last: date,
    by: str = "day",
    station_id: int | None = None,
) -> list[AssessmentLineOut]:
    """Per person per day (or ISO week): tasks, done, overdue, households visited,
    check-ins inside the own grid, leads and hazards reported."""
    lines = assessment.feed(
        session, principal, first=first, last=last, by=by, station_id=station_id
    )
    return [
        AssessmentLineOut(
            person_id=x.person_id,
            name=x.name,
            kind=x.kind,
            period=x.period,
            tasks=x.tasks,
            done=x.done,
            overdue=x.overdue,
            households_visited=x.households_visited,
            check_ins=x.check_ins,
            check_ins_inside=x.check_ins_inside,
            inside_share=x.inside_share,
            leads=x.leads,
            hazards=x.hazards,
        )
        for x in lines
    ]
