"""Who may see and finish which incident; masking; time validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.accounts import service as accounts
from fengqiao.accounts.models import Role
from fengqiao.audit.service import SYSTEM
from fengqiao.auth import Principal, build_principal
from fengqiao.dispatch import service as dispatch
from fengqiao.errors import NotFound
from fengqiao.incidents import queries
from fengqiao.incidents import service as incidents
from fengqiao.incidents.models import Disposition, IncidentStatus
from fengqiao.org.models import DutyStatus, Person, PersonKind, Team
from fengqiao.privacy import mask_phone
from tests.incidents.helpers import people_of, report, spot, station


def _principal(session: Session, username: str, role: Role, person: Person) -> Principal:
    user = accounts.create_user(
        session,
        actor=SYSTEM,
        username=username,
        password="Strong-pass-2026",
        role=role,
        personnel_no=person.personnel_no,
    )
    return build_principal(session, user)


def _community(session: Session, station_id: int) -> Person:
    return next(
        p
        for p in people_of(session, station_id)
        if p.team is Team.COMMUNITY and p.kind is PersonKind.OFFICER
    )


def test_unplaced_incident_is_for_dispatchers_only(county: sessionmaker[Session]) -> None:
    with county() as session:
        incident = incidents.create_incident(
            session, actor=SYSTEM, data=report("0601", None, address="不知道哪里")
        ).incident
        here = spot(session)
        officer = _principal(
            session, "someofficer", Role.COMMUNITY_OFFICER, _community(session, here.station.id)
        )
        command = _principal(
            session, "someroom", Role.COMMAND_ROOM, _community(session, here.station.id)
        )
        assert incident.station_id is None
        with pytest.raises(NotFound):
            queries.get_or_raise(session, officer, incident.id)
        assert queries.get_or_raise(session, command, incident.id).id == incident.id


def test_person_sent_from_another_station_can_finish(county: sessionmaker[Session]) -> None:
    with county() as session:
        home = spot(session)  # a rural station of the joint station
        other = next(
            s
            for s in (station(session, c) for c in ("QX-LM", "QX-ML", "QX-SM", "QX-GP"))
            if s.id != home.station.id
        )
        helper = _community(session, other.id)
        helper.duty_status = DutyStatus.AVAILABLE
        for p in people_of(session, home.station.id):
            p.duty_status = DutyStatus.OFF_DUTY
        incident = incidents.create_incident(
            session, actor=SYSTEM, data=report("0601", home.point), route=False
        ).incident
        assignment = dispatch.dispatch_person(
            session, actor=SYSTEM, incident=incident, person=helper
        )
        principal = _principal(session, "helper", Role.COMMUNITY_OFFICER, helper)
        assert helper.station_id not in {home.station.id}
        own = queries.own_assignment_or_raise(session, principal, assignment.id)
        incidents.accept(session, actor=principal.actor, assignment=own)
        incidents.arrive(session, actor=principal.actor, assignment=own)
        seen = queries.get_or_raise(session, principal, incident.id)
        incidents.finish(
            session, actor=principal.actor, incident=seen, disposition=Disposition.SETTLED
        )
        assert incident.status is IncidentStatus.CLOSED
        # Once it is closed and he is released, it is no longer his to see.
        with pytest.raises(NotFound):
            queries.get_or_raise(session, principal, incident.id)


def test_withdrawn_assignment_cannot_be_used(county: sessionmaker[Session]) -> None:
    with county() as session:
        here = spot(session)
        first, second = here.officer, here.auxiliary
        first.duty_status = second.duty_status = DutyStatus.AVAILABLE
        incident = incidents.create_incident(
            session, actor=SYSTEM, data=report("0601", here.point), route=False
        ).incident
        old = dispatch.dispatch_person(session, actor=SYSTEM, incident=incident, person=first)
        dispatch.redispatch(session, actor=SYSTEM, incident=incident, person=second)
        principal = _principal(session, "withdrawn", Role.COMMUNITY_OFFICER, first)
        with pytest.raises(NotFound):
            queries.own_assignment_or_raise(session, principal, old.id)


@pytest.mark.parametrize(
    ("phone", "visible_digits"),
    [("13912345678", 7), ("5912345", 1), ("87654321", 2), ("110", 0), ("0591-87654321", 7)],
)
def test_phone_masking_hides_most_digits(phone: str, visible_digits: int) -> None:
    masked = mask_phone(phone)
    assert len(masked) == len(phone)
    shown = sum(1 for a, b in zip(phone, masked, strict=True) if a == b and a.isdigit())
    assert shown == visible_digits
    assert shown <= max(7, len(phone) // 4)


def test_received_at_must_carry_a_zone_and_not_lie_ahead() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        report("0601", (117.0, 25.1), received_at=datetime(2026, 1, 1, 10, 0))
    with pytest.raises(ValidationError, match="future"):
        report("0601", (117.0, 25.1), received_at=datetime.now(UTC) + timedelta(hours=2))
    ok = report("0601", (117.0, 25.1), received_at=datetime.now(UTC) - timedelta(hours=2))
    assert ok.received_at is not None
