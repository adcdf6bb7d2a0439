"""A seeded, realistic demo county, 清溪县, written as import files.

The county is modelled on the Longyan (Fujian) "枫桥式公安派出所" reports: one compact urban
station (城关派出所) in the west and four rural stations pooled in one joint station. Stations
are split into police districts (警务区), districts into police grids (警格) and police grids
into civil grids (网格). The files follow ``docs/import-formats.md`` exactly.

Coordinates are WGS-84 longitude/latitude in degrees throughout; every vertex is snapped to a
1e-6° lattice (6 decimals, about 0.1 m). Distances used for clustering scale longitude by
cos(25.15°) so that one unit is roughly the same ground length on both axes (still degrees,
never metres). The module is pure: standard library, numpy and shapely only.
"""

from __future__ import annotations

import csv
import heapq
import json
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from fengqiao.demo.names import CN_ORDINALS, NEIGHBOURHOODS, ROADS, TOWNS, NameMaker

FloatArray = npt.NDArray[np.float64]

GRID = 1e-6  # degrees: coordinate lattice, i.e. 6 decimals
KX = math.cos(math.radians(25.15))  # longitude degrees -> ground-equivalent latitude degrees
BUREAU = ("QX", "清溪县公安局")
JOINT = ("QX-DB", "清溪县东部区域联合派出所")
CAPS = {"urban": 5000, "rural": 3000}  # residents per police grid
# Station centres (lon, lat): the urban one in the west, rural ones to the east.
CENTRES = [(117.00, 25.16), (117.10, 25.25), (117.22, 25.21), (117.21, 25.08), (117.09, 25.05)]
URBAN_HEAD = 0.05  # degrees the urban station starts late when growing: keeps it compact
DUTY = ["available", "off_duty", "busy", "on_scene", "en_route"]
DUTY_WEIGHTS = [70, 12, 8, 5, 5]
PERSONNEL_COLUMNS = [
    "personnel_no",
    "name",
    "kind",
    "station_code",
    "team",
    "position",
    "phone",
    "grid_codes",
    "duty_status",
    "lon",
    "lat",
]


@dataclass(frozen=True)
class CountyFiles:
    """Paths of the written import files and the people chosen for demo accounts."""

    stations: Path  # stations.geojson
    districts: Path  # districts.geojson
    grids: Path  # grids.geojson
    civil_grids: Path  # civil_grids.geojson
    units: Path  # units.geojson: planning units (compounds, village groups), atoms of grids
    personnel: Path  # personnel.csv (UTF-8 with BOM, English header)
    demo_people: dict[str, str]  # role name -> personnel_no in station QX-CG


@dataclass
class _Grid:
    code: str
    geom: Polygon  # lon/lat degrees


@dataclass
class _Out:
    """Features per file (geometry, properties) and personnel rows, in file order."""

    stations: list[tuple[Polygon, dict[str, Any]]] = field(default_factory=list)
    districts: list[tuple[Polygon, dict[str, Any]]] = field(default_factory=list)
    grids: list[tuple[Polygon, dict[str, Any]]] = field(default_factory=list)
    civil: list[tuple[Polygon, dict[str, Any]]] = field(default_factory=list)
    # Per grid: atoms, population, kind and places, for the planning units.
    grid_atoms: list[tuple[list[int], int, str, list[str]]] = field(default_factory=list)
    people: list[dict[str, str]] = field(default_factory=list)
    demo: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- geometry


def _county_outline(rng: np.random.Generator) -> Polygon:
    """A wobbly oval inside lon 116.9–117.3, lat 25.0–25.3 (degrees), snapped to the lattice."""
    theta = np.linspace(0.0, 2 * math.pi, 120, endpoint=False)
    radius = np.full_like(theta, 0.86)
    for k, amp in zip((2, 3, 5, 7), (0.05, 0.04, 0.03, 0.02), strict=True):
        radius += amp * np.sin(k * theta + rng.uniform(0.0, 2 * math.pi))
    lon = 117.1 + 0.19 * radius * np.cos(theta)
    lat = 25.15 + 0.14 * radius * np.sin(theta)
    return _polygon(shapely.set_precision(Polygon(np.column_stack([lon, lat])), GRID))


def _polygon(geom: BaseGeometry) -> Polygon:
    """``geom`` itself, after checking that it is a valid, non-empty Polygon."""
    if not isinstance(geom, Polygon) or geom.is_empty or not geom.is_valid:
        raise RuntimeError(f"expected a valid non-empty Polygon, got {geom.geom_type}")
    return geom


