"""Incident figures (警情指标): the call-handling rate (接处警率) and the times to dispatch
and to arrival, by station, grid, category or period, with the year-on-year change.

Units and conventions:

* a period is ``start``..``end``, both dates inclusive, in China Standard Time (CST, UTC+8,
  no daylight saving); an incident belongs to it by its ``received_at``;
* the comparison period is the same dates one year earlier (29 February maps to 28
  February); for day, week and month groups an earlier incident is moved forward one year
  before it is put in its bucket, so each bucket is compared with the same dates a year ago;
* weeks are ISO weeks (Monday to Sunday), labelled ``2026-W10``; a week cut by the period
  holds only its days inside the period;
* times are minutes: to dispatch is ``dispatched_at - received_at``, to arrival is
  ``arrived_at - received_at``, over the incidents that have that timestamp; the median and
  the 90th percentile use numpy's default (linear interpolation between order statistics);
* handled means status handled or closed, whatever happened on the way (an incident that
  needed attention and was later handled counts as handled).

The read is aggregate, holds no personal data and is not audited. Each report runs two
queries (the period and the period a year earlier); everything else is numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from fengqiao.auth import Principal
from fengqiao.clock import CHINA_TZ
from fengqiao.errors import InvalidInput
from fengqiao.i18n import _
from fengqiao.incidents.models import Incident, IncidentCategory, IncidentStatus
from fengqiao.incidents.queries import _scoped
from fengqiao.org.models import PoliceGrid, Station

GroupBy = Literal["station", "grid", "category", "day", "week", "month"]
GROUP_BYS: tuple[GroupBy, ...] = get_args(GroupBy)
PERIOD_GROUPS: frozenset[str] = frozenset({"day", "week", "month"})
CST = CHINA_TZ
MAX_DAYS = 366  # longer periods would overlap the year before they are compared with
EARLIEST = date(1971, 1, 1)  # so that the year before still starts after 1970
LATEST = date(2999, 12, 31)
HANDLED = frozenset({IncidentStatus.HANDLED, IncidentStatus.CLOSED})
DAY_S = 86_400
CST_OFFSET_S = 8 * 3600
EPOCH = date(1970, 1, 1)  # a Thursday: day number n falls on weekday (n + 3) % 7
NO_KEY = -1  # group key of incidents without a station or grid (ids start at 1)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Figures(BaseModel):
    """The figures of one group in one period. Times in minutes; ``None`` when no incident
    has the timestamp; ``handling_rate`` is a fraction (0..1)."""

    received: int
    handled: int
    handling_rate: float | None
    dispatched: int = Field(description="incidents with a dispatch time")
    dispatch_median_min: float | None
    dispatch_p90_min: float | None
    arrived: int = Field(description="incidents with an arrival time")
    arrival_median_min: float | None
    arrival_p90_min: float | None


class Change(BaseModel):
    """Year-on-year change: this period minus the same period a year earlier."""

    received_pct: float | None = Field(description="per cent of last year's count")
    handling_rate_pts: float | None = Field(description="percentage points")
    dispatch_median_min: float | None = Field(description="minutes")
    arrival_median_min: float | None = Field(description="minutes")


class MetricsRow(BaseModel):
    """One group: a station, grid or category (its code, ``None`` for incidents outside
    every station or grid) or a period (``2026-03-05``, ``2026-W10``, ``2026-03``)."""

    key: str | None
    name: str | None = None
    name_en: str | None = None
    current: Figures
    previous: Figures
    change: Change


class MetricsReport(BaseModel):
    group_by: GroupBy
    start: date
    end: date
    previous_start: date
    previous_end: date
    rows: list[MetricsRow]
    total: MetricsRow


@dataclass(frozen=True)
class _Sample:
    """The incidents of one period as arrays, one element per incident."""

    keys: IntArray  # station, grid or category id (NO_KEY when unplaced); day number for periods
    handled: BoolArray
    dispatch_min: FloatArray  # NaN when not dispatched
    arrival_min: FloatArray  # NaN when nobody arrived
    labels: dict[int, tuple[str | None, str | None, str | None]]  # key, name, name_en


def year_earlier(day: date) -> date:
    """The same date one year earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def year_later(day: date) -> date:
    """The same date one year later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """``[start 00:00 CST, end + 1 day 00:00 CST)`` as UTC instants (16:00 UTC the day before)."""
    lo = datetime.combine(start, time(), CST).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), CST).astimezone(UTC)
    return lo, hi


def check_period(start: date, end: date) -> None:
    """Refuse a period that is reversed, too long to compare with a year earlier, or absurd."""
    if end < start:
        raise InvalidInput(
            _("The end date {end} is before the start date {start}.").format(
                end=end.isoformat(), start=start.isoformat()
            )
        )
    if start < EARLIEST or end > LATEST:
        raise InvalidInput(
            _("Dates must lie between {first} and {last}.").format(
                first=EARLIEST.isoformat(), last=LATEST.isoformat()
            )
        )
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise InvalidInput(
            _(
                "The period has {days} days; at most {max} days can be compared with the year before."
            ).format(days=days, max=MAX_DAYS)
        )


def _seconds(values: Sequence[datetime | None]) -> FloatArray:
    """POSIX seconds of aware datetimes; NaN for a missing one."""
    return np.array([v.timestamp() if v is not None else np.nan for v in values], dtype=np.float64)


def _fetch(
    session: Session,
    principal: Principal,
    *,
    group_by: GroupBy,
    start: date,
    end: date,
    a_year_on: bool,
) -> _Sample:
    """One query: the incidents received in the period, in the principal's scope."""
    lo, hi = utc_bounds(start, end)
    columns: list[Any] = [
        Incident.received_at,
        Incident.dispatched_at,
        Incident.arrived_at,
        Incident.status,
    ]
    query = select(*columns).select_from(Incident)
    if group_by == "station":
        query = query.add_columns(Incident.station_id, Station.code, Station.name).outerjoin(
            Station, Station.id == Incident.station_id
        )
    elif group_by == "grid":
        # A redrawn grid's figures continue under the row that stands for its code today.
        today = aliased(PoliceGrid)
        current = (
            select(today.id)
            .where(today.code == PoliceGrid.code)
            .order_by(today.retired_at.is_(None).desc(), today.id.desc())
            .limit(1)
            .correlate(PoliceGrid)
            .scalar_subquery()
        )
        query = query.add_columns(
            func.coalesce(current, Incident.grid_id), PoliceGrid.code, PoliceGrid.name
        ).outerjoin(PoliceGrid, PoliceGrid.id == Incident.grid_id)
    elif group_by == "category":
        query = query.add_columns(
            Incident.category_id,
            IncidentCategory.code,
            IncidentCategory.name_zh,
            IncidentCategory.name_en,
        ).join(IncidentCategory, IncidentCategory.id == Incident.category_id)
    query = query.where(Incident.received_at >= lo, Incident.received_at < hi)
    # The same scope as every other read of incidents (station, joint station, own grids).
    scope: ColumnElement[Any] | None = _scoped(principal).whereclause
    if scope is not None:
        query = query.where(scope)
    rows = session.execute(query).all()

    received = _seconds([r[0] for r in rows])
    handled = np.array([r[3] in HANDLED for r in rows], dtype=np.bool_)
    dispatch_min = (_seconds([r[1] for r in rows]) - received) / 60.0
    arrival_min = (_seconds([r[2] for r in rows]) - received) / 60.0
    labels: dict[int, tuple[str | None, str | None, str | None]] = {}
    if group_by in PERIOD_GROUPS:
        keys = _period_keys(received, group_by, a_year_on)
    else:
        keys = np.array([NO_KEY if r[4] is None else r[4] for r in rows], dtype=np.int64)
        for r, key in zip(rows, keys.tolist(), strict=True):
            if key not in labels:
                labels[key] = (r[5], r[6], r[7] if group_by == "category" else None)
    return _Sample(keys, handled, dispatch_min, arrival_min, labels)


