"""Who receives anti-fraud events on the live stream: the person they are for, and the
warning desk of the station (the bureau's unplaced queue: every desk). Not the system
administrator, a case officer or the legal supervisor, who watch incidents."""

from __future__ import annotations

import pytest

from fengqiao.accounts.models import Role
from fengqiao.auth import Principal
from fengqiao.live.bus import Event
from fengqiao.live.routes import visible


def who(
    role: Role, *, person: int | None = 7, stations: frozenset[int] | None = frozenset({1})
) -> Principal:
    grids = frozenset({10}) if role in (Role.AUXILIARY, Role.GRID_WORKER) else None
    return Principal(
        user_id=1,
        username=role.value,
        role=role,
        person_id=person,
        station_ids=stations,
        grid_ids=grids,
    )


FRAUD = Event(1, "fraud_order", 1, 99, {"order": 1})
UNPLACED = Event(2, "fraud_order", None, None, {"order": 2})
INCIDENT = Event(3, "incident", 1, None, {"id": 3})


@pytest.mark.parametrize(
    ("role", "fraud", "unplaced", "incident"),
    [
        (Role.STATION_CHIEF, True, True, True),
        (Role.COMMAND_ROOM, True, True, True),
        (Role.COMMUNITY_OFFICER, False, False, True),
        (Role.CASE_OFFICER, False, False, True),
        (Role.LEGAL_SUPERVISOR, False, False, True),
        (Role.ADMIN, False, False, True),
        (Role.AUXILIARY, False, False, False),
    ],
)
def test_fraud_events_reach_the_desk_only(
    role: Role, fraud: bool, unplaced: bool, incident: bool
) -> None:
    stations = None if role is Role.ADMIN else frozenset({1})
    principal = who(role, stations=stations)
    assert visible(FRAUD, principal) is fraud
    assert visible(UNPLACED, principal) is unplaced
    assert visible(INCIDENT, principal) is incident


def test_the_officer_the_order_is_for_receives_it() -> None:
    assert visible(FRAUD, who(Role.COMMUNITY_OFFICER, person=99)) is True
    assert visible(FRAUD, who(Role.AUXILIARY, person=99)) is True


def test_another_stations_desk_does_not() -> None:
    assert visible(FRAUD, who(Role.COMMAND_ROOM, stations=frozenset({2}))) is False
