"""Tests of the import of stations, districts, grids, civil grids and personnel
(fengqiao.org.importing). Every test runs on SQLite and on PostgreSQL (``session_factory``).

The good data is the generated demo county; bad files are the county's files with one
thing broken, so that a wrongly accepted file would visibly change the database.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from shapely.geometry import box, mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao import i18n
from fengqiao.audit.models import AuditAction, AuditEvent
from fengqiao.audit.service import SYSTEM
from fengqiao.db import unit_of_work
from fengqiao.demo.county import PERSONNEL_COLUMNS, CountyFiles, generate_county
from fengqiao.importfiles import ImportRejected, ImportReport, Problem
from fengqiao.labels import kind_label
from fengqiao.org.importing import IMPORTERS, KIND_ALIASES, STATUS_ALIASES, TEAM_ALIASES
from fengqiao.org.models import (
    Bureau,
    CivilGrid,
    GridAssignment,
    JointStation,
    Person,
    PersonKind,
    PoliceDistrict,
    PoliceGrid,
    Station,
)

Factory = sessionmaker[Session]
Feature = dict[str, Any]
SEED = 4711
ORDER = ["stations", "districts", "grids", "civil-grids", "personnel"]
TABLES = [
    Bureau,
    JointStation,
    Station,
    PoliceDistrict,
    PoliceGrid,
    CivilGrid,
    Person,
    GridAssignment,
    AuditEvent,
]
CHINESE_HEADERS = {
    "personnel_no": "编号",
    "name": "姓名",
    "kind": "类别",
    "station_code": "所属单位",
    "team": "队伍",
    "position": "职务",
    "phone": "电话",
    "grid_codes": "警格",
    "duty_status": "勤务状态",
    "lon": "经度",
    "lat": "纬度",
}


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages in English (the msgids), whatever the zh_CN catalogue holds."""
    with i18n.language("en"):
        yield


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> CountyFiles:
    """The demo county's files; read-only: tests write changed copies into tmp_path."""
    return generate_county(tmp_path_factory.mktemp("county"), seed=SEED)


# --- helpers --------------------------------------------------------------------------


def county_file(county: CountyFiles, kind: str) -> Path:
    return {
        "stations": county.stations,
        "districts": county.districts,
        "grids": county.grids,
        "civil-grids": county.civil_grids,
        "personnel": county.personnel,
    }[kind]


def run(factory: Factory, kind: str, path: Path) -> ImportReport:
    with unit_of_work(factory) as session:
        return IMPORTERS[kind](session, path, actor=SYSTEM)


def import_county(
    factory: Factory, county: CountyFiles, upto: str = "personnel"
) -> dict[str, ImportReport]:
    return {
        kind: run(factory, kind, county_file(county, kind))
        for kind in ORDER[: ORDER.index(upto) + 1]
    }


def counts(factory: Factory) -> dict[str, int]:
    """Rows per table, audit log included."""
    with factory() as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in TABLES
        }


def features(path: Path) -> list[Feature]:
    return list(json.loads(path.read_text(encoding="utf-8-sig"))["features"])


