"""Follow-ups: visits that fall due on a day (after a dispute, a household visit, a fraud
warning); the daily job turns each into a task on its day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Principal
from fengqiao.clock import at_local, local_day
from fengqiao.db import utcnow
from fengqiao.errors import Conflict, Forbidden, NotFound
from fengqiao.i18n import N_, _
from fengqiao.org.models import Person, PoliceGrid
from fengqiao.tasks.models import (
    FollowUp,
    FollowUpStatus,
    Task,
    TaskKind,
    TaskSource,
    TaskStatus,
)

FOLLOW_UP_STATES = {
    FollowUpStatus.SCHEDULED: N_("Task made"),
    FollowUpStatus.DONE: N_("Done"),
    FollowUpStatus.CANCELLED: N_("Cancelled"),
}


def schedule_follow_up(
    session: Session,
    principal: Principal,
    *,
    kind: TaskKind,
    grid_id: int,
    due_on: date,
    target_type: str,
    target_id: int | None,
    target_label: str,
    lon: float | None = None,
    lat: float | None = None,
    note: str = "",
    dispute_id: int | None = None,
) -> FollowUp:
    """A visit that becomes a task on ``due_on`` (the daily job makes it)."""
    grid = session.get(PoliceGrid, grid_id)
    if grid is None:
        raise NotFound(_("Grid {id} was not found.").format(id=grid_id))
    station_id = grid.district.station_id
    if not principal.sees_station(station_id):
        raise Forbidden(_("This record belongs to another station."))
    row = FollowUp(
        kind=kind,
        station_id=station_id,
        grid_id=grid_id,
        due_on=due_on,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:400],
        lon=lon,
        lat=lat,
        note=note[:2000],
        status=FollowUpStatus.PENDING,
        dispute_id=dispute_id,
        created_by_user_id=principal.actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.CREATE,
        object_type="follow_up",
        object_id=row.id,
        detail={"kind": kind.value, "due_on": due_on.isoformat(), "grid_id": grid_id},
    )
    return row


def schedule_visit(
    session: Session,
    principal: Principal,
    *,
    kind: TaskKind,
    grid_id: int,
    due_on: date,
    address_id: int | None = None,
    note: str = "",
) -> FollowUp:
    """A follow-up at an address of the registry, or in the grid as a whole."""
    if address_id is None:
        return schedule_follow_up(
            session,
            principal,
            kind=kind,
            grid_id=grid_id,
            due_on=due_on,
            target_type="grid",
            target_id=grid_id,
            target_label=_("Grid {id}").format(id=grid_id),
            note=note,
        )
    from fengqiao.registry import addresses

    address = addresses.get_address(session, principal, address_id)
    return schedule_follow_up(
        session,
        principal,
        kind=kind,
        grid_id=grid_id,
        due_on=due_on,
        target_type="address",
        target_id=address.id,
        target_label=address.full_name,
        lon=address.lon,
        lat=address.lat,
        note=note,
    )


def task_today(
    session: Session, principal: Principal, follow_up: FollowUp, *, now: datetime | None = None
) -> Task:
    """Bring a pending follow-up forward: its task is made for today at once (given to
    the principal when they may do it, else to the least loaded of the grid team)
    instead of waiting for its day. Asking again answers the same task."""
    from fengqiao.tasks.kinds import ELIGIBLE
    from fengqiao.tasks.service import pick_assignee

    now = now or utcnow()
    day = local_day(now)
    key = f"fu:{follow_up.id}:{day.isoformat()}"
    existing = session.scalar(select(Task).where(Task.source_key == key))
    if existing is not None:
        return existing
    if follow_up.status is not FollowUpStatus.PENDING:
        raise Conflict(
            _("This follow-up is already {status}.").format(
                status=_(FOLLOW_UP_STATES.get(follow_up.status, follow_up.status.value))
            )
        )
    if not principal.sees_grid(follow_up.grid_id, follow_up.station_id):
        raise Forbidden(_("This record belongs to another grid or station."))
    me = session.get(Person, principal.person_id) if principal.person_id else None
    if (
        me is not None
        and me.station_id == follow_up.station_id
        and me.kind in ELIGIBLE[follow_up.kind]
    ):
        assignee: int | None = me.id
    else:
        assignee = pick_assignee(session, grid_id=follow_up.grid_id, kind=follow_up.kind, day=day)
    task = Task(
        station_id=follow_up.station_id,
        grid_id=follow_up.grid_id,
        kind=follow_up.kind,
        title=_("Follow-up visit: {target}").format(target=follow_up.target_label)[:200],
        detail=follow_up.note[:2000],
        target_type=follow_up.target_type,
        target_id=follow_up.target_id,
        target_label=follow_up.target_label[:400],
        lon=follow_up.lon,
        lat=follow_up.lat,
        day=day,
        due_from=now,
        due_by=max(at_local(day, 18), now + timedelta(hours=2)),
        priority=2,
        assignee_id=assignee,
        status=TaskStatus.OPEN,
        source=TaskSource.FOLLOW_UP,
        source_key=key,
        follow_up_id=follow_up.id,
        created_by_user_id=principal.actor.user_id,
        created_at=now,
    )
    session.add(task)
    follow_up.status = FollowUpStatus.SCHEDULED
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.CREATE,
        object_type="task",
        object_id=task.id,
        detail={"follow_up": follow_up.id, "assignee_id": assignee, "day": day.isoformat()},
    )
    return task
