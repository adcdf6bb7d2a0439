"""Tests for the demo county's registry and today's tasks (fengqiao.demo.registry)."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fengqiao.clock import at_local, local_day
from fengqiao.db import make_engine, make_sessionmaker, utcnow
from fengqiao.demo.registry import _Builder, build_registry
from fengqiao.org import placement
from fengqiao.org.models import AreaKind, PoliceDistrict, PoliceGrid
from fengqiao.registry.identity import normalise_id_number, normalise_phone
from fengqiao.registry.models import (
    Address,
    AddressLevel,
    DuplicateFlag,
    DuplicateStatus,
    Establishment,
    EstablishmentKind,
    House,
    HouseUse,
    RecordStatus,
    Resident,
    ResidentKind,
)
from fengqiao.registry.parsing import initials, parse_address
from fengqiao.tasks.models import FollowUp, FollowUpStatus, Task, TaskKind
from tests.conftest import sqlite_settings

HOUSEHOLD_LEVELS = (AddressLevel.ROOM, AddressLevel.NUMBER)


@pytest.fixture(scope="module")
def session(demo_template: Path) -> Iterator[Session]:
    """A read-only session on the shared demo database."""
    engine = make_engine(sqlite_settings(demo_template))
    with make_sessionmaker(engine)() as s:
        yield s
        s.rollback()
    engine.dispose()


def _households(session: Session) -> list[tuple[Address, House]]:
    return list(
        session.execute(select(Address, House).join(House, House.address_id == Address.id)).all()
    )


def test_sizes_are_in_the_intended_ranges(session: Session) -> None:
    levels = Counter(session.scalars(select(Address.level)))
    assert levels[AddressLevel.DISTRICT] == 5  # one county node per station
    assert 10 <= levels[AddressLevel.STREET] <= 20
    assert 2500 <= levels[AddressLevel.ROOM] + levels[AddressLevel.NUMBER] <= 8000
    assert 3000 <= sum(levels.values()) <= 12000
    homes = _households(session)
    per_grid = Counter(a.grid_id for a, _h in homes)
    grids = session.scalar(select(func.count(PoliceGrid.id)).where(PoliceGrid.active()))
    assert len(per_grid) == grids
    assert all(40 <= n <= 80 for n in per_grid.values()), per_grid
    uses = Counter(h.use for _a, h in homes)
    assert 0.65 < uses[HouseUse.OWNER_OCCUPIED] / len(homes) < 0.85
    assert 0.08 < uses[HouseUse.RENTED] / len(homes) < 0.22
    assert 0.04 < uses[HouseUse.EMPTY] / len(homes) < 0.16
    residents = session.scalar(select(func.count(Resident.id))) or 0
    assert 1.5 * len(homes) < residents < 3.5 * len(homes)
    kinds = Counter(session.scalars(select(Resident.kind)))
    assert kinds[ResidentKind.REGISTERED] > kinds[ResidentKind.TENANT] > 0
    assert kinds[ResidentKind.FLOATING] > 0
    places = Counter(session.scalars(select(Establishment.grid_id)))
    assert len(places) == grids and all(3 <= n <= 12 for n in places.values())


def test_people_live_in_houses_that_are_not_empty(session: Session) -> None:
    per_address = Counter(session.scalars(select(Resident.address_id)))
    for address, house in _households(session):
        n = per_address[address.id]
        if house.use is HouseUse.EMPTY:
            assert n == 0, address.full_name
        else:
            assert 1 <= n <= 5, address.full_name  # 1–4, plus a planted duplicate
    owners = session.execute(
        select(House.address_id, Resident.address_id, Resident.kind)
        .join(Resident, Resident.id == House.owner_id)
        .where(House.use == HouseUse.OWNER_OCCUPIED)
    ).all()
    assert owners and all(a == b and k is ResidentKind.REGISTERED for a, b, k in owners)
    rented = select(House.address_id).where(House.use == HouseUse.RENTED)
    tenants = Counter(session.scalars(select(Resident.kind).where(Resident.address_id.in_(rented))))
    assert set(tenants) <= {ResidentKind.TENANT, ResidentKind.FLOATING}


def test_personal_numbers_and_names_are_valid(session: Session) -> None:
    rows = session.scalars(select(Resident)).all()
    numbers = {r.id: r.id_number for r in rows if r.id_number is not None}
    assert len(numbers) >= len(rows) - 20
    for number in numbers.values():
        assert normalise_id_number(number) == number
        assert "1940" <= number[6:10] <= "2015"
    for r in rows:
        assert re.fullmatch(r"[\u4e00-\u9fff]{1,2} ?[\u4e00-\u9fff]{1,2}", r.name), r.name
        assert r.initials == initials(r.name, surname=True)
        if r.phone is not None:
            assert re.fullmatch(r"1[3-9]\d{9}", r.phone) and normalise_phone(r.phone) == r.phone
            assert r.phone_tail == r.phone[-4:]
        else:
            assert r.phone_tail is None
    born = {r.id: int(n[6:10]) for r, n in ((r, numbers.get(r.id)) for r in rows) if n}
    assert sum(1 for r in rows if r.phone and born.get(r.id, 0) <= 2006) > 0.6 * len(rows)
    assert not any(r.phone and born.get(r.id, 0) > 2006 for r in rows)


def test_address_tree_is_consistent(session: Session) -> None:
    rows = {a.id: a for a in session.scalars(select(Address))}
    active_grids = set(session.scalars(select(PoliceGrid.id).where(PoliceGrid.active())))
    depth = {level: i for i, level in enumerate(AddressLevel)}
    for a in rows.values():
        assert a.status is RecordStatus.ACTIVE and a.lon is not None and a.lat is not None
        if a.parent_id is None:
            assert a.level is AddressLevel.DISTRICT and a.full_name == a.name
            continue
        parent = rows[a.parent_id]
        assert a.full_name == parent.full_name + a.name
        assert depth[a.level] > depth[parent.level] and a.station_id == parent.station_id
        assert a.grid_id in active_grids, a.full_name
    codes = [a.code for a in rows.values()]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[A-HJ-NP-Z2-9]{10}", c) for c in codes)
    names = Counter((a.station_id, a.parent_id, a.name) for a in rows.values())
    assert max(names.values()) == 1


def test_household_points_lie_in_their_grids(session: Session) -> None:
    homes = _households(session)
    for address, _house in homes[:: max(1, len(homes) // 300)]:
        assert address.lon is not None and address.lat is not None
        place = placement.place_point(session, address.lon, address.lat)
        assert place is not None and place.grid_id == address.grid_id, address.full_name


def test_compound_addresses_parse_back_into_the_tree(session: Session) -> None:
    rooms = session.scalars(
        select(Address).where(Address.level == AddressLevel.ROOM).limit(400)
    ).all()
    assert rooms
    for room in rooms:
        unit = session.get_one(Address, room.parent_id)
        building = session.get_one(Address, unit.parent_id)
        road = session.get_one(Address, building.parent_id)
        parsed = parse_address(road.name + building.name + unit.name + room.name)
        assert parsed.elements() == [
            ("road", road.name),
            ("building", building.name),
            ("unit", unit.name),
            ("room", room.name),
        ]


def test_key_places_are_spread_and_some_are_due(session: Session) -> None:
    places = session.scalars(select(Establishment)).all()
    key = [p for p in places if p.key_place]
    assert len(key) >= 25 and all(p.inspection_every_days for p in key)
    assert not any(p.inspection_every_days for p in places if not p.key_place)
    kinds = Counter(p.kind for p in key)
    for kind in (
        EstablishmentKind.HOTEL,
        EstablishmentKind.INTERNET_CAFE,
        EstablishmentKind.CONSTRUCTION_SITE,
        EstablishmentKind.FINANCIAL,
        EstablishmentKind.HAZARDOUS_GOODS,
    ):
        assert kinds[kind] >= 1, kind
    district_of: dict[int, int] = dict(
        session.execute(select(PoliceGrid.id, PoliceGrid.district_id)).all()
    )
    urban = session.scalars(
        select(PoliceDistrict.id)
        .join(PoliceGrid, PoliceGrid.district_id == PoliceDistrict.id)
        .where(PoliceGrid.kind == AreaKind.URBAN)
        .distinct()
    ).all()
    for district in urban:
        here = {p.kind for p in places if p.grid_id and district_of[p.grid_id] == district}
        assert {EstablishmentKind.SCHOOL, EstablishmentKind.KINDERGARTEN} <= here
    for p in places:
        assert p.initials == initials(p.name)
        assert p.contact_phone and p.phone_tail == p.contact_phone[-4:]
        address = session.get_one(Address, p.address_id)
        assert address.grid_id == p.grid_id and address.station_id == p.station_id
    end_of_today = at_local(local_day(utcnow()) + timedelta(days=1), 0)
    due = [
        p
        for p in key
        if p.last_inspected_at is None
        or p.last_inspected_at + timedelta(days=p.inspection_every_days or 0) <= end_of_today
    ]
    assert due and len(due) < len(key)
    assert any(p.last_inspected_at is None for p in key)


def test_todays_tasks_exist_with_assignees(session: Session) -> None:
    today = local_day(utcnow())
    tasks = session.scalars(select(Task).where(Task.day == today)).all()
    grids = session.scalar(select(func.count(PoliceGrid.id)).where(PoliceGrid.active())) or 0
    assert len({t.grid_id for t in tasks}) == grids
    assert sum(1 for t in tasks if t.assignee_id is not None) >= 0.9 * len(tasks)
    kinds = Counter(t.kind for t in tasks)
    assert kinds[TaskKind.INSPECTION] > 0 and kinds[TaskKind.HOUSEHOLD_VISIT] > 0
    # The registry's revisits (the anti-fraud demo adds its own follow-up visits).
    follow_ups = session.scalars(select(FollowUp).where(FollowUp.target_type == "address")).all()
    assert 30 <= len(follow_ups) <= 150
    for f in follow_ups:
        assert f.target_type == "address" and f.note
        assert f.kind in (TaskKind.HOUSEHOLD_VISIT, TaskKind.DISPUTE_FOLLOW_UP)
        assert today <= f.due_on <= today + timedelta(days=3)
        expected = FollowUpStatus.SCHEDULED if f.due_on == today else FollowUpStatus.PENDING
        assert f.status is expected
    assert any(f.due_on == today for f in follow_ups)
    assert {f.id for f in follow_ups if f.due_on == today} <= {t.follow_up_id for t in tasks}


def test_planted_duplicates_are_flagged(session: Session) -> None:
    flags = session.scalars(
        select(DuplicateFlag).where(DuplicateFlag.status == DuplicateStatus.OPEN)
    ).all()
    assert len(flags) >= 10
    assert {"same_phone", "same_id_number"} <= {f.reason for f in flags}
    for flag in flags:
        a = session.get_one(Resident, flag.first_id)
        b = session.get_one(Resident, flag.second_id)
        assert a.name.replace(" ", "") == b.name.replace(" ", "")


def test_the_plan_is_seeded(session: Session) -> None:
    def plan(seed: int) -> list[str]:
        builder = _Builder(session, seed, utcnow())
        for grid in builder.grids.values():
            builder.households(grid)
        return [n.full_name for n in builder.nodes]

    first = plan(7)
    assert first == plan(7)
    assert first != plan(8)


def test_a_second_build_keeps_the_registry(demo_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    shutil.copy(demo_template, path)
    engine = make_engine(sqlite_settings(path))
    with make_sessionmaker(engine)() as s:
        before = s.scalar(select(func.count(Address.id)))
        assert build_registry(s, seed=1)
        assert s.scalar(select(func.count(Address.id))) == before
    engine.dispose()
