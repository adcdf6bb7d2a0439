"""Tasks: the officer's day (today), check-in and completion with evidence, ad-hoc tasks
from the chief, follow-ups, and the balance of work across a grid team.

Check-ins and completions carry a key chosen by the phone; sending the same one again
(an offline queue replaying) returns the stored result and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Permission, Principal, require
from fengqiao.clock import CHINA_TZ, local_day
from fengqiao.db import lock_for_update, utcnow
from fengqiao.errors import Conflict, Forbidden, InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.org import placement
from fengqiao.org.models import GridAssignment, Person, PersonKind, PoliceGrid
from fengqiao.registry.models import Address, AttachmentKind, Establishment
from fengqiao.tasks.follow_ups import schedule_follow_up
from fengqiao.tasks.kinds import ELIGIBLE, MINUTES, clean_result
from fengqiao.tasks.models import FollowUp, FollowUpStatus, Task, TaskKind, TaskStatus

OPEN_STATES = (TaskStatus.OPEN, TaskStatus.CHECKED_IN)
# Order of preference among equally loaded team members.
_ROLE_ORDER = {
    PersonKind.OFFICER: 0,
    PersonKind.AUXILIARY: 1,
    PersonKind.GRID_WORKER: 2,
    PersonKind.VOLUNTEER: 3,
}


def record(
    session: Session, principal: Principal, task: Task, action: AuditAction, detail: dict[str, Any]
) -> None:
    """The audit row of a change to a task."""
    audit.record(
        session,
        actor=principal.actor,
        action=action,
        object_type="task",
        object_id=task.id,
        detail=detail,
    )


def is_overdue(task: Task, now: datetime) -> bool:
    return task.status in OPEN_STATES and task.due_by < now


# --- reading ---------------------------------------------------------------------------


def get_task(session: Session, principal: Principal, task_id: int) -> Task:
    """A task its assignee may see, and the station's chief and supervisors."""
    task = session.get(Task, task_id)
    if task is None or not principal.sees_station(task.station_id):
        raise NotFound(_("Task {id} was not found.").format(id=task_id))
    if task.assignee_id == principal.person_id and principal.person_id is not None:
        return task
    if principal.can(Permission.MANAGE_TASKS) or principal.can(Permission.VIEW_ASSESSMENT):
        return task
    if (
        principal.grid_ids is None
        and principal.can(Permission.DO_TASKS)
        and principal.person_id is not None
    ):
        # A community officer sees the work of the grid team they lead.
        team = session.scalars(
            select(GridAssignment.grid_id).where(GridAssignment.person_id == principal.person_id)
        ).all()
        if task.grid_id in team:
            return task
    raise Forbidden(_("Task {id} is not yours.").format(id=task_id))


@dataclass
class Today:
    day: date
    now: datetime
    tasks: list[Task]
    grid_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)


def today(session: Session, principal: Principal, *, now: datetime | None = None) -> Today:
    """My tasks for today, with yesterday's unfinished ones carried over: open first,
    then by due time and priority."""
    require(principal, Permission.DO_TASKS)
    if principal.person_id is None:
        raise Forbidden(_("Your account is not linked to a person of the station."))
    now = now or utcnow()
    day = local_day(now)
    rank = case((Task.status.in_(OPEN_STATES), 0), else_=1)
    tasks = list(
        session.scalars(
            select(Task)
            .where(
                Task.assignee_id == principal.person_id,
                Task.status != TaskStatus.CANCELLED,
                or_(
                    Task.day == day,
                    (Task.day < day)
                    & Task.status.in_(OPEN_STATES)
                    & (Task.day >= day - timedelta(days=7)),
                    (Task.day > day) & (Task.due_from <= now + timedelta(hours=12)),
                ),
            )
            .order_by(rank, Task.due_by, Task.priority, Task.id)
            .limit(300)
        )
    )
    grids = list(
        session.scalars(
            select(GridAssignment.grid_id)
            .join(PoliceGrid, PoliceGrid.id == GridAssignment.grid_id)
            .where(GridAssignment.person_id == principal.person_id, PoliceGrid.active())
        )
    )
    counts = {
        "total": len(tasks),
        "done": sum(1 for t in tasks if t.status is TaskStatus.DONE),
        "overdue": sum(1 for t in tasks if is_overdue(t, now)),
    }
    return Today(day=day, now=now, tasks=tasks, grid_ids=grids, counts=counts)


