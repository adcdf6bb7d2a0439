"""Dispute figures (矛盾纠纷化解统计): found, mediated, resolved and the resolution rate
(化解率), by level, kind, grid, station and month, with the same period a year earlier;
days to resolve; the share re-opened.

Definitions (on disputes found in the period, by the day found, China time):
- found: registered with a day found in the period;
- mediated: of those, taken up (a mediator, a session or an outcome);
- resolved: of those, settled now (written or oral agreement, reconciled);
- resolution rate = resolved ÷ found;
- days to resolve: from the day found to the (last) day settled, median and mean;
- re-opened share = disputes re-opened at least once ÷ (disputes settled now + disputes
  re-opened at least once), i.e. of the disputes that were ever closed.
A dispute counts under the level it was settled at, else the level it is at now.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, case, cast, func, select
from sqlalchemy.orm import Session

from fengqiao.auth import Permission, Principal, require
from fengqiao.clock import local_day
from fengqiao.db import utcnow
from fengqiao.disputes.models import Dispute, DisputeStatus
from fengqiao.disputes.service import scope
from fengqiao.errors import InvalidInput
from fengqiao.i18n import _

GROUPINGS = ("level", "type", "grid", "station", "month")
MAX_DAYS = 3 * 366


@dataclass
class Figures:
    found: int = 0
    mediated: int = 0
    resolved: int = 0
    unresolved: int = 0
    open: int = 0
    reopened: int = 0
    ever_resolved: int = 0
    days: list[int] = field(default_factory=list)

    @property
    def resolution_rate(self) -> float | None:
        return self.resolved / self.found if self.found else None

    @property
    def reopened_share(self) -> float | None:
        return self.reopened / self.ever_resolved if self.ever_resolved else None

    @property
    def median_days(self) -> float | None:
        return float(statistics.median(self.days)) if self.days else None

    @property
    def mean_days(self) -> float | None:
        return round(statistics.fmean(self.days), 1) if self.days else None

    def as_dict(self) -> dict[str, object]:
        return {
            "found": self.found,
            "mediated": self.mediated,
            "resolved": self.resolved,
            "unresolved": self.unresolved,
            "open": self.open,
            "resolution_rate": self.resolution_rate,
            "median_days_to_resolve": self.median_days,
            "mean_days_to_resolve": self.mean_days,
            "reopened": self.reopened,
            "reopened_share": self.reopened_share,
        }


@dataclass
class Report:
    first: date
    last: date
    by: str
    total: Figures
    previous: Figures  # the same days a year earlier
    groups: dict[str, Figures]
    previous_groups: dict[str, Figures]


def year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _group_column(by: str) -> Any:
    if by == "level":
        return func.coalesce(Dispute.resolved_level, Dispute.level)
    if by == "type":
        return Dispute.type_code
    if by == "grid":
        return Dispute.grid_id
    if by == "station":
        return Dispute.station_id
    return Dispute.found_on  # months are folded from days below (at most 3 × 366 rows)


def _days_to_resolve(session: Session) -> ColumnElement[Any]:
    """Whole days from the day found to the (China) day settled, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Shanghai", Dispute.resolved_at), Date) - Dispute.found_on
    return cast(
        func.julianday(func.date(Dispute.resolved_at, "+8 hours"))
        - func.julianday(Dispute.found_on),
        Integer,
    )


def _label(value: Any, by: str) -> str:
    if by == "month":
        return f"{value:%Y-%m}"
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def _period(
    session: Session, principal: Principal, first: date, last: date, by: str
) -> tuple[Figures, dict[str, Figures]]:
    """Counts by group in SQL (GROUP BY), so a city's year costs one pass of the table."""
    key = _group_column(by).label("key")
    where = (scope(principal), Dispute.found_on >= first, Dispute.found_on <= last)
    resolved = Dispute.status == DisputeStatus.RESOLVED
    reopened = Dispute.reopen_count > 0
    rows = session.execute(
        select(
            key,
            func.count(),
            _count((Dispute.status != DisputeStatus.REGISTERED) | Dispute.outcome.is_not(None)),
            _count(resolved),
            _count(Dispute.status == DisputeStatus.UNRESOLVED),
            _count(resolved | reopened),
            _count(reopened),
        )
        .where(*where)
        .group_by(key)
    ).all()
    total, groups = Figures(), defaultdict[str, Figures](Figures)
    for value, found, mediated, settled, unresolved, ever, again in rows:
        for f in (total, groups[_label(value, by)]):
            f.found += int(found)
            f.mediated += int(mediated or 0)
            f.resolved += int(settled or 0)
            f.unresolved += int(unresolved or 0)
            f.open += int(found) - int(settled or 0) - int(unresolved or 0)
            f.ever_resolved += int(ever or 0)
            f.reopened += int(again or 0)
    days = _days_to_resolve(session).label("days")
    spread = session.execute(
        select(key, days, func.count())
        .where(*where, resolved, Dispute.resolved_at.is_not(None))
        .group_by(key, days)
    ).all()
    for value, d, n in spread:
        run = [max(0, int(d))] * int(n)
        total.days.extend(run)
        groups[_label(value, by)].days.extend(run)
    for f in (total, *groups.values()):
        f.days.sort()
    return total, dict(groups)


def report(
    session: Session,
    principal: Principal,
    *,
    first: date | None = None,
    last: date | None = None,
    by: str = "level",
    today: date | None = None,
) -> Report:
    """Figures for ``first``–``last`` (default: this year to today) grouped ``by``."""
    require(principal, Permission.VIEW_DISPUTES)
    if by not in GROUPINGS:
        raise InvalidInput(_("Group by one of: {known}.").format(known=", ".join(GROUPINGS)))
    today = today or local_day(utcnow())
    last = last or today
    first = first or last.replace(month=1, day=1)
    if first > last:
        raise InvalidInput(_("The first day must not be after the last day."))
    if (last - first).days > MAX_DAYS:
        raise InvalidInput(_("Ask for at most three years at a time."))
    total, groups = _period(session, principal, first, last, by)
    previous, previous_groups = _period(
        session, principal, year_before(first), year_before(last), by
    )
    return Report(first, last, by, total, previous, groups, previous_groups)


def change(now: float | None, before: float | None) -> float | None:
    """Year-on-year change of a rate, in percentage points."""
    if now is None or before is None:
        return None
    return round((now - before) * 100, 1)


def months_back(today: date, months: int) -> date:
    """The first day of the month ``months`` before ``today``'s month."""
    year, month = today.year, today.month - months
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)
