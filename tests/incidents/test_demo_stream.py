"""The demo's simulated officers move incidents along, also with two units on scene."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit.service import SYSTEM
from fengqiao.db import utcnow
from fengqiao.demo.stream import _advance, _new_call
from fengqiao.dispatch import service as dispatch
from fengqiao.dispatch.models import AssignmentStatus
from fengqiao.incidents import service as incidents
from fengqiao.incidents.models import Incident, IncidentStatus
from fengqiao.org.models import DutyStatus
from tests.incidents.helpers import report, spot


def test_two_units_on_scene_close_once_and_both_are_released(
    county: sessionmaker[Session],
) -> None:
    with county() as session:
        here = spot(session)
        here.officer.duty_status = here.auxiliary.duty_status = DutyStatus.AVAILABLE
        fire = incidents.create_incident(session, actor=SYSTEM, data=report("0401", here.point))
        units = dispatch.active_assignments(session, fire.incident.id)
        assert len(units) == 2
        for unit in units:
            incidents.accept(session, actor=SYSTEM, assignment=unit)
            incidents.arrive(session, actor=SYSTEM, assignment=unit)
            unit.arrived_at = utcnow() - timedelta(minutes=10)
        _advance(session, random.Random(1))
        assert fire.incident.status is IncidentStatus.CLOSED
        assert {u.status for u in units} == {AssignmentStatus.RELEASED}
        assert {u.person.duty_status for u in units} == {DutyStatus.AVAILABLE}
        _advance(session, random.Random(2))  # nothing left to do, and no error


def test_new_call_is_placed_and_routed(county: sessionmaker[Session]) -> None:
    with county() as session:
        before = session.query(Incident).count()
        _new_call(session, random.Random(3))
        session.flush()
        created = session.query(Incident).order_by(Incident.id.desc()).first()
        assert session.query(Incident).count() == before + 1
        assert created is not None and created.grid_id is not None
        assert created.status in (IncidentStatus.DISPATCHED, IncidentStatus.RECEIVED)