def board(
    session: Session,
    principal: Principal,
    *,
    day: date,
    grid_id: int | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[Task]:
    """The station's tasks of a day for the chief's board."""
    require(principal, Permission.MANAGE_TASKS)
    query = select(Task).where(Task.day == day)
    if principal.station_ids is not None:
        query = query.where(Task.station_id.in_(principal.station_ids))
    if grid_id is not None:
        query = query.where(Task.grid_id == grid_id)
    if status == "overdue":
        query = query.where(Task.status.in_(OPEN_STATES), Task.due_by < utcnow())
    elif status:
        if status not in TaskStatus.__members__.values():
            raise InvalidInput(_("Unknown task status {status}.").format(status=status))
        query = query.where(Task.status == TaskStatus(status))
    return list(
        session.scalars(
            query.order_by(Task.grid_id, Task.due_by, Task.priority, Task.id).limit(limit)
        )
    )


# --- check-in and completion -----------------------------------------------------------


def _own_task(session: Session, principal: Principal, task_id: int) -> Task:
    require(principal, Permission.DO_TASKS)
    task = session.get(Task, task_id)
    if task is None or not principal.sees_station(task.station_id):
        raise NotFound(_("Task {id} was not found.").format(id=task_id))
    if principal.can(Permission.MANAGE_TASKS):
        return task
    if principal.person_id is None or task.assignee_id != principal.person_id:
        raise Forbidden(_("Task {id} is not yours.").format(id=task_id))
    return task


def _position(lon: float | None, lat: float | None) -> tuple[float, float]:
    if lon is None or lat is None:
        raise InvalidInput(
            _(
                "The check-in has no position: allow the browser to use your location "
                "(定位) and try again; nothing you entered is lost."
            )
        )
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(_("The position is not a longitude/latitude pair (WGS-84)."))
    return lon, lat


def check_in(
    session: Session,
    principal: Principal,
    task_id: int,
    *,
    lon: float | None,
    lat: float | None,
    accuracy_m: float | None = None,
    key: str | None = None,
    at: datetime | None = None,
) -> Task:
    """Record where and when the work started. The first check-in counts; a replay with
    the same key, or a later one, changes nothing."""
    task = _own_task(session, principal, task_id)
    if key and task.check_in_key == key:
        return task
    x, y = _position(lon, lat)
    lock_for_update(session, task)
    if task.status is TaskStatus.CANCELLED:
        raise Conflict(_("Task {id} was cancelled.").format(id=task.id))
    if task.checked_in_at is not None:
        return task
    placed = placement.place_point(session, x, y)
    own = _team_grids(session, task.assignee_id) | {task.grid_id}
    task.checked_in_at = _when(at)
    task.check_in_lon, task.check_in_lat = x, y
    task.check_in_accuracy_m = accuracy_m
    task.check_in_inside_grid = placed is not None and placed.grid_id in own
    task.check_in_key = key or None
    if task.status is TaskStatus.OPEN:
        task.status = TaskStatus.CHECKED_IN
    record(
        session,
        principal,
        task,
        AuditAction.UPDATE,
        {
            "check_in": True,
            "inside_grid": task.check_in_inside_grid,
            "accuracy_m": accuracy_m,
        },
    )
    return task


def _when(at: datetime | None) -> datetime:
    """A time the phone recorded offline, if plausible (not in the future, within 3 days)."""
    now = utcnow()
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=CHINA_TZ)  # a phone's clock without a zone is local time
    if at is None or at > now + timedelta(minutes=2) or at < now - timedelta(days=3):
        return now
    return at


