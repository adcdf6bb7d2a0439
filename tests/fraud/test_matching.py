"""The fall-back chain of ``matching.match_many``, step by step, on both backends:
address (room 1.0, door 0.9, road 0.7), resident (ID 0.95, phone 0.85), point (0.8),
fuzzy, community (0.5), station (0.3), none — then the active grid and its person."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rapidfuzz import fuzz
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.db import unit_of_work, utcnow
from fengqiao.fraud import matching
from fengqiao.fraud.matching import Match, Wanted
from fengqiao.fraud.models import MatchStep
from fengqiao.org import placement
from fengqiao.org import service as org_service
from fengqiao.org.models import GridAssignment, PersonKind, PoliceGrid
from fengqiao.registry.models import Address
from fengqiao.registry.parsing import parse_address
from tests.fraud.helpers import Place, id_number, place, resident
from tests.incidents.helpers import grid_person, station

HOME = "清溪县城关街道青石社区幸福路12号3栋2单元301室"
VILLAGE = "清溪县龙门镇白沙村幸福路12号"
FAR_AWAY = (121.47, 31.23)  # Shanghai: outside every grid of the county


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    matching.forget_names()
    placement.invalidate()
    yield
    matching.forget_names()
    placement.invalidate()


def want(
    text: str | None = None,
    *,
    id_number: str | None = None,
    phone: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> Wanted:
    return Wanted(parse_address(text) if text else None, id_number, phone, lon, lat)


def match(session: Session, *wanted: Wanted) -> list[Match]:
    matching.forget_names()  # the road names are cached per database for a minute
    session.flush()
    found = matching.match_many(session, list(wanted))
    assert len(found) == len(wanted)
    return found


def node(session: Session, full_name: str) -> Address:
    return session.scalars(select(Address).where(Address.full_name == full_name)).one()


def prefix(text: str, upto: str) -> str:
    return text[: text.index(upto) + len(upto)]


def assert_placed(m: Match, where: Place, step: MatchStep, confidence: float) -> None:
    assert (m.step, m.confidence) == (step, confidence), m
    assert m.grid_id == where.grid.id, m
    assert m.station_id == where.grid.district.station_id, m
    assert m.assignee_id == where.officer_id, m
    assert m.detail["step"] == step.value and m.detail["confidence"] == confidence


def assert_unplaced(m: Match) -> None:
    assert (m.step, m.confidence) == (MatchStep.NONE, 0.0), m
    assert m.grid_id is None and m.station_id is None and m.assignee_id is None, m
    assert m.address_id is None and m.resident_id is None, m
    assert m.detail["step"] == "none"


# --- 1. the standard address ----------------------------------------------------------

SPELLINGS = [
    "幸福路12号3栋2单元301室",
    "福建省三明市清溪县幸福路12号3栋2单元301室",
    "清溪县城关街道青石社区幸福路12号3栋2单元301",
    "福建省清溪县城关街道幸福路12号3栋2单元301",
    "幸福路12号号3栋二单元301室",  # doubled 号, a Chinese numeral
    "幸福路１２号３栋２单元３０１室",  # full-width digits
    "幸福路十二号三栋二单元三零一室",
    "幸福路12号3-2-301",
    "青石社区幸福路12号3-2-301室",
    " 幸福路 12号 3栋 2单元 301室 ",
]


def test_an_exact_address_is_placed_to_the_room_however_it_is_written(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as s:
        home = place(s, HOME)
        for text, m in zip(SPELLINGS, match(s, *map(want, SPELLINGS)), strict=True):
            assert_placed(m, home, MatchStep.ADDRESS, 1.0)
            assert m.address_id == home.address.id, text
            assert m.detail["address"] == HOME, text
            assert m.detail["normalised"].endswith("幸福路12号3栋2单元301室"), text
            assert (m.lon, m.lat) == (home.lon, home.lat)
        assert home.grid.district.station_id == station(s, "QX-CG").id


def test_an_address_found_to_the_door_or_only_to_the_road(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        home = place(s, HOME)
        unit, number, road = (node(s, prefix(HOME, x)) for x in ("2单元", "12号", "幸福路"))
        cases = [
            ("幸福路12号3栋2单元305室", 0.9, unit),  # the room is not in the registry
            ("幸福路12号7栋", 0.9, number),
            ("幸福路12号", 1.0, number),  # every element given was found
            ("幸福路99号", 0.7, road),
            ("幸福路", 0.7, road),
        ]
        found = match(s, *(want(text) for text, _c, _n in cases))
        for (text, confidence, deepest), m in zip(cases, found, strict=True):
            assert_placed(m, home, MatchStep.ADDRESS, confidence)
            assert m.address_id == deepest.id, text
            assert m.detail["address"] == deepest.full_name, text


def test_the_same_road_in_two_stations_is_told_apart_by_community_or_street(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as s:
        town = place(s, "清溪县城关街道青石社区幸福路12号")
        village = place(s, VILLAGE, station_code="QX-LM")
        assert town.grid.district.station_id != village.grid.district.station_id
        cases = [
            ("青石社区幸福路12号", town),
            ("白沙村幸福路12号", village),
            ("龙门镇幸福路12号", village),
            ("城关街道幸福路12号", town),
            ("福建省清溪县龙门镇白沙村幸福路12号", village),
            ("城关街道青石社区幸福路30号", town),  # road only, but in one grid once narrowed
        ]
        found = match(s, *(want(text) for text, _p in cases))
        for (text, where), m in zip(cases, found, strict=True):
            confidence = 0.7 if "30号" in text else 1.0
            assert_placed(m, where, MatchStep.ADDRESS, confidence)
            if confidence == 1.0:
                assert m.address_id == where.address.id, text


def test_a_tie_between_two_grids_is_not_placed_by_address_and_falls_through(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as s:
        town = place(s, "清溪县城关街道青石社区幸福路12号")
        village = place(s, VILLAGE, station_code="QX-LM")
        number = id_number(7)
        person = resident(s, village, "赵六", number=number, phone=None)
        alone, road, by_person, by_point = match(
            s,
            want("幸福路12号"),
            want("幸福路"),
            want("幸福路12号", id_number=number),
            want("幸福路12号", lon=town.lon, lat=town.lat),
        )
        for m in (alone, road):
            assert_unplaced(m)
            assert "address" not in m.detail
        assert_placed(by_person, village, MatchStep.RESIDENT, 0.95)
        assert by_person.resident_id == person
        assert_placed(by_point, town, MatchStep.POINT, 0.8)


# --- 2. the person in the registry ------------------------------------------------------


def test_the_registry_person_by_id_number_then_phone(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        home = place(s, HOME)
        other = place(s, "和平路8号5栋1单元101室", offset=1)
        assert other.grid.id != home.grid.id
        number, phone = id_number(11), "13812345678"
        person = resident(s, home, "王小明", number=number, phone=phone)
        resident(s, home, "王二明", number=None, phone="13700001111")
        resident(s, other, "王三明", number=None, phone="13700001111")
        found = match(
            s,
            want(id_number=number),
            want(phone=phone),
            want("火星路1号", id_number=number, phone=phone),
            want("和平路99号", id_number=number),  # a road (0.7) elsewhere: the person wins
            want("和平路8号5栋1单元109室", id_number=number),  # the door outranks the person
            want("和平路8号5栋1单元101室", phone=phone),
            want(phone="13700001111"),  # two homes: not placed by phone
            want(id_number=id_number(12), phone="13900000000"),
        )
        by_id, by_phone, unknown_road, road_elsewhere, door, room, shared, nobody = found
        for m, confidence, how in (
            (by_id, 0.95, "id_number"),
            (by_phone, 0.85, "phone"),
            (unknown_road, 0.95, "id_number"),
            (road_elsewhere, 0.95, "id_number"),
        ):
            assert_placed(m, home, MatchStep.RESIDENT, confidence)
            assert (m.resident_id, m.address_id) == (person, home.address.id)
            assert m.detail["by"] == how
            assert (m.lon, m.lat) == (home.lon, home.lat)
            assert "address" not in m.detail
        assert_placed(door, other, MatchStep.ADDRESS, 0.9)
        assert_placed(room, other, MatchStep.ADDRESS, 1.0)
        assert door.resident_id is None and room.resident_id is None
        assert room.address_id == other.address.id
        assert_unplaced(shared)
        assert_unplaced(nobody)


# --- 3. the position ----------------------------------------------------------------------


def test_the_position_sent_with_the_warning(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        home = place(s, HOME)
        other = place(s, "和平路8号", offset=1)
        at = {"lon": other.lon, "lat": other.lat}
        far = {"lon": FAR_AWAY[0], "lat": FAR_AWAY[1]}
        point, road_and_point, door_and_point, outside, outside_community = match(
            s,
            want(**at),
            want("幸福路99号", **at),  # the road (0.7) is less sure than the point
            want("幸福路12号3栋2单元305室", **at),  # the door (0.9) is surer
            want(**far),
            want("青石社区", **far),
        )
        for m in (point, road_and_point):
            assert_placed(m, other, MatchStep.POINT, 0.8)
            assert (m.lon, m.lat) == (other.lon, other.lat)
            assert m.address_id is None and "address" not in m.detail
        assert_placed(door_and_point, home, MatchStep.ADDRESS, 0.9)
        assert_unplaced(outside)
        assert_placed(outside_community, home, MatchStep.COMMUNITY, 0.5)


# --- 4. a name written alike ----------------------------------------------------------------


def test_a_road_or_compound_named_alike(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        compound = place(s, "锦绣江南花园3栋2单元301室")
        home = place(s, HOME, offset=1)
        number = id_number(21)
        resident(s, home, "钱七", number=number, phone=None)
        long_score = fuzz.ratio("锦绣江南花园小区", "锦绣江南花园")
        road_score = fuzz.ratio("幸福里路", "幸福路")
        assert min(long_score, road_score) >= matching.FUZZY_CUTOFF
        assert fuzz.ratio("江南小区", "锦绣江南花园") < matching.FUZZY_CUTOFF
        room, top, road, unlike, person = match(
            s,
            want("锦绣江南花园小区3栋2单元301室"),
            want("锦绣江南花园小区9栋"),
            want("幸福里路12号3栋2单元301室"),
            want("江南小区3栋"),
            want("锦绣江南花园小区3栋", id_number=number),  # the registry comes first
        )
        assert_placed(room, compound, MatchStep.FUZZY, round(0.9 * long_score / 100, 3))
        assert room.address_id == compound.address.id
        assert room.detail["fuzzy"] == {"wrote": "锦绣江南花园小区", "read": "锦绣江南花园"}
        assert room.detail["score"] == round(long_score, 1)
        assert_placed(top, compound, MatchStep.FUZZY, round(0.7 * 0.9 * long_score / 100, 3))
        assert top.address_id == node(s, "锦绣江南花园").id
        assert_placed(road, home, MatchStep.FUZZY, round(0.9 * road_score / 100, 3))
        assert road.address_id == home.address.id
        assert road.detail["fuzzy"] == {"wrote": "幸福里路", "read": "幸福路"}
        assert_unplaced(unlike)
        assert_placed(person, home, MatchStep.RESIDENT, 0.95)
        assert "fuzzy" not in person.detail


# --- 5. the community; 6. the station; 7. nothing ----------------------------------------


def test_the_community_centre_when_the_road_is_unknown(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        home = place(s, HOME)
        community = node(s, prefix(HOME, "青石社区"))
        texts = ["青石社区和平路3号", "城关街道青石社区", "龙门镇青石社区"]
        known_road, named, wrong_town = match(s, *map(want, texts))
        for m in (known_road, named):
            assert_placed(m, home, MatchStep.COMMUNITY, 0.5)
            assert m.address_id == community.id
            assert m.detail["address"] == community.full_name
            assert (m.lon, m.lat) == (community.lon, community.lat)
        assert_unplaced(wrong_town)  # no 青石社区 in a town 龙门镇, and no such town
        # A community without a position of its own: the middle of its addresses.
        community.lon = community.lat = None
        (centre,) = match(s, want("青石社区和平路3号"))
        assert_placed(centre, home, MatchStep.COMMUNITY, 0.5)
        assert centre.lon == pytest.approx(home.lon) and centre.lat == pytest.approx(home.lat)


def test_the_station_of_the_street_or_town_without_a_grid(county: sessionmaker[Session]) -> None:
    with unit_of_work(county) as s:
        place(s, HOME)
        place(s, VILLAGE, station_code="QX-LM")
        town, village = match(s, want("城关街道和平路3号"), want("龙门镇和平路3号"))
        for m, code in ((town, "QX-CG"), (village, "QX-LM")):
            assert (m.step, m.confidence) == (MatchStep.STATION, 0.3), m
            assert m.station_id == station(s, code).id
            assert m.grid_id is None and m.assignee_id is None and m.address_id is None
            assert m.detail["step"] == "station"


def test_nothing_found_records_a_district_outside_the_area(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as s:
        place(s, HOME)
        elsewhere, inside, no_address = match(
            s,
            want("浙江省杭州市西湖区文三路90号", phone="13912345678"),
            want("清溪县文三路90号"),
            want(phone="13912345678"),
        )
        for m in (elsewhere, inside, no_address):
            assert_unplaced(m)
        assert elsewhere.detail["outside"] == "西湖区"
        assert elsewhere.detail["normalised"] == "浙江省杭州市西湖区文三路90号"
        assert "outside" not in inside.detail
        assert "outside" not in no_address.detail and "normalised" not in no_address.detail


# --- the grid and its responsible person -----------------------------------------------------


def successor(session: Session, old: PoliceGrid) -> PoliceGrid:
    """Redraw ``old`` as a grid layout does: retire it, carry it on in a new row, move
    its team (addresses keep the retired grid's id)."""
    old.retired_at = utcnow()
    session.flush()
    new = PoliceGrid(
        code=old.code,
        name=old.name,
        district_id=old.district_id,
        kind=old.kind,
        population=old.population,
        places=old.places,
        geometry=old.geometry,
        min_lon=old.min_lon,
        min_lat=old.min_lat,
        max_lon=old.max_lon,
        max_lat=old.max_lat,
        replaces_id=old.id,
    )
    session.add(new)
    session.flush()
    session.execute(
        update(GridAssignment).where(GridAssignment.grid_id == old.id).values(grid_id=new.id)
    )
    placement.invalidate()
    return new


def test_a_retired_grid_is_followed_to_its_active_successor(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as s:
        home = place(s, HOME)
        gone = place(s, "和平路8号", offset=1)
        first = successor(s, home.grid)
        (m,) = match(s, want(HOME))
        assert (m.step, m.grid_id, m.assignee_id) == (MatchStep.ADDRESS, first.id, home.officer_id)
        assert m.station_id == home.grid.district.station_id
        second = successor(s, first)  # redrawn twice: the address still names the first row
        assert node(s, HOME).grid_id == home.grid.id
        by_address, by_point = match(s, want(HOME), want(lon=home.lon, lat=home.lat))
        for found in (by_address, by_point):
            assert found.grid_id == second.id, found
            assert found.assignee_id == home.officer_id
        # A grid dropped without a successor: no grid, nobody to send it to.
        gone.grid.retired_at = utcnow()
        placement.invalidate()
        (dropped,) = match(s, want("和平路8号"))
        assert dropped.grid_id is None and dropped.assignee_id is None


def test_the_responsible_person_is_the_officer_else_the_auxiliary_else_nobody(
    county: sessionmaker[Session],
) -> None:
    with unit_of_work(county) as s:
        home = place(s, HOME)
        auxiliary = grid_person(s, home.grid.id, PersonKind.AUXILIARY)
        assert auxiliary is not None and auxiliary.id != home.officer_id
        assert match(s, want(HOME))[0].assignee_id == home.officer_id
        assert org_service.grid_responsible(s, {home.grid.id}) == {home.grid.id: home.officer_id}
        for role, expected in (
            (PersonKind.OFFICER, auxiliary.id),
            (PersonKind.AUXILIARY, None),
        ):
            s.execute(
                delete(GridAssignment).where(
                    GridAssignment.grid_id == home.grid.id, GridAssignment.role == role
                )
            )
            (m,) = match(s, want(HOME))
            assert (m.step, m.grid_id, m.assignee_id) == (MatchStep.ADDRESS, home.grid.id, expected)
            assert m.station_id == home.grid.district.station_id