def write_features(path: Path, feats: list[Feature]) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def people(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def write_people(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=PERSONNEL_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def rejected(factory: Factory, kind: str, path: Path) -> ImportRejected:
    with pytest.raises(ImportRejected) as info:
        run(factory, kind, path)
    return info.value


def single_problem(
    exc: ImportRejected, *, file: str, where: str, field: str, says: list[str]
) -> Problem:
    """The one problem of ``exc`` names the file, the feature or row and the field, says
    what is wrong and what to do, and is part of the message shown to the user."""
    assert [(p.file, p.where, p.field) for p in exc.problems] == [(file, where, field)], (
        exc.problems
    )
    problem = exc.problems[0]
    for text in says:
        assert text in problem.message, problem.message
    assert str(problem) in str(exc)
    assert file in str(exc) and where in str(exc) and f"'{field}'" in str(exc)
    return problem


def where(feats: list[Feature], i: int) -> str:
    return f"feature {i + 1} ({feats[i]['properties']['code']})"


def neighbours(feats: list[Feature]) -> tuple[int, int]:
    """Indexes of two grids of one district that share an edge."""
    for i, a in enumerate(feats):
        for j in range(i + 1, len(feats)):
            b = feats[j]
            if (
                a["properties"]["district_code"] == b["properties"]["district_code"]
                and shape(a["geometry"]).intersection(shape(b["geometry"])).length > 0
            ):
                return i, j
    raise AssertionError("no neighbouring grids in the county")


def overlapping(a: Feature, b: Feature) -> dict[str, Any]:
    """``b``'s polygon grown by a 100 m-wide strip of its neighbour ``a``."""
    ga, gb = shape(a["geometry"]), shape(b["geometry"])
    grown = gb.union(ga.intersection(gb.buffer(0.001)))
    assert grown.is_valid and ga.intersection(grown).area > 1e-8
    return dict(mapping(grown))


def officer_rows(rows: list[dict[str, str]], kind: str = "officer") -> list[int]:
    """Indexes of the rows of ``kind`` that serve grids."""
    return [i for i, r in enumerate(rows) if r["kind"] == kind and r["grid_codes"]]


def db_people(factory: Factory) -> dict[str, tuple[Any, ...]]:
    """personnel_no -> everything the file gives about the person, read from the database."""
    with factory() as session:
        station = dict(session.execute(select(Station.id, Station.code)).all())
        grid = dict(session.execute(select(PoliceGrid.id, PoliceGrid.code)).all())
        return {
            p.personnel_no: (
                p.name,
                p.kind.value,
                station[p.station_id],
                p.team.value if p.team else "",
                p.position or "",
                p.phone or "",
                sorted(grid[a.grid_id] for a in p.assignments),
                p.duty_status.value,
                p.last_lon,
                p.last_lat,
            )
            for p in session.scalars(select(Person))
        }


def file_people(rows: list[dict[str, str]]) -> dict[str, tuple[Any, ...]]:
    """The same view as ``db_people``, from the personnel CSV rows."""
    return {
        r["personnel_no"]: (
            r["name"],
            r["kind"],
            r["station_code"],
            r["team"],
            r["position"],
            r["phone"],
            sorted(c for c in r["grid_codes"].split(";") if c),
            r["duty_status"] or "available",
            float(r["lon"]) if r["lon"] else None,
            float(r["lat"]) if r["lat"] else None,
        )
        for r in rows
    }


# --- 1. round trip --------------------------------------------------------------------


def test_round_trip_stores_as_many_records_as_the_files_hold(
    session_factory: Factory, county: CountyFiles
) -> None:
    reports = import_county(session_factory, county)

    for kind in ORDER[:4]:
        codes = [f["properties"]["code"] for f in features(county_file(county, kind))]
        assert reports[kind].created == codes, kind
        assert (reports[kind].updated, reports[kind].unchanged) == ([], 0), kind
    rows = people(county.personnel)
    assert reports["personnel"].created == [r["personnel_no"] for r in rows]
    stations = [f["properties"] for f in features(county.stations)]
    assert counts(session_factory) == {
        "bureau": len({s["bureau_code"] for s in stations}),
        "joint_station": len({s.get("joint_station_code") for s in stations} - {None}),
        "station": len(stations),
        "police_district": len(features(county.districts)),
        "police_grid": len(features(county.grids)),
        "civil_grid": len(features(county.civil_grids)),
        "person": len(rows),
        "grid_assignment": sum(len(r["grid_codes"].split(";")) for r in rows if r["grid_codes"]),
        "audit_event": 5,
    }
    with session_factory() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.action, e.object_type, e.object_id) for e in events] == [
            (AuditAction.IMPORT, kind, county_file(county, kind).name) for kind in ORDER
        ]
        assert json.loads(events[2].detail)["created"] == reports["grids"].created


