"""Figures of the warning work against numbers worked out by hand: a small set of
orders on one China day, counted by station, grid, type and day, within the reader's
scope, through the service, the API and the page."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.clock import at_local
from fengqiao.config import Settings
from fengqiao.db import unit_of_work
from fengqiao.errors import InvalidInput
from fengqiao.fraud import intake, orders
from fengqiao.fraud.figures import figures
from fengqiao.fraud.models import Channel, FraudOrder, MatchStep, OrderStatus, Outcome
from fengqiao.org.models import GridAssignment, PersonKind
from tests.conftest import bearer, login_token
from tests.fraud.helpers import SYSTEM, place, principal_of
from tests.incidents.helpers import grids_of, inside, station

DAY = date(2026, 3, 10)
Point = tuple[float, float]


def make(
    s: Session,
    settings: Settings,
    n: int,
    when: datetime,
    *,
    at: Point | None = None,
    count: int = 1,
    kind: str = "scam_call",
) -> FraudOrder:
    """One order of ``count`` warnings for person ``n``, opened at ``when``."""
    rows: list[dict[str, Any]] = [
        {"external_id": f"F{n}-{k}", "type": kind, "level": "high", "phone": f"1390000{n:04d}"}
        for k in range(count)
    ]
    if at is not None:
        rows = [r | {"lon": at[0], "lat": at[1]} for r in rows]
    items = [intake.clean(r, source="centre") for r in rows]
    results, _totals = intake.receive(s, SYSTEM, settings, items, channel=Channel.API, now=when)
    found = s.get(FraudOrder, results[0].order_id)
    assert found is not None and found.warning_count == count
    return found


def settle(
    o: FraudOrder,
    *,
    contact: int | None = None,
    outcome: Outcome | None = None,
    saved: int = 0,
    lost: int = 0,
    escalation: int = 0,
) -> None:
    """Contacted ``contact`` minutes after it was opened; closed with ``outcome``."""
    if contact is not None:
        o.contacted_at = o.created_at + timedelta(minutes=contact)
    if outcome is not None:
        o.outcome, o.status = outcome, OrderStatus.CLOSED
        o.closed_at = o.created_at + timedelta(hours=2)
    o.money_saved, o.money_lost, o.escalation = saved, lost, escalation


@dataclass
class World:
    cg: int  # 城关 station
    lm: int  # 龙门 station
    grid1: int
    grid2: int
    bare: int  # a grid of 城关 without police: its orders wait in the queue


def build(county: sessionmaker[Session], settings: Settings) -> World:
    """On ``DAY`` (China time):

    ====  ========  ========  ========================  =========  ==============  ====
    id    station   grid      placed                    warnings   contact (min)   end
    ====  ========  ========  ========================  =========  ==============  ====
    o1    城关      grid1     by rule                   3          4               dissuaded, 1,000 saved
    o2    城关      grid1     by rule                   1          10              defrauded, 500 lost
    o3    城关      grid2     by rule                   1          —               unreachable, escalated
    o4    城关      grid1     by hand (queued first)    2          20              false alarm
    o5    城关      grid2     by rule                   1          —               open, escalated
    g1    城关      bare      rule, nobody to take it   1          —               open (queued)
    q1    —         —         queued                    1          —               open, escalated
    s1    龙门      LM grid   by rule, scam app         1          2               dissuaded, 2,000 saved
    ====  ========  ========  ========================  =========  ==============  ====
    """
    with unit_of_work(county) as s:
        cg, lm = station(s, "QX-CG").id, station(s, "QX-LM").id
        one, two = place(s, "幸福路12号"), place(s, "幸福路14号", offset=1)
        far = place(s, "龙门路3号", station_code="QX-LM")
        bare = next(g for g in reversed(grids_of(s, cg)) if g.id not in (one.grid.id, two.grid.id))
        s.execute(
            delete(GridAssignment).where(
                GridAssignment.grid_id == bare.id,
                GridAssignment.role.in_((PersonKind.OFFICER, PersonKind.AUXILIARY)),
            )
        )
        p1, p2 = (one.lon, one.lat), (two.lon, two.lat)
        o1 = make(s, settings, 1, at_local(DAY, 9, 0), at=p1, count=3)
        o2 = make(s, settings, 2, at_local(DAY, 9, 30), at=p1)
        o3 = make(s, settings, 3, at_local(DAY, 10, 0), at=p2)
        o4 = make(s, settings, 4, at_local(DAY, 11, 0), count=2)
        o5 = make(s, settings, 5, at_local(DAY, 12, 0), at=p2)
        g1 = make(s, settings, 6, at_local(DAY, 13, 0), at=inside(bare))
        q1 = make(s, settings, 7, at_local(DAY, 14, 0))
        s1 = make(s, settings, 8, at_local(DAY, 15, 0), at=(far.lon, far.lat), kind="scam_app")
        assert [o.grid_id for o in (o1, o2, o3, o5)] == [one.grid.id] * 2 + [two.grid.id] * 2
        assert (g1.match_step, g1.grid_id, g1.station_id) == (MatchStep.POINT, bare.id, cg)
        assert (g1.status, g1.assignee_id) == (OrderStatus.QUEUED, None)
        assert o4.status is OrderStatus.QUEUED and q1.station_id is None
        assert s1.station_id == lm and s1.match_step is not MatchStep.NONE
        orders.assign(s, principal_of(s, "command"), settings, o4.id, person_id=one.officer_id)
        assert (o4.grid_id, o4.station_id) == (one.grid.id, cg)
        settle(o1, contact=4, outcome=Outcome.DISSUADED, saved=1000)
        settle(o2, contact=10, outcome=Outcome.MONEY_LOST, lost=500)
        settle(o3, outcome=Outcome.UNREACHABLE, escalation=1)
        settle(o4, contact=20, outcome=Outcome.FALSE_ALARM)
        settle(o5, escalation=1)
        settle(q1, escalation=2)
        settle(s1, contact=2, outcome=Outcome.DISSUADED, saved=2000)
        return World(cg, lm, one.grid.id, two.grid.id, bare.id)


def numbers(row: Any) -> dict[str, object]:
    found = row.as_dict()
    del found["key"], found["label"]
    return found


KEYS = (
    "received",
    "orders",
    "matched",
    "matched_pct",
    "contacted",
    "median_minutes_to_contact",
    "dissuaded",
    "dissuasion_pct",
    "money_saved",
    "money_lost",
    "open",
    "escalated",
)


def expect(*values: float | None) -> dict[str, object]:
    """The figures of a row, in the order of the page's columns."""
    return dict(zip(KEYS, values, strict=True))