def _period_keys(received_s: FloatArray, group_by: GroupBy, a_year_on: bool) -> IntArray:
    """Bucket keys from receipt times: the CST day number (days since 1970-01-01) of the
    day, of the week's Monday, or of the month's first day; dates moved one year on first
    when ``a_year_on`` (the comparison period)."""
    days = np.floor((received_s + CST_OFFSET_S) / DAY_S).astype(np.int64)
    if a_year_on:
        unique, inverse = np.unique(days, return_inverse=True)
        moved = [(year_later(EPOCH + timedelta(days=d)) - EPOCH).days for d in unique.tolist()]
        days = np.array(moved, dtype=np.int64)[inverse.reshape(-1)]
    return _bucket(days, group_by)


def _bucket(days: IntArray, group_by: GroupBy) -> IntArray:
    if group_by == "week":
        return days - (days + 3) % 7
    if group_by == "month":
        months = days.astype("datetime64[D]").astype("datetime64[M]")
        return months.astype("datetime64[D]").astype(np.int64)
    return days


def _period_label(key: int, group_by: GroupBy) -> str:
    day = EPOCH + timedelta(days=key)
    if group_by == "week":
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if group_by == "month":
        return day.strftime("%Y-%m")
    return day.isoformat()


def _period_keys_between(start: date, end: date, group_by: GroupBy) -> list[int]:
    """Every bucket of the period, in order, also those without incidents."""
    first, last = (start - EPOCH).days, (end - EPOCH).days
    every = _bucket(np.arange(first, last + 1, dtype=np.int64), group_by)
    return [int(k) for k in np.unique(every)]


