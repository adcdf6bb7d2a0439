"""The demo county's registry (一标三实): a standard-address tree per station, the people
and houses at sampled households, establishments with key places due for inspection,
follow-ups falling due in the next days and a few planted likely duplicates.

Built from the imported stations, districts, grids, civil grids and planning units, seeded
and fast: rows go in with bulk inserts, level by level, without provenance or audit rows
(demo data, not anybody's change). A database that already has addresses is left alone.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fengqiao import models as _every_model  # noqa: F401  (foreign keys of bulk inserts)
from fengqiao.clock import local_day
from fengqiao.db import utcnow
from fengqiao.demo.names import (
    CN_ORDINALS,
    GIVEN_FEMALE,
    GIVEN_MALE,
    SURNAME_WEIGHTS,
    SURNAMES,
    NameMaker,
)
from fengqiao.grids.models import PlanningUnit
from fengqiao.i18n import _
from fengqiao.org import placement
from fengqiao.org.models import AreaKind, Bureau, CivilGrid, PoliceDistrict, PoliceGrid, Station
from fengqiao.registry import addresses, duplicates
from fengqiao.registry import service as registry
from fengqiao.registry.identity import check_character
from fengqiao.registry.models import (
    LEVEL_ORDER,
    Address,
    AddressLevel,
    Establishment,
    EstablishmentKind,
    House,
    HouseUse,
    RecordStatus,
    Resident,
    ResidentKind,
)
from fengqiao.registry.parsing import initials
from fengqiao.registry.people import DEFAULT_INSPECTION_DAYS
from fengqiao.tasks.models import FollowUp, FollowUpStatus, TaskKind

HOUSEHOLDS_PER_GRID = (40, 80)
BATCH = 2000
URBAN_STREETS = ["城关街道", "城东街道", "城南街道", "城西街道", "城北街道"]
# Compound names (小区/花园 …) that the address parser reads back as one compound.
_STEMS = (
    "幸福锦绣阳光金桥名门御景碧水桂花紫荆龙泉凤凰东方华府滨江书香和谐盛世江南丽景银河怡景"
    "金色春晖康乐文华世纪富华兴业香樟翠竹嘉禾天悦明珠金山水岸福馨翠湖晨曦美林万福安居聚龙"
    "溪畔锦华鸿福绿洲沁心福泰"
)
COMPOUND_STEMS = [_STEMS[i : i + 2] for i in range(0, len(_STEMS), 2)]
COMPOUND_SUFFIXES = ["小区", "小区", "花园", "家园", "名苑", "雅苑", "公寓"]  # not 新村: a 村
REGISTERED_REGIONS = ["420222", "420222", "420222", "420281"]  # 阳新县, 大冶市 (湖北)
OTHER_REGIONS = ["421023", "420683", "430524", "360731", "511623", "350821", "420921"]
FOLLOW_UP_NOTES = {
    TaskKind.DISPUTE_FOLLOW_UP: [
        "邻里噪音纠纷调解后回访，了解双方是否遵守调解协议。",
        "宅基地边界纠纷已调解，回访确认无反复。",
        "家庭矛盾调解后回访，关注当事人情绪变化。",
        "房屋租金纠纷调解后回访房东与租客。",
    ],
    TaskKind.HOUSEHOLD_VISIT: [
        "独居老人，定期上门关怀，提醒防范电信诈骗。",
        "新迁入住户，核实人员信息并登记。",
        "出租屋新入住租客，核实身份信息。",
        "反诈劝阻后回访，确认未再向陌生账户转账。",
    ],
}
URBAN_SCHOOLS = ["实验小学", "城关第二小学", "第一中学", "城关第三小学", "第二中学"]
URBAN_KINDERGARTENS = ["实验幼儿园", "第二幼儿园", "第三幼儿园", "第四幼儿园", "第五幼儿园"]
SHOPS = ["副食店", "便利店", "五金店", "水果店", "理发店", "大药房", "超市", "建材店", "农资店"]
RESTAURANTS = ["面馆", "小吃店", "饭店", "土菜馆", "早餐店", "烧烤店", "快餐店"]
HOTEL_STEMS = ["金都", "华府", "鑫源", "悦来", "聚福", "天和", "溪畔", "锦程"]
CAFE_STEMS = ["极速", "星空", "风云", "天翼", "电竞", "蓝海"]


@dataclass(eq=False)
class _Node:
    parent: _Node | None
    level: AddressLevel
    name: str
    full_name: str
    station_id: int
    grid_id: int | None
    lon: float | None
    lat: float | None
    last_visited_at: datetime | None = None
    id: int = 0


@dataclass
class _Person:
    name: str
    male: bool
    born: date
    kind: ResidentKind
    regions: Sequence[str]
    id_number: str | None = None
    phone: str | None = None


@dataclass
class _Household:
    node: _Node
    use: HouseUse
    people: list[_Person] = field(default_factory=list)


@dataclass
class _Unit:  # a planning unit: compound or village group
    name: str
    population: int
    geom: BaseGeometry


@dataclass
class _Grid:
    id: int
    station_id: int
    district_id: int
    kind: AreaKind
    name: str
    places: list[str]
    geom: BaseGeometry
    units: list[_Unit] = field(default_factory=list)
    households: list[_Household] = field(default_factory=list)
    key_places: list[EstablishmentKind] = field(default_factory=list)


Point = tuple[float, float]
ACTIVE, REGISTERED = RecordStatus.ACTIVE, ResidentKind.REGISTERED
_NODE_COLUMNS = "level name full_name station_id grid_id lon lat last_visited_at".split()  # noqa: SIM905


def _point(geom: BaseGeometry) -> Point:
    p = geom.representative_point()
    return round(p.x, 6), round(p.y, 6)


def _village_group(unit: _Unit, grid: _Grid) -> tuple[str, int]:
    """(village, group number) of a rural planning unit named like 东墩村第2组."""
    m = re.match(r"^(.+村)第(\d+)组$", unit.name)
    return (m.group(1), int(m.group(2))) if m else (grid.places[0], 1)


class _Builder:
    """Plans every row in memory (seeded), then writes them level by level."""

    def __init__(self, session: Session, seed: int, now: datetime) -> None:
        self.session, self.now, self.today = session, now, local_day(now)
        self.rnd = random.Random(f"registry-{seed}")
        self.np = np.random.default_rng([seed, 97])
        self.names = NameMaker(self.rnd)
        self.nodes: list[_Node] = []
        self.index: dict[tuple[int, int, str], _Node] = {}
        self.streets: dict[int, _Node] = {}
        self.ids: set[str] = set()
        self.place_rows: list[dict[str, Any]] = []
        self.place_names: set[str] = set()
        self.follow_ups: list[dict[str, Any]] = []
        self.duplicates: list[tuple[_Person, _Household]] = []
        self.compound_names: dict[int, list[str]] = {}
        self.nth: dict[tuple[int, EstablishmentKind], int] = {}
        self._load()

    def _load(self) -> None:
        s = self.session
        bureau = s.scalar(select(Bureau.name).order_by(Bureau.id).limit(1)) or ""
        self.county = bureau.removesuffix("公安局") if bureau.endswith("县公安局") else "清溪县"
        self.stations = {st.id: st for st in s.scalars(select(Station))}
        self.districts = {d.id: d for d in s.scalars(select(PoliceDistrict))}
        self.grids: dict[int, _Grid] = {}
        for g in s.scalars(select(PoliceGrid).where(PoliceGrid.active()).order_by(PoliceGrid.id)):
            places = [p for p in (g.places or "").split(";") if p]
            station_id = self.districts[g.district_id].station_id
            self.grids[g.id] = _Grid(
                g.id, station_id, g.district_id, g.kind, g.name, places, g.geometry
            )
        for u in s.scalars(select(PlanningUnit).order_by(PlanningUnit.code)):
            if u.grid_id in self.grids:
                self.grids[u.grid_id].units.append(_Unit(u.name, u.population, u.geometry))
        # Community → police grid and point of its first civil grid.
        self.civil: dict[tuple[int, str], tuple[int, Point]] = {}
        for c in s.scalars(select(CivilGrid).order_by(CivilGrid.code)):
            grid = self.grids.get(c.police_grid_id)
            if grid is not None and (grid.station_id, c.community) not in self.civil:
                where = _point(c.geometry if c.geometry is not None else grid.geom)
                self.civil[(grid.station_id, c.community)] = (grid.id, where)

    # ------------------------------------------------------------------ addresses

    def node(
        self,
        parent: _Node | None,
        level: AddressLevel,
        name: str,
        grid_id: int | None,
        where: Point | None,
        station_id: int = 0,
    ) -> _Node:
        """The child ``name`` of ``parent`` (same station), created on first use."""
        station_id = parent.station_id if parent else station_id
        key = (station_id, id(parent), name)
        found = self.index.get(key)
        if found is None:
            full = (parent.full_name if parent else "") + name
            lon, lat = where if where else (None, None)
            found = _Node(parent, level, name, full, station_id, grid_id, lon, lat)
            self.index[key] = found
            self.nodes.append(found)
        return found

    def points(self, geom: BaseGeometry, n: int) -> list[Point]:
        minx, miny, maxx, maxy = geom.bounds
        out: list[Point] = []
        while len(out) < n:
            cand = self.np.uniform((minx, miny), (maxx, maxy), size=(4 * n + 8, 2))
            inside = cand[shapely.contains_xy(geom, cand[:, 0], cand[:, 1])]
            out.extend((round(float(x), 6), round(float(y), 6)) for x, y in inside)
        return out[:n]

    def street(self, grid: _Grid) -> _Node:
        """The street (街道, or 镇/乡 in the country) of the grid's police district, under
        the county node of its station."""
        if grid.district_id in self.streets:
            return self.streets[grid.district_id]
        station = self.stations[grid.station_id]
        where = _point(station.geometry) if station.geometry is not None else None
        county = self.node(None, AddressLevel.DISTRICT, self.county, None, where, station.id)
        district = self.districts[grid.district_id]
        number = int(district.code.rsplit("-D", 1)[-1]) if "-D" in district.code else 1
        if station.kind is AreaKind.URBAN:
            name = URBAN_STREETS[(number - 1) % len(URBAN_STREETS)]
        elif number == 1:  # the township seat
            name = station.name.removesuffix("派出所") + "镇"
        else:
            name = district.name.removesuffix("警务区") + "乡"
        where = _point(district.geometry if district.geometry is not None else grid.geom)
        place = placement.place_point(self.session, *where)
        home = place.grid_id if place is not None else grid.id
        self.streets[grid.district_id] = self.node(county, AddressLevel.STREET, name, home, where)
        return self.streets[grid.district_id]

    def community(self, grid: _Grid, name: str) -> _Node:
        grid_id, where = self.civil.get((grid.station_id, name), (grid.id, _point(grid.geom)))
        return self.node(self.street(grid), AddressLevel.COMMUNITY, name, grid_id, where)

    def compound_name(self, station_id: int) -> str:
        if not self.compound_names.get(station_id):
            pool = list(dict.fromkeys(a + b for a in COMPOUND_STEMS for b in COMPOUND_SUFFIXES))
            self.rnd.shuffle(pool)
            self.compound_names[station_id] = pool
        return self.compound_names[station_id].pop()

    def households(self, grid: _Grid) -> None:
        """40–80 households in the grid's most populous units."""
        target = self.rnd.randint(*HOUSEHOLDS_PER_GRID)
        units = sorted(grid.units, key=lambda u: -u.population)[: max(4, len(grid.units) // 2)]
        self.rnd.shuffle(units)
        made = 0
        for unit in units:
            if made >= target:
                break
            if grid.kind is AreaKind.URBAN:
                made += self.compound(grid, unit, target - made)
            else:
                made += self.village_group(grid, unit, target - made)

    def compound(self, grid: _Grid, unit: _Unit, room_for: int) -> int:
        """A compound (road level) with sampled rooms of 1–3 buildings × 1–2 units × 4–6
        floors × 2 rooms; rooms share their building's point."""
        m = re.match(r"^(.+?)\d+号小区$", unit.name)
        community = self.community(grid, m.group(1) + "社区" if m else grid.places[0])
        name = self.compound_name(grid.station_id)
        road = self.node(community, AddressLevel.ROAD, name, grid.id, _point(unit.geom))
        r = self.rnd
        nb, nu, nf = r.randint(1, 3), r.randint(1, 2), r.randint(4, 6)
        doors = [(b, u, f, k) for b in range(1, nb + 1) for u in range(1, nu + 1)
                 for f in range(1, nf + 1) for k in (1, 2)]  # fmt: skip
        chosen = sorted(r.sample(doors, min(len(doors), r.randint(8, 16), room_for)))
        spots = self.points(unit.geom, nb)
        for b, u, f, k in chosen:
            at = spots[b - 1]
            building = self.node(road, AddressLevel.BUILDING, f"{b}栋", grid.id, at)
            door = self.node(building, AddressLevel.UNIT, f"{u}单元", grid.id, at)
            self.household(grid, self.node(door, AddressLevel.ROOM, f"{f}0{k}室", grid.id, at))
        return len(chosen)

    def village_group(self, grid: _Grid, unit: _Unit, room_for: int) -> int:
        road = self.group_road(grid, unit)
        numbers = sorted(self.rnd.sample(range(1, 41), min(room_for, self.rnd.randint(5, 15))))
        for number, at in zip(numbers, self.points(unit.geom, len(numbers)), strict=True):
            self.household(grid, self.node(road, AddressLevel.NUMBER, f"{number}号", grid.id, at))
        return len(numbers)

    def group_road(self, grid: _Grid, unit: _Unit) -> _Node:
        village, group = _village_group(unit, grid)
        where = _point(unit.geom)
        return self.node(
            self.community(grid, village), AddressLevel.ROAD, f"{group}组", grid.id, where
        )

    # ------------------------------------------------------------------ people

    def household(self, grid: _Grid, node: _Node) -> None:
        r = self.rnd
        use = r.choices(list(HouseUse), weights=[75, 15, 10])[0]
        if r.random() < 0.55:
            node.last_visited_at = self.now - timedelta(days=r.uniform(5, 200))
        home = _Household(node, use)
        if use is HouseUse.OWNER_OCCUPIED:
            home.people = self.family(r.choices([1, 2, 3, 4], weights=[15, 35, 30, 20])[0])
        elif use is HouseUse.RENTED:
            home.people = self.tenants(r.choices([1, 2, 3], weights=[40, 40, 20])[0])
        for person in home.people:
            self.complete(person)
        grid.households.append(home)

    def person(
        self, male: bool, year: int, kind: ResidentKind, surname: str | None = None
    ) -> _Person:
        r = self.rnd
        surname = surname or r.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
        given = "".join(r.choices(GIVEN_MALE if male else GIVEN_FEMALE, k=r.choice([1, 2, 2])))
        year = min(max(year, 1940), 2015)
        born = date(year, 1, 1) + timedelta(days=r.randrange(365))
        local = kind is ResidentKind.REGISTERED
        return _Person(
            surname + given, male, born, kind, REGISTERED_REGIONS if local else OTHER_REGIONS
        )

    def family(self, size: int) -> list[_Person]:
        """Head, spouse, then children (or an elderly parent), all registered but for a
        relative now and then."""
        r, registered = self.rnd, REGISTERED
        male, year = r.random() < 0.75, r.randint(1945, 1995)
        people = [self.person(male, year, registered)]
        if size >= 2:
            people.append(self.person(not male, year + r.randint(-4, 4), registered))
        family_name = (people[0] if male or size == 1 else people[1]).name[0]
        while len(people) < size:
            born = year + r.randint(22, 35)
            born = born if born <= 2015 else year - r.randint(24, 32)
            kind = ResidentKind.FLOATING if r.random() < 0.1 else registered
            people.append(self.person(r.random() < 0.5, born, kind, family_name))
        return people

    def tenants(self, size: int) -> list[_Person]:
        r = self.rnd
        kind = ResidentKind.TENANT if r.random() < 0.75 else ResidentKind.FLOATING
        male, year = r.random() < 0.6, r.randint(1965, 2003)
        people = [self.person(male, year, kind)]
        if size >= 2:
            people.append(self.person(not male, year + r.randint(-4, 4), kind))
        if size >= 3:
            people.append(self.person(r.random() < 0.5, year + r.randint(22, 32), kind))
        return people

    def complete(self, person: _Person) -> None:
        """Identity number (GB 11643, odd sequence for men) and, for adults, a mobile."""
        while True:
            seq = self.rnd.randrange(500) * 2 + (1 if person.male else 0)
            first17 = f"{self.rnd.choice(person.regions)}{person.born:%Y%m%d}{seq:03d}"
            if first17 not in self.ids:
                self.ids.add(first17)
                break
        person.id_number = first17 + check_character(first17)
        if person.born.year <= 2006 and (person.born.year >= 1950 or self.rnd.random() < 0.5):
            person.phone = self.names.phone()

    def plant_duplicates(self, grids: list[_Grid]) -> None:
        """Three people per station entered twice: the same name (once with a space in
        it) and phone at the same address without the identity number, or the same
        identity number at a second address."""
        by_station: dict[int, list[_Household]] = {}
        for grid in grids:
            for home in grid.households:
                if any(p.phone for p in home.people):
                    by_station.setdefault(grid.station_id, []).append(home)
        for homes in by_station.values():
            for n, home in enumerate(self.rnd.sample(homes, min(3, len(homes)))):
                person = next(p for p in home.people if p.phone)
                twin = _Person(person.name, person.male, person.born, person.kind, person.regions)
                twin.phone = person.phone
                if n == 0 and len(person.name) == 3:
                    twin.name = f"{person.name[0]} {person.name[1:]}"
                if n == 2:
                    twin.id_number, twin.phone = person.id_number, None
                    home = self.rnd.choice([h for h in homes if h.use is home.use])
                self.duplicates.append((twin, home))

    # ------------------------------------------------------------------ places

    def plan_key_places(self, grids: list[_Grid]) -> None:
        """A school and a kindergarten per urban district and rural station; the other
        key places spread over the county."""
        urban = [g for g in grids if g.kind is AreaKind.URBAN] or grids
        k = EstablishmentKind
        for district in sorted({g.district_id for g in urban}):
            mine = [g for g in urban if g.district_id == district]
            for kind in (k.SCHOOL, k.KINDERGARTEN):
                self.rnd.choice(mine).key_places.append(kind)
        city = [k.HOTEL] * 3 + [k.INTERNET_CAFE] * 3 + [k.CONSTRUCTION_SITE] * 2
        city += [k.FINANCIAL] * 2 + [k.HAZARDOUS_GOODS, k.HOSPITAL, k.ENTERTAINMENT]
        for kind in city:
            self.rnd.choice(urban).key_places.append(kind)
        for station in sorted({g.station_id for g in grids} - {g.station_id for g in urban}):
            mine = [g for g in grids if g.station_id == station]
            for kind in (k.SCHOOL, k.KINDERGARTEN, k.FINANCIAL, k.HAZARDOUS_GOODS, k.HOTEL):
                self.rnd.choice(mine).key_places.append(kind)

    def place_name(self, kind: EstablishmentKind, grid: _Grid, road: _Node) -> str:
        r, k = self.rnd, EstablishmentKind
        urban = grid.kind is AreaKind.URBAN
        town = "城关" if urban else self.stations[grid.station_id].name.removesuffix("派出所")
        seat = self.county.removesuffix("县")
        nth = self.nth[(grid.station_id, kind)] = self.nth.get((grid.station_id, kind), -1) + 1
        surname = r.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
        names = {
            k.SCHOOL: self.county + URBAN_SCHOOLS[nth % 5] if urban else f"{town}中心小学",
            k.KINDERGARTEN: self.county + URBAN_KINDERGARTENS[nth % 5]
            if urban
            else f"{town}中心幼儿园",
            k.HOTEL: r.choice(HOTEL_STEMS) + r.choice(["宾馆", "大酒店", "商务酒店", "快捷酒店"]),
            k.INTERNET_CAFE: f"{r.choice(CAFE_STEMS)}网咖",
            k.CONSTRUCTION_SITE: f"{r.choice(COMPOUND_STEMS)}花园{CN_ORDINALS[(nth + 1) % 9]}期项目工地",
            k.FINANCIAL: f"{seat}农村商业银行{town}{'' if nth == 0 else '东城'}支行",
            k.HAZARDOUS_GOODS: f"中国石化{seat}{town}加油站",
            k.HOSPITAL: f"{self.county}人民医院",
            k.ENTERTAINMENT: f"{r.choice(['金色年华', '欢乐时光', '星光'])}KTV",
            k.SHOP: f"{surname}记{r.choice(SHOPS)}",
            k.RESTAURANT: f"{surname}记{r.choice(RESTAURANTS)}",
        }
        name = names.get(kind, road.name + kind.value)
        if name in self.place_names:  # 南门陈记饭店 beside 陈记饭店
            community = road.parent.name if road.parent else ""
            name = community.removesuffix("社区").removesuffix("村") + name
        self.place_names.add(name)
        return name

    def establishments(self, grid: _Grid) -> None:
        """3–8 places per grid at their own door numbers: the key places planned for the
        grid, then shops and restaurants."""
        r = self.rnd
        kinds = list(grid.key_places)
        while len(kinds) < r.randint(3, 8):
            kinds.append(r.choice([EstablishmentKind.SHOP, EstablishmentKind.RESTAURANT]))
        for kind in kinds:
            if grid.kind is AreaKind.URBAN:  # the grid's road (南门长安街警格 → 长安街)
                street = grid.name.removesuffix("警格")
                place = next((p for p in grid.places if street.startswith(p[:-2])), "")
                street = street[len(place) - 2 :] if place else street
                community = self.community(grid, place or grid.places[0])
                road = self.node(community, AddressLevel.ROAD, street, grid.id, _point(grid.geom))
                geom, first = grid.geom, 1
            else:
                unit = r.choice(grid.units)
                road, geom, first = self.group_road(grid, unit), unit.geom, 41
            number = f"{r.randrange(first, first + 200)}号"
            while (grid.station_id, id(road), number) in self.index:
                number = f"{r.randrange(first, first + 200)}号"
            at = self.points(geom, 1)[0]
            door = self.node(road, AddressLevel.NUMBER, number, grid.id, at)
            name = self.place_name(kind, grid, road)
            every = DEFAULT_INSPECTION_DAYS.get(kind)
            last = None
            if every is not None and r.random() > 0.15:
                last = self.now - timedelta(days=r.uniform(0, 40))
            phone, contact = self.names.phone(), self.person(r.random() < 0.6, 1980, REGISTERED)
            row = dict(name=name, kind=kind, key_place=every is not None, _node=door)
            row |= dict(inspection_every_days=every, last_inspected_at=last, status=ACTIVE)
            row |= dict(station_id=grid.station_id, grid_id=grid.id, lon=at[0], lat=at[1])
            row |= dict(contact_name=contact.name, contact_phone=phone, phone_tail=phone[-4:])
            row |= dict(initials=initials(name)[:40], terms=registry.terms(self.session, name))
            self.place_rows.append(row)

    def follow_up(self, grid: _Grid) -> None:
        """About one visit per grid falling due today or in the next three days."""
        homes = [h for h in grid.households if h.people]
        for home in self.rnd.sample(homes, min(len(homes), self.rnd.choice([0, 1, 1, 1, 2]))):
            kind = self.rnd.choice([TaskKind.HOUSEHOLD_VISIT, TaskKind.DISPUTE_FOLLOW_UP])
            due_on = self.today + timedelta(days=self.rnd.choice([0, 0, 1, 2, 3]))
            node, note = home.node, self.rnd.choice(FOLLOW_UP_NOTES[kind])
            row = dict(kind=kind, station_id=grid.station_id, grid_id=grid.id, due_on=due_on)
            row |= dict(target_type="address", _node=node, target_label=node.full_name)
            row |= dict(lon=node.lon, lat=node.lat, note=note, status=FollowUpStatus.PENDING)
            self.follow_ups.append(row)

    # ------------------------------------------------------------------ writing

    def write(self) -> dict[str, int]:
        """Bulk inserts without RETURNING (slow in bulk on SQLite); ids are read back by
        the unique doorplate code and identity number."""
        s = self.session
        codes: dict[str, _Node] = {}
        for level in LEVEL_ORDER:
            rows = []
            for n in (n for n in self.nodes if n.level is level):
                code = addresses.new_code()
                while code in codes:
                    code = addresses.new_code()
                codes[code] = n
                row = {c: getattr(n, c) for c in _NODE_COLUMNS}
                parent_id = n.parent.id if n.parent else None
                terms = registry.terms(s, n.full_name)
                rows.append(row | dict(parent_id=parent_id, code=code, terms=terms, status=ACTIVE))
            self._insert(Address, rows)
            query = select(Address.code, Address.id).where(Address.level == level)
            for code, new_id in s.execute(query):
                codes[code].id = new_id
        homes = [h for g in self.grids.values() for h in g.households]
        people = [(p, h) for h in homes for p in h.people]
        self._insert(Resident, [self._resident(p, h) for p, h in people])
        ids = dict(s.execute(select(Resident.id_number, Resident.id)).all())
        twins = [Resident(**self._resident(p, h)) for p, h in self.duplicates]
        s.add_all(twins)
        s.flush()
        houses = []
        for h in homes:
            owner = ids[h.people[0].id_number] if h.use is HouseUse.OWNER_OCCUPIED else None
            where = dict(station_id=h.node.station_id, grid_id=h.node.grid_id)
            houses.append(dict(address_id=h.node.id, use=h.use, owner_id=owner, **where))
        self._insert(House, houses)
        for row in self.place_rows:
            row["address_id"] = row.pop("_node").id
        self._insert(Establishment, self.place_rows)
        for row in self.follow_ups:
            row["target_id"] = row.pop("_node").id
        self._insert(FollowUp, self.follow_ups)
        flags = sum(duplicates.flag_resident(s, twin) for twin in twins)
        return {
            "addresses": len(self.nodes),
            "households": len(homes),
            "residents": len(people) + len(twins),
            "establishments": len(self.place_rows),
            "key": sum(1 for e in self.place_rows if e["key_place"]),
            "follow_ups": len(self.follow_ups),
            "flags": flags,
        }

    def _resident(self, p: _Person, h: _Household) -> dict[str, Any]:
        row: dict[str, Any] = dict(
            name=p.name, id_number=p.id_number, phone=p.phone, kind=p.kind, status=ACTIVE
        )
        row |= dict(address_id=h.node.id, station_id=h.node.station_id, grid_id=h.node.grid_id)
        row["initials"] = initials(p.name, surname=True)[:20]
        row["phone_tail"] = p.phone[-4:] if p.phone else None
        row["terms"] = registry.terms(self.session, p.name)
        return row

    def _insert(self, model: Any, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), BATCH):
            # Core executemany: one statement per batch, whichever values are None.
            self.session.execute(model.__table__.insert(), rows[start : start + BATCH])


def build_registry(session: Session, *, seed: int) -> str:
    """Generate the registry of the imported demo county; returns a summary line."""
    existing = session.scalar(select(func.count(Address.id))) or 0
    if existing:
        return _("Registry: kept the {n} existing addresses.").format(n=existing)
    builder = _Builder(session, seed, utcnow())
    grids = [g for g in builder.grids.values() if g.units]
    for grid in grids:
        builder.households(grid)
    builder.plant_duplicates(grids)
    builder.plan_key_places(grids)
    for grid in grids:
        builder.establishments(grid)
        builder.follow_up(grid)
    counts = builder.write()
    return _(
        "Registry: {addresses} addresses, {households} households with {residents} "
        "residents, {establishments} establishments ({key} key places), {follow_ups} "
        "follow-ups, {flags} duplicate flags."
    ).format(**counts)
