"""Figures of the warning work: received, matched %, median time to contact,
dissuasion rate, money saved and lost — by station, grid, type or day.

Counted over the orders opened in the period (China days), within the reader's scope:
``received`` is the warnings on those orders (repeats included), ``matched`` the orders
placed in a grid by the rules (not by hand, not left for the command room), the
dissuasion rate dissuaded ÷ (dissuaded + defrauded + unreachable): the orders where
someone was at risk and the outcome is known.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.auth import Principal
from fengqiao.clock import at_local, local_day
from fengqiao.errors import InvalidInput
from fengqiao.fraud.announce import TYPE_LABELS
from fengqiao.fraud.models import FraudOrder, MatchStep, Outcome, WarningType
from fengqiao.fraud.orders import scope
from fengqiao.i18n import _
from fengqiao.org.models import PoliceGrid, Station

By = Literal["station", "grid", "type", "day"]
BY_VALUES: tuple[By, ...] = ("station", "grid", "type", "day")
MAX_DAYS = 366
AT_RISK_OUTCOMES = (Outcome.DISSUADED, Outcome.MONEY_LOST, Outcome.UNREACHABLE)


@dataclass
class Row:
    key: str
    label: str
    received: int = 0
    orders: int = 0
    matched: int = 0
    contacted: int = 0
    minutes_to_contact: list[float] = field(default_factory=list, repr=False)
    dissuaded: int = 0
    at_risk_closed: int = 0
    money_saved: int = 0
    money_lost: int = 0
    open: int = 0
    escalated: int = 0

    @property
    def matched_pct(self) -> float | None:
        return round(100.0 * self.matched / self.orders, 1) if self.orders else None

    @property
    def median_minutes(self) -> float | None:
        if not self.minutes_to_contact:
            return None
        return round(statistics.median(self.minutes_to_contact), 1)

    @property
    def dissuasion_pct(self) -> float | None:
        if not self.at_risk_closed:
            return None
        return round(100.0 * self.dissuaded / self.at_risk_closed, 1)

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "received": self.received,
            "orders": self.orders,
            "matched": self.matched,
            "matched_pct": self.matched_pct,
            "contacted": self.contacted,
            "median_minutes_to_contact": self.median_minutes,
            "dissuaded": self.dissuaded,
            "dissuasion_pct": self.dissuasion_pct,
            "money_saved": self.money_saved,
            "money_lost": self.money_lost,
            "open": self.open,
            "escalated": self.escalated,
        }


@dataclass
class Figures:
    first: date
    last: date
    by: By
    rows: list[Row]
    total: Row


def _labels(session: Session, by: By, keys: set[int]) -> dict[int, str]:
    if by == "station" and keys:
        return dict(
            session.execute(select(Station.id, Station.name).where(Station.id.in_(keys))).all()
        )
    if by == "grid" and keys:
        rows = session.execute(
            select(PoliceGrid.id, PoliceGrid.code, PoliceGrid.name).where(PoliceGrid.id.in_(keys))
        ).all()
        return {r[0]: f"{r[1]} {r[2]}" for r in rows}
    return {}


def figures(
    session: Session, principal: Principal, *, first: date, last: date, by: By = "station"
) -> Figures:
    if by not in BY_VALUES:
        raise InvalidInput(wrong_by_message())
    if last < first:
        raise InvalidInput(_("The last day comes before the first."))
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(_("Choose at most {n} days.").format(n=MAX_DAYS))
    start, end = at_local(first, 0, 0), at_local(last + timedelta(days=1), 0, 0)
    rows = session.execute(
        select(
            FraudOrder.station_id,
            FraudOrder.grid_id,
            FraudOrder.warning_type,
            FraudOrder.created_at,
            FraudOrder.warning_count,
            FraudOrder.match_step,
            FraudOrder.match_detail,
            FraudOrder.assignee_id,
            FraudOrder.contacted_at,
            FraudOrder.outcome,
            FraudOrder.money_saved,
            FraudOrder.money_lost,
            FraudOrder.closed_at,
            FraudOrder.escalation,
        ).where(FraudOrder.created_at >= start, FraudOrder.created_at < end, scope(principal))
    ).all()
    groups: dict[object, Row] = {}
    total = Row("total", _("Total"))
    for r in rows:
        key: object
        if by == "station":
            key = r.station_id
        elif by == "grid":
            key = r.grid_id
        elif by == "type":
            key = r.warning_type
        else:
            key = local_day(r.created_at)
        row = groups.get(key)
        if row is None:
            row = groups[key] = Row(str(key) if key is not None else "-", "")
        for target in (row, total):
            _count(target, r)
    names = _labels(session, by, {k for k in groups if isinstance(k, int)})
    for key, row in groups.items():
        if key is None:
            row.label = _("Not placed") if by in ("station", "grid") else "-"
        elif by == "type" and isinstance(key, WarningType):
            row.label = _(TYPE_LABELS[key])
        elif by == "day":
            row.label = str(key)
        else:
            row.label = names.get(key, str(key)) if isinstance(key, int) else str(key)
    ordered = sorted(
        groups.values(), key=lambda x: (x.key == "-", x.key if by == "day" else x.label)
    )
    return Figures(first, last, by, ordered, total)


def _count(row: Row, r: Any) -> None:
    """Add one order (a row of the query) to ``row``."""
    row.orders += 1
    row.received += int(r.warning_count or 1)
    # Placed by the rules: a grid found, a person to take it (not left for the command
    # room), not placed by hand.
    if (
        r.match_step not in (MatchStep.NONE, MatchStep.STATION)
        and r.assignee_id is not None
        and "placed_by" not in (r.match_detail or {})
    ):
        row.matched += 1
    if r.contacted_at is not None:
        row.contacted += 1
        row.minutes_to_contact.append(max((r.contacted_at - r.created_at).total_seconds(), 0) / 60)
    if r.outcome is Outcome.DISSUADED:
        row.dissuaded += 1
    if r.outcome in AT_RISK_OUTCOMES:
        row.at_risk_closed += 1
    row.money_saved += int(r.money_saved or 0)
    row.money_lost += int(r.money_lost or 0)
    if r.closed_at is None:
        row.open += 1
    if r.escalation:
        row.escalated += 1


def wrong_by_message() -> str:
    return _("Group by station, grid, type or day.")


def parse_day(value: str | None, default: date, what: str) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            _("{what}: “{value}” is not a date; write it like 2026-11-22.").format(
                what=what, value=value
            )
        ) from None


def period(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    end = parse_day(last, today, _("last day"))
    start = parse_day(first, end - timedelta(days=6), _("first day"))
    return start, end
