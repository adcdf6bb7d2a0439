"""Matching warnings to a grid and its responsible person, many at a time.

The fall-back chain (best first; the first step that places a warning wins and is
kept with the order, with its confidence):

1. ``address``  the normalised address found in the standard-address tree (road or
   compound, then number, building, unit, room); 1.0 when every element was found,
   0.9 when the door number or deeper was, 0.7 for a road or compound in one grid;
2. ``resident`` the person in the registry by ID number (0.95) or phone (0.85);
3. ``point``    the position sent with the warning (0.8);
4. ``fuzzy``    a road or compound named alike (rapidfuzz ratio ≥ 80), then as 1.;
5. ``community`` the centre of the named community or village (0.5);
6. ``station``  the station of the named street, town or district (0.3, no grid);
7. ``none``     nothing: the command room places the warning.

Every look-up is set-based (a handful of queries per chunk of warnings), so one
warning from the API and a chunk of a million-row file take the same path.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, func, or_, select, tuple_
from sqlalchemy.orm import Session

from fengqiao.fraud.models import MatchStep
from fengqiao.org import placement
from fengqiao.org.models import PoliceDistrict, PoliceGrid
from fengqiao.org.service import grid_responsible
from fengqiao.registry.models import Address, AddressLevel, RecordStatus, Resident
from fengqiao.registry.parsing import ParsedAddress

PLACE_LEVELS = (AddressLevel.STREET, AddressLevel.COMMUNITY, AddressLevel.ROAD)
DOOR_LEVELS = ("number", "building", "unit", "room")
FUZZY_CUTOFF = 80.0
NAMES_TTL_S = 60.0

CONFIDENCE = {
    "full": 1.0,
    "door": 0.9,
    "road": 0.7,
    MatchStep.RESIDENT: 0.95,
    "phone": 0.85,
    MatchStep.POINT: 0.8,
    MatchStep.COMMUNITY: 0.5,
    MatchStep.STATION: 0.3,
}


@dataclass(frozen=True)
class Wanted:
    """What a warning says about where the person is."""

    address: ParsedAddress | None = None
    id_number: str | None = None
    phone: str | None = None
    lon: float | None = None
    lat: float | None = None


@dataclass
class Match:
    step: MatchStep = MatchStep.NONE
    confidence: float = 0.0
    station_id: int | None = None
    grid_id: int | None = None
    address_id: int | None = None
    resident_id: int | None = None
    assignee_id: int | None = None
    lon: float | None = None
    lat: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Node:
    id: int
    parent_id: int | None
    level: str
    name: str
    full_name: str
    station_id: int
    grid_id: int | None
    lon: float | None
    lat: float | None


_NODE_COLUMNS = (
    Address.id,
    Address.parent_id,
    Address.level,
    Address.name,
    Address.full_name,
    Address.station_id,
    Address.grid_id,
    Address.lon,
    Address.lat,
)


def _nodes(rows: Iterable[Any]) -> list[_Node]:
    return [_Node(r[0], r[1], str(r[2]), r[3], r[4], r[5], r[6], r[7], r[8]) for r in rows]


# --- names for fuzzy matching: cached per database for a minute ------------------------

_names_cache: dict[str, tuple[float, list[str], frozenset[str]]] = {}
_names_lock = threading.Lock()


def _place_names(session: Session) -> tuple[list[str], frozenset[str]]:
    """Distinct road/compound names, and the district names known to the registry."""
    key = str(session.get_bind().engine.url)
    with _names_lock:
        hit = _names_cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < NAMES_TTL_S:
            return hit[1], hit[2]
    rows = session.execute(
        select(Address.level, Address.name)
        .where(
            Address.level.in_((AddressLevel.ROAD, AddressLevel.DISTRICT)),
            Address.status == RecordStatus.ACTIVE,
        )
        .distinct()
    ).all()
    roads = sorted({r[1] for r in rows if r[0] is AddressLevel.ROAD})
    districts = frozenset(r[1] for r in rows if r[0] is AddressLevel.DISTRICT)
    with _names_lock:
        _names_cache[key] = (time.monotonic(), roads, districts)
    return roads, districts


def forget_names() -> None:
    with _names_lock:
        _names_cache.clear()


# --- the steps ---------------------------------------------------------------------------


def _places(session: Session, names: set[str]) -> dict[str, list[_Node]]:
    found: dict[str, list[_Node]] = defaultdict(list)
    if not names:
        return found
    rows = session.execute(
        select(*_NODE_COLUMNS).where(
            Address.level.in_(PLACE_LEVELS),
            Address.name.in_(sorted(names)),
            Address.status == RecordStatus.ACTIVE,
        )
    )
    for node in _nodes(rows):
        found[node.name].append(node)
    return found


def _within(node: _Node, parsed: ParsedAddress) -> bool:
    """The node agrees with the street and community the text names, if any."""
    return all(part is None or part in node.full_name for part in (parsed.street, parsed.community))


@dataclass
class _Path:
    nodes: list[_Node]
    complete: bool = True


def _descend(
    session: Session, starts: dict[int, list[_Node]], wanted: dict[int, ParsedAddress]
) -> dict[int, list[_Path]]:
    """From the road or compound down the door levels the text gives, level by level
    (one query per level for all warnings)."""
    paths = {i: [_Path([node]) for node in nodes] for i, nodes in starts.items()}
    for level in DOOR_LEVELS:
        asks = {
            (path.nodes[-1].id, getattr(wanted[i], level))
            for i, ps in paths.items()
            for path in ps
            if path.complete and getattr(wanted[i], level)
        }
        if not asks:
            continue
        # The (parent, name) pairs asked for, not every parent x every name: the cross
        # product fetched whole streets (all rooms of every unit asked about).
        rows = session.execute(
            select(*_NODE_COLUMNS).where(
                tuple_(Address.parent_id, Address.name).in_(sorted(asks)),
                Address.status == RecordStatus.ACTIVE,
            )
        )
        children = {(n.parent_id, n.name): n for n in _nodes(rows)}
        for i, ps in paths.items():
            name = getattr(wanted[i], level)
            if not name:
                continue
            for path in ps:
                if not path.complete:
                    continue
                child = children.get((path.nodes[-1].id, name))
                if child is None:
                    path.complete = False
                else:
                    path.nodes.append(child)
    return paths


def _grid_of(path: _Path) -> tuple[int | None, _Node]:
    for node in reversed(path.nodes):
        if node.grid_id is not None:
            return node.grid_id, node
    return None, path.nodes[-1]


def _best_path(paths: list[_Path], parsed: ParsedAddress) -> tuple[_Path, float] | None:
    """The deepest path with a grid; None when two different grids tie (ambiguous)."""
    scored: list[tuple[int, _Path]] = []
    for path in paths:
        grid, _node = _grid_of(path)
        if grid is not None:
            scored.append((len(path.nodes), path))
    if not scored:
        return None
    depth = max(d for d, _p in scored)
    top = [p for d, p in scored if d == depth]
    if len({_grid_of(p)[0] for p in top}) > 1:
        return None
    path = top[0]
    wanted_depth = 1 + sum(1 for level in DOOR_LEVELS if getattr(parsed, level))
    if path.complete and len(path.nodes) == wanted_depth and wanted_depth > 1:
        return path, CONFIDENCE["full"]
    if len(path.nodes) > 1:
        return path, CONFIDENCE["door"]
    if path.nodes[0].grid_id is not None:
        return path, CONFIDENCE["road"]
    return None


def _residents(
    session: Session, id_numbers: set[str], phones: set[str]
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    by_id: dict[str, list[Any]] = defaultdict(list)
    by_phone: dict[str, list[Any]] = defaultdict(list)
    if not id_numbers and not phones:
        return by_id, by_phone
    conditions: list[ColumnElement[bool]] = []
    if id_numbers:
        conditions.append(Resident.id_number.in_(sorted(id_numbers)))
    if phones:
        conditions.append(Resident.phone.in_(sorted(phones)))
    rows = session.execute(
        select(
            Resident.id,
            Resident.id_number,
            Resident.phone,
            Resident.grid_id,
            Resident.address_id,
            Resident.station_id,
            Address.lon,
            Address.lat,
        )
        .join(Address, Address.id == Resident.address_id)
        .where(or_(*conditions), Resident.status == RecordStatus.ACTIVE)
    ).all()
    for row in rows:
        if row[1] in id_numbers:
            by_id[row[1]].append(row)
        if row[2] in phones:
            by_phone[row[2]].append(row)
    return by_id, by_phone


def _community_centres(
    session: Session, communities: list[_Node]
) -> dict[int, tuple[float, float] | None]:
    centres: dict[int, tuple[float, float] | None] = {}
    for node in communities:
        if node.lon is not None and node.lat is not None:
            centres[node.id] = (node.lon, node.lat)
            continue
        row = session.execute(
            select(func.avg(Address.lon), func.avg(Address.lat)).where(
                Address.full_name.startswith(node.full_name, autoescape=True),
                Address.station_id == node.station_id,
                Address.lon.is_not(None),
            )
        ).one()
        centres[node.id] = (float(row[0]), float(row[1])) if row[0] is not None else None
    return centres


def _active_grids(session: Session, grid_ids: set[int]) -> dict[int, tuple[int, int]]:
    """Grid id → (active grid id, station id); a retired grid maps to its successor."""
    out: dict[int, tuple[int, int]] = {}
    if not grid_ids:
        return out
    rows = session.execute(
        select(PoliceGrid.id, PoliceGrid.retired_at, PoliceDistrict.station_id)
        .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
        .where(PoliceGrid.id.in_(sorted(grid_ids)))
    ).all()
    retired = {r[0] for r in rows if r[1] is not None}
    out.update({r[0]: (r[0], r[2]) for r in rows if r[1] is None})
    # Each retired row in the lineage → the grids asked for that it carries on (a grid
    # redrawn twice is two retired rows before the active one).
    lineage: dict[int | None, set[int]] = {g: {g} for g in retired}
    frontier = retired
    seen: set[int] = set()
    while frontier:
        seen |= frontier
        successors = session.execute(
            select(
                PoliceGrid.id,
                PoliceGrid.replaces_id,
                PoliceGrid.retired_at,
                PoliceDistrict.station_id,
            )
            .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
            .where(PoliceGrid.replaces_id.in_(sorted(frontier)))
        ).all()
        nxt: set[int] = set()
        for sid, old, gone, station in successors:
            if gone is None:
                for original in lineage.get(old, ()):
                    out[original] = (sid, station)
            elif sid not in seen:
                lineage.setdefault(sid, set()).update(lineage.get(old, ()))
                nxt.add(sid)
        frontier = nxt
    return out


def _fuzzy(names: Sequence[str], road: str) -> tuple[str, float] | None:
    hit = process.extractOne(road, names, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    if hit is None or hit[0] == road:
        return None
    return str(hit[0]), float(hit[1])


def match_many(session: Session, wanted: Sequence[Wanted]) -> list[Match]:
    """One match per warning, in order."""
    results = [Match() for _ in wanted]
    parsed = {i: w.address for i, w in enumerate(wanted) if w.address is not None}
    for i, p in parsed.items():
        results[i].detail["normalised"] = p.standard()
    names = {n for p in parsed.values() for n in (p.road, p.community, p.street) if n is not None}
    places = _places(session, names)

    # 1. The standard address, then (4.) the same with a road named alike.
    def road_step(fuzzy_names: dict[int, tuple[str, float]]) -> None:
        starts: dict[int, list[_Node]] = {}
        for i, p in parsed.items():
            if results[i].step is not MatchStep.NONE or p.road is None:
                continue
            road = fuzzy_names[i][0] if i in fuzzy_names else p.road
            nodes = [n for n in places.get(road, []) if n.level == AddressLevel.ROAD]
            nodes = [n for n in nodes if _within(n, p)] or ([] if p.community else nodes)
            if nodes:
                starts[i] = nodes
        for i, paths in _descend(session, starts, parsed).items():
            best = _best_path(paths, parsed[i])
            if best is None:
                continue
            path, confidence = best
            grid_id, node = _grid_of(path)
            match = results[i]
            match.grid_id, match.address_id = grid_id, path.nodes[-1].id
            match.lon, match.lat = node.lon, node.lat
            match.detail["address"] = path.nodes[-1].full_name
            if i in fuzzy_names:
                match.step = MatchStep.FUZZY
                match.confidence = round(confidence * 0.9 * fuzzy_names[i][1] / 100, 3)
                match.detail["fuzzy"] = {"wrote": parsed[i].road, "read": fuzzy_names[i][0]}
                match.detail["score"] = round(fuzzy_names[i][1], 1)
            else:
                match.step, match.confidence = MatchStep.ADDRESS, confidence

    road_step({})

    # 2. The person in the registry.
    # An address found to the door outranks the registry: it says where the person is.
    door = CONFIDENCE["door"]
    ids = {w.id_number for i, w in enumerate(wanted) if w.id_number and _open(results[i], door)}
    phones = {w.phone for i, w in enumerate(wanted) if w.phone and _open(results[i], door)}
    by_id, by_phone = _residents(session, ids, phones)
    for i, w in enumerate(wanted):
        for key, table, confidence, how in (
            (w.id_number, by_id, CONFIDENCE[MatchStep.RESIDENT], "id_number"),
            (w.phone, by_phone, CONFIDENCE["phone"], "phone"),
        ):
            rows = table.get(key or "", [])
            homes = {r[3] for r in rows if r[3] is not None}
            if len(homes) == 1 and _open(results[i], min(confidence, door)):
                row = next(r for r in rows if r[3] is not None)
                _set(results[i], MatchStep.RESIDENT, confidence, grid_id=row[3])
                results[i].resident_id, results[i].address_id = row[0], row[4]
                results[i].lon, results[i].lat = row[6], row[7]
                results[i].detail["by"] = how

    # 3. The position sent with the warning.
    pointed = [
        i
        for i, w in enumerate(wanted)
        if w.lon is not None
        and w.lat is not None
        and _open(results[i], CONFIDENCE[MatchStep.POINT])
    ]
    if pointed:
        placed = placement.place_points(
            session,
            [float(wanted[i].lon or 0.0) for i in pointed],
            [float(wanted[i].lat or 0.0) for i in pointed],
        )
        for i, where in zip(pointed, placed, strict=True):
            if where is not None:
                _set(
                    results[i], MatchStep.POINT, CONFIDENCE[MatchStep.POINT], grid_id=where.grid_id
                )
                results[i].lon, results[i].lat = wanted[i].lon, wanted[i].lat
                results[i].address_id = None

    # 4. A road named alike.
    fuzzy_names: dict[int, tuple[str, float]] = {}
    for i, p in parsed.items():
        if results[i].step is MatchStep.NONE and p.road and p.road not in places:
            # The names are read only when a road was not found (cached for a minute).
            hit = _fuzzy(_place_names(session)[0], p.road)
            if hit is not None:
                fuzzy_names[i] = hit
    if fuzzy_names:
        places.update(_places(session, {n for n, _s in fuzzy_names.values()}))
        road_step(fuzzy_names)

    # 5. The community's centre; 6. the station of the street, town or community.
    left = [i for i in parsed if results[i].step is MatchStep.NONE]
    communities: dict[int, _Node] = {}
    for i in left:
        p = parsed[i]
        found = [
            n
            for n in places.get(p.community or "", [])
            if n.level == AddressLevel.COMMUNITY and _within(n, p)
        ]
        if len(found) == 1:
            communities[i] = found[0]
    centres = _community_centres(session, list({n.id: n for n in communities.values()}.values()))
    pointed = [i for i in communities if centres.get(communities[i].id)]
    if pointed:
        spots = [centres[communities[i].id] for i in pointed]
        placed = placement.place_points(
            session, [s[0] for s in spots if s], [s[1] for s in spots if s]
        )
        for i, where, spot in zip(pointed, placed, spots, strict=True):
            if where is not None and spot is not None:
                _set(
                    results[i], MatchStep.COMMUNITY, CONFIDENCE[MatchStep.COMMUNITY], where.grid_id
                )
                results[i].lon, results[i].lat = spot
                results[i].address_id = communities[i].id
                results[i].detail["address"] = communities[i].full_name
    for i in left:
        if results[i].step is not MatchStep.NONE:
            continue
        p = parsed[i]
        stations = {communities[i].station_id} if i in communities else set()
        if not stations and p.street:
            stations = {
                n.station_id for n in places.get(p.street, []) if n.level == AddressLevel.STREET
            }
        if len(stations) == 1:
            results[i].step = MatchStep.STATION
            results[i].confidence = CONFIDENCE[MatchStep.STATION]
            results[i].station_id = stations.pop()
        elif p.district and p.district not in (known := _place_names(session)[1]) and known:
            results[i].detail["outside"] = p.district

    # The grid's station and responsible person.
    grids = _active_grids(session, {m.grid_id for m in results if m.grid_id is not None})
    people = grid_responsible(session, {g for g, _s in grids.values()})
    for match in results:
        if match.grid_id is None:
            continue
        active = grids.get(match.grid_id)
        if active is None:
            match.grid_id = None
            continue
        match.grid_id, match.station_id = active
        match.assignee_id = people.get(match.grid_id)
    for match in results:
        match.detail["step"] = match.step.value
        match.detail["confidence"] = match.confidence
    return results


def _open(match: Match, confidence: float) -> bool:
    """Whether a step of this confidence would still improve the match."""
    return match.confidence < confidence


def _set(match: Match, step: MatchStep, confidence: float, grid_id: int | None) -> None:
    match.step, match.confidence, match.grid_id = step, confidence, grid_id
    match.detail.pop("address", None)