def test_round_trip_grids_read_back_as_in_the_file(
    session_factory: Factory, county: CountyFiles
) -> None:
    import_county(session_factory, county)
    feats = features(county.grids)
    with session_factory() as session:
        stored = {g.code: g for g in session.scalars(select(PoliceGrid))}
        district = dict(session.execute(select(PoliceDistrict.id, PoliceDistrict.code)).all())
        civil = {c.code: c.police_grid_id for c in session.scalars(select(CivilGrid))}
        fixed = {
            (g, r.value): no
            for g, r, no in session.execute(
                select(PoliceGrid.code, GridAssignment.role, Person.personnel_no)
                .join(GridAssignment, GridAssignment.grid_id == PoliceGrid.id)
                .join(Person, Person.id == GridAssignment.person_id)
                .where(GridAssignment.role.in_([PersonKind.OFFICER, PersonKind.AUXILIARY]))
            )
        }
    assert len(stored) == len(feats)
    for f in feats:
        p, grid = f["properties"], stored[f["properties"]["code"]]
        polygon = shape(f["geometry"])
        assert (
            grid.name,
            grid.kind.value,
            grid.population,
            grid.places,
            district[grid.district_id],
        ) == (p["name"], p["kind"], p["population"], p["places"], p["district_code"]), p["code"]
        assert isinstance(grid.geometry, BaseGeometry)
        assert grid.geometry.equals_exact(polygon, 0.0), p["code"]
        assert (grid.min_lon, grid.min_lat, grid.max_lon, grid.max_lat) == polygon.bounds
    # the fixed officer and auxiliary of every grid, as the personnel file assigns them
    expected = {
        (code, r["kind"]): r["personnel_no"]
        for r in people(county.personnel)
        if r["kind"] in ("officer", "auxiliary")
        for code in r["grid_codes"].split(";")
        if code
    }
    assert fixed == expected
    assert {code for code, kind in fixed if kind == "officer"} == set(stored)
    ids = {g.code: g.id for g in stored.values()}
    assert civil == {
        f["properties"]["code"]: ids[f["properties"]["police_grid_code"]]
        for f in features(county.civil_grids)
    }


def test_round_trip_personnel_and_stations_read_back_as_in_the_files(
    session_factory: Factory, county: CountyFiles
) -> None:
    import_county(session_factory, county)
    rows = people(county.personnel)
    stored = db_people(session_factory)
    assert stored == file_people(rows)
    assert {no: person[5] for no, person in stored.items()} == {
        r["personnel_no"]: r["phone"] for r in rows
    }
    assert all(person[5] for person in stored.values())  # every phone of the file arrived
    with session_factory() as session:
        stations = {s.code: s for s in session.scalars(select(Station))}
        for f in features(county.stations):
            p, s = f["properties"], stations[f["properties"]["code"]]
            assert (s.name, s.kind.value, s.address, s.bureau.code, s.bureau.name) == (
                p["name"],
                p["kind"],
                p["address"],
                p["bureau_code"],
                p["bureau_name"],
            )
            joint = s.joint_station.code if s.joint_station else None
            assert joint == p.get("joint_station_code")
            assert s.geometry is not None and s.geometry.equals_exact(shape(f["geometry"]), 0.0)


# --- 2. idempotence -------------------------------------------------------------------


def test_importing_every_file_again_changes_nothing(
    session_factory: Factory, county: CountyFiles
) -> None:
    import_county(session_factory, county)
    before = counts(session_factory)
    people_before = db_people(session_factory)

    again = import_county(session_factory, county)

    for kind, report in again.items():
        n = (
            len(people(county.personnel))
            if kind == "personnel"
            else len(features(county_file(county, kind)))
        )
        assert (report.created, report.updated, report.unchanged) == ([], [], n), kind
    assert counts(session_factory) == before  # no new audit rows either
    assert db_people(session_factory) == people_before


def test_changing_one_population_updates_exactly_that_grid(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county)
    before = counts(session_factory)
    feats = features(county.grids)
    k = len(feats) // 2
    code = feats[k]["properties"]["code"]
    feats[k]["properties"]["population"] += 123

    report = run(session_factory, "grids", write_features(tmp_path / "grids.geojson", feats))

    assert (report.created, report.updated, report.unchanged) == ([], [code], len(feats) - 1)
    with session_factory() as session:
        population = dict(session.execute(select(PoliceGrid.code, PoliceGrid.population)).all())
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert population == {f["properties"]["code"]: f["properties"]["population"] for f in feats}
    assert counts(session_factory) == {**before, "audit_event": before["audit_event"] + 1}
    assert json.loads(last.detail) == {
        "created": [],
        "updated": [code],
        "unchanged": len(feats) - 1,
    }


def test_changing_one_phone_and_moving_an_officer_updates_exactly_those_people(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county)
    rows = people(county.personnel)
    a, b = officer_rows(rows)[:2]
    phone_row = next(i for i, r in enumerate(rows) if r["kind"] == "volunteer")
    rows[phone_row]["phone"] = "13900000001"
    # officer a hands his first grid to officer b, who is listed after him
    first, *rest = rows[a]["grid_codes"].split(";")
    rows[a]["grid_codes"] = ";".join(rest)
    rows[b]["grid_codes"] += ";" + first
    report = run(session_factory, "personnel", write_people(tmp_path / "p.csv", rows))

    changed = [rows[i]["personnel_no"] for i in sorted({a, b, phone_row})]
    assert (report.created, sorted(report.updated)) == ([], sorted(changed))
    assert report.unchanged == len(rows) - len(changed)
    assert db_people(session_factory) == file_people(rows)


