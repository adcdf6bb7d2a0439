"""First-responder routing: every default rule, the fall-back chain, "nearest" really being
nearest, the rule table as data, and incidents outside every grid. Runs on SQLite and
PostgreSQL (the ``county`` fixture is parametrised through ``session_factory``)."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit.service import SYSTEM
from fengqiao.dispatch.models import Assignment, AssignmentStatus
from fengqiao.incidents import defaults
from fengqiao.incidents import service as incidents
from fengqiao.incidents.models import (
    Incident,
    IncidentEvent,
    IncidentStatus,
    Priority,
    RouteAction,
    RoutingDecision,
    RoutingRule,
)
from fengqiao.org.models import DutyStatus, GridAssignment, Person, PoliceGrid, Station, Team
from tests.incidents.helpers import (
    Spot,
    all_off_duty,
    people_of,
    report,
    set_status,
    spot,
    station,
)

RESPONDERS = ("officer", "auxiliary")


def _haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _rule(session: Session, position: int) -> RoutingRule:
    return session.scalars(select(RoutingRule).where(RoutingRule.position == position)).one()


def _decisions(session: Session, incident: Incident) -> list[RoutingDecision]:
    return list(
        session.scalars(
            select(RoutingDecision)
            .where(RoutingDecision.incident_id == incident.id)
            .order_by(RoutingDecision.id)
        )
    )


def _sent(session: Session, incident: Incident) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .join(Assignment, Assignment.person_id == Person.id)
            .where(Assignment.incident_id == incident.id)
            .order_by(Assignment.id)
        )
    )


def _alerts(session: Session, incident: Incident) -> list[IncidentEvent]:
    return list(
        session.scalars(
            select(IncidentEvent).where(
                IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "alert"
            )
        )
    )


def _joint_ids(session: Session, st: Station) -> list[int]:
    return list(
        session.scalars(select(Station.id).where(Station.joint_station_id == st.joint_station_id))
    )


def _district_people_ids(session: Session, district_id: int) -> set[int]:
    return set(
        session.scalars(
            select(GridAssignment.person_id)
            .join(PoliceGrid, PoliceGrid.id == GridAssignment.grid_id)
            .where(PoliceGrid.district_id == district_id)
        )
    )


def _everyone_available(session: Session, station_ids: list[int]) -> None:
    for sid in station_ids:
        set_status(session, people_of(session, sid), DutyStatus.AVAILABLE)


def _intake(
    session: Session, category: str, where: Spot | tuple[float, float] | None, **kw: object
) -> Incident:
    point = where.point if isinstance(where, Spot) else where
    intake = incidents.create_incident(
        session,
        actor=SYSTEM,
        data=report(category, point, **kw),  # type: ignore[arg-type]
    )
    assert intake.created
    session.flush()
    return intake.incident


# --------------------------------------------------------------------------- each default rule

# position, category, priority, expected step, units, alert
RULE_CASES = [
    pytest.param(10, "0401", None, "nearest", 2, True, id="10-emergency-fire"),
    pytest.param(20, "0203", Priority.URGENT, "nearest", 1, True, id="20-urgent-noise"),
    pytest.param(30, "0601", None, "grid", 1, False, id="30-dispute"),
    pytest.param(40, "0701", None, "grid", 1, False, id="40-help"),
    pytest.param(50, "0101", None, "station", 1, False, id="50-case-theft"),
    pytest.param(90, "0203", None, "grid", 1, False, id="90-everything-else"),
]


def test_rule_cases_cover_every_default_rule() -> None:
    assert {c.values[0] for c in RULE_CASES} == {r.position for r in defaults.RULES}


@pytest.mark.parametrize(("position", "category", "priority", "step", "units", "alert"), RULE_CASES)
def test_each_default_rule(
    county: sessionmaker[Session],
    position: int,
    category: str,
    priority: Priority | None,
    step: str,
    units: int,
    alert: bool,
) -> None:
    with county() as session:
        here = spot(session)
        joint = _joint_ids(session, here.station)
        _everyone_available(session, joint)
        rule = _rule(session, position)
        incident = _intake(session, category, here, priority=priority)

        sent = _sent(session, incident)
        decisions = _decisions(session, incident)
        assert len(sent) == units
        assert [d.person_id for d in decisions] == [p.id for p in sent]
        for d in decisions:
            assert d.rule_id == rule.id
            assert d.step == step
            assert d.reason.strip()
            params = json.loads(d.params)
            assert params["name"] == session.get(Person, d.person_id).name  # type: ignore[union-attr]
        assert incident.status is IncidentStatus.DISPATCHED
        assert incident.dispatched_at is not None
        assert not incident.needs_attention
        assert all(p.duty_status is DutyStatus.EN_ROUTE for p in sent)
        alerts = _alerts(session, incident)
        assert len(alerts) == (1 if alert else 0)
        if alert:
            assert alerts[0].note == rule.name

        if rule.action is RouteAction.GRID_OFFICER:
            assert sent == [here.officer]
        elif rule.action is RouteAction.CASE_TEAM:
            assert sent[0].team is Team.CASE
            assert sent[0].station_id == here.station.id
        else:  # nearest available, over the joint station, never the command room
            candidates = [
                p
                for sid in joint
                for p in people_of(session, sid)
                if p.kind.value in RESPONDERS
                and p.team is not Team.COMMAND_ROOM
                and p.id not in {s.id for s in sent}
                and p.last_lon is not None
            ]
            assert candidates
            lon, lat = here.point
            farthest_sent = max(_haversine_m(lon, lat, p.last_lon, p.last_lat) for p in sent)  # type: ignore[arg-type]
            closest_other = min(
                _haversine_m(lon, lat, p.last_lon, p.last_lat)  # type: ignore[arg-type]
                for p in candidates
            )
            assert farthest_sent <= closest_other
            etas = [json.loads(d.params)["eta"] for d in decisions]
            assert etas == sorted(etas)


# --------------------------------------------------------------------------- nearest is nearest

M_PER_DEG_LAT = 110_700.0


def _north(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0], point[1] + metres / M_PER_DEG_LAT


@pytest.mark.parametrize(
    ("category", "priority", "expected"),
    [
        pytest.param("0203", Priority.URGENT, ["near"], id="urgent-1-unit"),
        pytest.param("0401", None, ["near", "mid"], id="emergency-2-units"),
    ],
)
def test_nearest_available_is_really_nearest(
    county: sessionmaker[Session], category: str, priority: Priority | None, expected: list[str]
) -> None:
    with county() as session:
        here = spot(session)
        joint = _joint_ids(session, here.station)
        all_off_duty(session)
        community = [p for p in people_of(session, here.station.id) if p.team is Team.COMMUNITY]
        command = next(
            p
            for p in people_of(session, here.station.id)
            if p.team is Team.COMMAND_ROOM and p.kind.value == "officer"
        )
        # The nearest has the highest id, so that an order by id would pick wrongly.
        far, mid, near = community[0], community[1], community[-1]
        positions = {"far": 3000.0, "mid": 1000.0, "near": 150.0}
        named = {"far": far, "mid": mid, "near": near}
        for key, person in named.items():
            person.last_lon, person.last_lat = _north(here.point, positions[key])
            person.duty_status = DutyStatus.AVAILABLE
        # The command room stays in the room, however close it is.
        command.last_lon, command.last_lat = here.point
        command.duty_status = DutyStatus.AVAILABLE
        session.flush()

        incident = _intake(session, category, here, priority=priority)

        assert _sent(session, incident) == [named[k] for k in expected]
        decisions = _decisions(session, incident)
        assert [d.step for d in decisions] == ["nearest"] * len(expected)
        etas = [json.loads(d.params)["eta"] for d in decisions]
        assert etas == sorted(etas)
        assert far.duty_status is DutyStatus.AVAILABLE
        assert command.duty_status is DutyStatus.AVAILABLE
        assert len(joint) > 1


def test_nearest_reaches_into_the_joint_station(county: sessionmaker[Session]) -> None:
    """Emergencies take the nearest units of the whole joint station."""
    with county() as session:
        here = spot(session)
        others = [sid for sid in _joint_ids(session, here.station) if sid != here.station.id]
        all_off_duty(session)
        own = next(p for p in people_of(session, here.station.id) if p.team is Team.COMMUNITY)
        neighbour = next(p for p in people_of(session, others[0]) if p.team is Team.COMMUNITY)
        own.last_lon, own.last_lat = _north(here.point, 5000)
        neighbour.last_lon, neighbour.last_lat = _north(here.point, 400)
        set_status(session, [own, neighbour], DutyStatus.AVAILABLE)

        incident = _intake(session, "0203", here, priority=Priority.URGENT)

        assert _sent(session, incident) == [neighbour]


# --------------------------------------------------------------------------- the fall-back chain


def _only_decision(session: Session, incident: Incident) -> RoutingDecision:
    decisions = _decisions(session, incident)
    assert len(decisions) == 1
    return decisions[0]


def test_grid_officer_off_duty_goes_to_the_grids_auxiliary(county: sessionmaker[Session]) -> None:
    with county() as session:
        here = spot(session)
        _everyone_available(session, _joint_ids(session, here.station))
        set_status(session, [here.officer], DutyStatus.OFF_DUTY)

        incident = _intake(session, "0601", here)

        assert _sent(session, incident) == [here.auxiliary]
        decision = _only_decision(session, incident)
        assert decision.step == "grid"
        assert "auxiliary" in decision.reason
        assert incident.responsible_person_id == here.officer.id


@pytest.mark.parametrize("busy", [DutyStatus.OFF_DUTY, DutyStatus.BUSY, DutyStatus.ON_SCENE])
def test_grid_team_unavailable_goes_to_the_same_district(
    county: sessionmaker[Session], busy: DutyStatus
) -> None:
    with county() as session:
        here = spot(session)
        _everyone_available(session, _joint_ids(session, here.station))
        set_status(session, [here.officer, here.auxiliary], busy)

        incident = _intake(session, "0601", here)

        [person] = _sent(session, incident)
        assert person not in (here.officer, here.auxiliary)
        assert person.id in _district_people_ids(session, here.grid.district_id)
        assert person.kind.value in RESPONDERS
        decision = _only_decision(session, incident)
        assert decision.step == "district"
        assert decision.reason.strip()


def test_whole_district_off_goes_to_the_station_community_team(
    county: sessionmaker[Session],
) -> None:
    with county() as session:
        here = spot(session)
        _everyone_available(session, _joint_ids(session, here.station))
        district = _district_people_ids(session, here.grid.district_id)
        set_status(
            session,
            [session.get(Person, pid) for pid in district],
            DutyStatus.OFF_DUTY,  # type: ignore[misc]
        )

        incident = _intake(session, "0601", here)

        [person] = _sent(session, incident)
        assert person.id not in district
        assert person.station_id == here.station.id
        assert person.team is Team.COMMUNITY
        assert _only_decision(session, incident).step == "station"


def test_whole_station_off_goes_to_the_joint_station(county: sessionmaker[Session]) -> None:
    with county() as session:
        here = spot(session)
        joint = _joint_ids(session, here.station)
        _everyone_available(session, joint)
        set_status(session, people_of(session, here.station.id), DutyStatus.OFF_DUTY)

        incident = _intake(session, "0601", here)

        [person] = _sent(session, incident)
        assert person.station_id in set(joint) - {here.station.id}
        assert person.team is Team.COMMUNITY
        decision = _only_decision(session, incident)
        assert decision.step == "joint_station"
        assert not incident.needs_attention


@pytest.mark.parametrize("station_code", [None, "QX-CG"], ids=["joint-station", "urban"])
def test_nobody_available_needs_attention(
    county: sessionmaker[Session], station_code: str | None
) -> None:
    with county() as session:
        here = spot(session, station_code)
        all_off_duty(session)

        incident = _intake(session, "0601", here)

        assert _sent(session, incident) == []
        decision = _only_decision(session, incident)
        assert decision.step == "none"
        assert decision.person_id is None
        assert decision.rule_id == _rule(session, 30).id
        assert decision.reason.strip()
        assert incident.needs_attention is True
        assert incident.status is IncidentStatus.RECEIVED
        assert len(_alerts(session, incident)) == 1


def test_urban_station_without_joint_station_does_not_borrow(
    county: sessionmaker[Session],
) -> None:
    """QX-CG is independent: with its own people all off, nobody from QX-DB is sent."""
    with county() as session:
        here = spot(session, "QX-CG")
        all_off_duty(session)
        for st in session.scalars(select(Station).where(Station.code != "QX-CG")):
            set_status(session, people_of(session, st.id), DutyStatus.AVAILABLE)

        incident = _intake(session, "0601", here)

        assert _sent(session, incident) == []
        assert incident.needs_attention


def test_case_team_busy_borrows_the_joint_stations_case_team(
    county: sessionmaker[Session],
) -> None:
    with county() as session:
        here = spot(session)
        joint = _joint_ids(session, here.station)
        _everyone_available(session, joint)
        own_case = [p for p in people_of(session, here.station.id) if p.team is Team.CASE]
        set_status(session, own_case, DutyStatus.BUSY)

        incident = _intake(session, "0101", here)

        [person] = _sent(session, incident)
        assert person.team is Team.CASE
        assert person.station_id in set(joint) - {here.station.id}
        assert _only_decision(session, incident).step == "joint_station"


# --------------------------------------------------------------------------- the rule table is data


def test_deactivating_the_case_rule_sends_cases_to_the_grid_officer(
    county: sessionmaker[Session],
) -> None:
    with county() as session:
        here = spot(session)
        _everyone_available(session, _joint_ids(session, here.station))
        _rule(session, 50).active = False
        session.flush()

        incident = _intake(session, "0101", here)

        assert _sent(session, incident) == [here.officer]
        decision = _only_decision(session, incident)
        assert decision.rule_id == _rule(session, 90).id
        assert decision.step == "grid"


def test_a_new_rule_with_a_lower_position_wins(county: sessionmaker[Session]) -> None:
    with county() as session:
        here = spot(session)
        _everyone_available(session, _joint_ids(session, here.station))
        new = RoutingRule(
            position=5,
            name="Disputes: nearest unit, tell the command room",
            category_prefix="06",
            action=RouteAction.NEAREST_AVAILABLE,
            units=1,
            alert_command_room=True,
            active=True,
        )
        session.add(new)
        session.flush()

        dispute = _intake(session, "0601", here)
        help_call = _intake(session, "0799", here)  # not matched by the new rule

        decision = _only_decision(session, dispute)
        assert decision.rule_id == new.id
        assert decision.step == "nearest"
        assert len(_alerts(session, dispute)) == 1
        assert _only_decision(session, help_call).rule_id == _rule(session, 40).id


def test_a_command_room_rule_dispatches_nobody(county: sessionmaker[Session]) -> None:
    with county() as session:
        here = spot(session)
        _everyone_available(session, _joint_ids(session, here.station))
        session.add(
            RoutingRule(
                position=1,
                name="Land disputes: the command room decides",
                category_prefix="0603",
                action=RouteAction.COMMAND_ROOM,
                alert_command_room=True,
                active=True,
            )
        )
        session.flush()

        incident = _intake(session, "0603", here)

        assert _sent(session, incident) == []
        assert _only_decision(session, incident).step == "none"
        assert incident.needs_attention
        assert len(_alerts(session, incident)) == 1


def test_no_active_rule_needs_attention(county: sessionmaker[Session]) -> None:
    with county() as session:
        here = spot(session)
        _everyone_available(session, _joint_ids(session, here.station))
        for rule in session.scalars(select(RoutingRule)):
            rule.active = False
        session.flush()

        incident = _intake(session, "0601", here)

        assert _sent(session, incident) == []
        decision = _only_decision(session, incident)
        assert decision.step == "none" and decision.rule_id is None
        assert incident.needs_attention


# --------------------------------------------------------------------------- unplaced incidents


@pytest.mark.parametrize(
    ("point", "address"),
    [
        pytest.param((116.5, 25.0), None, id="outside-every-grid"),
        pytest.param(None, "清溪县某路口", id="address-only"),
    ],
)
def test_unplaced_incident_needs_attention(
    county: sessionmaker[Session], point: tuple[float, float] | None, address: str | None
) -> None:
    with county() as session:
        _everyone_available(session, list(session.scalars(select(Station.id))))

        incident = _intake(session, "0601", point, address=address)

        assert (incident.grid_id, incident.district_id, incident.station_id) == (None, None, None)
        assert incident.responsible_person_id is None
        assert incident.needs_attention is True
        assert incident.status is IncidentStatus.RECEIVED
        assert _sent(session, incident) == []
        assert (
            session.scalars(
                select(Assignment).where(Assignment.status != AssignmentStatus.RELEASED)
            ).all()
            == []
        )
        decision = _only_decision(session, incident)
        assert decision.step == "none"
        assert decision.reason.strip()
        assert len(_alerts(session, incident)) == 1


def test_placed_incident_has_grid_district_station(county: sessionmaker[Session]) -> None:
    with county() as session:
        here = spot(session, "QX-CG")
        incident = _intake(session, "0802", here)
        assert incident.grid_id == here.grid.id
        assert incident.district_id == here.grid.district_id
        assert incident.station_id == here.station.id == station(session, "QX-CG").id
        assert incident.responsible_person_id == here.officer.id


def test_a_rule_without_auto_dispatch_only_proposes(county: sessionmaker[Session]) -> None:
    with county() as session:
        here = spot(session)
        _everyone_available(session, _joint_ids(session, here.station))
        _rule(session, 30).auto_dispatch = False
        session.flush()

        incident = _intake(session, "0601", here)

        assert _sent(session, incident) == []
        assert incident.status is IncidentStatus.RECEIVED
        assert here.officer.duty_status is DutyStatus.AVAILABLE
        decision = _only_decision(session, incident)
        assert (decision.person_id, decision.step, decision.proposed_only) == (
            here.officer.id,
            "grid",
            True,
        )
