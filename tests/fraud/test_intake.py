"""Taking warnings in: ``intake.clean`` names the wrong field; retries add nothing;
repeats for one person merge (level up, deadlines tighter) within the window and while
the order is open; deadlines by level; the task and live event of a new order; and
concurrent intake of one warning or one person."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.clock import CHINA_TZ
from fengqiao.config import Settings
from fengqiao.db import unit_of_work, utcnow
from fengqiao.fraud import intake, matching, orders
from fengqiao.fraud.models import (
    Channel,
    ContactMethod,
    FraudOrder,
    FraudOrderEvent,
    FraudWarning,
    MatchStep,
    OrderStatus,
    Outcome,
    WarningLevel,
    WarningType,
)
from fengqiao.live.models import LiveEvent
from fengqiao.tasks.models import Task, TaskKind, TaskSource, TaskStatus
from tests.conftest import bearer, login_token
from tests.fraud.helpers import SYSTEM, Place, id_number, order, place
from tests.tasks.helpers import TIMEOUT, race

HOME = "幸福路12号3栋2单元301室"
ID, ID2, ID_X = id_number(1), id_number(2), id_number(4)
PHONE, PHONE2 = "13812345678", "13987654321"
NOW = datetime(2026, 11, 22, 6, 0, tzinfo=CHINA_TZ)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def hours(n: int) -> timedelta:
    return timedelta(hours=n)


def warning(key: str | None, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"type": "scam_call", "name": "王小明", **values}
    if key is not None:
        row["external_id"] = key
    return row


def take(
    session: Session,
    settings: Settings,
    *rows: dict[str, Any],
    now: datetime | None = None,
    channel: Channel = Channel.API,
) -> tuple[list[intake.Received], intake.Totals]:
    now = now or utcnow().replace(microsecond=0)
    items = [intake.clean(r, source="centre", now=now) for r in rows]
    return intake.receive(session, SYSTEM, settings, items, channel=channel, now=now)


def count(session: Session, model: type[Any], *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def task_of(session: Session, order_id: int) -> Task | None:
    return session.scalar(select(Task).where(Task.source_key == f"fraud:{order_id}"))


@pytest.fixture
def home(county: sessionmaker[Session]) -> Place:
    matching.forget_names()
    with unit_of_work(county) as s:
        found = place(s, HOME)
        assert found.grid.district.station_id  # loaded for use after the session
        return found


# --- checking one warning ------------------------------------------------------------------

WRONG_CHECK = ID[:17] + ("1" if ID[17] != "1" else "2")
BAD = {
    "check digit": ({"id_number": WRONG_CHECK}, "id_number", "check character is wrong"),
    "17 digits": ({"id_number": ID[:17]}, "id_number", "18 characters"),
    "no birth date": ({"id_number": "330100" + "19561340" + "0011"}, "id_number", "date of birth"),
    "bad phone": ({"phone": "138123"}, "phone", "is not a phone number"),
    "no person": ({"phone": None}, "phone", "phone or identity-card number"),
    "unknown type": ({"type": "spam"}, "type", "“spam” is not a known value"),
    "no type": ({"type": " "}, "type", "Missing"),
    "unknown level": ({"level": "极高"}, "level", "not a known value"),
    "future": ({"warned_at": NOW + timedelta(hours=1)}, "warned_at", "in the future"),
    "not a time": ({"warned_at": "yesterday"}, "warned_at", "is not a time"),
    "lon alone": ({"lon": 117.0}, "lat", "both lon and lat"),
    "lat alone": ({"lat": 25.1}, "lon", "both lon and lat"),
    "lon text": ({"lon": "east", "lat": 25.1}, "lon", "not a number"),
    "lat range": ({"lon": 117.0, "lat": 95}, "lat", "outside"),
    "long name": ({"name": "王" * 51}, "name", "Too long"),
}


@pytest.mark.parametrize(("change", "field", "message"), list(BAD.values()), ids=list(BAD))
def test_clean_refuses_a_wrong_field_naming_it(
    change: dict[str, Any], field: str, message: str
) -> None:
    raw = {k: v for k, v in {**warning("W1", phone=PHONE), **change}.items() if v is not None}
    with pytest.raises(intake.FieldProblem) as caught:
        intake.clean(raw, source="centre", now=NOW)
    assert caught.value.field == field
    assert message in caught.value.message


ALIASES = [
    ("type", "正在通话", WarningType.SCAM_CALL),
    ("type", "涉诈APP", WarningType.SCAM_APP),
    ("type", "涉诈app", WarningType.SCAM_APP),
    ("type", "可疑转账", WarningType.SUSPICIOUS_TRANSFER),
    ("type", "易受骗群体", WarningType.AT_RISK),
    ("type", " SCAM_APP ", WarningType.SCAM_APP),
    ("level", "紧急", WarningLevel.URGENT),
    ("level", "高风险", WarningLevel.HIGH),
    ("level", "高", WarningLevel.HIGH),
    ("level", "一般", WarningLevel.NORMAL),
    ("level", "URGENT", WarningLevel.URGENT),
]


@pytest.mark.parametrize(("name", "written", "read"), ALIASES)
def test_clean_reads_the_centres_words(name: str, written: str, read: object) -> None:
    item = intake.clean(warning("W1", phone=PHONE, **{name: written}), source="c", now=NOW)
    assert getattr(item, "warning_type" if name == "type" else "level") is read


def test_clean_normalises_what_it_keeps() -> None:
    item = intake.clean(
        {
            "type": "scam_app",
            "id_number": ID_X.lower(),
            "phone": "+86 138-1234-5678",
            "name": "  王  小明 ",
            "address": "幸福路１２号３栋",
            "warned_at": "2026/11/22 05:30:00",
            "lon": "117.01",
            "lat": 25.2,
        },
        source="centre",
        now=NOW,
    )
    assert (item.id_number, item.phone, item.name) == (ID_X, PHONE, "王 小明")
    assert item.level is WarningLevel.NORMAL  # not given
    assert item.warned_at == datetime(2026, 11, 22, 5, 30, tzinfo=CHINA_TZ)
    assert (item.lon, item.lat) == (117.01, 25.2)
    assert item.parsed is not None and item.parsed.standard() == "幸福路12号3栋"
    assert item.external_key.startswith("sha:") and item.person_key.startswith("id:")
    # An address that reads as nothing is kept as text; matching uses the other steps.
    vague = intake.clean(warning(None, phone=PHONE, address="不详"), source="c", now=NOW)
    assert vague.parsed is None and vague.address_text == "不详"
    assert vague.person_key.startswith("ph:") and vague.warned_at == NOW


def test_the_keys_of_a_warning_and_of_its_person() -> None:
    def key(**values: Any) -> intake.Incoming:
        return intake.clean(warning(None, warned_at=NOW, **values), source="c", now=NOW)

    assert intake.clean(warning("A-1", phone=PHONE), source="c").external_key == "id:A-1"
    same = key(id_number=ID, phone=PHONE)
    assert same.external_key == key(id_number=ID, phone=PHONE).external_key
    assert same.external_key != key(id_number=ID, phone=PHONE, level="high").external_key
    # The person: by the ID number when there is one, else by the phone.
    assert same.person_key == key(id_number=ID, phone=PHONE2).person_key
    assert key(phone=PHONE).person_key == key(phone=PHONE, name="别名").person_key
    assert key(phone=PHONE).person_key != key(phone=PHONE2).person_key


def test_deadline_settings_are_checked_and_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    default = Settings()
    for level, contact, visit in (("urgent", 5, 30), ("high", 30, 240), ("normal", 1440, None)):
        due = intake.deadlines(default, WarningLevel(level), NOW)
        assert due == (NOW + minutes(contact), NOW + minutes(visit) if visit else None)
    custom = Settings(fraud_contact_minutes={"urgent": 3}, fraud_visit_minutes={"urgent": 20})
    assert intake.deadlines(custom, WarningLevel.URGENT, NOW) == (
        NOW + minutes(3),
        NOW + minutes(20),
    )
    assert intake.deadlines(custom, WarningLevel.HIGH, NOW) == (NOW + minutes(30), None)
    monkeypatch.setenv("FENGQIAO_FRAUD_CONTACT_MINUTES", '{"high": 12}')
    assert Settings().fraud_contact_minutes == {"high": 12}
    monkeypatch.delenv("FENGQIAO_FRAUD_CONTACT_MINUTES")
    for wrong, message in (
        ({"fraud_contact_minutes": {"critical": 3}}, "critical"),
        ({"fraud_visit_minutes": {"low": 60}}, "unknown level"),
        ({"fraud_contact_minutes": {"urgent": 0}}, "between 1 and 43200"),
    ):
        with pytest.raises(ValidationError, match=message):
            Settings(**wrong)


# --- retries ----------------------------------------------------------------------------------


def test_a_retry_with_the_same_external_id_adds_nothing(
    county: sessionmaker[Session], county_settings: Settings, home: Place
) -> None:
    row = warning("W1", level="urgent", phone=PHONE, address=HOME)
    with unit_of_work(county) as s:
        (first,), _t = take(s, county_settings, row)
    with unit_of_work(county) as s:
        (again,), totals = take(s, county_settings, {**row, "level": "high"})
    with unit_of_work(county) as s:
        (inside_one, repeat), both = take(s, county_settings, warning("W2", phone=PHONE2), row)
    assert not first.duplicate and first.assignee_id == home.officer_id
    assert again.duplicate and again.order_id == first.order_id and not again.merged
    assert (totals.accepted, totals.duplicates, totals.orders, totals.merged) == (0, 1, 0, 0)
    assert repeat.duplicate and repeat.order_id == first.order_id
    assert (both.accepted, both.duplicates) == (1, 1) and not inside_one.duplicate
    with county() as s:
        assert count(s, FraudWarning, FraudWarning.order_id == first.order_id) == 1
        assert count(s, FraudOrder) == 2
        assert order(s, first.order_id).warning_count == 1
        assert order(s, first.order_id).level is WarningLevel.URGENT
        assert count(s, Task, Task.source == TaskSource.FRAUD_ORDER) == 1  # W2 is queued


def test_the_same_content_without_an_id_is_received_once(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    at = utcnow().replace(microsecond=0) - timedelta(hours=1)
    row = warning(None, level="high", phone=PHONE, address="火星路1号", warned_at=at.isoformat())
    results = []
    for _ in range(2):
        with unit_of_work(county) as s:
            results.append(take(s, county_settings, row)[0][0])
    with unit_of_work(county) as s:
        (different,), _t = take(s, county_settings, {**row, "type": "scam_app"})
    assert not results[0].duplicate and results[1].duplicate
    assert results[1].order_id == results[0].order_id
    assert different.merged and different.order_id == results[0].order_id  # a repeat
    with county() as s:
        assert count(s, FraudWarning) == 2 and count(s, FraudOrder) == 1
        assert order(s, results[0].order_id).warning_count == 2


# --- merging repeats ------------------------------------------------------------------------


def test_repeats_merge_raise_the_level_and_tighten_the_deadlines(
    county: sessionmaker[Session], county_settings: Settings, home: Place
) -> None:
    t0 = utcnow().replace(microsecond=0)
    first_row = warning("W1", level="normal", id_number=ID, address=HOME, warned_at=t0)
    with unit_of_work(county) as s:
        (first,), _t = take(s, county_settings, first_row, now=t0)
    with county() as s:
        before = order(s, first.order_id)
        task = task_of(s, first.order_id)
        assert (before.contact_due_at, before.visit_due_at) == (t0 + minutes(1440), None)
        assert task is not None and (task.priority, task.due_by) == (3, t0 + minutes(1440))
    t1 = t0 + minutes(10)
    urgent = warning("W2", level="紧急", id_number=ID, phone=PHONE2, warned_at=t1)
    with unit_of_work(county) as s:
        (second,), totals = take(s, county_settings, urgent, now=t1)
    assert second.merged and second.order_id == first.order_id and not second.duplicate
    assert (totals.accepted, totals.merged, totals.orders) == (1, 1, 0)
    with county() as s:
        merged = order(s, first.order_id)
        assert (merged.warning_count, merged.level) == (2, WarningLevel.URGENT)
        assert merged.contact_due_at == t1 + minutes(5) < before.contact_due_at
        assert merged.visit_due_at == t1 + minutes(30)
        assert (merged.last_warning_at, merged.first_warning_at) == (t1, t0)
        assert merged.phone == PHONE2 and merged.status is OrderStatus.OPEN
        task = task_of(s, first.order_id)
        assert task is not None and (task.priority, task.due_by) == (1, t1 + minutes(30))
        event = s.scalars(select(FraudOrderEvent).where(FraudOrderEvent.kind == "merged")).one()
        assert event.detail == {"warnings": 1, "count": 2, "level": ["normal", "urgent"]}
        pushed = s.scalars(select(LiveEvent).order_by(LiveEvent.id.desc())).first()
        assert pushed is not None and json.loads(pushed.payload)["repeat"] == 2
        assert pushed.person_id == home.officer_id
    t2 = t1 + minutes(10)
    with unit_of_work(county) as s:
        (third,), _t = take(s, county_settings, warning("W3", level="high", id_number=ID), now=t2)
    with county() as s:
        last = order(s, first.order_id)
        assert third.merged and (last.warning_count, last.level) == (3, WarningLevel.URGENT)
        assert (last.contact_due_at, last.visit_due_at) == (t1 + minutes(5), t1 + minutes(30))
        assert count(s, Task, Task.source == TaskSource.FRAUD_ORDER) == 1
        assert count(s, FraudWarning, FraudWarning.order_id == first.order_id) == 3


def test_repeats_by_phone_merge(county: sessionmaker[Session], county_settings: Settings) -> None:
    with unit_of_work(county) as s:
        (a, b, c), totals = take(
            s,
            county_settings,
            warning("P1", phone=PHONE),
            warning("P2", phone="+86 138 1234 5678", type="可疑转账"),
            warning("P3", phone=PHONE2),
        )
    assert a.order_id == b.order_id != c.order_id and b.merged
    assert (totals.orders, totals.merged, totals.queued) == (2, 1, 2)
    with county() as s:
        assert order(s, a.order_id).warning_count == 2
        assert order(s, a.order_id).warning_type is WarningType.SCAM_CALL  # the first's


def test_a_repeat_after_the_window_makes_a_new_order(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    settings = county_settings.model_copy(update={"fraud_merge_hours": 2.0})
    t0 = utcnow().replace(microsecond=0)
    with unit_of_work(county) as s:
        (old,), _t = take(
            s, settings, warning("W1", phone=PHONE, warned_at=t0 - timedelta(hours=5))
        )
        (new,), _t = take(s, settings, warning("W2", phone=PHONE, warned_at=t0))
        (repeat,), _t = take(s, settings, warning("W3", phone=PHONE, warned_at=t0 + minutes(1)))
    assert new.order_id != old.order_id and not new.merged and new.step is MatchStep.NONE
    assert repeat.merged and repeat.order_id == new.order_id
    with county() as s:
        stale, fresh = order(s, old.order_id), order(s, new.order_id)
        assert stale.merge_key is None and stale.warning_count == 1
        assert fresh.merge_key == fresh.person_key == stale.person_key
        assert fresh.warning_count == 2


def test_one_call_spanning_more_than_the_window_makes_an_order_per_spell(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    """A file may cover days: a gap longer than the window starts a new order, as it
    would have had the warnings come one by one."""
    settings = county_settings.model_copy(update={"fraud_merge_hours": 2.0})
    t0 = utcnow().replace(microsecond=0)
    with unit_of_work(county) as s:
        (taker,), _t = take(s, settings, warning("S0", phone=PHONE, warned_at=t0 - hours(12)))
    rows = [
        warning("S3", phone=PHONE, warned_at=t0 - hours(1)),
        warning("S1", phone=PHONE, warned_at=t0 - hours(11)),  # 1 h after S0: merges
        warning("S2", phone=PHONE, warned_at=t0 - hours(10)),
        warning("S4", phone=PHONE, warned_at=t0),
    ]
    with unit_of_work(county) as s:
        (s3, s1, s2, s4), totals = take(s, settings, *rows, now=t0, channel=Channel.BATCH)
    assert s1.order_id == s2.order_id == taker.order_id and s1.merged and s2.merged
    assert s3.order_id == s4.order_id != taker.order_id and not s3.merged and s4.merged
    assert (totals.accepted, totals.orders, totals.merged) == (4, 1, 3)
    with county() as s:
        old, new = order(s, taker.order_id), order(s, s3.order_id)
        assert (old.warning_count, old.merge_key) == (3, None)
        assert old.last_warning_at == t0 - hours(10)
        assert (new.warning_count, new.merge_key) == (2, new.person_key)
        assert new.first_warning_at == t0 - hours(1)
    rows = [warning(f"N{h}", id_number=ID, warned_at=t0 - hours(h)) for h in (30, 29, 20, 5)]
    with unit_of_work(county) as s:
        results, totals = take(s, settings, *rows, now=t0, channel=Channel.BATCH)
    assert totals.orders == 3 and results[0].order_id == results[1].order_id
    with county() as s:
        spells = [order(s, r.order_id) for r in results[1:]]
        assert [o.warning_count for o in spells] == [2, 1, 1]
        assert [o.merge_key is None for o in spells] == [True, True, False]


def test_a_repeat_after_the_order_was_closed_makes_a_new_order(
    county: sessionmaker[Session], county_settings: Settings, home: Place
) -> None:
    with unit_of_work(county) as s:
        (first,), _t = take(s, county_settings, warning("W1", id_number=ID, address=HOME))
    with unit_of_work(county) as s:
        orders.record_outcome(
            s, SYSTEM, county_settings, first.order_id, orders.OutcomeIn(Outcome.FALSE_ALARM)
        )
    with unit_of_work(county) as s:
        (again,), totals = take(s, county_settings, warning("W2", id_number=ID, address=HOME))
    assert again.order_id != first.order_id and not again.merged and totals.orders == 1
    with county() as s:
        closed = order(s, first.order_id)
        assert closed.status is OrderStatus.CLOSED and closed.merge_key is None
        assert closed.warning_count == 1
        assert order(s, again.order_id).status is OrderStatus.OPEN
        task = task_of(s, again.order_id)
        assert task is not None and task.status is TaskStatus.OPEN


def test_repeats_inside_one_call_merge(
    county: sessionmaker[Session], county_settings: Settings, home: Place
) -> None:
    now = utcnow().replace(microsecond=0)
    hours = [timedelta(hours=h) for h in range(4)]
    rows = [
        warning("A2", level="urgent", id_number=ID, warned_at=now - hours[1], type="正在通话"),
        warning("A1", level="normal", id_number=ID, warned_at=now - hours[3], address=HOME),
        warning("B1", level="high", id_number=ID2, warned_at=now - hours[2], address=HOME),
        warning("A3", level="high", id_number=ID, warned_at=now - hours[2], type="scam_app"),
    ]
    with unit_of_work(county) as s:
        results, totals = take(s, county_settings, *rows, now=now, channel=Channel.BATCH)
    a2, a1, b1, a3 = results
    assert a1.step is MatchStep.ADDRESS and not a1.merged  # the earliest makes the order
    assert a2.merged and a3.merged and a2.order_id == a3.order_id == a1.order_id
    assert b1.order_id != a1.order_id and not b1.merged
    assert (totals.accepted, totals.orders, totals.merged, totals.queued) == (4, 2, 2, 0)
    with county() as s:
        a = order(s, a1.order_id)
        assert (a.warning_count, a.level, a.warning_type) == (
            3,
            WarningLevel.URGENT,
            WarningType.SCAM_CALL,
        )
        assert (a.first_warning_at, a.last_warning_at) == (now - hours[3], now - hours[1])
        assert (a.contact_due_at, a.visit_due_at) == (now + minutes(5), now + minutes(30))
        task = task_of(s, a.id)
        assert task is not None and task.priority == 1
        assert count(s, FraudWarning, FraudWarning.order_id == a.id) == 3
        assert count(s, FraudOrderEvent) == 0  # merged while being made: no event
        # A file's orders go out as counts per person (one of the two is urgent).
        assert not list(s.scalars(select(LiveEvent).where(LiveEvent.kind == "fraud_order")))
        events = list(s.scalars(select(LiveEvent).where(LiveEvent.kind == "fraud_orders")))
        payloads = [json.loads(e.payload) for e in events]
        assert sum(p["count"] for p in payloads) == 2
        assert sum(p["urgent"] for p in payloads) == 1


# --- deadlines, the task and the live event -------------------------------------------------


def test_deadlines_follow_the_level_and_the_settings(
    county: sessionmaker[Session], county_settings: Settings, home: Place
) -> None:
    now = utcnow().replace(microsecond=0)
    custom = county_settings.model_copy(
        update={
            "fraud_contact_minutes": {"urgent": 3, "high": 20, "normal": 600},
            "fraud_visit_minutes": {"urgent": 15, "normal": 2880},
        }
    )
    cases = [
        (county_settings, "urgent", 5, 30, 1),
        (county_settings, "high", 30, 240, 2),
        (county_settings, "normal", 1440, None, 3),
        (custom, "urgent", 3, 15, 1),
        (custom, "high", 20, None, 2),
        (custom, "normal", 600, 2880, 3),
    ]
    got = []
    with unit_of_work(county) as s:
        for n, (settings, level, _c, _v, _p) in enumerate(cases):
            row = warning(f"D{n}", level=level, id_number=id_number(100 + n), address=HOME)
            got.append(take(s, settings, row, now=now)[0][0])
    with county() as s:
        for (_s, level, contact, visit, priority), result in zip(cases, got, strict=True):
            made = order(s, result.order_id)
            assert made.contact_due_at == now + minutes(contact), level
            assert made.visit_due_at == (now + minutes(visit) if visit else None), level
            task = task_of(s, made.id)
            assert task is not None and task.priority == priority
            assert task.due_by == now + minutes(visit or contact)


def test_a_new_order_makes_one_task_and_one_live_event(
    county: sessionmaker[Session], county_settings: Settings, home: Place
) -> None:
    now = utcnow().replace(microsecond=0)
    rows = [
        warning("T1", level="urgent", name="王小明", phone=PHONE, address=HOME),
        warning("T2", level="high", phone=PHONE2, address="火星路1号"),
    ]
    with unit_of_work(county) as s:
        (placed, queued), totals = take(s, county_settings, *rows, now=now)
    assert (placed.step, placed.confidence) == (MatchStep.ADDRESS, 1.0)
    assert placed.assignee_id == home.officer_id and not placed.queued
    assert queued.queued and queued.assignee_id is None and queued.step is MatchStep.NONE
    assert (totals.orders, totals.queued, dict(totals.by_step)) == (2, 1, {"address": 1, "none": 1})
    with county() as s:
        (task,) = s.scalars(select(Task).where(Task.source == TaskSource.FRAUD_ORDER)).all()
        assert task.source_key == f"fraud:{placed.order_id}"
        assert (task.kind, task.assignee_id, task.priority) == (
            TaskKind.FRAUD_DISSUASION,
            home.officer_id,
            1,
        )
        assert (task.grid_id, task.station_id) == (home.grid.id, home.grid.district.station_id)
        assert (task.target_type, task.target_id) == ("fraud_order", placed.order_id)
        assert task.due_by == now + minutes(30) and task.status is TaskStatus.OPEN
        assert "王小明" not in task.target_label and "5678" in task.target_label
        assert order(s, placed.order_id).status is OrderStatus.OPEN
        assert order(s, queued.order_id).status is OrderStatus.QUEUED
        events = {
            json.loads(e.payload)["order"]: e
            for e in s.scalars(select(LiveEvent).where(LiveEvent.kind == "fraud_order"))
        }
        assert set(events) == {placed.order_id, queued.order_id}
        sent, waiting = events[placed.order_id], events[queued.order_id]
        assert sent.person_id == home.officer_id
        assert sent.station_id == home.grid.district.station_id
        assert json.loads(sent.payload)["queued"] is False
        assert waiting.person_id is None and waiting.station_id is None
        assert json.loads(waiting.payload)["queued"] is True


def test_the_api_names_the_wrong_field(api: TestClient) -> None:
    desk = bearer(login_token(api, "command"))
    url = "/api/v1/fraud/warnings"
    bad = api.post(url, json={"type": "scam_call", "id_number": WRONG_CHECK}, headers=desk)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("id_number: ")
    nobody = api.post(url, json={"type": "scam_call", "name": "王"}, headers=desk)
    assert nobody.status_code == 422 and nobody.json()["detail"].startswith("phone: ")
    good = api.post(
        url, json={"type": "scam_call", "phone": PHONE, "external_id": "X"}, headers=desk
    )
    assert good.status_code == 201 and good.json()["queued"] is True
    again = api.post(
        url, json={"type": "scam_app", "phone": PHONE, "external_id": "X"}, headers=desk
    )
    assert again.status_code == 200 and again.json()["order_id"] == good.json()["order_id"]


# --- at the same time ---------------------------------------------------------------------------


def _concurrently(
    county: sessionmaker[Session],
    settings: Settings,
    rows: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> list[intake.Received]:
    """Receive rows[0] and rows[1] in two transactions at once: the second starts while
    the first has written but not committed. On PostgreSQL it misses those rows, waits
    on the unique key, fails when the first commits and takes its warning again (the
    retry under test); on SQLite it queues for the write lock."""
    postgres = county.kw["bind"].dialect.name == "postgresql"
    written = threading.Event()
    attempts: list[int] = []
    real = intake._receive

    def counted(*args: Any) -> tuple[list[intake.Received], intake.Totals]:
        attempts.append(1)
        return real(*args)

    monkeypatch.setattr(intake, "_receive", counted)
    items = [intake.clean(r, source="centre") for r in rows]

    def work(i: int) -> intake.Received:
        if i == 1:
            assert written.wait(TIMEOUT / 2)
        with unit_of_work(county) as s:
            (got,), _t = intake.receive(s, SYSTEM, settings, [items[i]], channel=Channel.API)
            if i == 0:
                written.set()
                time.sleep(0.5)  # the other reads now and blocks on the unique key
            return got

    results = race(work)
    assert all(isinstance(r, intake.Received) for r in results), results
    assert len(attempts) == (3 if postgres else 2)
    return results  # type: ignore[return-value]


def test_the_same_new_warning_twice_at_once_makes_one_order(
    county: sessionmaker[Session],
    county_settings: Settings,
    home: Place,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row = warning("R1", level="urgent", phone=PHONE, address=HOME)
    results = _concurrently(county, county_settings, [row, row], monkeypatch)
    assert sorted(r.duplicate for r in results) == [False, True]
    assert results[0].order_id == results[1].order_id
    with county() as s:
        assert count(s, FraudWarning) == 1 and count(s, FraudOrder) == 1
        assert count(s, Task, Task.source == TaskSource.FRAUD_ORDER) == 1
        assert order(s, results[0].order_id).warning_count == 1


def test_two_warnings_for_one_person_at_once_make_one_order(
    county: sessionmaker[Session],
    county_settings: Settings,
    home: Place,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [
        warning("R1", phone=PHONE, address=HOME),
        warning("R2", phone=PHONE, address=HOME, level="high"),
    ]
    results = _concurrently(county, county_settings, rows, monkeypatch)
    assert sorted(r.merged for r in results) == [False, True]
    assert results[0].order_id == results[1].order_id
    with county() as s:
        assert count(s, FraudWarning) == 2 and count(s, FraudOrder) == 1
        made = order(s, results[0].order_id)
        assert made.warning_count == 2 and made.merge_key is not None
        assert count(s, Task, Task.source == TaskSource.FRAUD_ORDER) == 1


def test_a_retry_without_id_or_time_within_the_hour_has_the_same_key() -> None:
    from datetime import UTC, datetime, timedelta

    raw = {"type": "scam_call", "level": "urgent", "phone": "13812345678"}
    at = datetime(2026, 11, 22, 6, 10, tzinfo=UTC)
    first = intake.clean(raw, source="centre", now=at)
    again = intake.clean(raw, source="centre", now=at + timedelta(minutes=20))
    later = intake.clean(raw, source="centre", now=at + timedelta(hours=1))
    assert first.external_key == again.external_key
    assert later.external_key != first.external_key


def test_an_urgent_repeat_after_contact_starts_a_new_round(
    county: sessionmaker[Session], county_settings: Settings, home: Place
) -> None:
    t0 = utcnow().replace(microsecond=0) - minutes(60)
    with unit_of_work(county) as s:
        (first,), _t = take(
            s,
            county_settings,
            warning("R1", level="high", id_number=ID, address=HOME, warned_at=t0),
            now=t0,
        )
        orders.contact(s, SYSTEM, first.order_id, method=ContactMethod.PHONE)
    t1 = utcnow().replace(microsecond=0) + timedelta(seconds=1)  # after the contact
    again = warning("R2", level="urgent", type="suspicious_transfer", id_number=ID, warned_at=t1)
    with unit_of_work(county) as s:
        (second,), _t = take(s, county_settings, again, now=t1)
    with county() as s:
        renewed = order(s, first.order_id)
        assert second.merged and renewed.status is OrderStatus.OPEN
        assert renewed.contacted_at is None and renewed.escalation == 0
        assert renewed.contact_due_at == t1 + minutes(5)
        assert renewed.warning_type is WarningType.SUSPICIOUS_TRANSFER
        detail = s.scalars(
            select(FraudOrderEvent.detail).where(FraudOrderEvent.kind == "merged")
        ).one()
        assert detail["renewed"] is True
        kinds = s.scalars(select(FraudOrderEvent.kind).order_by(FraudOrderEvent.id)).all()
        assert kinds[:2] == ["contacted", "merged"]  # the first contact stays in the timeline