# --- 3. Excel -------------------------------------------------------------------------


def _excel_value(column: str, value: str) -> Any:
    """What a user's workbook holds: numbers as numbers, Chinese for enumerations."""
    if value == "":
        return None
    if column in ("personnel_no", "phone") and value.isdigit():
        return int(value) if column == "personnel_no" else float(value)
    if column in ("lon", "lat"):
        return float(value)
    aliases = {"kind": KIND_ALIASES, "team": TEAM_ALIASES, "duty_status": STATUS_ALIASES}.get(
        column
    )
    if aliases:
        return {english: chinese for chinese, english in aliases.items()}[value]
    return value


def test_excel_with_chinese_headers_and_numeric_ids_gives_the_same_people_as_csv(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="civil-grids")
    rows = people(county.personnel)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([CHINESE_HEADERS[c] for c in PERSONNEL_COLUMNS])
    for r in rows:
        sheet.append([_excel_value(c, r[c]) for c in PERSONNEL_COLUMNS])
    assert isinstance(sheet.cell(row=2, column=1).value, int)  # officers' numbers are numbers
    book.save(tmp_path / "人员.xlsx")

    report = run(session_factory, "personnel", tmp_path / "人员.xlsx")

    assert report.created == [r["personnel_no"] for r in rows]
    assert db_people(session_factory) == file_people(rows)
    # the CSV now finds exactly these people: nothing to create or update
    again = run(session_factory, "personnel", county.personnel)
    assert (again.created, again.updated, again.unchanged) == ([], [], len(rows))


# --- 4. bad input ---------------------------------------------------------------------


def test_broken_json_is_rejected_with_line_and_column(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="districts")
    before = counts(session_factory)
    path = tmp_path / "grids.geojson"
    path.write_text(
        county.grids.read_text(encoding="utf-8").replace("}},", "}}", 1), encoding="utf-8"
    )

    exc = rejected(session_factory, "grids", path)

    single_problem(
        exc,
        file="grids.geojson",
        where="line 3, column 1",
        field="-",
        says=["not valid JSON", "save the file as GeoJSON"],
    )
    assert counts(session_factory) == before


def test_feature_without_geometry_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="districts")
    before = counts(session_factory)
    feats = features(county.grids)
    del feats[4]["geometry"]

    exc = rejected(session_factory, "grids", write_features(tmp_path / "grids.geojson", feats))

    single_problem(
        exc,
        file="grids.geojson",
        where=where(feats, 4),
        field="geometry",
        says=["missing", "needs its polygon"],
    )
    assert counts(session_factory) == before


def test_point_geometry_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="districts")
    before = counts(session_factory)
    feats = features(county.grids)
    feats[7]["geometry"] = {"type": "Point", "coordinates": [117.0, 25.15]}

    exc = rejected(session_factory, "grids", write_features(tmp_path / "grids.geojson", feats))

    single_problem(
        exc,
        file="grids.geojson",
        where=where(feats, 7),
        field="geometry",
        says=["is a Point", "must be a Polygon or MultiPolygon"],
    )
    assert counts(session_factory) == before


def test_malformed_geometry_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="districts")
    before = counts(session_factory)
    feats = features(county.grids)
    feats[2]["geometry"] = {"type": "Polygon", "coordinates": [[117.0, "25.1"]]}

    exc = rejected(session_factory, "grids", write_features(tmp_path / "grids.geojson", feats))

    single_problem(
        exc, file="grids.geojson", where=where(feats, 2), field="geometry", says=["malformed"]
    )
    assert counts(session_factory) == before