def _sample_in(poly: Polygon, m: int, rng: np.random.Generator) -> FloatArray:
    """``m`` uniform random points (lon, lat degrees) strictly inside ``poly``."""
    minx, miny, maxx, maxy = poly.bounds
    found: list[FloatArray] = []
    while sum(len(f) for f in found) < m:
        cand = rng.uniform((minx, miny), (maxx, maxy), size=(4 * m, 2))
        found.append(cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])])
    return np.concatenate(found)[:m]


class _Atlas:
    """The county cut once into small Voronoi "atoms"; every area is a connected set of atoms.

    Atoms come from one noded arrangement on the 1e-6° lattice, so any two areas built from
    them share identical edges: siblings never overlap and children lie exactly in parents.
    Centroids are kept in ground-scaled degrees (longitude times cos 25.15°).
    """

    def __init__(self, rng: np.random.Generator) -> None:
        county = _county_outline(rng)
        town = rng.normal(CENTRES[0], (0.03 / KX, 0.03), size=(900, 2))  # denser in town
        town = town[shapely.contains_xy(county, town[:, 0], town[:, 1])]
        pts = np.concatenate([_sample_in(county, 900, rng), town])
        minx, miny, maxx, maxy = county.bounds
        frame = shapely.box(minx - 0.01, miny - 0.01, maxx + 0.01, maxy + 0.01)
        edges = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame, only_edges=True)
        noded = shapely.union_all([county.boundary, *shapely.get_parts(edges)], grid_size=GRID)
        faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
        reps = shapely.get_coordinates(shapely.point_on_surface(faces))
        self.faces = faces[shapely.contains_xy(county, reps[:, 0], reps[:, 1])]
        self.xy = shapely.get_coordinates(shapely.centroid(self.faces)) * np.array([KX, 1.0])
        self.area = shapely.area(self.faces)
        left, right = shapely.STRtree(self.faces).query(self.faces, predicate="intersects")
        left, right = left[left < right], right[left < right]
        shared = shapely.length(
            shapely.intersection(
                shapely.boundary(self.faces[left]), shapely.boundary(self.faces[right])
            )
        )
        self.nbrs: list[list[int]] = [[] for _ in self.faces]
        for a, b in zip(left[shared > 0].tolist(), right[shared > 0].tolist(), strict=True):
            self.nbrs[a].append(b)
            self.nbrs[b].append(a)

    def grow(self, atoms: list[int], seeds: list[int], head: list[float]) -> list[list[int]]:
        """Split ``atoms`` among ``seeds`` by multi-source shortest paths over shared edges.

        Seed k starts ``head[k]`` degrees late (an additive weight); each region is connected.
        """
        allowed, owner = set(atoms), dict[int, int]()  # atom -> seed index
        heap = [(h, k, seed) for k, (seed, h) in enumerate(zip(seeds, head, strict=True))]
        while heap:
            dist, k, atom = heapq.heappop(heap)
            if atom in owner:
                continue
            owner[atom] = k
            for nb in self.nbrs[atom]:
                if nb in allowed and nb not in owner:
                    step = float(np.hypot(*(self.xy[nb] - self.xy[atom])))
                    heapq.heappush(heap, (dist + step, k, nb))
        if len(owner) != len(allowed):
            raise RuntimeError("atoms not connected")
        return [[a for a in atoms if owner[a] == k] for k in range(len(seeds))]

    def split(self, atoms: list[int], n: int, rng: np.random.Generator) -> list[list[int]]:
        """``atoms`` cut into ``n`` compact connected regions of similar area, north-west first."""
        if n == 1:
            return [atoms]
        if len(atoms) < n:
            raise RuntimeError(f"cannot split {len(atoms)} atoms into {n} regions")
        xy, w = self.xy[atoms], self.area[atoms]
        centres = xy[rng.choice(len(atoms), n, replace=False)]
        for _ in range(15):  # area-weighted k-means on atom centroids
            labels = np.argmin(((xy[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
            for k in range(n):
                if np.any(labels == k):
                    centres[k] = np.average(xy[labels == k], axis=0, weights=w[labels == k])
        seeds: list[int] = []
        for centre in centres:
            order = np.argsort(((xy - centre) ** 2).sum(-1), kind="stable")
            seeds.append(next(atoms[i] for i in order if atoms[i] not in seeds))
        regions = self.grow(atoms, seeds, [0.0] * n)
        return sorted(
            regions,
            key=lambda r: (-round(float(self.xy[r, 1].mean()), 3), float(self.xy[r, 0].mean())),
        )

    def polygon(self, atoms: list[int]) -> Polygon:
        """The union of ``atoms`` (lon/lat degrees, vertices on the 1e-6° lattice)."""
        return _polygon(shapely.union_all(self.faces[atoms]))

    def stations(self) -> list[list[int]]:
        """Five station areas; index 0 is the compact urban one in the west."""
        centres = np.array(CENTRES) * np.array([KX, 1.0])
        seeds = [int(np.argmin(((self.xy - c) ** 2).sum(-1))) for c in centres]
        head = [URBAN_HEAD] + [0.0] * (len(CENTRES) - 1)
        return self.grow(list(range(len(self.faces))), seeds, head)


def _apportion(total: int, weights: list[float], minimum: int) -> list[int]:
    """``total`` split proportionally to ``weights`` (largest remainder), each >= ``minimum``."""
    spare = total - minimum * len(weights)
    shares = np.array(weights) / sum(weights) * spare
    base = np.floor(shares).astype(np.int64)
    order = np.argsort(-(shares - base), kind="stable")
    base[order[: spare - int(base.sum())]] += 1
    return [minimum + int(b) for b in base]


def _grid_populations(kind: str, rng: np.random.Generator) -> list[int]:
    """Residents per police grid of one station; total 110–130k urban, 25–35k rural."""
    cap = CAPS[kind]
    n_lo, n_hi, fill_lo, lo, hi = (
        (26, 28, 0.75, 110_000, 130_000) if kind == "urban" else (10, 12, 0.68, 25_000, 35_000)
    )
    while True:
        n = int(rng.integers(n_lo, n_hi, endpoint=True))
        fill = rng.uniform(fill_lo, 0.99, n)
        sparse = rng.random(n) < (0.0 if kind == "urban" else 0.1)  # remote mountain grids
        fill[sparse] = rng.uniform(0.4, 0.6, int(sparse.sum()))
        pops = [int(f * cap) for f in fill]
        if lo <= sum(pops) <= hi:
            return pops


def _point_in(polys: list[Polygon], rnd: random.Random) -> tuple[float, float]:
    """A random (lon, lat), rounded to 6 decimals, inside one of ``polys``."""
    poly = rnd.choice(polys)
    minx, miny, maxx, maxy = poly.bounds
    while True:
        x, y = round(rnd.uniform(minx, maxx), 6), round(rnd.uniform(miny, maxy), 6)
        if shapely.contains_xy(poly, x, y):
            return x, y


# --------------------------------------------------------------------------- names


def _build_station(
    out: _Out,
    idx: int,
    atlas: _Atlas,
    atoms: list[int],
    towns: list[tuple[str, str]],
    names: NameMaker,
    rng: np.random.Generator,
) -> list[list[_Grid]]:
    """Station ``idx`` with its districts, grids and civil grids; grids grouped by district."""
    kind = "urban" if idx == 0 else "rural"
    town, abbr = ("城关", "CG") if kind == "urban" else towns[idx - 1]
    code = f"QX-{abbr}"
    props: dict[str, Any] = {
        "code": code,
        "name": f"{town}派出所",
        "kind": kind,
        "bureau_code": BUREAU[0],
        "bureau_name": BUREAU[1],
    }
    if kind == "rural":
        props.update(joint_station_code=JOINT[0], joint_station_name=JOINT[1])
    street = f"{rng.choice(ROADS)}路" if kind == "urban" else f"{town}街"
    props["address"] = f"清溪县{town}镇{street}{int(rng.integers(1, 200))}号"
    out.stations.append((atlas.polygon(atoms), props))

    pops = _grid_populations(kind, rng)
    n_districts = int(
        rng.integers(3, 4, endpoint=True) if kind == "urban" else rng.integers(2, 3, endpoint=True)
    )
    district_atoms = atlas.split(atoms, n_districts, rng)
    counts = _apportion(len(pops), [float(atlas.area[d].sum()) for d in district_atoms], 2)
    hoods = [h + "社区" for h in names.rnd.sample(NEIGHBOURHOODS, 3 * n_districts)]
    roads = names.rnd.sample(ROADS, len(pops))
    grouped: list[list[_Grid]] = []
    civil_seq: Counter[str] = Counter()
    for d, (datoms, count) in enumerate(zip(district_atoms, counts, strict=True)):
        district_code = f"{code}-D{d + 1}"
        grid_atoms = atlas.split(datoms, count, rng)
        home: list[str] = []
        if kind == "urban":
            local = hoods[3 * d : 3 * d + int(rng.integers(2, 3, endpoint=True))]
            chunks = np.array_split(np.arange(count), len(local))
            home = [h for h, chunk in zip(local, chunks, strict=True) for _ in chunk]
        grids: list[_Grid] = []
        for g, gatoms in enumerate(grid_atoms):
            gpoly = atlas.polygon(gatoms)
            number = sum(len(x) for x in grouped) + g + 1
            grid_code = f"{code}-G{number:02d}"
            if kind == "urban":
                places = [home[g]]
                if g + 1 < count and home[g + 1] != home[g] and names.rnd.random() < 0.4:
                    places.append(home[g + 1])
                road = roads[number - 1] + names.rnd.choice("路街")
                grid_name = f"{home[g][:-2]}{road}警格"
                communities = [
                    places[j % len(places)] for j in range(names.rnd.choice([1, 2, 2, 3]))
                ]
            else:
                places = names.villages(names.rnd.choices([1, 2, 3], weights=[3, 5, 2])[0])
                grid_name = "—".join(places) + "警格"
                communities = places
            out.grids.append(
                (
                    gpoly,
                    {
                        "code": grid_code,
                        "name": grid_name,
                        "district_code": district_code,
                        "kind": kind,
                        "population": pops[number - 1],
                        "places": ";".join(places),
                    },
                )
            )
            out.grid_atoms.append((gatoms, pops[number - 1], kind, places))
            pieces = atlas.split(gatoms, len(communities), rng)
            for w, (catoms, community) in enumerate(zip(pieces, communities, strict=True)):
                cpoly = gpoly if len(communities) == 1 else atlas.polygon(catoms)
                civil_seq[community] += 1
                out.civil.append(
                    (
                        cpoly,
                        {
                            "code": f"{grid_code}-W{w + 1}",
                            "name": f"{community}第{civil_seq[community]}网格",
                            "community": community,
                            "police_grid_code": grid_code,
                        },
                    )
                )
            grids.append(_Grid(grid_code, gpoly))
        if kind == "urban":
            district_name = f"城关第{CN_ORDINALS[d]}警务区"
        else:  # the township seat, then named after the district's first village
            first_village = str(out.grids[-count][1]["places"]).split(";")[0]
            district_name = (town if d == 0 else first_village.removesuffix("村")) + "警务区"
        out.districts.append(
            (
                atlas.polygon(datoms),
                {"code": district_code, "name": district_name, "station_code": code},
            )
        )
        grouped.append(grids)
    return grouped


def _build_personnel(
    out: _Out, station: tuple[Polygon, dict[str, Any]], grouped: list[list[_Grid]], names: NameMaker
) -> None:
    """Personnel of one station (1+1+N per grid); demo accounts come from the urban station."""
    area, props = station
    code, urban = props["code"], props["kind"] == "urban"
    rnd = names.rnd

    def add(role: str | None, kind: str, team: str, position: str, grids: list[_Grid]) -> None:
        demo = urban and role is not None and role not in out.demo
        status = "available" if demo else rnd.choices(DUTY, weights=DUTY_WEIGHTS)[0]
        lon = lat = ""
        if status != "off_duty":
            x, y = _point_in([g.geom for g in grids] or [area], rnd)
            lon, lat = f"{x:.6f}", f"{y:.6f}"
        number = names.number(kind)
        if demo and role is not None:
            out.demo[role] = number
        out.people.append(
            {
                "personnel_no": number,
                "name": names.person(),
                "kind": kind,
                "station_code": code,
                "team": team,
                "position": position,
                "phone": names.phone(),
                "grid_codes": ";".join(g.code for g in grids),
                "duty_status": status,
                "lon": lon,
                "lat": lat,
            }
        )

    add("station_chief", "officer", "", "所长", [])
    add(None, "officer", "", "教导员", [])
    add(None, "officer", "command_room", "综合指挥室主任", [])
    add("legal_supervisor", "officer", "command_room", "法制员", [])
    for _ in range(rnd.randint(1, 3)):
        add("command_room", "officer", "command_room", "指挥室民警", [])
    add(None, "officer", "case", "案件办理队队长", [])
    for _ in range(rnd.randint(2, 7)):
        add("case_officer", "officer", "case", "办案民警", [])
    all_grids = [g for grids in grouped for g in grids]
    for grids in grouped:  # a community officer covers 1–2 neighbouring grids of one district
        i = 0
        while i < len(grids):
            size = 1 if i + 1 == len(grids) else rnd.choices([1, 2], [1, 1] if urban else [1, 2])[0]
            add("community_officer", "officer", "community", "社区民警", grids[i : i + size])
            i += size
    for grid in all_grids:
        add("auxiliary", "auxiliary", "community", "社区辅警", [grid])
        for _ in range(rnd.choices([1, 2, 3], weights=[3, 5, 2])[0]):
            add("grid_worker", "grid_worker", "", "网格员", [grid])
    for grid in rnd.sample(all_grids, rnd.randint(len(all_grids) // 3, len(all_grids) // 2)):
        add(None, "volunteer", "", "平安志愿者", [grid])


# --------------------------------------------------------------------------- output


def _geometry(geom: Polygon) -> dict[str, Any]:
    """GeoJSON Polygon (exterior counter-clockwise), coordinates rounded to 6 decimals."""
    rings = [
        [[round(x, 6), round(y, 6)] for x, y in ring.coords]
        for ring in (orient(geom, 1.0).exterior, *orient(geom, 1.0).interiors)
    ]
    _polygon(Polygon(rings[0], rings[1:]))  # still valid after rounding
    return {"type": "Polygon", "coordinates": rings}


def _units(
    atlas: _Atlas, grids: list[tuple[list[int], int, str, list[str]]], rng: np.random.Generator
) -> list[tuple[Polygon, dict[str, Any]]]:
    """Every atom as a planning unit; a grid's residents spread over its atoms by area
    times a random density, so each grid is exactly the union of its units."""
    features: list[tuple[Polygon, dict[str, Any]]] = []
    for atoms, population, kind, places in grids:
        density = rng.lognormal(0.0, 0.6, len(atoms))
        weights = [float(w) for w in atlas.area[atoms] * density]
        shares = _apportion(population, weights, 0)
        for k, (atom, share) in enumerate(zip(atoms, shares, strict=True)):
            place = places[k % len(places)]
            if kind == "urban":
                name, unit_kind = f"{place.removesuffix('社区')}{k + 1}号小区", "compound"
            else:
                name, unit_kind = f"{place}第{k // len(places) + 1}组", "village"
            features.append(
                (
                    _polygon(atlas.faces[atom]),
                    {
                        "code": f"QX-U{atom:04d}",
                        "name": name,
                        "kind": unit_kind,
                        "area_kind": kind,
                        "population": share,
                    },
                )
            )
    return sorted(features, key=lambda f: str(f[1]["code"]))


def _write_geojson(path: Path, features: list[tuple[Polygon, dict[str, Any]]]) -> Path:
    lines = [
        json.dumps(
            {"type": "Feature", "properties": props, "geometry": _geometry(geom)},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for geom, props in features
    ]
    path.write_text(
        '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n",
        encoding="utf-8",
    )
    return path


def generate_county(out_dir: Path, *, seed: int = 20261122) -> CountyFiles:
    """Write the demo county 清溪县 into ``out_dir`` and return the file paths.

    The same ``seed`` always gives byte-identical files. Geometries are WGS-84 lon/lat degree
    Polygons with 6-decimal coordinates; populations are residents (whole numbers).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    rng, rnd = np.random.default_rng(seed), random.Random(seed)
    names = NameMaker(rnd)
    towns = rnd.sample(TOWNS, len(CENTRES) - 1)
    out = _Out()
    atlas = _Atlas(rng)
    for idx, atoms in enumerate(atlas.stations()):
        grouped = _build_station(out, idx, atlas, atoms, towns, names, rng)
        _build_personnel(out, out.stations[-1], grouped, names)
    units = _units(atlas, out.grid_atoms, np.random.default_rng([seed, 4]))
    personnel = out_dir / "personnel.csv"
    with personnel.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=PERSONNEL_COLUMNS)
        writer.writeheader()
        writer.writerows(out.people)
    return CountyFiles(
        stations=_write_geojson(out_dir / "stations.geojson", out.stations),
        districts=_write_geojson(out_dir / "districts.geojson", out.districts),
        grids=_write_geojson(out_dir / "grids.geojson", out.grids),
        civil_grids=_write_geojson(out_dir / "civil_grids.geojson", out.civil),
        units=_write_geojson(out_dir / "units.geojson", units),
        personnel=personnel,
        demo_people=dict(out.demo),
    )