def _team_grids(session: Session, person_id: int | None) -> set[int]:
    if person_id is None:
        return set()
    return set(
        session.scalars(select(GridAssignment.grid_id).where(GridAssignment.person_id == person_id))
    )


@dataclass(frozen=True)
class Upload:
    raw: bytes
    filename: str
    kind: AttachmentKind
    key: str | None = None


def complete(
    session: Session,
    principal: Principal,
    task_id: int,
    *,
    values: dict[str, Any],
    key: str | None = None,
    uploads: list[Upload] | None = None,
    lon: float | None = None,
    lat: float | None = None,
    accuracy_m: float | None = None,
    at: datetime | None = None,
) -> tuple[Task, bool]:
    """Complete a task with its result and evidence. Returns ``(task, stored)``:
    ``stored`` is False when this completion (same key) was already recorded. Every
    field and file is checked before anything is written."""
    task = _own_task(session, principal, task_id)
    if key and task.completion_key == key:
        return task, False
    lock_for_update(session, task)
    if task.status is TaskStatus.DONE:
        if key and task.completion_key == key:
            return task, False
        raise Conflict(
            _("Task {id} was already completed at {at}.").format(
                id=task.id,
                at=task.completed_at.isoformat(timespec="minutes") if task.completed_at else "",
            )
        )
    if task.status is TaskStatus.CANCELLED:
        raise Conflict(_("Task {id} was cancelled.").format(id=task.id))
    result = clean_result(task.kind, values, task.checklist)
    from fengqiao.registry import attachments
    from fengqiao.registry.media import prepare_photo, prepare_voice

    files = uploads or []
    for upload in files:  # check every file before writing anything (the check-in too)
        if upload.kind is AttachmentKind.PHOTO:
            prepare_photo(upload.raw, filename=upload.filename)
        else:
            prepare_voice(upload.raw, filename=upload.filename)
    if task.checked_in_at is None:
        # Completing without a separate check-in: the completion's position is the check-in.
        check_in(session, principal, task.id, lon=lon, lat=lat, accuracy_m=accuracy_m, at=at)
    for upload in files:
        attachments.add_attachment(
            session,
            principal,
            object_type="task",
            object_id=task.id,
            kind=upload.kind,
            raw=upload.raw,
            filename=upload.filename,
            station_id=task.station_id,
            client_key=upload.key,
        )
    done_at = _when(at)
    task.status = TaskStatus.DONE
    task.completed_at = done_at
    task.completed_by_id = principal.person_id
    task.completion_key = key or None
    task.result = result.values
    task.note = str(result.values.get("note", ""))
    task.households_visited, task.leads, task.hazards = (
        result.households_visited,
        result.leads,
        result.hazards,
    )
    _after_completion(session, principal, task, done_at)
    record(
        session,
        principal,
        task,
        AuditAction.UPDATE,
        {"completed": True, "result": result.values, "files": len(files)},
    )
    return task, True


def _provenance(
    session: Session,
    principal: Principal,
    task: Task,
    object_type: str,
    object_id: int,
    field: str,
    old: datetime | None,
    new: datetime,
) -> None:
    """A registry field a task changed, recorded with the task (工作即采集)."""
    from fengqiao.registry.models import RegistryChange

    session.add(
        RegistryChange(
            object_type=object_type,
            object_id=object_id,
            action="update",
            changes={field: [old.isoformat() if old else None, new.isoformat()]},
            task_id=task.id,
            person_id=principal.person_id,
            user_id=principal.actor.user_id,
        )
    )