def test_self_intersecting_polygon_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="districts")
    before = counts(session_factory)
    feats = features(county.grids)
    x, y = shape(feats[3]["geometry"]).representative_point().coords[0]
    bow_tie = [[x, y], [x + 0.002, y + 0.002], [x + 0.002, y], [x, y + 0.002], [x, y]]
    feats[3]["geometry"] = {"type": "Polygon", "coordinates": [bow_tie]}

    exc = rejected(session_factory, "grids", write_features(tmp_path / "grids.geojson", feats))

    single_problem(
        exc,
        file="grids.geojson",
        where=where(feats, 3),
        field="geometry",
        says=["not a valid polygon", "Self-intersection", "fix self-intersections"],
    )
    assert counts(session_factory) == before


def test_coordinates_in_metres_are_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="districts")
    before = counts(session_factory)
    feats = features(county.grids)
    feats[5]["geometry"] = dict(mapping(box(500_000, 2_800_000, 500_800, 2_800_600)))

    exc = rejected(session_factory, "grids", write_features(tmp_path / "grids.geojson", feats))

    single_problem(
        exc,
        file="grids.geojson",
        where=where(feats, 5),
        field="geometry",
        says=["not WGS-84 degrees", "reproject the file to EPSG:4326"],
    )
    assert counts(session_factory) == before


def test_two_grids_of_one_district_overlapping_in_the_file_are_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="districts")
    before = counts(session_factory)
    feats = features(county.grids)
    i, j = neighbours(feats)
    feats[j]["geometry"] = overlapping(feats[i], feats[j])

    exc = rejected(session_factory, "grids", write_features(tmp_path / "grids.geojson", feats))

    other = feats[j]["properties"]["code"]
    single_problem(
        exc,
        file="grids.geojson",
        where=where(feats, i),
        field="geometry",
        says=[f"overlaps grid {other}", "must not overlap"],
    )
    assert counts(session_factory) == before


def test_new_grid_overlapping_a_stored_grid_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="grids")
    before = counts(session_factory)
    stored = features(county.grids)[10]
    inner = shape(stored["geometry"])
    piece = inner.intersection(inner.representative_point().buffer(0.001))
    new = {
        "type": "Feature",
        "geometry": dict(mapping(piece)),
        "properties": {**stored["properties"], "code": "QX-NEW-G1", "name": "新警格"},
    }

    exc = rejected(session_factory, "grids", write_features(tmp_path / "new.geojson", [new]))

    single_problem(
        exc,
        file="new.geojson",
        where="feature 1 (QX-NEW-G1)",
        field="geometry",
        says=[f"overlaps grid {stored['properties']['code']}", "must not overlap"],
    )
    assert counts(session_factory) == before


def test_unknown_station_code_in_districts_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="stations")
    before = counts(session_factory)
    feats = features(county.districts)
    feats[-1]["properties"]["station_code"] = "QX-NONE"

    exc = rejected(session_factory, "districts", write_features(tmp_path / "d.geojson", feats))

    single_problem(
        exc,
        file="d.geojson",
        where=where(feats, len(feats) - 1),
        field="station_code",
        says=["unknown station code QX-NONE", "import the station first or correct"],
    )
    assert counts(session_factory) == before


def test_unknown_station_code_in_personnel_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="civil-grids")
    before = counts(session_factory)
    rows = people(county.personnel)
    rows[9]["station_code"] = "QX-NONE"

    exc = rejected(session_factory, "personnel", write_people(tmp_path / "p.csv", rows))

    single_problem(
        exc,
        file="p.csv",
        where="row 11",
        field="station_code",
        says=["unknown station code QX-NONE", "import the station first or correct"],
    )
    assert counts(session_factory) == before


def test_duplicate_personnel_number_in_one_file_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="civil-grids")
    before = counts(session_factory)
    rows = people(county.personnel)
    first, second = [i for i, r in enumerate(rows) if not r["grid_codes"]][:2]
    number = rows[first]["personnel_no"]
    rows[second]["personnel_no"] = number

    exc = rejected(session_factory, "personnel", write_people(tmp_path / "p.csv", rows))

    single_problem(
        exc,
        file="p.csv",
        where=f"row {second + 2}",
        field="personnel_no",
        says=[f"duplicate personnel ID {number}", f"also in row {first + 2}", "must be unique"],
    )
    assert counts(session_factory) == before


@pytest.mark.parametrize("population", ["<absent>", None, ""])
def test_missing_population_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path, population: Any
) -> None:
    import_county(session_factory, county, upto="districts")
    before = counts(session_factory)
    feats = features(county.grids)
    if population == "<absent>":
        del feats[6]["properties"]["population"]
    else:
        feats[6]["properties"]["population"] = population

    exc = rejected(session_factory, "grids", write_features(tmp_path / "grids.geojson", feats))

    single_problem(
        exc,
        file="grids.geojson",
        where=where(feats, 6),
        field="population",
        says=["is required", "number of residents"],
    )
    assert counts(session_factory) == before