def _figures(handled: BoolArray, dispatch_min: FloatArray, arrival_min: FloatArray) -> Figures:
    received = int(handled.size)
    n_handled = int(np.count_nonzero(handled))
    dispatch = dispatch_min[~np.isnan(dispatch_min)]
    arrival = arrival_min[~np.isnan(arrival_min)]
    return Figures(
        received=received,
        handled=n_handled,
        handling_rate=n_handled / received if received else None,
        dispatched=int(dispatch.size),
        dispatch_median_min=float(np.median(dispatch)) if dispatch.size else None,
        dispatch_p90_min=float(np.percentile(dispatch, 90)) if dispatch.size else None,
        arrived=int(arrival.size),
        arrival_median_min=float(np.median(arrival)) if arrival.size else None,
        arrival_p90_min=float(np.percentile(arrival, 90)) if arrival.size else None,
    )


def _by_key(sample: _Sample) -> dict[int, Figures]:
    """Figures of every key in the sample: one sort, then one slice per group."""
    order = np.argsort(sample.keys, kind="stable")
    keys = sample.keys[order]
    unique, first = np.unique(keys, return_index=True)
    bounds = [*first.tolist(), int(keys.size)]
    handled, dispatch, arrival = (
        sample.handled[order],
        sample.dispatch_min[order],
        sample.arrival_min[order],
    )
    return {
        int(key): _figures(
            handled[bounds[i] : bounds[i + 1]],
            dispatch[bounds[i] : bounds[i + 1]],
            arrival[bounds[i] : bounds[i + 1]],
        )
        for i, key in enumerate(unique.tolist())
    }


def _difference(a: float | None, b: float | None) -> float | None:
    return a - b if a is not None and b is not None else None


def _change(current: Figures, previous: Figures) -> Change:
    rate = _difference(current.handling_rate, previous.handling_rate)
    return Change(
        received_pct=(current.received - previous.received) / previous.received * 100.0
        if previous.received
        else None,
        handling_rate_pts=rate * 100.0 if rate is not None else None,
        dispatch_median_min=_difference(current.dispatch_median_min, previous.dispatch_median_min),
        arrival_median_min=_difference(current.arrival_median_min, previous.arrival_median_min),
    )


EMPTY = Figures(
    received=0,
    handled=0,
    handling_rate=None,
    dispatched=0,
    dispatch_median_min=None,
    dispatch_p90_min=None,
    arrived=0,
    arrival_median_min=None,
    arrival_p90_min=None,
)


def _row(
    key: str | None, name: str | None, name_en: str | None, current: Figures, previous: Figures
) -> MetricsRow:
    return MetricsRow(
        key=key,
        name=name,
        name_en=name_en,
        current=current,
        previous=previous,
        change=_change(current, previous),
    )


def incident_metrics(
    session: Session,
    principal: Principal,
    *,
    start: date,
    end: date,
    group_by: GroupBy,
) -> MetricsReport:
    """Handling rate and dispatch and arrival times of the incidents received from ``start``
    to ``end`` (CST dates, inclusive) within the principal's scope, grouped by ``group_by``,
    beside the same figures one year earlier; plus a total row. Raises ``InvalidInput``
    for a reversed, absurd or over-long period."""
    if group_by not in GROUP_BYS:
        raise InvalidInput(_("Unknown grouping: {group_by}.").format(group_by=group_by))
    check_period(start, end)
    previous_start, previous_end = year_earlier(start), year_earlier(end)
    current = _fetch(session, principal, group_by=group_by, start=start, end=end, a_year_on=False)
    previous = _fetch(
        session,
        principal,
        group_by=group_by,
        start=previous_start,
        end=previous_end,
        a_year_on=True,
    )
    now, before = _by_key(current), _by_key(previous)

    rows: list[MetricsRow] = []
    if group_by in PERIOD_GROUPS:
        for key in _period_keys_between(start, end, group_by):
            label = _period_label(key, group_by)
            rows.append(_row(label, None, None, now.get(key, EMPTY), before.get(key, EMPTY)))
    else:
        labels = {**previous.labels, **current.labels}
        for key in labels:
            code, name, name_en = labels[key]
            rows.append(_row(code, name, name_en, now.get(key, EMPTY), before.get(key, EMPTY)))
        # By code; incidents outside every station or grid (no code) last.
        rows.sort(key=lambda r: (r.key is None, r.key or ""))

    total = _row(
        None,
        None,
        None,
        _figures(current.handled, current.dispatch_min, current.arrival_min),
        _figures(previous.handled, previous.dispatch_min, previous.arrival_min),
    )
    return MetricsReport(
        group_by=group_by,
        start=start,
        end=end,
        previous_start=previous_start,
        previous_end=previous_end,
        rows=rows,
        total=total,
    )
