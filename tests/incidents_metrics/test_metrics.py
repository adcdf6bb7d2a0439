"""Incident figures (fengqiao.incidents.metrics): handling rate, dispatch and arrival times,
year-on-year change, by station, grid, category and period.

The service tests run on SQLite and PostgreSQL (``session_factory``) over a small seeded set
whose answers are worked out by hand below (numpy's default percentile: linear
interpolation, p90 of n sorted values sits at rank 0.9 * (n - 1)). The API tests use the
demo county.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao import i18n
from fengqiao.accounts.models import Role
from fengqiao.audit.service import SYSTEM
from fengqiao.auth import Principal
from fengqiao.db import unit_of_work
from fengqiao.demo.county import CountyFiles, generate_county
from fengqiao.errors import InvalidInput
from fengqiao.incidents.metrics import (
    Figures,
    MetricsReport,
    MetricsRow,
    incident_metrics,
    year_earlier,
)
from fengqiao.incidents.models import Channel, Incident, IncidentCategory, IncidentStatus, Priority
from fengqiao.incidents.service import ensure_reference_data
from fengqiao.org.importing import IMPORTERS
from fengqiao.org.models import PoliceDistrict, PoliceGrid, Station
from tests.conftest import bearer, login_token

CST = timezone(timedelta(hours=8))
MARCH_2026 = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}
S = IncidentStatus


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with i18n.language("en"):
        yield


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> CountyFiles:
    return generate_county(tmp_path_factory.mktemp("county"), seed=4711)


@dataclass(frozen=True)
class World:
    """Ids and codes of the seeded set: stations A and B, grids A1, A2 (of A) and B1."""

    factory: sessionmaker[Session]
    a: int
    b: int
    a1: int
    a2: int
    codes: dict[str, str]  # "A", "B", "A1", "A2", "B1" -> code


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """A time in China Standard Time."""
    return datetime(y, m, d, hh, mm, tzinfo=CST)


@pytest.fixture
def world(session_factory: sessionmaker[Session], county: CountyFiles) -> World:
    with unit_of_work(session_factory) as session:
        for kind, path in (
            ("stations", county.stations),
            ("districts", county.districts),
            ("grids", county.grids),
        ):
            IMPORTERS[kind](session, path, actor=SYSTEM)
        ensure_reference_data(session)
        stations = list(session.execute(select(Station.id, Station.code).order_by(Station.code)))
        (a, a_code), (b, b_code) = stations[0], stations[1]

        def grids_of(station_id: int) -> list[tuple[int, str]]:
            return [
                (r.id, r.code)
                for r in session.execute(
                    select(PoliceGrid.id, PoliceGrid.code)
                    .join(PoliceDistrict)
                    .where(PoliceDistrict.station_id == station_id)
                    .order_by(PoliceGrid.code)
                )
            ]

        (a1, a1_code), (a2, a2_code) = grids_of(a)[:2]
        b1, b1_code = grids_of(b)[0]
        category = dict(session.execute(select(IncidentCategory.code, IncidentCategory.id)).all())
        place = {"A1": (a, a1), "A2": (a, a2), "B1": (b, b1), None: (None, None)}

        def add(
            received: datetime,
            grid: str | None,
            code: str,
            dispatch_min: float | None,
            arrive_min: float | None,
            status: IncidentStatus,
            needs_attention: bool = False,
        ) -> None:
            station_id, grid_id = place[grid]
            session.add(
                Incident(
                    channel=Channel.TRANSFER_110,
                    category_id=category[code],
                    priority=Priority.NORMAL,
                    status=status,
                    station_id=station_id,
                    grid_id=grid_id,
                    needs_attention=needs_attention,
                    received_at=received,
                    dispatched_at=None
                    if dispatch_min is None
                    else received + timedelta(minutes=dispatch_min),
                    arrived_at=None
                    if arrive_min is None
                    else received + timedelta(minutes=arrive_min),
                )
            )

        # March 2026.      received (CST)       grid  cat   disp  arr   status
        add(at(2026, 3, 1, 23, 30), "A1", "0601", 2, 10, S.CLOSED)  # i1: 15:30 UTC on the 1st
        add(at(2026, 3, 2, 0, 30), "A1", "0601", 4, 12, S.HANDLED)  # i2: 16:30 UTC on the 1st
        add(at(2026, 3, 2, 9, 0), "A1", "0601", 6, 14, S.CLOSED, True)  # i3: flagged, handled
        add(at(2026, 3, 15), "A1", "0601", 8, None, S.ACCEPTED, True)  # i4: flagged, open
        add(at(2026, 3, 31, 23, 59), "A1", "0601", 10, 30, S.HANDLED)  # i5: last minute
        add(at(2026, 3, 1, 0, 0), "A2", "0301", None, None, S.RECEIVED)  # i6: 16:00 UTC Feb 28
        add(at(2026, 3, 20, 12), "A2", "0301", 3, 20, S.CLOSED)  # i7
        add(at(2026, 3, 5), "B1", "0601", 5, 25, S.CLOSED)  # i8
        add(at(2026, 3, 6), None, "0301", None, None, S.RECEIVED)  # i9: outside every grid
        add(at(2026, 2, 28, 23, 59), "A1", "0601", None, None, S.RECEIVED)  # x1: February
        add(at(2026, 4, 1, 0, 0), "A1", "0601", None, None, S.RECEIVED)  # x2: 16:00 UTC Mar 31
        # March 2025.
        add(at(2025, 3, 1), "A1", "0601", 4, 16, S.CLOSED)  # p1
        add(at(2025, 3, 2), "A1", "0601", 6, 18, S.HANDLED)  # p2
        add(at(2025, 3, 20), "A1", "0601", 8, None, S.DISPATCHED)  # p3
        add(at(2025, 3, 20, 11), "A2", "0301", 1, 10, S.CLOSED)  # p4
        add(at(2025, 3, 5), "B1", "0601", 7, 35, S.CLOSED)  # p5
        add(at(2025, 3, 6), "B1", "0601", 9, 45, S.CLOSED)  # p6
        add(at(2025, 2, 28, 23), "A1", "0601", None, None, S.RECEIVED)  # y1: February
        add(at(2025, 4, 1, 0, 30), "A1", "0601", None, None, S.RECEIVED)  # y2: April
    codes = {"A": a_code, "B": b_code, "A1": a1_code, "A2": a2_code, "B1": b1_code}
    return World(session_factory, a, b, a1, a2, codes)


def principal(station_ids: set[int] | None = None, grid_ids: set[int] | None = None) -> Principal:
    return Principal(
        user_id=1,
        username="metrics-test",
        role=Role.ADMIN if station_ids is None else Role.STATION_CHIEF,
        person_id=None,
        station_ids=None if station_ids is None else frozenset(station_ids),
        grid_ids=None if grid_ids is None else frozenset(grid_ids),
    )


def report(world: World, who: Principal | None = None, **kwargs: Any) -> MetricsReport:
    with world.factory() as session:
        return incident_metrics(session, who or principal(), **{**MARCH_2026, **kwargs})


def by_key(result: MetricsReport) -> dict[str | None, MetricsRow]:
    rows = {r.key: r for r in result.rows}
    assert len(rows) == len(result.rows), "group keys repeat"
    return rows


def expect(
    figures: Figures,
    received: int,
    handled: int,
    dispatch: tuple[float, float] | None,
    arrival: tuple[float, float] | None,
) -> None:
    """Counts, rate, and (median, p90) of dispatch and arrival minutes."""
    assert (figures.received, figures.handled) == (received, handled)
    assert figures.handling_rate == (pytest.approx(handled / received) if received else None)
    got_dispatch = (figures.dispatch_median_min, figures.dispatch_p90_min)
    got_arrival = (figures.arrival_median_min, figures.arrival_p90_min)
    assert got_dispatch == (pytest.approx(dispatch) if dispatch else (None, None))
    assert got_arrival == (pytest.approx(arrival) if arrival else (None, None))


# --- totals and stations ----------------------------------------------------------------


def test_total_row_counts_rates_medians_and_p90(world: World) -> None:
    result = report(world, group_by="station")
    assert (result.previous_start, result.previous_end) == (date(2025, 3, 1), date(2025, 3, 31))
    # March 2026: i1..i9; handled i1 i2 i3 i5 i7 i8 (i3 was flagged but handled: it counts).
    # dispatch [2 3 4 5 6 8 10]: median 5, p90 at rank 5.4 = 8 + 0.4 * 2 = 8.8
    # arrival [10 12 14 20 25 30]: median (14 + 20) / 2 = 17, p90 at rank 4.5 = 27.5
    expect(result.total.current, 9, 6, (5.0, 8.8), (17.0, 27.5))
    assert result.total.current.dispatched == 7
    assert result.total.current.arrived == 6
    # March 2025: p1..p6; handled p1 p2 p4 p5 p6.
    # dispatch [1 4 6 7 8 9]: median 6.5, p90 at rank 4.5 = 8.5
    # arrival [10 16 18 35 45]: median 18, p90 at rank 3.6 = 35 + 0.6 * 10 = 41
    expect(result.total.previous, 6, 5, (6.5, 8.5), (18.0, 41.0))
    change = result.total.change
    assert change.received_pct == pytest.approx(50.0)  # (9 - 6) / 6
    assert change.handling_rate_pts == pytest.approx((6 / 9 - 5 / 6) * 100)  # -16.67
    assert change.dispatch_median_min == pytest.approx(-1.5)
    assert change.arrival_median_min == pytest.approx(-1.0)


def test_by_station_with_year_on_year_change(world: World) -> None:
    rows = by_key(report(world, group_by="station"))
    code_a, code_b = world.codes["A"], world.codes["B"]
    assert list(rows) == [code_a, code_b, None]  # by code; outside every station last

    a = rows[code_a]
    assert a.name and a.name.endswith("派出所")
    # A now: i1..i7, handled 5; dispatch [2 3 4 6 8 10] median 5, p90 rank 4.5 = 9;
    # arrival [10 12 14 20 30] median 14, p90 rank 3.6 = 20 + 0.6 * 10 = 26.
    expect(a.current, 7, 5, (5.0, 9.0), (14.0, 26.0))
    # A a year earlier: p1..p4, handled 3; dispatch [1 4 6 8] median 5, p90 rank 2.7 = 7.4;
    # arrival [10 16 18] median 16, p90 rank 1.8 = 17.6.
    expect(a.previous, 4, 3, (5.0, 7.4), (16.0, 17.6))
    assert a.change.received_pct == pytest.approx(75.0)
    assert a.change.handling_rate_pts == pytest.approx((5 / 7 - 3 / 4) * 100)
    assert a.change.dispatch_median_min == pytest.approx(0.0)
    assert a.change.arrival_median_min == pytest.approx(-2.0)

    b = rows[code_b]
    expect(b.current, 1, 1, (5.0, 5.0), (25.0, 25.0))
    expect(b.previous, 2, 2, (8.0, 8.8), (40.0, 44.0))
    assert b.change.received_pct == pytest.approx(-50.0)
    assert b.change.handling_rate_pts == pytest.approx(0.0)
    assert b.change.dispatch_median_min == pytest.approx(-3.0)
    assert b.change.arrival_median_min == pytest.approx(-15.0)

    unplaced = rows[None]
    expect(unplaced.current, 1, 0, None, None)
    assert unplaced.current.handling_rate == 0.0
    expect(unplaced.previous, 0, 0, None, None)
    assert unplaced.change.received_pct is None  # nothing to compare with
    assert unplaced.change.handling_rate_pts is None


def test_by_grid(world: World) -> None:
    rows = by_key(report(world, group_by="grid"))
    a1, a2, b1 = (rows[world.codes[g]] for g in ("A1", "A2", "B1"))
    assert set(rows) == {world.codes["A1"], world.codes["A2"], world.codes["B1"], None}
    # A1 now: i1..i5, handled 4; dispatch [2 4 6 8 10] median 6, p90 rank 3.6 = 9.2;
    # arrival [10 12 14 30] median 13, p90 rank 2.7 = 14 + 0.7 * 16 = 25.2.
    expect(a1.current, 5, 4, (6.0, 9.2), (13.0, 25.2))
    expect(a1.previous, 3, 2, (6.0, 7.6), (17.0, 17.8))
    assert a1.change.received_pct == pytest.approx(200 / 3)
    assert a1.change.arrival_median_min == pytest.approx(-4.0)
    expect(a2.current, 2, 1, (3.0, 3.0), (20.0, 20.0))
    expect(a2.previous, 1, 1, (1.0, 1.0), (10.0, 10.0))
    assert a2.change.received_pct == pytest.approx(100.0)
    assert a2.change.dispatch_median_min == pytest.approx(2.0)
    expect(b1.current, 1, 1, (5.0, 5.0), (25.0, 25.0))
    expect(rows[None].current, 1, 0, None, None)


def test_by_category(world: World) -> None:
    rows = by_key(report(world, group_by="category"))
    assert list(rows) == ["0301", "0601"]
    dispute, traffic = rows["0601"], rows["0301"]
    assert dispute.name and dispute.name_en
    # 0601 now: i1..i5 and i8, handled 5; dispatch [2 4 5 6 8 10] median 5.5, p90 rank 4.5
    # = 9; arrival [10 12 14 25 30] median 14, p90 rank 3.6 = 25 + 0.6 * 5 = 28.
    expect(dispute.current, 6, 5, (5.5, 9.0), (14.0, 28.0))
    # 0601 a year earlier: p1 p2 p3 p5 p6, handled 4; dispatch [4 6 7 8 9] median 7,
    # p90 rank 3.6 = 8.6; arrival [16 18 35 45] median 26.5, p90 rank 2.7 = 35 + 7 = 42.
    expect(dispute.previous, 5, 4, (7.0, 8.6), (26.5, 42.0))
    assert dispute.change.received_pct == pytest.approx(20.0)
    assert dispute.change.dispatch_median_min == pytest.approx(-1.5)
    assert dispute.change.arrival_median_min == pytest.approx(-12.5)
    expect(traffic.current, 3, 1, (3.0, 3.0), (20.0, 20.0))
    expect(traffic.previous, 1, 1, (1.0, 1.0), (10.0, 10.0))
    assert traffic.change.received_pct == pytest.approx(200.0)


# --- periods and China Standard Time ------------------------------------------------------


def test_by_day_uses_china_standard_time(world: World) -> None:
    result = report(world, group_by="day")
    rows = by_key(result)
    assert list(rows) == [f"2026-03-{d:02d}" for d in range(1, 32)]  # empty days included
    # The 1st: i6 at 00:00 CST (16:00 UTC on Feb 28) and i1 at 23:30 CST (15:30 UTC).
    expect(rows["2026-03-01"].current, 2, 1, (2.0, 2.0), (10.0, 10.0))
    # The 2nd: i2 at 00:30 CST, which is still the 1st in UTC, and i3.
    expect(rows["2026-03-02"].current, 2, 2, (5.0, 5.8), (13.0, 13.8))
    expect(rows["2026-03-31"].current, 1, 1, (10.0, 10.0), (30.0, 30.0))
    expect(rows["2026-03-03"].current, 0, 0, None, None)
    # Each day is compared with the same date a year earlier.
    expect(rows["2026-03-01"].previous, 1, 1, (4.0, 4.0), (16.0, 16.0))
    expect(rows["2026-03-20"].previous, 2, 1, (4.5, 7.3), (10.0, 10.0))
    expect(rows["2026-03-31"].previous, 0, 0, None, None)
    assert sum(r.current.received for r in result.rows) == 9  # x1 and x2 are outside
    assert sum(r.previous.received for r in result.rows) == 6  # y1 and y2 are outside


def test_by_week_and_month(world: World) -> None:
    weeks = by_key(report(world, group_by="week"))
    assert list(weeks) == ["2026-W09", "2026-W10", "2026-W11", "2026-W12", "2026-W13", "2026-W14"]
    now = [weeks[k].current.received for k in weeks]
    before = [weeks[k].previous.received for k in weeks]
    assert now == [2, 4, 1, 1, 0, 1]  # Sun 1st; Mon 2nd-8th; ...; Mon 30th-Tue 31st
    assert before == [1, 3, 0, 2, 0, 0]  # 2025 dates moved on one year

    months = by_key(report(world, group_by="month", start=date(2026, 2, 1), end=date(2026, 4, 30)))
    assert list(months) == ["2026-02", "2026-03", "2026-04"]
    # x1 (23:59 CST Feb 28) stays in February; x2 (00:00 CST Apr 1, 16:00 UTC Mar 31) in April.
    assert [months[k].current.received for k in months] == [1, 9, 1]
    assert [months[k].previous.received for k in months] == [1, 6, 1]
    expect(months["2026-03"].current, 9, 6, (5.0, 8.8), (17.0, 27.5))


# --- scope, validation, queries ---------------------------------------------------------


def test_a_station_sees_only_its_own_incidents(world: World) -> None:
    result = report(world, principal({world.a}), group_by="station")
    rows = by_key(result)
    # Unplaced incidents belong to the command rooms of the stations in scope (queries._scoped).
    assert list(rows) == [world.codes["A"], None]
    assert result.total.current.received == 8  # i1..i7 and i9, not B's i8
    assert result.total.previous.received == 4  # p1..p4, not B's p5 p6
    other = report(world, principal({world.b}), group_by="grid")
    assert set(by_key(other)) == {world.codes["B1"], None}
    assert other.total.current.received == 2

    own_grid = report(world, principal({world.a}, {world.a2}), group_by="grid")
    assert list(by_key(own_grid)) == [world.codes["A2"]]
    expect(own_grid.total.current, 2, 1, (3.0, 3.0), (20.0, 20.0))


def test_two_queries_per_report(world: World, engine: Engine) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statement = str(args[2])
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE (see fengqiao.db)
            statements.append(statement)

    for group_by in ("station", "grid", "category", "day", "week", "month"):
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            result = report(world, group_by=group_by)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert result.total.current.received == 9
        assert len(statements) == 2, (group_by, statements)


def test_bad_periods_are_refused(world: World) -> None:
    with pytest.raises(InvalidInput, match="before the start date"):
        report(world, start=date(2026, 3, 31), end=date(2026, 3, 1), group_by="station")
    with pytest.raises(InvalidInput, match="at most 366 days"):
        report(world, start=date(2025, 3, 1), end=date(2026, 3, 2), group_by="station")
    leap_year = report(world, start=date(2028, 1, 1), end=date(2028, 12, 31), group_by="month")
    assert len(leap_year.rows) == 12
    assert leap_year.previous_start == date(2027, 1, 1)


def test_year_earlier_of_a_leap_day() -> None:
    assert year_earlier(date(2028, 2, 29)) == date(2027, 2, 28)
    assert year_earlier(date(2026, 3, 1)) == date(2025, 3, 1)


# --- the API and the page on the demo county ----------------------------------------------


def last_month_of_history(client: TestClient) -> tuple[date, date]:
    """The 30 days (CST) ending on the day of the demo's latest incident."""
    factory: sessionmaker[Session] = client.app.state.sessionmaker  # type: ignore[attr-defined]
    with factory() as session:
        latest = session.scalar(select(func.max(Incident.received_at)))
    assert latest is not None
    end = latest.astimezone(CST).date()
    return end - timedelta(days=29), end