@pytest.mark.parametrize(
    ("population", "says"),
    [
        ("三千", "'三千' is not a whole number"),
        ("about 3000", "'about 3000' is not a whole number"),
        (2500.5, "2500.5 is not a whole number"),
        ("1,200", "'1,200' is not a whole number"),
        (True, "True is not a whole number"),
        (-5, "must be zero or more"),
    ],
)
def test_non_numeric_or_negative_population_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path, population: Any, says: str
) -> None:
    import_county(session_factory, county, upto="districts")
    before = counts(session_factory)
    feats = features(county.grids)
    feats[6]["properties"]["population"] = population

    exc = rejected(session_factory, "grids", write_features(tmp_path / "grids.geojson", feats))

    single_problem(
        exc, file="grids.geojson", where=where(feats, 6), field="population", says=[says]
    )
    assert counts(session_factory) == before


def test_population_written_as_whole_float_is_accepted(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    """Tools that write every number as a double give 2500.0; that is 2500 residents."""
    import_county(session_factory, county, upto="districts")
    feats = features(county.grids)
    feats[6]["properties"]["population"] = 2500.0

    run(session_factory, "grids", write_features(tmp_path / "grids.geojson", feats))

    with session_factory() as session:
        code = feats[6]["properties"]["code"]
        assert session.scalar(select(PoliceGrid.population).where(PoliceGrid.code == code)) == 2500


@pytest.mark.parametrize("phone", ["1380013800", "23800138000", "138-0013-8000", "+8613800138000"])
def test_bad_phone_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path, phone: str
) -> None:
    import_county(session_factory, county, upto="civil-grids")
    before = counts(session_factory)
    rows = people(county.personnel)
    rows[20]["phone"] = phone

    exc = rejected(session_factory, "personnel", write_people(tmp_path / "p.csv", rows))

    single_problem(
        exc,
        file="p.csv",
        where="row 22",
        field="phone",
        says=[f"'{phone}' is not a mobile number", "11 digits starting with 13-19"],
    )
    assert counts(session_factory) == before


@pytest.mark.parametrize("kind", ["officer", "auxiliary"])
def test_two_officers_claiming_one_grid_are_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path, kind: str
) -> None:
    import_county(session_factory, county, upto="civil-grids")
    before = counts(session_factory)
    rows = people(county.personnel)
    a, b = officer_rows(rows, kind)[:2]
    assert rows[a]["station_code"] == rows[b]["station_code"]
    grid = rows[a]["grid_codes"].split(";")[0]
    rows[b]["grid_codes"] += ";" + grid

    exc = rejected(session_factory, "personnel", write_people(tmp_path / "p.csv", rows))

    single_problem(
        exc,
        file="p.csv",
        where=f"row {b + 2}",
        field="grid_codes",
        says=[
            f"grid {grid} already has the {kind_label(kind)} {rows[a]['personnel_no']}",
            "one fixed officer and one auxiliary",
        ],
    )
    assert counts(session_factory) == before


def test_new_officer_claiming_a_grid_held_in_the_database_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county)
    before = counts(session_factory)
    rows = people(county.personnel)
    holder = rows[officer_rows(rows)[0]]
    grid = holder["grid_codes"].split(";")[0]
    newcomer = {
        **holder,
        "personnel_no": "359999",
        "name": "王新",
        "phone": "13900000002",
        "grid_codes": grid,
    }

    exc = rejected(session_factory, "personnel", write_people(tmp_path / "p.csv", [newcomer]))

    single_problem(
        exc,
        file="p.csv",
        where="personnel 359999",
        field="grid_codes",
        says=[
            f"grid {grid} already has the {kind_label('officer')} {holder['personnel_no']}",
            "release it first",
        ],
    )
    assert counts(session_factory) == before


def test_unknown_grid_code_in_personnel_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="civil-grids")
    before = counts(session_factory)
    rows = people(county.personnel)
    k = next(i for i, r in enumerate(rows) if r["kind"] == "grid_worker")
    rows[k]["grid_codes"] = "QX-NOPE-G99"

    exc = rejected(session_factory, "personnel", write_people(tmp_path / "p.csv", rows))

    single_problem(
        exc,
        file="p.csv",
        where=f"row {k + 2}",
        field="grid_codes",
        says=["unknown police grid QX-NOPE-G99", "import the grids first or correct"],
    )
    assert counts(session_factory) == before


