"""Working dissuasion orders at the service level, on SQLite and PostgreSQL: deadlines
and escalation, calls and contact, every outcome, reopening, placing by hand, and who
may see an order."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.accounts.models import Role, UserAccount
from fengqiao.audit.models import AuditAction, AuditEvent
from fengqiao.clock import local_day
from fengqiao.config import Settings
from fengqiao.db import unit_of_work, utcnow
from fengqiao.errors import Conflict, Forbidden, InvalidInput, NotFound
from fengqiao.fraud import intake, jobs, orders
from fengqiao.fraud.jobs import escalate_once
from fengqiao.fraud.models import (
    CallResult,
    Channel,
    ContactMethod,
    FraudCall,
    FraudOrder,
    FraudOrderEvent,
    OrderStatus,
    Outcome,
)
from fengqiao.i18n import language
from fengqiao.incidents.models import Incident, IncidentCategory
from fengqiao.live.models import LiveEvent
from fengqiao.org.models import GridAssignment, PersonKind
from fengqiao.tasks.models import FollowUp, TaskKind, TaskStatus
from tests.fraud.helpers import SYSTEM, Place, place, principal_of
from tests.incidents.helpers import grid_person, grids_of, station

MINUTE = timedelta(minutes=1)
TIMEOUT = 60.0


def new_order(
    s: Session,
    settings: Settings,
    n: int,
    *,
    level: str = "urgent",
    at: Place | None = None,
    now: datetime | None = None,
    **extra: str,
) -> FraudOrder:
    """The order of a warning for person ``n`` (a new one, or the one it joined): placed
    in ``at``'s grid by its position, else queued."""
    raw: dict[str, Any] = {"external_id": f"T{n}", "type": "scam_call", "level": level}
    raw |= {"name": "王小明", "phone": f"1381234{n:04d}", **extra}
    if at is not None:
        raw |= {"lon": at.lon, "lat": at.lat}
    items = [intake.clean(raw, source="centre")]
    results, _totals = intake.receive(s, SYSTEM, settings, items, channel=Channel.API, now=now)
    found = s.get(FraudOrder, results[0].order_id)
    assert found is not None
    return found


def events(s: Session, order_id: int, kind: str) -> list[FraudOrderEvent]:
    where = (FraudOrderEvent.order_id == order_id, FraudOrderEvent.kind == kind)
    return list(s.scalars(select(FraudOrderEvent).where(*where).order_by(FraudOrderEvent.id)))


def escalations(s: Session, order_id: int) -> list[LiveEvent]:
    rows = s.scalars(select(LiveEvent).where(LiveEvent.kind == "fraud_escalated"))
    return [e for e in rows if json.loads(e.payload)["order"] == order_id]


def outcome(kind: Outcome, method: ContactMethod | None = None, **money: int) -> orders.OutcomeIn:
    return orders.OutcomeIn(outcome=kind, method=method, **money)


# --- deadlines and escalation ---------------------------------------------------------------


def test_a_passed_contact_deadline_escalates_once_to_the_room_and_the_chiefs(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, at=place(s, "幸福路12号"))
        assert jobs.escalate_due(s, SYSTEM, now=o.contact_due_at - MINUTE) == 0
        assert escalations(s, o.id) == [] and o.escalated_at is None
        now = o.contact_due_at + 3 * MINUTE
        assert jobs.escalate_due(s, SYSTEM, now=now) == 1
        assert jobs.escalate_due(s, SYSTEM, now=now + MINUTE) == 0
        assert (o.escalation, o.escalated_at) == (1, now)
        [event] = events(s, o.id, "escalated")
        assert event.detail == {"stage": "contact", "late_minutes": 3}
        chiefs = set(
            s.scalars(
                select(UserAccount.person_id).where(
                    UserAccount.role == Role.STATION_CHIEF, UserAccount.station_id == o.station_id
                )
            )
        )
        assert chiefs  # the demo chief of 城关
        live = escalations(s, o.id)
        assert {(e.station_id, e.person_id) for e in live} == {
            (o.station_id, None),
            *((o.station_id, c) for c in chiefs),
        }
        assert len(live) == 1 + len(chiefs)
        payloads = [json.loads(e.payload) for e in live]
        assert {p["stage"] for p in payloads} == {"contact"}
        assert [p.get("to") for p in payloads if p.get("to")] == ["chief"] * len(chiefs)
        assert all("13812340001" not in e.payload for e in live)  # the phone goes masked


