"""The chief's side of tasks: ad-hoc tasks, reassignment and cancellation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from fengqiao.audit.models import AuditAction
from fengqiao.auth import Permission, Principal, require
from fengqiao.clock import at_local, local_day
from fengqiao.db import utcnow
from fengqiao.errors import Conflict, Forbidden, InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.org.models import Person, PoliceGrid
from fengqiao.registry.models import Address
from fengqiao.tasks.kinds import ELIGIBLE, checklist_for
from fengqiao.tasks.models import FollowUp, FollowUpStatus, Task, TaskKind, TaskSource, TaskStatus
from fengqiao.tasks.service import OPEN_STATES, get_task, pick_assignee, record


@dataclass(frozen=True)
class NewTask:
    kind: TaskKind
    title: str
    grid_id: int | None = None
    address_id: int | None = None
    establishment_id: int | None = None
    resident_id: int | None = None
    day: date | None = None
    due_from_hour: int = 9
    due_by_hour: int = 18
    priority: int = 3
    assignee_id: int | None = None
    detail: str = ""


def _target(
    session: Session, principal: Principal, data: NewTask
) -> tuple[str, int | None, str, int, float | None, float | None, Any]:
    from fengqiao.privacy import mask_name
    from fengqiao.registry import addresses, people

    if data.establishment_id is not None:
        place = people.get_establishment(session, principal, data.establishment_id)
        return (
            "establishment",
            place.id,
            place.name,
            _grid(place.grid_id),
            place.lon,
            place.lat,
            place.kind,
        )
    if data.resident_id is not None:
        person = people.get_resident(session, principal, data.resident_id)
        home = session.get_one(Address, person.address_id)
        label = f"{mask_name(person.name)} · {home.full_name}"
        return "resident", person.id, label, _grid(person.grid_id), home.lon, home.lat, None
    if data.address_id is not None:
        address = addresses.get_address(session, principal, data.address_id)
        return (
            "address",
            address.id,
            address.full_name,
            _grid(address.grid_id),
            address.lon,
            address.lat,
            None,
        )
    if data.grid_id is not None:
        grid = session.get(PoliceGrid, data.grid_id)
        if grid is None or grid.retired_at is not None:
            raise NotFound(_("Grid {id} was not found.").format(id=data.grid_id))
        centre = grid.geometry.representative_point()
        return "grid", grid.id, grid.name, grid.id, centre.x, centre.y, None
    raise InvalidInput(_("Give the task a target: a grid, an address, a unit or a person."))


def _grid(grid_id: int | None) -> int:
    if grid_id is None:
        raise InvalidInput(_("The target has no grid yet: place it on the map first."))
    return grid_id


def create_task(
    session: Session, principal: Principal, data: NewTask, *, now: datetime | None = None
) -> Task:
    """An ad-hoc task from the chief; without an assignee it goes to the least loaded
    eligible member of the grid team."""
    require(principal, Permission.MANAGE_TASKS)
    now = now or utcnow()
    title = data.title.strip()
    if not 2 <= len(title) <= 200:
        raise InvalidInput(_("Give the task a title of 2 to 200 characters."))
    if not 1 <= data.priority <= 4:
        raise InvalidInput(_("Priority must be 1 (urgent) to 4 (low)."))
    if not 0 <= data.due_from_hour < data.due_by_hour <= 24:
        raise InvalidInput(_("The due window must start before it ends, within one day (0–24 h)."))
    target_type, target_id, label, grid_id, lon, lat, place_kind = _target(session, principal, data)
    grid = session.get_one(PoliceGrid, grid_id)
    station_id = grid.district.station_id
    if not principal.sees_station(station_id):
        raise Forbidden(_("This record belongs to another station."))
    day = data.day or local_day(now)
    if day < local_day(now):
        raise InvalidInput(_("A new task cannot be due on a past day."))
    assignee = data.assignee_id
    if assignee is None:
        assignee = pick_assignee(session, grid_id=grid_id, kind=data.kind, day=day)
    else:
        person = session.get(Person, assignee)
        if person is None or person.station_id != station_id:
            raise InvalidInput(_("The assignee must be a person of the station."))
        if person.kind not in ELIGIBLE[data.kind]:
            raise InvalidInput(
                _("A {kind} cannot be given this kind of task.").format(kind=person.kind.value)
            )
    task = Task(
        station_id=station_id,
        grid_id=grid_id,
        kind=data.kind,
        title=title,
        detail=data.detail.strip()[:2000],
        target_type=target_type,
        target_id=target_id,
        target_label=label[:400],
        lon=lon,
        lat=lat,
        day=day,
        due_from=at_local(day, data.due_from_hour),
        due_by=at_local(day, 23, 59) if data.due_by_hour == 24 else at_local(day, data.due_by_hour),
        priority=data.priority,
        assignee_id=assignee,
        status=TaskStatus.OPEN,
        source=TaskSource.AD_HOC,
        checklist=checklist_for(place_kind) if data.kind is TaskKind.INSPECTION else None,
        created_by_user_id=principal.actor.user_id,
    )
    session.add(task)
    session.flush()
    record(
        session,
        principal,
        task,
        AuditAction.CREATE,
        {
            "kind": task.kind.value,
            "grid_id": grid_id,
            "assignee_id": assignee,
            "day": day.isoformat(),
        },
    )
    return task


def reassign(session: Session, principal: Principal, task_id: int, *, assignee_id: int) -> Task:
    require(principal, Permission.MANAGE_TASKS)
    task = get_task(session, principal, task_id)
    person = session.get(Person, assignee_id)
    if person is None or person.station_id != task.station_id:
        raise InvalidInput(_("The assignee must be a person of the station."))
    if person.kind not in ELIGIBLE[task.kind]:
        raise InvalidInput(
            _("A {kind} cannot be given this kind of task.").format(kind=person.kind.value)
        )
    if task.status not in OPEN_STATES:
        raise Conflict(_("Only open tasks can be reassigned."))
    old, task.assignee_id = task.assignee_id, person.id
    record(session, principal, task, AuditAction.UPDATE, {"assignee_id": [old, person.id]})
    return task


def cancel(session: Session, principal: Principal, task_id: int, *, reason: str) -> Task:
    require(principal, Permission.MANAGE_TASKS)
    task = get_task(session, principal, task_id)
    if task.status not in OPEN_STATES:
        raise Conflict(_("Only open tasks can be cancelled."))
    if len(reason.strip()) < 2:
        raise InvalidInput(_("Give the reason for cancelling."))
    task.status = TaskStatus.CANCELLED
    if task.follow_up_id is not None:
        follow_up = session.get(FollowUp, task.follow_up_id)
        if follow_up is not None and follow_up.status is FollowUpStatus.SCHEDULED:
            # Cancelling the visit cancels the follow-up; the chief schedules a new one
            # if it is still needed.
            follow_up.status = FollowUpStatus.CANCELLED
    record(session, principal, task, AuditAction.UPDATE, {"cancelled": reason.strip()[:200]})
    return task