def test_api_gives_the_chief_his_station_figures(client: TestClient) -> None:
    token = login_token(client, "chief")
    start, end = last_month_of_history(client)
    own = {s["code"] for s in client.get("/api/v1/stations", headers=bearer(token)).json()}
    response = client.get(
        "/api/v1/incidents/metrics",
        params={"start": start.isoformat(), "end": end.isoformat(), "group_by": "station"},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["start"], body["end"]) == (start.isoformat(), end.isoformat())
    assert body["rows"] and {r["key"] for r in body["rows"]} <= own | {None}
    total = body["total"]
    now, before = total["current"], total["previous"]
    assert now["received"] == sum(r["current"]["received"] for r in body["rows"])
    assert 100 < now["received"] < 5000  # one station, a month: some hundreds of calls
    assert before["received"] > 0  # the demo history holds the year before
    assert 0.9 <= now["handling_rate"] <= 1.0
    assert 1.0 <= now["dispatch_median_min"] <= now["dispatch_p90_min"] <= 10.0
    assert 3.0 <= now["arrival_median_min"] <= now["arrival_p90_min"] <= 60.0
    expected_pct = (now["received"] - before["received"]) / before["received"] * 100
    assert total["change"]["received_pct"] == pytest.approx(expected_pct)

    by_day = client.get(
        "/api/v1/incidents/metrics",
        params={"start": start.isoformat(), "end": end.isoformat(), "group_by": "day"},
        headers=bearer(token),
    ).json()
    assert len(by_day["rows"]) == 30
    assert by_day["total"]["current"]["received"] == now["received"]