def test_contact_in_time_prevents_stage_one_but_not_the_visit_deadline(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, at=place(s, "幸福路12号"))
        orders.log_call(
            s, principal_of(s, "officer"), o.id, called="person", result=CallResult.ANSWERED
        )
        assert o.visit_due_at is not None
        assert jobs.escalate_due(s, SYSTEM, now=o.contact_due_at + 10 * MINUTE) == 0
        assert o.escalation == 0
        assert jobs.escalate_due(s, SYSTEM, now=o.visit_due_at + MINUTE) == 1
        assert o.escalation == 2
        assert [e.detail["stage"] for e in events(s, o.id, "escalated")] == ["visit"]


def test_a_passed_visit_deadline_without_a_visit_is_stage_two(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        here = place(s, "幸福路12号")
        late = new_order(s, county_settings, 1, at=here)
        visited = new_order(s, county_settings, 2, at=here)
        orders.contact(s, principal_of(s, "officer"), visited.id, method=ContactMethod.VISIT)
        assert late.visit_due_at is not None
        # Both deadlines of ``late`` passed: contact, then visit, in one round.
        assert jobs.escalate_due(s, SYSTEM, now=late.visit_due_at + MINUTE) == 2
        assert late.escalation == 2
        assert [e.detail["stage"] for e in events(s, late.id, "escalated")] == ["contact", "visit"]
        assert visited.escalation == 0 and events(s, visited.id, "escalated") == []
        assert visited.status is OrderStatus.CONTACTED
        assert visited.contact_method is ContactMethod.VISIT
        assert visited.visited_at is not None and visited.visited_at == visited.contacted_at
        assert len(events(s, visited.id, "visited")) == 1


def test_a_normal_warning_has_no_visit_deadline_and_never_reaches_stage_two(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, level="normal", at=place(s, "幸福路12号"))
        assert o.visit_due_at is None
        assert o.contact_due_at - o.created_at == timedelta(minutes=1440)
        far = o.contact_due_at + timedelta(days=30)
        assert jobs.escalate_due(s, SYSTEM, now=far) == 1
        assert jobs.escalate_due(s, SYSTEM, now=far + timedelta(days=30)) == 0
        assert o.escalation == 1


def test_two_escalation_runs_at_once_escalate_each_order_once(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        here = place(s, "幸福路12号")
        made = [new_order(s, county_settings, n, at=here) for n in (1, 2, 3)]
        ids = [o.id for o in made]
        now = max(o.visit_due_at or o.contact_due_at for o in made) + MINUTE
    barrier = threading.Barrier(2, timeout=TIMEOUT / 2)
    counts: list[object] = [None, None]

    def run(i: int) -> None:
        with language("en"):
            try:
                barrier.wait()
                with unit_of_work(county) as session:
                    counts[i] = jobs.escalate_due(session, SYSTEM, now=now)
            except BaseException as exc:  # reported below, not lost in the thread
                counts[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    assert all(isinstance(c, int) for c in counts), counts
    assert sum(counts) == 6  # type: ignore[arg-type]  # three orders, two stages each
    with unit_of_work(county) as s:
        for i in ids:
            assert [e.detail["stage"] for e in events(s, i, "escalated")] == ["contact", "visit"]
            assert len([e for e in escalations(s, i) if e.person_id is None]) == 2


def test_the_job_escalates_in_its_own_transaction(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, level="high", at=place(s, "幸福路12号"),
                      now=utcnow() - timedelta(hours=1))  # fmt: skip
        order_id = o.id
    assert escalate_once(county) == 1  # the contact deadline (30 min), not the visit (4 h)
    assert escalate_once(county) == 0
    with unit_of_work(county) as s:
        o = s.get(FraudOrder, order_id)
        assert o is not None and o.escalation == 1
        [event] = events(s, order_id, "escalated")
        assert event.user_id is None and event.detail["stage"] == "contact"


# --- calls and contact -----------------------------------------------------------------------


def test_an_answered_call_is_the_contact_by_phone(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, at=place(s, "幸福路12号"))
        officer = principal_of(s, "officer")
        call = orders.log_call(
            s, officer, o.id, called="person", result=CallResult.ANSWERED, duration_s=95
        )
        assert (call.person_id, call.user_id) == (officer.person_id, officer.user_id)
        assert o.status is OrderStatus.CONTACTED
        assert o.contacted_at == call.at and o.contact_method is ContactMethod.PHONE
        assert o.visited_at is None
        assert [e.detail for e in events(s, o.id, "call")] == [
            {"called": "person", "result": "answered", "seconds": 95}
        ]
        assert [e.detail for e in events(s, o.id, "contacted")] == [{"method": "phone"}]


def test_calls_that_reach_nobody_are_kept_once_and_checked(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, at=place(s, "幸福路12号"))
        officer = principal_of(s, "officer")
        busy = {"called": "relative", "result": CallResult.BUSY, "client_key": "phone-0001"}
        first = orders.log_call(s, officer, o.id, **busy)  # type: ignore[arg-type]
        again = orders.log_call(s, officer, o.id, **busy)  # type: ignore[arg-type]
        orders.log_call(s, officer, o.id, called="person", result=CallResult.NO_ANSWER)
        assert again.id == first.id
        assert s.scalar(select(func.count(FraudCall.id)).where(FraudCall.order_id == o.id)) == 2
        assert len(events(s, o.id, "call")) == 2
        assert o.status is OrderStatus.OPEN and o.contacted_at is None
        assert events(s, o.id, "contacted") == []
        with pytest.raises(InvalidInput, match="person, relative or other"):
            orders.log_call(s, officer, o.id, called="neighbour", result=CallResult.ANSWERED)
        answered = {"called": "person", "result": CallResult.ANSWERED}
        with pytest.raises(InvalidInput, match="between 0 and 86400"):
            orders.log_call(s, officer, o.id, duration_s=-1, **answered)  # type: ignore[arg-type]
        assert o.contacted_at is None


# --- outcomes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "follow_up"), [("urgent", True), ("high", True), ("normal", False)]
)
def test_dissuaded_with_money_saved_closes_the_order_and_its_task(
    county: sessionmaker[Session], county_settings: Settings, level: str, follow_up: bool
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, level=level, at=place(s, "幸福路12号"))
        task = orders.task_of(s, o)
        assert task is not None and task.status is TaskStatus.OPEN
        before = local_day(utcnow())
        orders.record_outcome(
            s, principal_of(s, "officer"), county_settings, o.id,
            outcome(Outcome.DISSUADED, ContactMethod.PHONE, money_saved=20_000),
        )  # fmt: skip
        assert (o.status, o.outcome, o.money_saved, o.money_lost) == (
            OrderStatus.CLOSED, Outcome.DISSUADED, 20_000, 0,
        )  # fmt: skip
        assert o.closed_at is not None and o.merge_key is None and o.incident_id is None
        assert o.contacted_at is not None and o.contact_method is ContactMethod.PHONE
        assert task.status is TaskStatus.DONE and task.completed_at is not None
        assert task.completed_by_id == o.assignee_id
        assert task.result == {"outcome": "dissuaded", "contact": "phone", "money_saved": 20_000}
        rows = list(s.scalars(select(FollowUp).where(FollowUp.target_type == "fraud_order")))
        if not follow_up:
            assert rows == [] and o.follow_up_id is None
            return
        [row] = rows
        assert o.follow_up_id == row.id
        assert (row.kind, row.target_type, row.target_id) == (
            TaskKind.FRAUD_DISSUASION,
            "fraud_order",
            o.id,
        )
        assert row.grid_id == o.grid_id
        days = timedelta(days=county_settings.fraud_follow_up_days)
        assert row.due_on in {before + days, local_day(utcnow()) + days}


def test_money_lost_opens_one_fraud_incident(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, level="normal", at=place(s, "幸福路12号"))
        officer = principal_of(s, "officer")
        lost = outcome(Outcome.MONEY_LOST, ContactMethod.VISIT, money_lost=5_000)
        orders.record_outcome(s, officer, county_settings, o.id, lost)
        assert o.status is OrderStatus.CLOSED and o.incident_id is not None
        incident = s.get(Incident, o.incident_id)
        assert incident is not None and incident.idempotency_key == f"fraud-order:{o.id}"
        code = s.scalar(
            select(IncidentCategory.code).where(IncidentCategory.id == incident.category_id)
        )
        assert code == orders.FRAUD_CATEGORY == "0102"
        assert "5000 yuan" in incident.description
        assert o.visited_at is not None  # reached at the door
        assert o.follow_up_id is not None  # every loss gets a visit, whatever the level
        # The same outcome again (a retry) changes nothing.
        incident_id = o.incident_id
        orders.record_outcome(s, officer, county_settings, o.id, lost)
        assert o.incident_id == incident_id
        same = select(func.count(Incident.id)).where(
            Incident.idempotency_key == f"fraud-order:{o.id}"
        )
        assert s.scalar(same) == 1
        assert len(events(s, o.id, "outcome")) == 1


@pytest.mark.parametrize("kind", [Outcome.UNREACHABLE, Outcome.FALSE_ALARM, Outcome.NOT_IN_AREA])
def test_the_other_outcomes_close_without_a_follow_up_and_never_escalate(
    county: sessionmaker[Session], county_settings: Settings, kind: Outcome
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, at=place(s, "幸福路12号"))
        orders.record_outcome(s, principal_of(s, "officer"), county_settings, o.id, outcome(kind))
        assert (o.status, o.outcome, o.merge_key) == (OrderStatus.CLOSED, kind, None)
        assert o.follow_up_id is None and o.incident_id is None and o.contacted_at is None
        assert s.scalar(select(func.count(FollowUp.id))) == 0
        task = orders.task_of(s, o)
        assert task is not None and task.status is TaskStatus.DONE
        assert task.result == {"outcome": kind.value, "contact": None, "money_saved": 0}
        # A closed order never escalates.
        assert jobs.escalate_due(s, SYSTEM, now=o.contact_due_at + timedelta(days=3)) == 0
        assert o.escalation == 0 and events(s, o.id, "escalated") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (outcome(Outcome.MONEY_LOST, ContactMethod.PHONE), "amount already lost"),
        (outcome(Outcome.FALSE_ALARM, money_saved=100), "Money saved goes with"),
        (outcome(Outcome.UNREACHABLE, money_saved=1), "Money saved goes with"),
        (outcome(Outcome.DISSUADED, money_saved=100), "how the person was reached"),
        (outcome(Outcome.DISSUADED, ContactMethod.PHONE, money_lost=100), "amount lost goes with"),
        (outcome(Outcome.DISSUADED, ContactMethod.PHONE, money_saved=-1), "money_saved must be"),
        (outcome(Outcome.MONEY_LOST, ContactMethod.PHONE, money_lost=-5), "money_lost must be"),
        (
            outcome(Outcome.DISSUADED, ContactMethod.SMS, money_saved=orders.MAX_MONEY + 1),
            "money_saved must be",
        ),
    ],
)
def test_an_outcome_that_does_not_add_up_is_refused(
    county: sessionmaker[Session], county_settings: Settings, data: orders.OutcomeIn, message: str
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, at=place(s, "幸福路12号"))
        with pytest.raises(InvalidInput, match=message):
            orders.record_outcome(s, principal_of(s, "officer"), county_settings, o.id, data)
        assert o.status is OrderStatus.OPEN and o.outcome is None and o.incident_id is None


