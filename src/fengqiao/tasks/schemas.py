"""Task API shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from fengqiao.i18n import gettext
from fengqiao.tasks.kinds import KIND_LABELS, PRIORITY_LABELS, RESULT_FIELDS
from fengqiao.tasks.models import Task, TaskKind


class TaskOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    title: str
    detail: str
    target_type: str
    target_id: int | None
    target_label: str
    grid_id: int
    lon: float | None
    lat: float | None
    day: date
    due_from: datetime
    due_by: datetime
    priority: int
    priority_label: str
    assignee_id: int | None
    status: str
    overdue: bool
    source: str
    checked_in_at: datetime | None
    check_in_inside_grid: bool | None
    completed_at: datetime | None
    result: dict[str, Any] | None
    checklist: list[dict[str, Any]] | None

    @classmethod
    def of(cls, task: Task, now: datetime) -> TaskOut:
        from fengqiao.tasks.service import is_overdue

        return cls(
            id=task.id,
            kind=task.kind.value,
            kind_label=gettext(KIND_LABELS[task.kind]),
            title=task.title,
            detail=task.detail,
            target_type=task.target_type,
            target_id=task.target_id,
            target_label=task.target_label,
            grid_id=task.grid_id,
            lon=task.lon,
            lat=task.lat,
            day=task.day,
            due_from=task.due_from,
            due_by=task.due_by,
            priority=task.priority,
            priority_label=gettext(PRIORITY_LABELS[task.priority]),
            assignee_id=task.assignee_id,
            status=task.status.value,
            overdue=is_overdue(task, now),
            source=task.source.value,
            checked_in_at=task.checked_in_at,
            check_in_inside_grid=task.check_in_inside_grid,
            completed_at=task.completed_at,
            result=task.result,
            checklist=[{**i, "label": gettext(i["label"])} for i in task.checklist]
            if task.checklist
            else None,
        )


class TodayOut(BaseModel):
    day: date
    counts: dict[str, int]
    grid_ids: list[int]
    tasks: list[TaskOut]


class CheckInIn(BaseModel):
    lon: float | None = None
    lat: float | None = None
    accuracy_m: float | None = Field(default=None, ge=0)
    key: str | None = Field(default=None, max_length=56)
    at: datetime | None = None


class CompletionOut(BaseModel):
    task: TaskOut
    stored: bool  # False: this completion had been recorded already (a retry)


class NewTaskIn(BaseModel):
    kind: TaskKind
    title: str = Field(min_length=2, max_length=200)
    grid_id: int | None = None
    address_id: int | None = None
    establishment_id: int | None = None
    resident_id: int | None = None
    day: date | None = None
    due_from_hour: int = Field(default=9, ge=0, le=23)
    due_by_hour: int = Field(default=18, ge=1, le=24)
    priority: int = Field(default=3, ge=1, le=4)
    assignee_id: int | None = None
    detail: str = Field(default="", max_length=2000)


class AssignIn(BaseModel):
    assignee_id: int


class CancelIn(BaseModel):
    reason: str = Field(min_length=2, max_length=200)


class FollowUpIn(BaseModel):
    kind: TaskKind
    grid_id: int
    due_on: date
    address_id: int | None = None
    note: str = Field(default="", max_length=2000)


class RunOut(BaseModel):
    runs: int
    tasks: int
    skipped: int
    failed: list[str]


class AssessmentLineOut(BaseModel):
    person_id: int
    name: str
    kind: str
    period: str
    tasks: int
    done: int
    overdue: int
    households_visited: int
    check_ins: int
    check_ins_inside: int
    inside_share: float | None
    leads: int
    hazards: int


def result_fields(kind: TaskKind) -> list[dict[str, Any]]:
    """The result form of a kind, translated, for phones that build it themselves."""
    return [
        {
            "name": f.name,
            "label": gettext(f.label),
            "type": f.type,
            "required": f.required,
            "min": f.minimum,
            "max": f.maximum,
            "choices": [{"value": v, "label": gettext(t)} for v, t in f.choices],
        }
        for f in RESULT_FIELDS[kind]
    ]
