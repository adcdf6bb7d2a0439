"""Dispute figures on SQLite and PostgreSQL, on a seeded table whose answers are worked
out by hand below: counts, rates, days to resolve, the re-opened share, every grouping,
the same period a year earlier, bad requests and the reader's scope."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.clock import at_local
from fengqiao.db import unit_of_work
from fengqiao.disputes import figures
from fengqiao.disputes.figures import Figures, change, months_back, year_before
from fengqiao.disputes.models import DisputeStatus, MediationLevel, Outcome
from fengqiao.errors import Forbidden, InvalidInput
from tests.disputes.helpers import new_dispute
from tests.fraud.helpers import SYSTEM, place, principal_of

R, U, M, G = (
    DisputeStatus.RESOLVED,
    DisputeStatus.UNRESOLVED,
    DisputeStatus.MEDIATING,
    DisputeStatus.REGISTERED,
)
GRID, STATION, JUDICIAL = MediationLevel.GRID, MediationLevel.STATION, MediationLevel.JUDICIAL
TODAY = date(2025, 6, 30)  # the period asked for: 2025-01-01 … 2025-06-30
FIRST = date(2025, 1, 1)

# n, grid (A = the grid worker's, B = next door, X = another station), type, found on,
# status, level now, days from found to settled (resolved only), times re-opened
TABLE = [
    (1, "A", "neighbour", date(2025, 1, 10), R, GRID, 2, 0),
    (2, "A", "neighbour", date(2025, 1, 20), R, STATION, 10, 1),
    (3, "A", "wages", date(2025, 2, 5), R, GRID, 0, 0),
    (4, "A", "wages", date(2025, 2, 14), U, STATION, None, 0),
    (5, "A", "neighbour", date(2025, 3, 1), M, GRID, None, 1),
    (6, "B", "neighbour", date(2025, 3, 15), G, GRID, None, 0),
    (7, "B", "family", date(2025, 4, 2), R, JUDICIAL, 20, 0),
    (8, "B", "family", date(2025, 5, 10), R, STATION, 4, 0),
    (9, "B", "neighbour", date(2025, 6, 30), G, GRID, None, 0),  # the last day: counted
    (10, "A", "neighbour", date(2025, 7, 1), R, GRID, 1, 0),  # after the period
    (11, "A", "neighbour", date(2024, 12, 31), R, GRID, 1, 0),  # before it
    (12, "X", "neighbour", date(2025, 2, 1), R, GRID, 3, 0),  # another station
    # the same period a year earlier: 2024-01-01 … 2024-06-30
    (13, "A", "neighbour", date(2024, 1, 15), R, GRID, 5, 0),
    (14, "A", "wages", date(2024, 3, 1), U, GRID, None, 0),
    (15, "B", "neighbour", date(2024, 6, 30), R, STATION, 10, 1),  # settled 2024-07-10
    (16, "B", "family", date(2024, 5, 5), G, GRID, None, 0),
    (17, "B", "family", date(2024, 7, 1), R, GRID, 2, 0),  # after last year's period
]


def seed(s: Session) -> dict[str, int]:
    """The table as disputes; returns the grid ids by letter."""
    spots = {
        "A": place(s, "城关镇统计路1号"),
        "B": place(s, "城关镇统计路2号", offset=1),
        "X": place(s, "龙门镇统计路3号", station_code="QX-LM"),
    }
    for n, grid, kind, found, status, level, days, reopened in TABLE:
        d = new_dispute(s, at=spots[grid], type_code=kind, title=f"第{n}号")
        d.found_on, d.status, d.level, d.reopen_count = found, status, level, reopened
        if status is R:
            assert days is not None
            d.outcome, d.resolved_level = Outcome.ORAL, level
            d.resolved_at = at_local(found + timedelta(days=days), 12)  # noon, China time
        elif status is U:
            d.outcome, d.outcome_note = Outcome.FAILED, "引导诉讼"
    s.flush()
    return {k: v.grid.id for k, v in spots.items()}


def numbers(f: Figures) -> tuple[object, ...]:
    return (f.found, f.mediated, f.resolved, f.unresolved, f.open, f.reopened, f.ever_resolved)


def test_totals_and_last_year(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        seed(s)
    with unit_of_work(county) as s:
        chief = principal_of(s, "chief")
        r = figures.report(s, chief, first=FIRST, last=TODAY, by="level")
        assert (r.first, r.last, r.by) == (FIRST, TODAY, "level")
        t = r.total
        # rows 1–9: mediated all but the registered 6 and 9; resolved 1 2 3 7 8; failed 4;
        # open 5 6 9; re-opened 2 and 5; ever settled = the 5 resolved + 5 (re-opened)
        assert numbers(t) == (9, 7, 5, 1, 3, 2, 6)
        assert t.resolution_rate == pytest.approx(5 / 9)
        assert sorted(t.days) == [0, 2, 4, 10, 20]
        assert t.median_days == 4.0 and t.mean_days == 7.2  # 36 / 5
        assert t.reopened_share == pytest.approx(2 / 6)
        # a year earlier, rows 13–16 (row 15 settled after the period still counts)
        p = r.previous
        assert numbers(p) == (4, 3, 2, 1, 1, 1, 2)
        assert p.resolution_rate == 0.5 and p.median_days == 7.5 and p.mean_days == 7.5
        assert p.reopened_share == 0.5
        # 5/9 − 1/2 = 0.0556 → 5.6 points
        assert change(t.resolution_rate, p.resolution_rate) == 5.6
        assert change(t.reopened_share, p.reopened_share) == -16.7  # 33.3 % against 50 %
        d = t.as_dict()
        assert d["found"] == 9 and d["median_days_to_resolve"] == 4.0
        assert d["reopened_share"] == pytest.approx(1 / 3)
        # the default period is this year up to today
        again = figures.report(s, chief, today=TODAY)
        assert (again.first, again.last) == (FIRST, TODAY)
        assert numbers(again.total) == numbers(t)
        # the whole county also counts row 12 (another station, settled in 3 days)
        county_wide = figures.report(s, SYSTEM, first=FIRST, last=TODAY).total
        assert numbers(county_wide) == (10, 8, 6, 1, 3, 2, 7)
        assert sorted(county_wide.days) == [0, 2, 3, 4, 10, 20]


def test_groupings(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        grids = seed(s)
        chief = principal_of(s, "chief")

        def groups(by: str) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
            r = figures.report(s, chief, first=FIRST, last=TODAY, by=by)
            now = {k: (f.found, f.resolved) for k, f in r.groups.items()}
            before = {k: (f.found, f.resolved) for k, f in r.previous_groups.items()}
            return now, before

        # by the level settled at, else the level now: grid 1 3 5 6 9; station 2 4 8;
        # judicial 7.  A year earlier: grid 13 14 16; station 15
        level = figures.report(s, chief, first=FIRST, last=TODAY, by="level")
        assert groups("level") == (
            {"grid": (5, 2), "station": (3, 2), "judicial": (1, 1)},
            {"grid": (3, 1), "station": (1, 1)},
        )
        assert level.groups["station"].median_days == 7.0  # rows 2 (10) and 8 (4)
        assert level.groups["station"].unresolved == 1  # row 4, failed at the station
        assert level.groups["grid"].open == 3 and level.groups["grid"].mediated == 3
        assert groups("type") == (
            {"neighbour": (5, 2), "wages": (2, 1), "family": (2, 2)},
            {"neighbour": (2, 2), "wages": (1, 0), "family": (1, 0)},
        )
        a, b = str(grids["A"]), str(grids["B"])
        assert groups("grid") == ({a: (5, 3), b: (4, 2)}, {a: (2, 1), b: (2, 1)})
        assert groups("month") == (
            {
                "2025-01": (2, 2),
                "2025-02": (2, 1),
                "2025-03": (2, 0),
                "2025-04": (1, 1),
                "2025-05": (1, 1),
                "2025-06": (1, 0),
            },
            {"2024-01": (1, 1), "2024-03": (1, 0), "2024-05": (1, 0), "2024-06": (1, 1)},
        )
        station_groups = figures.report(s, SYSTEM, first=FIRST, last=TODAY, by="station")
        assert sorted(f.found for f in station_groups.groups.values()) == [1, 9]


def test_a_grid_workers_report_counts_their_grids(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        grids = seed(s)
        worker = principal_of(s, "gridworker")
        assert worker.grid_ids == frozenset({grids["A"]})
        r = figures.report(s, worker, first=FIRST, last=TODAY, by="grid")
        # rows 1–5: all taken up; resolved 1 2 3 (2, 10 and 0 days); failed 4; open 5
        assert numbers(r.total) == (5, 5, 3, 1, 1, 2, 4)
        assert r.total.resolution_rate == 0.6
        assert r.total.median_days == 2.0 and r.total.mean_days == 4.0
        assert set(r.groups) == {str(grids["A"])}
        assert numbers(r.previous) == (2, 2, 1, 1, 0, 0, 1)  # rows 13 and 14 (failed)
        # 60 % now against 50 % a year earlier
        assert change(r.total.resolution_rate, r.previous.resolution_rate) == 10.0


def test_bad_requests(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        chief = principal_of(s, "chief")
        with pytest.raises(InvalidInput) as err:
            figures.report(s, chief, by="week")
        assert "level, type, grid, station, month" in err.value.message
        with pytest.raises(InvalidInput, match="after the last day"):
            figures.report(s, chief, first=date(2025, 3, 2), last=date(2025, 3, 1))
        start = date(2022, 1, 1)
        with pytest.raises(InvalidInput, match="three years"):
            figures.report(s, chief, first=start, last=start + timedelta(days=3 * 366 + 1))
        ok = figures.report(s, chief, first=start, last=start + timedelta(days=3 * 366))
        assert ok.total.found == 0 and ok.total.resolution_rate is None
        assert ok.total.median_days is None and ok.total.reopened_share is None
        one_day = figures.report(s, chief, first=TODAY, last=TODAY)
        assert one_day.total.found == 0
        with pytest.raises(Forbidden):
            figures.report(s, principal_of(s, "admin"))


def test_helpers() -> None:
    assert year_before(date(2025, 3, 1)) == date(2024, 3, 1)
    assert year_before(date(2024, 2, 29)) == date(2023, 2, 28)
    assert months_back(date(2025, 3, 15), 0) == date(2025, 3, 1)
    assert months_back(date(2025, 3, 15), 4) == date(2024, 11, 1)
    assert months_back(date(2025, 1, 31), 25) == date(2022, 12, 1)
    assert change(0.5, 0.75) == -25.0
    assert change(None, 0.5) is None and change(0.5, None) is None
