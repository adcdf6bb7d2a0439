"""After mediation, on SQLite and PostgreSQL: revisits by risk level, bringing one
forward as today's task, what its completion does to the dispute, and later incidents
linked to the dispute by party or place."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.config import Settings
from fengqiao.db import unit_of_work, utcnow
from fengqiao.disputes import mediation, revisits, service
from fengqiao.disputes.models import Dispute, DisputeIncident, DisputeStatus, Outcome
from fengqiao.disputes.schemas import OutcomeIn
from fengqiao.errors import Conflict, InvalidInput
from fengqiao.incidents import service as incidents
from fengqiao.org.models import Person
from fengqiao.tasks import service as tasks
from fengqiao.tasks.models import FollowUpStatus, Task, TaskKind, TaskStatus
from tests.disputes.helpers import events_of, new_dispute
from tests.fraud.helpers import SYSTEM, place, principal_of
from tests.incidents.helpers import report

EARTH = 6_371_000.0


def close(s: Session, d: Dispute, kind: Outcome, days: dict[str, list[int]]) -> None:
    note = "引导诉讼" if kind is Outcome.FAILED else ""
    mediation.record_outcome(s, SYSTEM, d.id, OutcomeIn(outcome=kind, note=note), revisit_days=days)


def test_default_revisit_days(county_settings: Settings) -> None:
    assert county_settings.dispute_follow_up_days == {
        "red": [3, 7, 15, 30],
        "orange": [7, 30],
        "yellow": [15],
    }


@pytest.mark.parametrize(
    ("risk", "kind", "days"),
    [
        ({"threats": True}, Outcome.ORAL, [3, 7, 15, 30]),
        ({}, Outcome.RECONCILED, [15]),
        # a failed red or orange dispute is still watched; a failed yellow one is not
        ({"threats": True}, Outcome.FAILED, [3, 7, 15, 30]),
        ({"violence": True}, Outcome.FAILED, [7, 30]),
        ({}, Outcome.FAILED, []),
        ({}, Outcome.WITHDRAWN, []),
    ],
)
def test_revisits_by_risk_level(
    county: sessionmaker[Session],
    county_settings: Settings,
    risk: dict[str, bool],
    kind: Outcome,
    days: list[int],
) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s, risk=risk)
        close(s, d, kind, county_settings.dispute_follow_up_days)
        ups = revisits.follow_ups_of(s, d.id)
        today = service.today()
        assert [u.due_on for u in ups] == [today + timedelta(days=n) for n in days]
        for u in ups:
            assert u.kind is TaskKind.DISPUTE_FOLLOW_UP and u.status is FollowUpStatus.PENDING
            assert (u.grid_id, u.station_id) == (d.grid_id, d.station_id)
            assert (u.target_type, u.target_id) == ("dispute", d.id)
            assert u.target_label.startswith(d.number)
        assert len(events_of(s, d.id, "revisits")) == (1 if days else 0)


def test_visit_now_gives_the_task_to_an_eligible_principal(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        officer = principal_of(s, "officer")
        d = new_dispute(s)
        close(s, d, Outcome.ORAL, county_settings.dispute_follow_up_days)
        [u] = revisits.follow_ups_of(s, d.id)
        me = s.get(Person, officer.person_id)
        assert me is not None and me.station_id == d.station_id
        task = revisits.visit_now(s, officer, d.id, u.id)
        assert task.assignee_id == officer.person_id
        assert task.day == service.today() and task.follow_up_id == u.id
        assert task.kind is TaskKind.DISPUTE_FOLLOW_UP and task.grid_id == d.grid_id
        assert u.status is FollowUpStatus.SCHEDULED
        again = revisits.visit_now(s, officer, d.id, u.id)
        assert again.id == task.id
        assert s.scalar(select(func.count()).select_from(Task)) == 1
        other = new_dispute(s, text="城关镇别案路9号")
        with pytest.raises(InvalidInput, match="not a revisit of this dispute"):
            revisits.visit_now(s, officer, other.id, u.id)


def test_visit_now_without_a_person_picks_from_the_grid_team(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s, risk={"threats": True})
        close(s, d, Outcome.ORAL, county_settings.dispute_follow_up_days)
        first = revisits.follow_ups_of(s, d.id)[0]
        assert d.grid_id is not None
        expected = tasks.pick_assignee(
            s, grid_id=d.grid_id, kind=TaskKind.DISPUTE_FOLLOW_UP, day=service.today()
        )
        assert expected is not None
        task = revisits.visit_now(s, SYSTEM, d.id, first.id)
        assert task.assignee_id == expected


def test_asking_again_for_the_same_revisit_adds_no_timeline_line(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s)
        close(s, d, Outcome.ORAL, county_settings.dispute_follow_up_days)
        [u] = revisits.follow_ups_of(s, d.id)
        first = revisits.visit_now(s, SYSTEM, d.id, u.id)
        assert revisits.visit_now(s, SYSTEM, d.id, u.id).id == first.id
        assert len(events_of(s, d.id, "revisit_today")) == 1


def complete(s: Session, who: str, d: Dispute, situation: str) -> tuple[int, int]:
    """Bring the first revisit forward and complete its task; ``(follow-up, task)``."""
    worker = principal_of(s, who)
    first = revisits.follow_ups_of(s, d.id)[0]
    task = revisits.visit_now(s, worker, d.id, first.id)
    tasks.complete(
        s, worker, task.id, values={"situation": situation, "note": "回访"}, lon=d.lon, lat=d.lat
    )
    assert task.status is TaskStatus.DONE
    return first.id, task.id


def test_a_stable_revisit_is_recorded(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s, risk={"threats": True})
        close(s, d, Outcome.ORAL, county_settings.dispute_follow_up_days)
        fid, tid = complete(s, "officer", d, "stable")
        ups = revisits.follow_ups_of(s, d.id)
        assert [u.status for u in ups] == [FollowUpStatus.DONE] + [FollowUpStatus.PENDING] * 3
        assert ups[0].id == fid
        [ev] = events_of(s, d.id, "revisited")
        assert ev.detail == {"task": tid, "situation": "stable", "note": "回访"}
        assert d.status is DisputeStatus.RESOLVED and d.reopen_count == 0


def test_a_flare_reopens_the_dispute(
    county: sessionmaker[Session], county_settings: Settings
) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s, risk={"threats": True})
        close(s, d, Outcome.ORAL, county_settings.dispute_follow_up_days)
        _fid, tid = complete(s, "officer", d, "flared")
        assert d.status is DisputeStatus.MEDIATING and d.reopen_count == 1
        assert d.outcome is None and d.resolved_at is None
        ups = revisits.follow_ups_of(s, d.id)
        assert [u.status for u in ups] == [FollowUpStatus.DONE] + [FollowUpStatus.CANCELLED] * 3
        [ev] = events_of(s, d.id, "reopened")
        assert str(tid) in ev.detail["reason"] and ev.detail["revisits_cancelled"] == 3
        assert [e.kind for e in service.timeline(s, d.id)][-2:] == ["revisited", "reopened"]
        # a cancelled revisit cannot be brought forward
        with pytest.raises(Conflict):
            revisits.visit_now(s, SYSTEM, d.id, ups[1].id)


# --------------------------------------------------------------------------- later incidents


def moved(lon: float, lat: float, north: float, east: float) -> tuple[float, float]:
    """The point ``north`` and ``east`` metres from (lon, lat)."""
    dlat = math.degrees(north / EARTH)
    dlon = math.degrees(east / (EARTH * math.cos(math.radians(lat))))
    return lon + dlon, lat + dlat


def call(
    s: Session,
    point: tuple[float, float] | None,
    *,
    phone: str | None = None,
    address: str | None = None,
    seconds: int = 30,
) -> int:
    data = report(
        "0601",
        point,
        address=address,
        reporter_phone=phone,
        received_at=utcnow() + timedelta(seconds=seconds),
    )
    return incidents.create_incident(s, actor=SYSTEM.actor, data=data, route=False).incident.id


def test_later_incidents_are_linked_by_party_and_place(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "城关镇关联路5号")
        d = new_dispute(s, at=at)  # parties 13812345678 and 13987654321
        lon, lat = at.lon, at.lat
        before = call(s, (lon, lat), seconds=-2 * 86400)  # before the day it was found
        by_phone = call(s, moved(lon, lat, 2000, 0), phone="13987654321")
        by_text = call(s, None, address=d.place)
        near = call(s, moved(lon, lat, 30, 30), phone="13700000001")  # 42 m
        both = call(s, moved(lon, lat, -20, 0), phone="13812345678")
        corner = call(s, moved(lon, lat, 45, 45))  # 64 m: inside the box, outside 50 m
        far = call(s, moved(lon, lat, 200, 0), phone="13700000002")
        assert revisits.find_links(s, d, actor=SYSTEM) == 4
        links = {i.id: link.reasons for link, i in revisits.linked_incidents(s, d.id)}
        assert links == {
            by_phone: ["same_party"],
            by_text: ["same_place"],
            near: ["same_place"],
            both: ["same_party", "same_place"],
        }
        assert not {before, corner, far} & set(links)
        assert len(events_of(s, d.id, "incident_linked")) == 4
        # running again adds nothing
        assert revisits.find_links(s, d, actor=SYSTEM) == 0
        assert s.scalar(select(func.count()).select_from(DisputeIncident)) == 4
        assert len(events_of(s, d.id, "incident_linked")) == 4
        assert revisits.link_recent(s, SYSTEM) == 0
        with pytest.raises(Conflict):
            revisits.link_recent(s, SYSTEM, days=0)


def test_link_recent_goes_through_recent_disputes(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        at = place(s, "城关镇近期路6号")
        d = new_dispute(s, at=at)
        old = new_dispute(s, text="城关镇旧案路7号", found_on=service.today() - timedelta(days=400))
        call(s, (at.lon, at.lat))
        call(s, None, address=old.place)  # at the old dispute's place: it is not looked at
        assert revisits.link_recent(s, SYSTEM, days=365) == 1
        assert [i.address for _l, i in revisits.linked_incidents(s, d.id)] == [None]
        assert revisits.linked_incidents(s, old.id) == []


def test_a_party_phone_written_with_dashes_is_still_the_party(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as s:
        d = new_dispute(s, text="城关镇号码路8号")
        later = call(s, None, phone="139-8765-4321", address="别处某路1号")
        assert revisits.find_links(s, d) == 1
        assert [i.id for _l, i in revisits.linked_incidents(s, d.id)] == [later]
