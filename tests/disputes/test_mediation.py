"""Mediating disputes at the service level, on SQLite and PostgreSQL: every change of
state and level, mediators and sessions, outcomes, re-opening, the timeline, and the
roster with its suggestions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.db import unit_of_work, utcnow
from fengqiao.disputes import mediation, mediators, revisits, service
from fengqiao.disputes.models import (
    DisputeMediator,
    DisputeStatus,
    MediationLevel,
    MediationSession,
    MediatorKind,
    Outcome,
)
from fengqiao.disputes.schemas import EscalateIn, MediatorIn, OutcomeIn, SessionIn
from fengqiao.errors import Conflict, Forbidden, InvalidInput
from fengqiao.org.models import Person
from fengqiao.tasks.models import FollowUpStatus
from tests.disputes.helpers import add_mediator, events_of, kinds_of, new_dispute, staffed
from tests.fraud.helpers import SYSTEM, place, principal_of

GRID, STATION, JUDICIAL = MediationLevel.GRID, MediationLevel.STATION, MediationLevel.JUDICIAL
NO_REVISITS: dict[str, list[int]] = {}


def up(s: Session, dispute_id: int, to: MediationLevel, reason: str = "基层未果") -> None:
    mediation.escalate(s, SYSTEM, dispute_id, EscalateIn(to=to, reason=reason))


def outcome(
    s: Session,
    dispute_id: int,
    kind: Outcome,
    note: str = "",
    days: dict[str, list[int]] | None = None,
) -> None:
    mediation.record_outcome(
        s,
        SYSTEM,
        dispute_id,
        OutcomeIn(outcome=kind, note=note),
        revisit_days=NO_REVISITS if days is None else days,
    )


# --------------------------------------------------------------------------- states


def test_assigning_a_mediator_starts_mediation(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        m = staffed(s, d)
        assert d.status is DisputeStatus.MEDIATING
        [(link, who)] = mediation.mediators_of(s, d.id)
        assert who.id == m.id and link.lead and link.level is GRID
        [ev] = events_of(s, d.id, "mediator")
        assert ev.detail == {"mediator": m.id, "name": m.name, "lead": True}


def test_a_session_starts_mediation_and_is_stored_once(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        other = new_dispute(s, text="城关镇另案路2号")
        held = utcnow() - timedelta(hours=2)
        form = SessionIn(held_at=held, notes="初次调解", place="村委会", client_key="sit-1")
        row = mediation.record_session(s, SYSTEM, d.id, form)
        assert d.status is DisputeStatus.MEDIATING and row.level is GRID
        assert row.held_at == held and row.place == "村委会"
        again = mediation.record_session(s, SYSTEM, d.id, form)
        assert again.id == row.id
        assert [x.id for x in mediation.sessions_of(s, d.id)] == [row.id]
        assert len(events_of(s, d.id, "session")) == 1
        with pytest.raises(Conflict, match="another dispute"):
            mediation.record_session(s, SYSTEM, other.id, form)
        assert s.scalar(select(func.count()).select_from(MediationSession)) == 1


def test_session_checks(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        m = staffed(s, d)
        spare = add_mediator(s, d.station_id or 0, "未分配")
        with pytest.raises(InvalidInput) as err:
            mediation.record_session(
                s, SYSTEM, d.id, SessionIn(notes="n", mediator_ids=[m.id, spare.id])
            )
        assert str(spare.id) in err.value.message
        with pytest.raises(InvalidInput, match="before it is held"):
            mediation.record_session(
                s, SYSTEM, d.id, SessionIn(notes="n", held_at=utcnow() + timedelta(hours=1))
            )
        with pytest.raises(InvalidInput, match="time zone"):
            mediation.record_session(
                s, SYSTEM, d.id, SessionIn(notes="n", held_at=datetime(2024, 1, 1, 9))
            )
        ok = mediation.record_session(s, SYSTEM, d.id, SessionIn(notes="n", mediator_ids=[m.id]))
        assert ok.mediator_ids == [m.id]


def test_levels_go_up_with_a_reason(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        up(s, d.id, STATION, "涉及金额大")
        assert d.level is STATION and d.status is DisputeStatus.MEDIATING
        up(s, d.id, JUDICIAL, "需司法确认")
        assert d.level is JUDICIAL
        got = [(e.level, e.detail) for e in events_of(s, d.id, "escalated")]
        assert got == [
            (STATION, {"before": "grid", "after": "station", "reason": "涉及金额大"}),
            (JUDICIAL, {"before": "station", "after": "judicial", "reason": "需司法确认"}),
        ]
        with pytest.raises(InvalidInput, match="up the levels, not down"):
            up(s, d.id, GRID)
        up(s, d.id, JUDICIAL, "again")  # the same level: nothing
        assert len(events_of(s, d.id, "escalated")) == 2
        other = new_dispute(s, text="城关镇无因路3号")
        with pytest.raises(InvalidInput, match="Say why"):
            up(s, other.id, STATION, "   ")
        assert other.level is GRID and other.status is DisputeStatus.REGISTERED


def test_escalating_a_closed_dispute_is_refused(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        outcome(s, d.id, Outcome.RECONCILED)
        with pytest.raises(Conflict, match="closed"):
            up(s, d.id, STATION)


def test_assign_refusals(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        sid = d.station_id or 0
        far = new_dispute(s, at=place(s, "龙门镇调解路1号", station_code="QX-LM"))
        stranger = add_mediator(s, far.station_id or 0, "外所调解员")
        idle = add_mediator(s, sid, "停用调解员", active=False)
        judge = add_mediator(s, sid, "司法所调解员", MediatorKind.PEOPLES_MEDIATOR)
        with pytest.raises(InvalidInput, match="roster"):
            mediation.assign(s, SYSTEM, d.id, stranger.id, lead=True)
        with pytest.raises(InvalidInput, match="roster"):
            mediation.assign(s, SYSTEM, d.id, 987654, lead=True)
        with pytest.raises(InvalidInput, match="no longer active"):
            mediation.assign(s, SYSTEM, d.id, idle.id, lead=True)
        with pytest.raises(InvalidInput, match="does not mediate at the Grid or village level"):
            mediation.assign(s, SYSTEM, d.id, judge.id, lead=True)
        assert mediation.mediators_of(s, d.id) == [] and d.status is DisputeStatus.REGISTERED
        up(s, d.id, JUDICIAL)
        mediation.assign(s, SYSTEM, d.id, judge.id, lead=False)  # now it serves
        [(link, _m)] = mediation.mediators_of(s, d.id)
        assert link.level is JUDICIAL


def test_the_lead_moves(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        sid = d.station_id or 0
        a = add_mediator(s, sid, "甲")
        b = add_mediator(s, sid, "乙", MediatorKind.VILLAGE_CADRE)
        mediation.assign(s, SYSTEM, d.id, a.id, lead=True)
        mediation.assign(s, SYSTEM, d.id, b.id, lead=True)

        def leads() -> dict[str, bool]:
            return {m.name: link.lead for link, m in mediation.mediators_of(s, d.id)}

        assert leads() == {"甲": False, "乙": True}
        mediation.assign(s, SYSTEM, d.id, a.id, lead=True)
        assert leads() == {"甲": True, "乙": False}
        events = len(events_of(s, d.id, "mediator"))
        mediation.assign(s, SYSTEM, d.id, a.id, lead=True)  # unchanged: nothing recorded
        assert len(events_of(s, d.id, "mediator")) == events == 3
        assert s.scalar(select(func.count()).select_from(DisputeMediator)) == 2


# --------------------------------------------------------------------------- outcomes


@pytest.mark.parametrize("kind", [Outcome.ORAL, Outcome.RECONCILED])
def test_settled_outcomes_resolve_at_the_current_level(
    county: sessionmaker[Session], kind: Outcome
) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        up(s, d.id, STATION)
        before = utcnow()
        outcome(s, d.id, kind, note="握手言和")
        assert d.status is DisputeStatus.RESOLVED and d.outcome is kind
        assert d.resolved_level is STATION and d.outcome_note == "握手言和"
        assert d.resolved_at is not None and d.resolved_at >= before
        [ev] = events_of(s, d.id, "outcome")
        assert ev.detail == {"outcome": kind.value, "note": "握手言和"}
        outcome(s, d.id, kind)  # the same again: nothing
        assert len(events_of(s, d.id, "outcome")) == 1
        with pytest.raises(Conflict):
            outcome(s, d.id, Outcome.WITHDRAWN)


def test_unsettled_outcomes(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        with pytest.raises(InvalidInput, match="mediation failed"):
            outcome(s, d.id, Outcome.FAILED, note="  ")
        with pytest.raises(InvalidInput, match="agreement"):
            outcome(s, d.id, Outcome.AGREEMENT)
        assert d.status.value == "registered" and d.outcome is None
        outcome(s, d.id, Outcome.FAILED, note="引导至法院起诉")
        assert d.status is DisputeStatus.UNRESOLVED and d.resolved_at is None
        assert d.resolved_level is None and d.outcome_note == "引导至法院起诉"
        w = new_dispute(s, text="城关镇撤回路4号")
        outcome(s, w.id, Outcome.WITHDRAWN)
        assert w.status is DisputeStatus.UNRESOLVED and w.outcome is Outcome.WITHDRAWN
        with pytest.raises(Conflict, match="closed"):
            mediation.record_session(s, SYSTEM, w.id, SessionIn(notes="n"))
        with pytest.raises(Conflict, match="closed"):
            staffed(s, w)


# --------------------------------------------------------------------------- re-opening


def test_reopen_and_resolve_again(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        with pytest.raises(Conflict, match="still open"):
            mediation.reopen(s, SYSTEM, d.id, reason="x")
        up(s, d.id, STATION)
        outcome(s, d.id, Outcome.ORAL, days={"yellow": [15, 30]})
        ups = revisits.follow_ups_of(s, d.id)
        assert [u.status for u in ups] == [FollowUpStatus.PENDING] * 2
        with pytest.raises(InvalidInput, match="why"):
            mediation.reopen(s, SYSTEM, d.id, reason="  ")
        mediation.reopen(s, SYSTEM, d.id, reason="又吵起来")
        assert d.status.value == "mediating" and d.reopen_count == 1
        assert d.outcome is None and d.outcome_note == "" and d.resolved_at is None
        assert d.resolved_level is None and d.reopened_at is not None
        assert d.level is STATION  # resumes at the level it ended at
        assert [u.status for u in ups] == [FollowUpStatus.CANCELLED] * 2
        [ev] = events_of(s, d.id, "reopened")
        assert ev.detail == {"reason": "又吵起来", "before": "oral", "revisits_cancelled": 2}
        up(s, d.id, JUDICIAL)
        outcome(s, d.id, Outcome.RECONCILED)
        assert d.status is DisputeStatus.RESOLVED and d.resolved_level is JUDICIAL
        mediation.reopen(s, SYSTEM, d.id, reason="再次反复")
        assert d.reopen_count == 2
        assert kinds_of(s, d.id) == [
            "registered",
            "escalated",
            "outcome",
            "revisits",
            "reopened",
            "escalated",
            "outcome",
            "reopened",
        ]


def test_an_unresolved_dispute_can_be_reopened(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        outcome(s, d.id, Outcome.WITHDRAWN)
        mediation.reopen(s, SYSTEM, d.id, reason="申请人重新申请")
        assert d.status is DisputeStatus.MEDIATING and d.outcome is None


def test_only_mediators_change_disputes(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        outcome(s, d.id, Outcome.ORAL)
        with pytest.raises(Forbidden):
            mediation.reopen(s, principal_of(s, "legal"), d.id, reason="r")
        mediation.reopen(s, principal_of(s, "officer"), d.id, reason="r")
        assert d.reopen_count == 1


# --------------------------------------------------------------------------- roster


@pytest.mark.parametrize(
    ("kind", "levels"),
    [
        (MediatorKind.GRID_WORKER, ["grid"]),
        (MediatorKind.VILLAGE_CADRE, ["grid", "station"]),
        (MediatorKind.OFFICER, ["grid", "station"]),
        (MediatorKind.VOLUNTEER, ["grid", "station"]),
        (MediatorKind.LAWYER, ["station", "judicial"]),
        (MediatorKind.FENGQIAO_MEDIATOR, ["station"]),
        (MediatorKind.PEOPLES_MEDIATOR, ["judicial"]),
    ],
)
def test_default_levels_by_kind(
    county: sessionmaker[Session], kind: MediatorKind, levels: list[str]
) -> None:
    with unit_of_work(county) as s:
        officer = principal_of(s, "officer")
        [sid] = sorted(officer.station_ids or ())
        m = mediators.save_mediator(s, officer, MediatorIn(name="某人", kind=kind))
        assert m.station_id == sid and m.levels == levels and m.weekdays == [0, 1, 2, 3, 4]
        chosen = add_mediator(s, sid, "指定", kind, levels=[JUDICIAL])
        assert chosen.levels == ["judicial"]


def test_roster_entry_checks(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        officer = principal_of(s, "officer")
        [sid] = sorted(officer.station_ids or ())
        with pytest.raises(InvalidInput) as err:
            add_mediator(s, sid, "甲", skills=["neighbour", "feud"])
        assert "Unknown kinds of dispute: feud." in err.value.message
        with pytest.raises(InvalidInput, match="Weekdays"):
            add_mediator(s, sid, "甲", weekdays=[0, 7])
        with pytest.raises(InvalidInput, match="not a phone number"):
            add_mediator(s, sid, "甲", phone="110")
        with pytest.raises(Forbidden):
            add_mediator(s, sid, "甲", principal=principal_of(s, "gridworker"))
        me = s.get(Person, officer.person_id)
        assert me is not None
        first = add_mediator(s, sid, me.name, MediatorKind.OFFICER, person_id=me.id)
        with pytest.raises(InvalidInput, match="already on the roster") as err:
            add_mediator(s, sid, me.name, MediatorKind.OFFICER, person_id=me.id)
        assert str(first.id) in err.value.message
        # changing the same entry is not a second one
        same = mediators.save_mediator(
            s,
            SYSTEM,
            MediatorIn(
                name=me.name, kind=MediatorKind.OFFICER, person_id=me.id, phone="13811112222"
            ),
            mediator_id=first.id,
        )
        assert same.id == first.id and same.phone == "13811112222"
        far = place(s, "龙门镇名册路1号", station_code="QX-LM")
        with pytest.raises(InvalidInput, match="work at the mediator's station"):
            add_mediator(s, far.grid.district.station_id, me.name, person_id=me.id)


def test_suggestions(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)  # a neighbours' dispute at the grid level
        sid = d.station_id or 0
        today = service.today()
        wd = today.weekday()

        def m(name: str, **extra: object):  # type: ignore[no-untyped-def]
            return add_mediator(s, sid, name, **extra)  # type: ignore[arg-type]

        busy_skilled = m("熟手忙", skills=["neighbour"])
        free_skilled = m("熟手闲", skills=["neighbour", "family"])
        assert free_skilled.skills == ["family", "neighbour"]  # kept sorted
        free_plain = m("生手闲", skills=["wages"])
        busy_plain = m("生手忙")
        m("律师", kind=MediatorKind.LAWYER, skills=["neighbour"])  # not at the grid level
        m("休假", skills=["neighbour"], away_until=today)
        back = m("已回", skills=["neighbour"], away_until=today - timedelta(days=1))
        m("不当班", skills=["neighbour"], weekdays=[x for x in range(7) if x != wd])
        m("停用", skills=["neighbour"], active=False)
        taken = m("已在案", skills=["neighbour"])
        mediation.assign(s, SYSTEM, d.id, taken.id, lead=True)
        # loads: busy_skilled on 2 open disputes, busy_plain on 1, back on 1 closed one
        for i, who in enumerate((busy_skilled, busy_skilled, busy_plain, back)):
            other = new_dispute(s, text=f"城关镇负荷路{i + 1}号")
            mediation.assign(s, SYSTEM, other.id, who.id, lead=True)
            if who is back:
                outcome(s, other.id, Outcome.RECONCILED)
        assert mediators.open_load(s, [busy_skilled.id, busy_plain.id, back.id]) == {
            busy_skilled.id: 2,
            busy_plain.id: 1,
        }
        got = [x.name for x in mediators.suggest(s, d, today, limit=10)]
        # skilled first (least loaded first, then by id), then the others likewise
        assert got == ["熟手闲", "已回", "熟手忙", "生手闲", "生手忙"]
        assert [x.name for x in mediators.suggest(s, d, today, limit=2)] == ["熟手闲", "已回"]
        assert free_plain.name in got
        up(s, d.id, STATION)
        at_station = [x.name for x in mediators.suggest(s, d, today, limit=10)]
        assert at_station == ["律师"]
