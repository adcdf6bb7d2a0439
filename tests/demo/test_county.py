"""Tests for the seeded demo county (fengqiao.demo.county)."""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from fengqiao.demo.county import CountyFiles, generate_county

Features = list[dict[str, Any]]


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> CountyFiles:
    return generate_county(tmp_path_factory.mktemp("county"))


def _features(path: Path) -> Features:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    features: Features = data["features"]
    return features


def _props(path: Path) -> list[dict[str, Any]]:
    return [f["properties"] for f in _features(path)]


def _geoms(path: Path) -> dict[str, BaseGeometry]:
    return {f["properties"]["code"]: shape(f["geometry"]) for f in _features(path)}


def _people(county: CountyFiles) -> list[dict[str, str]]:
    raw = county.personnel.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "personnel.csv must start with a UTF-8 BOM"
    with county.personnel.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _files(county: CountyFiles) -> list[Path]:
    return [county.stations, county.districts, county.grids, county.civil_grids, county.personnel]


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    first = generate_county(tmp_path / "a", seed=7)
    second = generate_county(tmp_path / "b", seed=7)
    other = generate_county(tmp_path / "c", seed=8)
    for a, b in zip(_files(first), _files(second), strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert first.demo_people == second.demo_people
    for a, c in zip(_files(first), _files(other), strict=True):
        assert a.read_bytes() != c.read_bytes(), a.name


def test_stations(county: CountyFiles) -> None:
    stations = _props(county.stations)
    assert stations[0]["code"] == "QX-CG"
    assert len(stations) == 5
    for s in stations:
        assert s["bureau_code"] == "QX" and s["bureau_name"] == "清溪县公安局"
        assert s["name"].endswith("派出所") and s["address"].startswith("清溪县")
    urban = [s for s in stations if s["kind"] == "urban"]
    rural = [s for s in stations if s["kind"] == "rural"]
    assert [s["name"] for s in urban] == ["城关派出所"]
    assert "joint_station_code" not in urban[0]
    assert len(rural) == 4
    assert {(s["joint_station_code"], s["joint_station_name"]) for s in rural} == {
        ("QX-DB", "清溪县东部区域联合派出所")
    }


def test_every_polygon_is_valid_and_in_the_county_box(county: CountyFiles) -> None:
    for path in _files(county)[:4]:
        for f in _features(path):
            assert f["geometry"]["type"] == "Polygon", f["properties"]["code"]
            for ring in f["geometry"]["coordinates"]:
                for lon, lat in ring:
                    assert round(lon, 6) == lon and round(lat, 6) == lat
                    assert 116.9 <= lon <= 117.3 and 25.0 <= lat <= 25.3
            geom = shape(f["geometry"])
            assert shapely.is_valid(geom) and not geom.is_empty, f["properties"]["code"]


def _assert_tiles(children: dict[str, BaseGeometry], parent: BaseGeometry) -> None:
    for (a, ga), (b, gb) in itertools.combinations(children.items(), 2):
        assert ga.intersection(gb).area < 1e-10, f"{a} overlaps {b}"
    for code, geom in children.items():
        assert geom.difference(parent).area < 1e-9, f"{code} leaves its parent"
    covered = shapely.union_all(list(children.values()))
    assert parent.difference(covered).area < 1e-9, "children leave a gap in the parent"


def test_geometries_tile_their_parents(county: CountyFiles) -> None:
    stations, districts = _geoms(county.stations), _geoms(county.districts)
    grids, civil = _geoms(county.grids), _geoms(county.civil_grids)
    for a, b in itertools.combinations(stations.values(), 2):
        assert a.intersection(b).area < 1e-10
    for parent_map, child_path, key in [
        (stations, county.districts, "station_code"),
        (districts, county.grids, "district_code"),
        (grids, county.civil_grids, "police_grid_code"),
    ]:
        children: dict[str, dict[str, BaseGeometry]] = defaultdict(dict)
        child_geoms = {**districts, **grids, **civil}
        for p in _props(child_path):
            children[p[key]][p["code"]] = child_geoms[p["code"]]
        assert set(children) == set(parent_map)
        for parent_code, kids in children.items():
            _assert_tiles(kids, parent_map[parent_code])


def test_counts_populations_and_names(county: CountyFiles) -> None:
    stations = {s["code"]: s for s in _props(county.stations)}
    districts = {d["code"]: d for d in _props(county.districts)}
    grids = _props(county.grids)
    assert 40 <= len(grids) <= 80
    per_station = Counter(d["station_code"] for d in districts.values())
    assert set(per_station) == set(stations)
    assert all(2 <= n <= 4 for n in per_station.values())
    totals: Counter[str] = Counter()
    for g in grids:
        station = stations[districts[g["district_code"]]["station_code"]]
        assert g["kind"] == station["kind"]
        assert re.fullmatch(rf"{station['code']}-G\d\d", g["code"])
        assert g["district_code"].startswith(station["code"] + "-D")
        cap = 5000 if g["kind"] == "urban" else 3000
        assert isinstance(g["population"], int) and 0 <= g["population"] <= cap
        totals[station["code"]] += g["population"]
        places = g["places"].split(";")
        assert places and all(p.endswith("社区" if g["kind"] == "urban" else "村") for p in places)
        assert g["name"].endswith("警格")
        if g["kind"] == "rural":
            assert g["name"] == "—".join(places) + "警格"
    assert sum(
        0.6 * (5000 if g["kind"] == "urban" else 3000) <= g["population"] for g in grids
    ) >= 0.8 * len(grids)
    for code, total in totals.items():
        lo, hi = (110_000, 130_000) if stations[code]["kind"] == "urban" else (25_000, 35_000)
        assert lo <= total <= hi, code
    assert len({g["code"] for g in grids}) == len(grids)
    assert len({d["name"] for d in districts.values()}) == len(districts)
    assert "城关第一警务区" in {d["name"] for d in districts.values()}


def test_civil_grids(county: CountyFiles) -> None:
    grids = {g["code"]: g for g in _props(county.grids)}
    civil = _props(county.civil_grids)
    per_grid = Counter(c["police_grid_code"] for c in civil)
    assert set(per_grid) == set(grids)
    assert all(1 <= n <= 3 for n in per_grid.values())
    assert len({c["code"] for c in civil}) == len(civil)
    assert len({c["name"] for c in civil}) == len(civil)
    for c in civil:
        assert c["code"].startswith(c["police_grid_code"] + "-W")
        assert c["community"] in grids[c["police_grid_code"]]["places"].split(";")
        assert c["name"].startswith(c["community"]) and c["name"].endswith("网格")


def test_personnel(county: CountyFiles) -> None:
    people = _people(county)
    assert list(people[0]) == [
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
    assert 300 <= len(people) <= 450
    stations = _geoms(county.stations)
    grids = _geoms(county.grids)
    grid_station = {g["code"]: g["district_code"].rsplit("-", 1)[0] for g in _props(county.grids)}
    assert len({p["personnel_no"] for p in people}) == len(people)
    assert len({p["phone"] for p in people}) == len(people)
    patterns = {
        "officer": r"\d{6}",
        "auxiliary": r"FJ\d+",
        "grid_worker": r"WG\d+",
        "volunteer": r"ZY\d+",
    }
    fixed: dict[str, Counter[str]] = defaultdict(Counter)
    for p in people:
        assert re.fullmatch(patterns[p["kind"]], p["personnel_no"]), p
        assert re.fullmatch(r"1[3-9]\d{9}", p["phone"]), p
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", p["name"]), p
        assert p["station_code"] in stations
        assert p["team"] in {"", "community", "case", "command_room"}
        assert p["duty_status"] in {"available", "en_route", "on_scene", "busy", "off_duty"}
        codes = [c for c in p["grid_codes"].split(";") if c]
        assert all(grid_station[c] == p["station_code"] for c in codes), p
        if p["kind"] in ("officer", "auxiliary"):
            for c in codes:
                fixed[c][p["kind"]] += 1
        if p["kind"] != "officer" or p["team"] == "community":
            assert 1 <= len(codes) <= 2, p
        if p["duty_status"] == "off_duty":
            assert p["lon"] == p["lat"] == ""
        else:
            point = shapely.Point(float(p["lon"]), float(p["lat"]))
            areas = [grids[c] for c in codes] or [stations[p["station_code"]]]
            assert any(a.covers(point) for a in areas), p
    for code in grids:
        assert fixed[code] == Counter(officer=1, auxiliary=1), code
    statuses = Counter(p["duty_status"] for p in people)
    assert statuses["available"] > len(people) / 2 and len(statuses) >= 4
    for station in stations:
        positions = Counter(p["position"] for p in people if p["station_code"] == station)
        assert positions["所长"] == 1 and positions["教导员"] == 1
        teams = Counter(
            p["team"] for p in people if p["station_code"] == station and p["kind"] == "officer"
        )
        assert 3 <= teams["command_room"] <= 5 and 3 <= teams["case"] <= 8


def test_demo_people(county: CountyFiles) -> None:
    by_no = {p["personnel_no"]: p for p in _people(county)}
    demo = county.demo_people
    assert set(demo) == {
        "station_chief",
        "command_room",
        "community_officer",
        "auxiliary",
        "case_officer",
        "legal_supervisor",
        "grid_worker",
    }
    expected = {
        "station_chief": ("officer", None, "所长"),
        "command_room": ("officer", "command_room", None),
        "community_officer": ("officer", "community", None),
        "auxiliary": ("auxiliary", "community", None),
        "case_officer": ("officer", "case", None),
        "legal_supervisor": ("officer", None, "法制员"),
        "grid_worker": ("grid_worker", "", None),
    }
    for role, (kind, team, position) in expected.items():
        person = by_no[demo[role]]
        assert person["station_code"] == "QX-CG", role
        assert person["kind"] == kind, role
        assert team is None or person["team"] == team, role
        assert position is None or person["position"] == position, role
    for role in ("community_officer", "auxiliary", "grid_worker"):
        assert by_no[demo[role]]["grid_codes"], role
    assert len(set(demo.values())) == len(demo)