def test_a_different_outcome_on_a_closed_order_is_a_conflict(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, at=place(s, "幸福路12号"))
        officer = principal_of(s, "officer")
        done = outcome(Outcome.DISSUADED, ContactMethod.PHONE, money_saved=300)
        orders.record_outcome(s, officer, county_settings, o.id, done)
        with pytest.raises(Conflict, match="reopen it"):
            orders.record_outcome(s, officer, county_settings, o.id, outcome(Outcome.FALSE_ALARM))
        other_amount = outcome(Outcome.DISSUADED, ContactMethod.PHONE, money_saved=400)
        with pytest.raises(Conflict):
            orders.record_outcome(s, officer, county_settings, o.id, other_amount)
        with pytest.raises(Conflict):
            orders.contact(s, officer, o.id, method=ContactMethod.VISIT)
        orders.record_outcome(s, officer, county_settings, o.id, done)  # a retry
        assert (o.outcome, o.money_saved) == (Outcome.DISSUADED, 300)
        assert len(events(s, o.id, "outcome")) == 1


def test_reopening_needs_a_reason_and_takes_repeats_again(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        here = place(s, "幸福路12号")
        o = new_order(s, county_settings, 1, at=here)
        officer, desk = principal_of(s, "officer"), principal_of(s, "command")
        orders.record_outcome(
            s, officer, county_settings, o.id,
            outcome(Outcome.DISSUADED, ContactMethod.PHONE, money_saved=900),
        )  # fmt: skip
        with pytest.raises(InvalidInput, match="reason"):
            orders.reopen(s, desk, o.id, reason="  ")
        with pytest.raises(Forbidden):
            orders.reopen(s, officer, o.id, reason="wrong person")
        orders.reopen(s, desk, o.id, reason="wrong person")
        assert (o.status, o.outcome) == (OrderStatus.CONTACTED, None)
        assert o.money_saved == 0 and o.closed_at is None
        assert o.merge_key == o.person_key
        task = orders.task_of(s, o)
        assert task is not None and task.status is TaskStatus.OPEN and task.result is None
        [event] = events(s, o.id, "reopened")
        assert event.detail == {"reason": "wrong person", "was": "dissuaded"}
        assert orders.reopen(s, desk, o.id, reason="again") is o  # not closed: nothing to do
        assert len(events(s, o.id, "reopened")) == 1
        assert new_order(s, county_settings, 1, at=here) is o  # the same warning: nothing
        assert new_order(s, county_settings, 1, external_id="T1b", type="scam_app") is o
        assert o.warning_count == 2 and len(events(s, o.id, "merged")) == 1


def test_a_reopened_order_drops_its_amounts_and_leaves_a_newer_order_its_key(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        old = new_order(s, county_settings, 1, at=place(s, "幸福路12号"))
        lost = outcome(Outcome.MONEY_LOST, ContactMethod.PHONE, money_lost=800)
        orders.record_outcome(s, principal_of(s, "officer"), county_settings, old.id, lost)
        newer = new_order(s, county_settings, 1, external_id="T1-new")
        assert newer is not old and newer.merge_key == old.person_key
        orders.reopen(s, principal_of(s, "command"), old.id, reason="the money came back")
        assert (old.status, old.merge_key) == (OrderStatus.CONTACTED, None)
        assert (old.outcome, old.money_lost, old.money_saved) == (None, 0, 0)
        assert old.incident_id is not None  # the incident stays; closing again finds it


# --- placing by hand -------------------------------------------------------------------------


def test_a_queued_order_given_to_a_grid_officer_starts_its_clock(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, now=utcnow() - timedelta(hours=1))
        assert (o.status, o.station_id, o.assignee_id) == (OrderStatus.QUEUED, None, None)
        assert orders.task_of(s, o) is None
        assert jobs.escalate_due(s, SYSTEM) == 2  # the queue is watched too
        grid = grids_of(s, station(s, "QX-CG").id)[0]
        officer = grid_person(s, grid.id, PersonKind.OFFICER)
        assert officer is not None
        start = utcnow()
        orders.assign(s, principal_of(s, "command"), county_settings, o.id, person_id=officer.id)
        end = utcnow()
        assert (o.status, o.assignee_id, o.grid_id) == (OrderStatus.OPEN, officer.id, grid.id)
        assert o.station_id == station(s, "QX-CG").id and o.escalation == 0
        assert start + 5 * MINUTE <= o.contact_due_at <= end + 5 * MINUTE
        assert (
            o.visit_due_at is not None
            and start + 30 * MINUTE <= o.visit_due_at <= end + 30 * MINUTE
        )
        assert o.match_detail["placed_by"] == "command"
        task = orders.task_of(s, o)
        assert task is not None
        assert (task.assignee_id, task.grid_id, task.status) == (
            officer.id,
            grid.id,
            TaskStatus.OPEN,
        )
        assert task.kind is TaskKind.FRAUD_DISSUASION and task.due_by == o.visit_due_at
        [event] = events(s, o.id, "assigned")
        assert event.detail == {"person": officer.id, "grid": grid.id}
        assert jobs.escalate_due(s, SYSTEM) == 0


def test_an_order_is_given_only_to_a_grid_police_of_the_desk_s_stations(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1)
        desk = principal_of(s, "command")
        elsewhere = grids_of(s, station(s, "QX-LM").id)
        other = next(p for g in elsewhere if (p := grid_person(s, g.id, PersonKind.OFFICER)))
        with pytest.raises(Forbidden, match="another station"):
            orders.assign(s, desk, county_settings, o.id, person_id=other.id)
        no_grid = s.scalar(select(UserAccount.person_id).where(UserAccount.username == "case"))
        assert no_grid is not None
        assert (
            s.scalar(select(GridAssignment.id).where(GridAssignment.person_id == no_grid)) is None
        )
        with pytest.raises(InvalidInput, match="serves no grid"):
            orders.assign(s, desk, county_settings, o.id, person_id=no_grid)
        worker = s.scalar(select(UserAccount.person_id).where(UserAccount.username == "gridworker"))
        assert worker is not None
        with pytest.raises(InvalidInput, match="grid officer or auxiliary"):
            orders.assign(s, desk, county_settings, o.id, person_id=worker)
        with pytest.raises(NotFound):
            orders.assign(s, desk, county_settings, o.id, person_id=999_999)
        officer = principal_of(s, "officer")
        with pytest.raises(Forbidden):
            orders.assign(s, officer, county_settings, o.id, person_id=officer.person_id or 0)
        assert (o.status, o.assignee_id) == (OrderStatus.QUEUED, None)
        assert events(s, o.id, "assigned") == []


# --- who sees what ---------------------------------------------------------------------------


def visible(s: Session, username: str) -> set[int]:
    who = principal_of(s, username)
    return set(s.scalars(select(FraudOrder.id).where(orders.scope(who))))


def test_an_auxiliary_sees_its_grids_and_what_was_given_to_it(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        mine = new_order(s, county_settings, 1, at=place(s, "幸福路12号"))
        other_grid = place(s, "幸福路14号", offset=1)
        theirs = new_order(s, county_settings, 2, at=other_grid)
        given = new_order(s, county_settings, 3, at=other_grid)
        queued = new_order(s, county_settings, 4)
        aux = principal_of(s, "auxiliary")
        assert aux.grid_ids is not None and mine.grid_id in aux.grid_ids
        assert theirs.grid_id not in aux.grid_ids
        given.assignee_id = aux.person_id
        s.flush()
        assert visible(s, "auxiliary") == {mine.id, given.id}
        assert orders.get_order(s, aux, given.id) is given
        for hidden in (theirs.id, queued.id):
            with pytest.raises(Forbidden):
                orders.get_order(s, aux, hidden)
        assert [o.id for o in orders.list_orders(s, aux, mine=True)] == [given.id]


def test_the_command_room_sees_its_stations_and_the_unplaced_queue(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        ours = new_order(s, county_settings, 1, at=place(s, "幸福路12号"))
        theirs = new_order(s, county_settings, 2, at=place(s, "龙门路3号", station_code="QX-LM"))
        queued = new_order(s, county_settings, 3)
        assert theirs.station_id == station(s, "QX-LM").id
        assert visible(s, "command") == {ours.id, queued.id}
        desk = principal_of(s, "command")
        with pytest.raises(Forbidden, match="another grid or station"):
            orders.get_order(s, desk, theirs.id)
        assert [o.id for o in orders.list_orders(s, desk, queue=True)] == [queued.id]
        assert {o.id for o in orders.list_orders(s, desk)} == {ours.id, queued.id}
        with pytest.raises(NotFound):
            orders.get_order(s, desk, 999_999)


@pytest.mark.parametrize("username", ["gridworker", "admin", "case", "legal"])
def test_who_does_not_handle_warnings_sees_no_order(
    county: sessionmaker[Session], county_settings: Settings, username: str
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, at=place(s, "幸福路12号"))
        who = principal_of(s, username)
        with pytest.raises(Forbidden, match="does not allow"):
            orders.get_order(s, who, o.id)
        with pytest.raises(Forbidden):
            orders.list_orders(s, who)
        with pytest.raises(Forbidden):
            orders.log_call(s, who, o.id, called="person", result=CallResult.ANSWERED)
        assert o.contacted_at is None


def test_every_reading_of_an_order_is_audited(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        o = new_order(s, county_settings, 1, at=place(s, "幸福路12号"))

        def reads() -> list[tuple[str | None, str | None]]:
            query = select(AuditEvent.username, AuditEvent.role).where(
                AuditEvent.action == AuditAction.READ,
                AuditEvent.object_type == "fraud_order",
                AuditEvent.object_id == str(o.id),
            )
            return [(r[0], r[1]) for r in s.execute(query.order_by(AuditEvent.id))]

        assert reads() == []
        orders.get_order(s, principal_of(s, "officer"), o.id)
        orders.get_order(s, principal_of(s, "command"), o.id)
        orders.get_order(s, principal_of(s, "officer"), o.id, audited=False)
        assert reads() == [("officer", "community_officer"), ("command", "command_room")]