def _after_completion(
    session: Session, principal: Principal, task: Task, done_at: datetime
) -> None:
    """What a finished task changes elsewhere: the place's last inspection, the
    household's last visit, the follow-up it answered, the next revisit."""
    if task.kind is TaskKind.INSPECTION and task.target_type == "establishment" and task.target_id:
        place = session.get(Establishment, task.target_id)
        if place is not None:
            _provenance(
                session,
                principal,
                task,
                "establishment",
                place.id,
                "last_inspected_at",
                place.last_inspected_at,
                done_at,
            )
            place.last_inspected_at = done_at
    if task.target_type == "address" and task.target_id and task.kind is TaskKind.HOUSEHOLD_VISIT:
        address = session.get(Address, task.target_id)
        if address is not None:
            _provenance(
                session,
                principal,
                task,
                "address",
                address.id,
                "last_visited_at",
                address.last_visited_at,
                done_at,
            )
            address.last_visited_at = done_at
    dispute_id, reopened = None, False
    if task.follow_up_id is not None:
        follow_up = session.get(FollowUp, task.follow_up_id)
        if follow_up is not None:
            dispute_id = follow_up.dispute_id
            follow_up.status = FollowUpStatus.DONE
            if follow_up.dispute_id is not None:
                from fengqiao.disputes import revisits

                reopened = revisits.visited(session, principal, follow_up, task)
    days = (task.result or {}).get("revisit_in_days")
    if days and not reopened:  # a re-opened dispute gets its revisits at its next settlement
        schedule_follow_up(
            session,
            principal,
            kind=task.kind if task.kind is not TaskKind.CUSTOM else TaskKind.HOUSEHOLD_VISIT,
            grid_id=task.grid_id,
            due_on=local_day(done_at) + timedelta(days=int(days)),
            target_type=task.target_type,
            target_id=task.target_id,
            target_label=task.target_label,
            lon=task.lon,
            lat=task.lat,
            note=_("Revisit after task {id}").format(id=task.id),
            dispute_id=dispute_id,
        )


def pick_assignee(
    session: Session,
    *,
    grid_id: int,
    kind: TaskKind,
    day: date,
    planned: dict[int, int] | None = None,
) -> int | None:
    """The eligible member of the grid team with the fewest minutes of work on ``day``
    (``planned`` adds minutes of tasks not yet stored); the fixed officer on ties."""
    team = session.execute(
        select(Person.id, Person.kind)
        .join(GridAssignment, GridAssignment.person_id == Person.id)
        .where(GridAssignment.grid_id == grid_id)
    ).all()
    # Volunteers are given work by the chief, not by the daily balance: most have no
    # account to see it with.
    eligible = [
        (pid, pkind)
        for pid, pkind in team
        if pkind in ELIGIBLE[kind] and pkind is not PersonKind.VOLUNTEER
    ]
    if not eligible:
        officers = [pid for pid, pkind in team if pkind is PersonKind.OFFICER]
        return officers[0] if officers else None
    load = {pid: 0 for pid, _k in eligible}
    for pid, task_kind in session.execute(
        select(Task.assignee_id, Task.kind).where(
            Task.assignee_id.in_(load), Task.day == day, Task.status != TaskStatus.CANCELLED
        )
    ):
        if pid is not None:
            load[pid] += MINUTES[task_kind]
    for pid, minutes in (planned or {}).items():
        if pid in load:
            load[pid] += minutes
    return min(eligible, key=lambda e: (load[e[0]], _ROLE_ORDER[e[1]], e[0]))[0]


def grid_shapes(session: Session, grid_ids: list[int]) -> dict[str, Any]:
    """My grids as GeoJSON (WGS-84) for the map of the today page."""
    from shapely.geometry import mapping

    grids: list[PoliceGrid] = (
        list(session.scalars(select(PoliceGrid).where(PoliceGrid.id.in_(grid_ids))))
        if grid_ids
        else []
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": mapping(g.geometry),
                "properties": {"id": g.id, "name": g.name, "code": g.code},
            }
            for g in grids
        ],
    }


def station_people(session: Session, principal: Principal) -> list[Person]:
    """The people of the principal's stations (names for boards and pickers)."""
    query = select(Person).order_by(Person.station_id, Person.kind, Person.name)
    if principal.station_ids is not None:
        query = query.where(Person.station_id.in_(principal.station_ids))
    return list(session.scalars(query))
