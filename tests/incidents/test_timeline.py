"""The timeline: every allowed step, every refused one (409 through the API), every
disposition with its linked record, re-dispatch and joint-station reinforcement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit.models import AuditEvent
from fengqiao.audit.service import SYSTEM
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker
from fengqiao.dispatch import service as dispatch
from fengqiao.dispatch.models import Assignment, AssignmentStatus, ReinforcementRequest
from fengqiao.disputes.models import Dispute
from fengqiao.errors import Conflict, InvalidInput
from fengqiao.incidents import service as incidents
from fengqiao.incidents.models import (
    CaseRecord,
    Disposition,
    Incident,
    IncidentEvent,
    IncidentStatus,
)
from fengqiao.labels import assignment_status_label, disposition_label, incident_status_label
from fengqiao.org.models import DutyStatus, Person, Station, Team
from tests.conftest import bearer, login_token
from tests.incidents.helpers import (
    Spot,
    all_off_duty,
    people_of,
    report,
    set_status,
    spot,
)

FLOW = [s for s in IncidentStatus]  # received → dispatched → accepted → arrived → handled → closed


@dataclass
class Situation:
    incident: Incident
    here: Spot
    assignment: Assignment | None


def _received(session: Session, here: Spot, category: str = "0601") -> Incident:
    intake = incidents.create_incident(
        session, actor=SYSTEM, data=report(category, here.point), route=False
    )
    session.flush()
    return intake.incident


def advance(
    session: Session,
    to: IncidentStatus,
    *,
    disposition: Disposition = Disposition.SETTLED,
    station_code: str | None = None,
) -> Situation:
    """An incident brought to ``to`` along the normal path; the grid officer answers."""
    here = spot(session, station_code)
    set_status(session, [here.officer, here.auxiliary], DutyStatus.AVAILABLE)
    incident = _received(session, here)
    assignment = None
    for step in FLOW[1 : FLOW.index(to) + 1]:
        if step is IncidentStatus.DISPATCHED:
            assignment = dispatch.dispatch_person(
                session, actor=SYSTEM, incident=incident, person=here.officer
            )
        elif step is IncidentStatus.ACCEPTED:
            assert assignment is not None
            incidents.accept(session, actor=SYSTEM, assignment=assignment)
        elif step is IncidentStatus.ARRIVED:
            assert assignment is not None
            incidents.arrive(session, actor=SYSTEM, assignment=assignment)
        elif step is IncidentStatus.HANDLED:
            incidents.handle(session, actor=SYSTEM, incident=incident, disposition=disposition)
        elif step is IncidentStatus.CLOSED:
            incidents.close(session, actor=SYSTEM, incident=incident)
    session.flush()
    assert incident.status is to
    return Situation(incident, here, assignment)


def _events(session: Session, incident: Incident) -> list[IncidentEvent]:
    return list(
        session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident.id)
            .order_by(IncidentEvent.id)
        )
    )


def _audits(session: Session, incident: Incident) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "incident", AuditEvent.object_id == str(incident.id))
            .order_by(AuditEvent.id)
        )
    )


# --------------------------------------------------------------------------- allowed steps


def test_full_timeline_is_timestamped_evented_and_audited(county: sessionmaker[Session]) -> None:
    with county() as session:
        s = advance(session, IncidentStatus.CLOSED)
        incident = s.incident

        stamps: list[datetime] = [getattr(incident, f"{step.value}_at") for step in FLOW]
        assert all(t is not None for t in stamps)
        assert stamps == sorted(stamps)

        events = _events(session, incident)
        assert [e.status for e in events if e.kind == "status"] == FLOW
        dispatched = next(e for e in events if e.status is IncidentStatus.DISPATCHED)
        assert dispatched.person_id == s.here.officer.id
        assert [e.at for e in events if e.kind == "status"] == stamps

        audits = _audits(session, incident)
        assert audits[0].action.value == "create"
        statuses = [a.detail for a in audits[1:]]
        for step in FLOW[1:]:
            assert any(f'"status": "{step.value}"' in d for d in statuses), step
        assert session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.object_type == "assignment")
        )

        assert s.assignment is not None
        assert s.assignment.status is AssignmentStatus.RELEASED
        assert s.assignment.accepted_at and s.assignment.arrived_at and s.assignment.released_at
        assert s.here.officer.duty_status is DutyStatus.AVAILABLE


@pytest.mark.parametrize("step", FLOW[1:], ids=[s.value for s in FLOW[1:]])
def test_each_step_sets_its_timestamp_only(
    county: sessionmaker[Session], step: IncidentStatus
) -> None:
    with county() as session:
        incident = advance(session, step).incident
        reached = FLOW.index(step)
        for i, status in enumerate(FLOW):
            stamp = getattr(incident, f"{status.value}_at")
            assert (stamp is not None) == (i <= reached), status


def test_person_status_follows_the_assignment(county: sessionmaker[Session]) -> None:
    with county() as session:
        s = advance(session, IncidentStatus.DISPATCHED)
        assert s.here.officer.duty_status is DutyStatus.EN_ROUTE
        assert s.assignment is not None
        incidents.accept(session, actor=SYSTEM, assignment=s.assignment)
        assert s.here.officer.duty_status is DutyStatus.EN_ROUTE
        incidents.arrive(session, actor=SYSTEM, assignment=s.assignment)
        assert s.here.officer.duty_status is DutyStatus.ON_SCENE
        incidents.handle(
            session, actor=SYSTEM, incident=s.incident, disposition=Disposition.SETTLED
        )
        assert s.here.officer.duty_status is DutyStatus.AVAILABLE


@pytest.mark.parametrize("disposition", [Disposition.NO_ACTION, Disposition.REFERRED])
def test_received_straight_to_handled_without_anyone_on_scene(
    county: sessionmaker[Session], disposition: Disposition
) -> None:
    with county() as session:
        here = spot(session)
        incident = _received(session, here, "9902")
        incidents.finish(session, actor=SYSTEM, incident=incident, disposition=disposition)
        assert incident.status is IncidentStatus.CLOSED
        assert incident.disposition is disposition
        assert incident.handled_at is not None and incident.closed_at is not None
        assert incident.dispatched_at is None and incident.arrived_at is None


@pytest.mark.parametrize(
    "disposition", [Disposition.SETTLED, Disposition.CASE, Disposition.DISPUTE]
)
def test_received_straight_to_handled_refused_for_on_scene_dispositions(
    county: sessionmaker[Session], disposition: Disposition
) -> None:
    with county() as session:
        here = spot(session)
        incident = _received(session, here)
        with pytest.raises(Conflict) as refused:
            incidents.handle(session, actor=SYSTEM, incident=incident, disposition=disposition)
        assert disposition_label("no_action") in refused.value.message
        assert disposition_label("referred") in refused.value.message
        assert dispatch.number_of(incident) in refused.value.message
        assert incident.status is IncidentStatus.RECEIVED
        assert incident.disposition is None


# --------------------------------------------------------------------------- refused steps

Op = Callable[[Session, Situation], object]


def _dispatch_other(session: Session, s: Situation) -> object:
    set_status(session, [s.here.auxiliary], DutyStatus.AVAILABLE)
    return dispatch.dispatch_person(
        session, actor=SYSTEM, incident=s.incident, person=s.here.auxiliary
    )


def _accept(session: Session, s: Situation) -> object:
    assert s.assignment is not None
    return incidents.accept(session, actor=SYSTEM, assignment=s.assignment)


def _arrive(session: Session, s: Situation) -> object:
    assert s.assignment is not None
    return incidents.arrive(session, actor=SYSTEM, assignment=s.assignment)


def _handle(disposition: Disposition) -> Op:
    def op(session: Session, s: Situation) -> object:
        return incidents.handle(session, actor=SYSTEM, incident=s.incident, disposition=disposition)

    return op


def _close(session: Session, s: Situation) -> object:
    return incidents.close(session, actor=SYSTEM, incident=s.incident)


OPS: dict[str, Op] = {
    "dispatch": _dispatch_other,
    "accept": _accept,
    "arrive": _arrive,
    "handle-settled": _handle(Disposition.SETTLED),
    "handle-no_action": _handle(Disposition.NO_ACTION),
    "close": _close,
}
ALLOWED: dict[IncidentStatus, set[str]] = {
    IncidentStatus.RECEIVED: {"dispatch", "handle-no_action"},
    IncidentStatus.DISPATCHED: {"dispatch", "accept"},
    IncidentStatus.ACCEPTED: {"dispatch", "arrive"},
    IncidentStatus.ARRIVED: {"dispatch", "handle-settled", "handle-no_action"},
    IncidentStatus.HANDLED: {"close"},
    IncidentStatus.CLOSED: set(),
}
MATRIX = [
    pytest.param(state, op, op in ALLOWED[state], id=f"{state.value}-{op}")
    for state in FLOW
    for op in OPS
    if not (state is IncidentStatus.RECEIVED and op in ("accept", "arrive"))  # nobody to ask
]


@pytest.mark.parametrize(("state", "op", "allowed"), MATRIX)
def test_transition_matrix(
    county: sessionmaker[Session], state: IncidentStatus, op: str, allowed: bool
) -> None:
    with county() as session:
        s = advance(session, state)
        events_before = len(_events(session, s.incident))
        audits_before = len(_audits(session, s.incident))
        if allowed:
            OPS[op](session, s)
            session.flush()
            assert len(_events(session, s.incident)) > events_before
            return
        with pytest.raises(Conflict) as refused:
            OPS[op](session, s)
        session.flush()
        assert refused.value.status == 409
        assert refused.value.message.strip()
        assert s.incident.status is state
        assert len(_events(session, s.incident)) == events_before
        assert len(_audits(session, s.incident)) == audits_before


@pytest.mark.parametrize(
    ("state", "op", "words"),
    [
        # "a:" an assignment status, "i:" an incident status (as labels), else plain text
        pytest.param(IncidentStatus.ACCEPTED, "accept", ["a:accepted"], id="accept-twice"),
        pytest.param(
            IncidentStatus.DISPATCHED, "arrive", ["a:dispatched", "accept"], id="arrive-early"
        ),
        pytest.param(
            IncidentStatus.ARRIVED,
            "close",
            ["i:arrived", "i:closed", "i:handled"],
            id="close-early",
        ),
        pytest.param(
            IncidentStatus.DISPATCHED,
            "handle-settled",
            ["i:dispatched", "i:handled", "i:accepted"],
            id="handle-from-dispatched",
        ),
        pytest.param(IncidentStatus.CLOSED, "close", ["i:closed"], id="close-twice"),
        pytest.param(
            IncidentStatus.HANDLED, "dispatch", ["i:handled"], id="dispatch-after-handled"
        ),
    ],
)
def test_refusals_say_why(
    county: sessionmaker[Session], state: IncidentStatus, op: str, words: list[str]
) -> None:
    with county() as session:
        s = advance(session, state)
        with pytest.raises(Conflict) as refused:
            OPS[op](session, s)
        for word in words:
            assert _word(word) in refused.value.message
        assert dispatch.number_of(s.incident) in refused.value.message or op in (
            "accept",
            "arrive",
        )


def _word(word: str) -> str:
    kind, _sep, value = word.partition(":")
    if kind == "a":
        return assignment_status_label(value)
    if kind == "i":
        return incident_status_label(value)
    return word


# --------------------------------------------------------------------------- through the API


def _demo_officer_spot(settings: Settings) -> tuple[tuple[float, float], int]:
    """A point in the demo officer's first grid, and that officer's person id."""
    from fengqiao.accounts import service as accounts
    from fengqiao.org.models import GridAssignment, PersonKind, PoliceGrid
    from tests.incidents.helpers import inside

    engine = make_engine(settings)
    with make_sessionmaker(engine)() as session:
        user = accounts.get_user_by_username(session, "officer")
        assert user is not None and user.person_id is not None
        grid = session.scalars(
            select(PoliceGrid)
            .join(GridAssignment, GridAssignment.grid_id == PoliceGrid.id)
            .where(
                GridAssignment.person_id == user.person_id,
                GridAssignment.role == PersonKind.OFFICER,
            )
            .order_by(PoliceGrid.id)
        ).first()
        assert grid is not None
        point = inside(grid)
        person_id = user.person_id
    engine.dispose()
    return point, person_id


def _body(category: str, point: tuple[float, float]) -> dict[str, object]:
    return {"channel": "phone", "category_code": category, "lon": point[0], "lat": point[1]}


def test_api_refuses_impossible_transitions_with_409(
    api: TestClient, county_settings: Settings
) -> None:
    point, officer_id = _demo_officer_spot(county_settings)
    command = bearer(login_token(api, "command"))
    officer = bearer(login_token(api, "officer"))

    created = api.post("/api/v1/incidents", json=_body("0601", point), headers=command)
    assert created.status_code == 201, created.text
    incident = created.json()
    assert incident["status"] == "dispatched"
    [assignment] = incident["assignments"]
    assert assignment["person"]["id"] == officer_id
    aid, iid = assignment["id"], incident["id"]

    early_close = api.post(
        f"/api/v1/incidents/{iid}/close", json={"disposition": "settled"}, headers=command
    )
    assert early_close.status_code == 409
    message = early_close.json()["detail"]
    assert incident["number"] in message
    assert incident_status_label("dispatched") in message
    assert incident_status_label("handled") in message
    assert incident_status_label("accepted") in message  # what may come next

    early_arrive = api.post(f"/api/v1/assignments/{aid}/arrive", headers=officer)
    assert early_arrive.status_code == 409
    assert "accept" in early_arrive.json()["detail"]

    assert api.post(f"/api/v1/assignments/{aid}/accept", headers=officer).status_code == 200
    twice = api.post(f"/api/v1/assignments/{aid}/accept", headers=officer)
    assert twice.status_code == 409
    assert assignment_status_label("accepted") in twice.json()["detail"]

    assert api.post(f"/api/v1/assignments/{aid}/arrive", headers=officer).status_code == 200
    closed = api.post(
        f"/api/v1/incidents/{iid}/close", json={"disposition": "settled"}, headers=officer
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    again = api.post(
        f"/api/v1/incidents/{iid}/close", json={"disposition": "settled"}, headers=officer
    )
    assert again.status_code == 409
    assert incident_status_label("closed") in again.json()["detail"]

    after = api.get(f"/api/v1/incidents/{iid}", headers=command).json()
    assert after["status"] == "closed" and after["disposition"] == "settled"
    assert [t["status"] for t in after["timeline"] if t["kind"] == "status"] == [
        "received",
        "dispatched",
        "accepted",
        "arrived",
        "handled",
        "closed",
    ]


def test_api_received_call_closes_only_as_no_action_or_referred(
    api: TestClient, county_settings: Settings
) -> None:
    command = bearer(login_token(api, "command"))
    # An address only: unplaced, so nobody is dispatched and it stays received.
    body = {"channel": "phone", "category_code": "9902", "address": "城关镇某路口"}
    incident = api.post("/api/v1/incidents", json=body, headers=command).json()
    assert incident["status"] == "received" and incident["needs_attention"]

    refused = api.post(
        f"/api/v1/incidents/{incident['id']}/close",
        json={"disposition": "case"},
        headers=command,
    )
    assert refused.status_code == 409
    assert disposition_label("no_action") in refused.json()["detail"]

    done = api.post(
        f"/api/v1/incidents/{incident['id']}/close",
        json={"disposition": "no_action"},
        headers=command,
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "closed"


def test_api_failed_redispatch_rolls_back_the_withdrawal(
    api: TestClient, county_settings: Settings
) -> None:
    point, officer_id = _demo_officer_spot(county_settings)
    command = bearer(login_token(api, "command"))
    incident = api.post("/api/v1/incidents", json=_body("0601", point), headers=command).json()
    engine = make_engine(county_settings)
    with make_sessionmaker(engine)() as session:
        off = session.scalars(
            select(Person).where(
                Person.station_id
                == select(Person.station_id).where(Person.id == officer_id).scalar_subquery(),
                Person.duty_status == DutyStatus.OFF_DUTY,
                Person.kind == "officer",
            )
        ).first()
        assert off is not None
        off_id = off.id
    engine.dispose()

    refused = api.post(
        f"/api/v1/incidents/{incident['id']}/redispatch",
        json={"person_id": off_id},
        headers=command,
    )
    assert refused.status_code == 409
    assert "not available" in refused.json()["detail"]
    after = api.get(f"/api/v1/incidents/{incident['id']}", headers=command).json()
    assert [(a["person"]["id"], a["status"]) for a in after["assignments"]] == [
        (officer_id, "dispatched")
    ]


# --------------------------------------------------------------------------- dispositions


@pytest.mark.parametrize("disposition", list(Disposition), ids=[d.value for d in Disposition])
def test_every_disposition(county: sessionmaker[Session], disposition: Disposition) -> None:
    with county() as session:
        s = advance(session, IncidentStatus.ARRIVED)
        # A second person still on the way is released too.
        helper = _dispatch_other(session, s)
        assert isinstance(helper, Assignment)

        incidents.handle(
            session, actor=SYSTEM, incident=s.incident, disposition=disposition, note="done"
        )
        session.flush()

        incident = s.incident
        assert incident.status is IncidentStatus.HANDLED
        assert incident.disposition is disposition
        assert incident.disposition_note == "done"
        for a in (s.assignment, helper):
            assert a is not None
            assert a.status is AssignmentStatus.RELEASED and a.released_at is not None
            assert a.person.duty_status is DutyStatus.AVAILABLE
        assert dispatch.active_assignments(session, incident.id) == []

        cases = session.scalars(
            select(CaseRecord).where(CaseRecord.incident_id == incident.id)
        ).all()
        disputes = session.scalars(select(Dispute).where(Dispute.incident_id == incident.id)).all()
        case_no, dispute_no = incidents.linked_records(session, incident.id)
        if disposition is Disposition.CASE:
            [case] = cases
            assert case.station_id == incident.station_id
            assert case.number.startswith("AJ") and case.number == case_no
            assert case.status == "open"
            assert session.scalar(
                select(AuditEvent.id).where(
                    AuditEvent.object_type == "case_record", AuditEvent.object_id == str(case.id)
                )
            )
        else:
            assert cases == [] and case_no is None
        if disposition is Disposition.DISPUTE:
            [dispute] = disputes
            assert dispute.grid_id == incident.grid_id == s.here.grid.id
            assert dispute.station_id == incident.station_id
            assert dispute.category_code == "0601"
            assert dispute.number.startswith("JF") and dispute.number == dispute_no
            assert session.scalar(
                select(AuditEvent.id).where(
                    AuditEvent.object_type == "dispute", AuditEvent.object_id == str(dispute.id)
                )
            )
        else:
            assert disputes == [] and dispute_no is None

        incidents.close(session, actor=SYSTEM, incident=incident)
        assert incident.status is IncidentStatus.CLOSED


# --------------------------------------------------------------------------- re-dispatch


def test_redispatch_withdraws_the_person_en_route(county: sessionmaker[Session]) -> None:
    with county() as session:
        s = advance(session, IncidentStatus.ACCEPTED)
        set_status(session, [s.here.auxiliary], DutyStatus.AVAILABLE)

        new = dispatch.redispatch(
            session, actor=SYSTEM, incident=s.incident, person=s.here.auxiliary, note="closer"
        )
        session.flush()

        assert s.assignment is not None
        assert s.assignment.status is AssignmentStatus.RELEASED
        assert s.here.officer.duty_status is DutyStatus.AVAILABLE
        assert new.person_id == s.here.auxiliary.id
        assert new.status is AssignmentStatus.DISPATCHED
        assert s.here.auxiliary.duty_status is DutyStatus.EN_ROUTE
        assert dispatch.active_assignments(session, s.incident.id) == [new]
        withdrawn = [e for e in _events(session, s.incident) if e.kind == "withdrawn"]
        assert [e.person_id for e in withdrawn] == [s.here.officer.id]
        # The new person carries on along the same timeline.
        incidents.accept(session, actor=SYSTEM, assignment=new)
        incidents.arrive(session, actor=SYSTEM, assignment=new)
        assert s.incident.status is IncidentStatus.ARRIVED


def test_redispatch_keeps_whoever_has_arrived(county: sessionmaker[Session]) -> None:
    with county() as session:
        s = advance(session, IncidentStatus.ARRIVED)
        on_way = _dispatch_other(session, s)
        assert isinstance(on_way, Assignment)
        third = next(
            p
            for p in people_of(session, s.here.station.id)
            if p.team is Team.COMMUNITY and p not in (s.here.officer, s.here.auxiliary)
        )
        set_status(session, [third], DutyStatus.AVAILABLE)

        dispatch.redispatch(session, actor=SYSTEM, incident=s.incident, person=third)
        session.flush()

        assert s.assignment is not None and s.assignment.status is AssignmentStatus.ARRIVED
        assert s.here.officer.duty_status is DutyStatus.ON_SCENE
        assert on_way.status is AssignmentStatus.RELEASED
        assert s.here.auxiliary.duty_status is DutyStatus.AVAILABLE
        assert third.duty_status is DutyStatus.EN_ROUTE


def test_dispatching_a_busy_person_is_refused(county: sessionmaker[Session]) -> None:
    with county() as session:
        first = advance(session, IncidentStatus.DISPATCHED)
        other = _received(session, first.here)
        with pytest.raises(Conflict) as refused:
            dispatch.dispatch_person(
                session, actor=SYSTEM, incident=other, person=first.here.officer
            )
        assert first.here.officer.name in refused.value.message
        assert other.status is IncidentStatus.RECEIVED


# --------------------------------------------------------------------------- reinforcement


def _others(session: Session, st: Station) -> list[Station]:
    return list(
        session.scalars(
            select(Station)
            .where(Station.joint_station_id == st.joint_station_id, Station.id != st.id)
            .order_by(Station.code)
        )
    )


def _community(session: Session, station_id: int) -> list[Person]:
    return [p for p in people_of(session, station_id) if p.team is Team.COMMUNITY]


def test_reinforcement_order_asks_each_other_station(county: sessionmaker[Session]) -> None:
    with county() as session:
        s = advance(session, IncidentStatus.ARRIVED)
        others = _others(session, s.here.station)
        assert len(others) == 3

        order = dispatch.order_reinforcement(session, actor=SYSTEM, incident=s.incident, per_team=3)

        assert order.per_team == 3
        assert order.joint_station_id == s.here.station.joint_station_id
        assert [r.station_id for r in order.requests] == [o.id for o in others]
        assert all(
            r.requested == 3 and r.answer == "pending" and r.sent == 0 for r in order.requests
        )
        assert any(e.kind == "reinforcement" for e in _events(session, s.incident))
        assert session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.object_type == "reinforcement_order",
                AuditEvent.object_id == str(order.id),
            )
        )


def test_reinforcement_answers_and_arrivals(county: sessionmaker[Session]) -> None:
    with county() as session:
        s = advance(session, IncidentStatus.ARRIVED)
        others = _others(session, s.here.station)
        all_off_duty(session, [o.id for o in others])
        few = _community(session, others[0].id)[:2]  # fewer than asked
        many = _community(session, others[1].id)[:6]  # more than asked
        set_status(session, few + many, DutyStatus.AVAILABLE)
        order = dispatch.order_reinforcement(session, actor=SYSTEM, incident=s.incident, per_team=3)
        by_station = {r.station_id: r for r in order.requests}

        sent_few = dispatch.answer_request(session, actor=SYSTEM, request=by_station[others[0].id])
        sent_many = dispatch.answer_request(session, actor=SYSTEM, request=by_station[others[1].id])
        sent_none = dispatch.answer_request(session, actor=SYSTEM, request=by_station[others[2].id])
        session.flush()

        assert {a.person_id for a in sent_few} == {p.id for p in few}
        assert len(sent_many) == 3 and {a.person_id for a in sent_many} <= {p.id for p in many}
        assert sent_none == []
        assert [(r.answer, r.sent) for r in (by_station[o.id] for o in others)] == [
            ("sent", 2),
            ("sent", 3),
            ("declined", 0),
        ]
        assert all(r.answered_at is not None for r in order.requests)
        for a in sent_few + sent_many:
            assert a.reinforcement_request_id in (
                by_station[others[0].id].id,
                by_station[others[1].id].id,
            )
            assert a.person.duty_status is DutyStatus.EN_ROUTE
        with pytest.raises(Conflict):
            dispatch.answer_request(session, actor=SYSTEM, request=by_station[others[0].id])

        request = by_station[others[1].id]
        first, second = sent_many[0], sent_many[1]
        assert request.first_arrival_at is None
        incidents.accept(session, actor=SYSTEM, assignment=first)
        incidents.arrive(session, actor=SYSTEM, assignment=first)
        assert request.first_arrival_at == first.arrived_at is not None
        incidents.accept(session, actor=SYSTEM, assignment=second)
        incidents.arrive(session, actor=SYSTEM, assignment=second)
        assert request.first_arrival_at == first.arrived_at
        assert by_station[others[0].id].first_arrival_at is None
        assert first.person.duty_status is DutyStatus.ON_SCENE


def test_reinforcement_sends_the_nearest_of_the_team(county: sessionmaker[Session]) -> None:
    with county() as session:
        s = advance(session, IncidentStatus.ARRIVED)
        other = _others(session, s.here.station)[0]
        all_off_duty(session, [other.id])
        team = _community(session, other.id)[:4]
        lon, lat = s.here.point
        for i, person in enumerate(reversed(team)):  # the last has the smallest offset
            person.last_lon, person.last_lat = lon, lat + 0.01 * (i + 1)
        set_status(session, team, DutyStatus.AVAILABLE)
        order = dispatch.order_reinforcement(session, actor=SYSTEM, incident=s.incident, per_team=2)
        request = next(r for r in order.requests if r.station_id == other.id)

        sent = dispatch.answer_request(session, actor=SYSTEM, request=request)

        assert [a.person_id for a in sent] == [team[-1].id, team[-2].id]


def test_reinforcement_answer_with_chosen_people_only_takes_its_own(
    county: sessionmaker[Session],
) -> None:
    with county() as session:
        s = advance(session, IncidentStatus.ARRIVED)
        first, second = _others(session, s.here.station)[:2]
        mine = _community(session, first.id)[0]
        stranger = _community(session, second.id)[0]
        set_status(session, [mine, stranger], DutyStatus.AVAILABLE)
        order = dispatch.order_reinforcement(session, actor=SYSTEM, incident=s.incident, per_team=2)
        request = next(r for r in order.requests if r.station_id == first.id)

        sent = dispatch.answer_request(
            session, actor=SYSTEM, request=request, person_ids=[mine.id, stranger.id]
        )

        assert [a.person_id for a in sent] == [mine.id]
        assert stranger.duty_status is DutyStatus.AVAILABLE
        assert request.sent == 1


def test_reinforcement_refused_for_the_independent_urban_station(
    county: sessionmaker[Session],
) -> None:
    with county() as session:
        s = advance(session, IncidentStatus.ARRIVED, station_code="QX-CG")
        with pytest.raises(Conflict) as refused:
            dispatch.order_reinforcement(session, actor=SYSTEM, incident=s.incident, per_team=3)
        assert "joint station" in refused.value.message
        assert session.scalar(select(func.count()).select_from(ReinforcementRequest)) == 0


@pytest.mark.parametrize("per_team", [0, 21])
def test_reinforcement_size_is_checked(county: sessionmaker[Session], per_team: int) -> None:
    with county() as session:
        s = advance(session, IncidentStatus.ARRIVED)
        with pytest.raises(InvalidInput):
            dispatch.order_reinforcement(
                session, actor=SYSTEM, incident=s.incident, per_team=per_team
            )