def test_api_refuses_the_grid_worker_and_a_reversed_period(client: TestClient) -> None:
    params = {"start": "2026-03-01", "end": "2026-03-31"}
    worker = client.get(
        "/api/v1/incidents/metrics",
        params=params,
        headers=bearer(login_token(client, "gridworker")),
    )
    assert worker.status_code == 403
    chief = bearer(login_token(client, "chief"))
    reversed_ = client.get(
        "/api/v1/incidents/metrics",
        params={"start": "2026-03-31", "end": "2026-03-01"},
        headers=chief,
    )
    assert reversed_.status_code == 422
    assert "2026-03-01" in reversed_.json()["detail"]
    assert "2026-03-31" in reversed_.json()["detail"]
    unknown = client.get(
        "/api/v1/incidents/metrics", params={**params, "group_by": "year"}, headers=chief
    )
    assert unknown.status_code == 422


def test_page_shows_the_table_and_refuses_a_reversed_period(client: TestClient) -> None:
    html = {"Accept": "text/html", "Cookie": "fq_lang=en"}
    token = login_token(client, "chief")
    start, end = last_month_of_history(client)
    page = client.get(
        "/incidents/metrics",
        params={"start": start.isoformat(), "end": end.isoformat()},
        headers={**html, **bearer(token)},
    )
    assert page.status_code == 200, page.text
    assert 'id="metrics"' in page.text
    assert 'name="start" value="' + start.isoformat() + '"' in page.text
    assert re.search(r'<td class="num rate">\d+\.\d %</td>', page.text)
    assert re.search(r'<span class="yoy yoy-(up|down) (warn|notice)">[▲▼] \d+\.\d', page.text)
    default = client.get("/incidents/metrics", headers={**html, **bearer(token)})
    assert default.status_code == 200
    assert 'option value="station" selected' in default.text
    bad = client.get(
        "/incidents/metrics",
        params={"start": "2026-03-31", "end": "2026-03-01"},
        headers={**html, **bearer(token)},
    )
    assert bad.status_code == 422
    assert 'id="metrics-error"' in bad.text and 'id="metrics"' not in bad.text
    worker = client.get(
        "/incidents/metrics", headers={**html, **bearer(login_token(client, "gridworker"))}
    )
    assert worker.status_code == 403
