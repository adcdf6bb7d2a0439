"""The assessment feed: per person per day or ISO week, the work done — tasks done and
overdue, households visited, the share of check-ins inside the own grid, leads and
hazards reported. Computed from the tasks themselves, so it cannot drift from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.auth import Permission, Principal, require
from fengqiao.db import utcnow
from fengqiao.errors import InvalidInput
from fengqiao.i18n import _
from fengqiao.org.models import Person
from fengqiao.tasks.models import Task, TaskStatus

MAX_DAYS = 92


@dataclass
class Line:
    person_id: int
    name: str
    kind: str
    period: str  # 2026-11-22 or 2026-W47
    tasks: int = 0
    done: int = 0
    overdue: int = 0
    households_visited: int = 0
    check_ins: int = 0
    check_ins_inside: int = 0
    leads: int = 0
    hazards: int = 0

    @property
    def inside_share(self) -> float | None:
        return self.check_ins_inside / self.check_ins if self.check_ins else None

    @property
    def done_share(self) -> float | None:
        return self.done / self.tasks if self.tasks else None


def _period(day: date, by: str) -> str:
    if by == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


def feed(
    session: Session,
    principal: Principal,
    *,
    first: date,
    last: date,
    by: str = "day",
    station_id: int | None = None,
    now: datetime | None = None,
) -> list[Line]:
    """Lines per person and period, ordered by period then person."""
    require(principal, Permission.VIEW_ASSESSMENT)
    if by not in ("day", "week"):
        raise InvalidInput(_("Group the feed by day or by week."))
    if last < first or (last - first) > timedelta(days=MAX_DAYS):
        raise InvalidInput(
            _("Choose a period of 1 to {n} days, the first day before the last.").format(n=MAX_DAYS)
        )
    now = now or utcnow()
    query = (
        select(
            Task.assignee_id,
            Person.name,
            Person.kind,
            Task.day,
            Task.status,
            Task.due_by,
            Task.completed_at,
            Task.checked_in_at,
            Task.check_in_inside_grid,
            Task.households_visited,
            Task.leads,
            Task.hazards,
        )
        .join(Person, Person.id == Task.assignee_id)
        .where(Task.day >= first, Task.day <= last, Task.status != TaskStatus.CANCELLED)
    )
    if principal.station_ids is not None:
        query = query.where(Task.station_id.in_(principal.station_ids))
    if station_id is not None:
        query = query.where(Task.station_id == station_id)
    lines: dict[tuple[str, int], Line] = {}
    for row in session.execute(query):
        key = (_period(row.day, by), row.assignee_id)
        line = lines.get(key)
        if line is None:
            line = lines[key] = Line(
                person_id=row.assignee_id, name=row.name, kind=row.kind.value, period=key[0]
            )
        line.tasks += 1
        if row.status is TaskStatus.DONE:
            line.done += 1
            line.households_visited += row.households_visited
            line.leads += row.leads
            line.hazards += row.hazards
        # Overdue: not done by the deadline (done late counts too), or still open past it.
        finished = row.completed_at
        if (finished is None and row.due_by < now) or (
            finished is not None and finished > row.due_by
        ):
            line.overdue += 1
        if row.checked_in_at is not None:
            line.check_ins += 1
            line.check_ins_inside += 1 if row.check_in_inside_grid else 0
    return sorted(lines.values(), key=lambda line: (line.period, line.name, line.person_id))