CG = expect(9, 6, 4, 66.7, 3, 10.0, 1, 33.3, 1000, 500, 2, 2)
LM = expect(1, 1, 1, 100.0, 1, 2.0, 1, 100.0, 2000, 0, 0, 0)
QUEUE = expect(1, 1, 0, 0.0, 0, None, 0, None, 0, 0, 1, 1)
TOTAL = expect(11, 8, 5, 62.5, 4, 7.0, 2, 50.0, 3000, 500, 3, 3)
CHIEF_TOTAL = expect(10, 7, 4, 57.1, 3, 10.0, 1, 33.3, 1000, 500, 3, 3)


def test_figures_by_station(county: sessionmaker[Session], county_settings: Settings) -> None:
    w = build(county, county_settings)
    with unit_of_work(county) as s:
        found = figures(s, SYSTEM, first=DAY, last=DAY, by="station")
    assert [(r.key, r.label) for r in found.rows] == [
        (str(w.cg), "城关派出所"),
        (str(w.lm), "龙门派出所"),
        ("-", "Not placed"),
    ]
    assert [numbers(r) for r in found.rows] == [CG, LM, QUEUE]
    assert numbers(found.total) == TOTAL


def test_figures_by_grid(county: sessionmaker[Session], county_settings: Settings) -> None:
    w = build(county, county_settings)
    with unit_of_work(county) as s:
        found = figures(s, SYSTEM, first=DAY, last=DAY, by="grid")
    rows = {r.key: numbers(r) for r in found.rows}
    assert set(rows) - {str(w.grid1), str(w.grid2), str(w.bare), "-"} != set()  # 龙门's grid
    assert rows[str(w.grid1)] == expect(6, 3, 2, 66.7, 3, 10.0, 1, 50.0, 1000, 500, 0, 0)
    assert rows[str(w.grid2)] == expect(2, 2, 2, 100.0, 0, None, 0, 0.0, 0, 0, 1, 2)
    assert rows[str(w.bare)] == expect(1, 1, 0, 0.0, 0, None, 0, None, 0, 0, 1, 0)
    assert rows["-"] == QUEUE and len(rows) == 5
    assert found.rows[-1].key == "-" and found.rows[-1].label == "Not placed"
    label = next(r.label for r in found.rows if r.key == str(w.grid1))
    assert label.startswith("QX-CG-G") and " " in label
    assert numbers(found.total) == TOTAL