def test_unknown_grid_code_in_civil_grids_is_rejected(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="grids")
    before = counts(session_factory)
    feats = features(county.civil_grids)
    feats[12]["properties"]["police_grid_code"] = "QX-NOPE-G99"

    exc = rejected(session_factory, "civil-grids", write_features(tmp_path / "c.geojson", feats))

    single_problem(
        exc,
        file="c.geojson",
        where=where(feats, 12),
        field="police_grid_code",
        says=["unknown police grid QX-NOPE-G99", "import the grids first or correct"],
    )
    assert counts(session_factory) == before


def test_one_bad_feature_among_ten_good_new_ones_writes_none(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="districts")
    before = counts(session_factory)
    feats = features(county.grids)[:11]
    feats[10]["properties"]["population"] = "n/a"

    exc = rejected(session_factory, "grids", write_features(tmp_path / "grids.geojson", feats))

    single_problem(
        exc,
        file="grids.geojson",
        where=where(feats, 10),
        field="population",
        says=["is not a whole number"],
    )
    assert counts(session_factory) == before
    assert before["police_grid"] == 0


def test_one_bad_feature_among_ten_good_updates_applies_none(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="grids")
    before = counts(session_factory)
    original = {
        f["properties"]["code"]: f["properties"]["population"] for f in features(county.grids)
    }
    feats = features(county.grids)[:11]
    for f in feats[:10]:
        f["properties"]["population"] += 1
        f["properties"]["name"] += "（改）"
    feats[10]["properties"]["kind"] = "suburban"

    exc = rejected(session_factory, "grids", write_features(tmp_path / "grids.geojson", feats))

    single_problem(
        exc,
        file="grids.geojson",
        where=where(feats, 10),
        field="kind",
        says=["'suburban' is not allowed", "use one of: urban, rural"],
    )
    assert counts(session_factory) == before
    with session_factory() as session:
        assert (
            dict(session.execute(select(PoliceGrid.code, PoliceGrid.population)).all()) == original
        )
        assert not session.scalars(
            select(PoliceGrid).where(PoliceGrid.name.contains("（改）"))
        ).all()


# --- 5. every problem is reported -----------------------------------------------------


def test_two_bad_rows_give_two_problems(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    import_county(session_factory, county, upto="civil-grids")
    before = counts(session_factory)
    rows = people(county.personnel)
    rows[3]["phone"] = "12345"
    rows[-1]["station_code"] = "QX-NONE"

    exc = rejected(session_factory, "personnel", write_people(tmp_path / "p.csv", rows))

    assert [(p.where, p.field) for p in exc.problems] == [
        ("row 5", "phone"),
        (f"row {len(rows) + 1}", "station_code"),
    ]
    assert str(exc).splitlines()[0] == "2 problem(s) found; nothing was imported."
    assert counts(session_factory) == before


def test_problems_of_different_checks_are_all_reported_at_once(
    session_factory: Factory, county: CountyFiles, tmp_path: Path
) -> None:
    """Field problems do not hide geometry problems found later (or the other way round)."""
    import_county(session_factory, county, upto="districts")
    before = counts(session_factory)
    feats = features(county.grids)
    i, j = neighbours(feats)
    assert j < len(feats) - 1
    feats[j]["geometry"] = overlapping(feats[i], feats[j])
    bad = next(k for k in range(len(feats)) if k not in (i, j))
    feats[bad]["properties"]["population"] = "many"
    feats[bad]["properties"]["kind"] = "城区"
    feats[-1]["geometry"] = {"type": "Point", "coordinates": [117.0, 25.15]}

    exc = rejected(session_factory, "grids", write_features(tmp_path / "grids.geojson", feats))

    assert sorted((p.where, p.field) for p in exc.problems) == sorted(
        [
            (where(feats, bad), "kind"),
            (where(feats, bad), "population"),
            (where(feats, len(feats) - 1), "geometry"),
            (where(feats, i), "geometry"),
        ]
    )
    assert str(exc).splitlines()[0] == "4 problem(s) found; nothing was imported."
    assert counts(session_factory) == before