def test_figures_by_type(county: sessionmaker[Session], county_settings: Settings) -> None:
    build(county, county_settings)
    with unit_of_work(county) as s:
        found = figures(s, SYSTEM, first=DAY, last=DAY, by="type")
    by_key = {r.key: r for r in found.rows}
    assert set(by_key) == {"scam_app", "scam_call"}
    assert by_key["scam_app"].label == "Scam app installed"
    assert numbers(by_key["scam_app"]) == LM
    assert numbers(by_key["scam_call"]) == expect(10, 7, 4, 57.1, 3, 10.0, 1, 33.3, 1000, 500, 3, 3)
    assert numbers(found.total) == TOTAL


def test_the_period_counts_china_days(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        spot = place(s, "幸福路12号")
        here = (spot.lon, spot.lat)
        late = make(s, county_settings, 1, at_local(DAY, 23, 30), at=here)
        early = make(s, county_settings, 2, at_local(DAY, 7, 0), at=here)  # D-1 23:00 UTC
        make(s, county_settings, 3, at_local(DAY + timedelta(days=1), 0, 10), at=here)
        make(s, county_settings, 4, at_local(DAY, 0, 0) - timedelta(minutes=1), at=here)
        assert late.created_at.date() == DAY and early.created_at.date() == DAY - timedelta(1)
    with unit_of_work(county) as s:

        def count(first: date, last: date) -> int:
            return figures(s, SYSTEM, first=first, last=last).total.orders

        assert count(DAY, DAY) == 2
        assert count(DAY + timedelta(days=1), DAY + timedelta(days=1)) == 1
        assert count(DAY - timedelta(days=1), DAY - timedelta(days=1)) == 1
        assert count(DAY - timedelta(days=1), DAY + timedelta(days=1)) == 4
        assert count(DAY + timedelta(days=2), DAY + timedelta(days=9)) == 0
        days = figures(s, SYSTEM, first=DAY - timedelta(1), last=DAY + timedelta(1), by="day")
    assert [(r.key, r.label, r.orders) for r in days.rows] == [
        (str(DAY - timedelta(days=1)), str(DAY - timedelta(days=1)), 1),
        (str(DAY), str(DAY), 2),
        (str(DAY + timedelta(days=1)), str(DAY + timedelta(days=1)), 1),
    ]


def test_a_reader_sees_only_its_station(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    w = build(county, county_settings)
    with unit_of_work(county) as s:
        chief = principal_of(s, "chief")
        legal = principal_of(s, "legal")
        lm_chief = dataclasses.replace(chief, person_id=None, station_ids=frozenset({w.lm}))
        mine = figures(s, chief, first=DAY, last=DAY)
        theirs = figures(s, lm_chief, first=DAY, last=DAY)
        reader = figures(s, legal, first=DAY, last=DAY)
    # A chief works the warning desk: its station and the county's unplaced queue.
    assert [r.key for r in mine.rows] == [str(w.cg), "-"]
    assert [numbers(r) for r in mine.rows] == [CG, QUEUE]
    assert numbers(mine.total) == CHIEF_TOTAL
    assert [r.key for r in theirs.rows] == [str(w.lm), "-"]
    assert numbers(theirs.total)["money_saved"] == 2000
    # The legal supervisor reads its station's figures, not the queue.
    assert [r.key for r in reader.rows] == [str(w.cg)]
    assert numbers(reader.total) == CG


@pytest.mark.parametrize(
    ("first", "last", "by", "message"),
    [
        (DAY, DAY - timedelta(days=1), "station", "before the first"),
        (DAY, DAY + timedelta(days=366), "station", "at most 366 days"),
        (DAY, DAY, "week", "station, grid, type or day"),
    ],
)
def test_wrong_periods_and_groupings_are_refused(
    county: sessionmaker[Session], first: date, last: date, by: str, message: str
) -> None:
    with unit_of_work(county) as s:
        with pytest.raises(InvalidInput, match=message):
            figures(s, SYSTEM, first=first, last=last, by=by)  # type: ignore[arg-type]
        year = figures(s, SYSTEM, first=DAY, last=DAY + timedelta(days=365))  # 366 days
        assert year.total.orders == 0 and year.rows == []


def test_the_api_gives_the_figures(
    api: TestClient, county: sessionmaker[Session], county_settings: Settings
) -> None:
    w = build(county, county_settings)
    admin = bearer(login_token(api, "admin"))
    r = api.get(f"/api/v1/fraud/figures?first={DAY}&last={DAY}&by=station", headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["first"], body["last"], body["by"]) == (str(DAY), str(DAY), "station")
    assert [row["key"] for row in body["rows"]] == [str(w.cg), str(w.lm), "-"]
    assert {k: v for k, v in body["total"].items() if k not in ("key", "label")} == TOTAL
    chief = bearer(login_token(api, "chief"))
    r = api.get(f"/api/v1/fraud/figures?first={DAY}&last={DAY}", headers=chief)
    assert r.json()["total"]["received"] == 10
    for query, message in (
        ("by=week", "station, grid, type or day"),
        ("first=10.3.2026", "is not a date"),
        (f"first={DAY}&last={DAY - timedelta(days=1)}", "before the first"),
    ):
        r = api.get(f"/api/v1/fraud/figures?{query}", headers=chief)
        assert r.status_code == 422 and message in r.json()["detail"], (query, r.text)
    for user in ("officer", "auxiliary", "gridworker"):
        r = api.get("/api/v1/fraud/figures", headers=bearer(login_token(api, user)))
        assert r.status_code == 403, user


def cells(html: str, row_id: str) -> list[str]:
    row = re.search(rf'<tr[^>]*id="{row_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert row is not None, html[-3000:]
    return [c.strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)]


def test_the_page_shows_the_figures(
    api: TestClient, county: sessionmaker[Session], county_settings: Settings
) -> None:
    build(county, county_settings)
    chief = bearer(login_token(api, "chief"))
    page = api.get(f"/fraud/figures?first={DAY}&last={DAY}&by=station", headers=chief)
    assert page.status_code == 200
    assert cells(page.text, "figures-total") == [
        "Total", "10", "7", "57.1", "3", "10.0", "1", "33.3", "1,000", "500", "3", "3",
    ]  # fmt: skip
    assert "城关派出所" in page.text and "龙门派出所" not in page.text
    wrong = api.get(f"/fraud/figures?first={DAY}&last={DAY - timedelta(days=3)}", headers=chief)
    assert wrong.status_code == 422 and "before the first" in wrong.text
    assert 'id="figures-total"' in wrong.text  # the default week instead
    admin = bearer(login_token(api, "admin"))
    page = api.get(f"/fraud/figures?first={DAY}&last={DAY}&by=grid", headers=admin)
    assert cells(page.text, "figures-total")[1:3] == ["11", "8"]
    assert cells(page.text, "figures-total")[8] == "3,000"
    assert api.get("/fraud/figures", headers=bearer(login_token(api, "officer"))).status_code == 403
