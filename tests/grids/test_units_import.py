"""Import of planning units and barrier lines (fengqiao.grids.importing), on SQLite and
PostgreSQL: the demo county's units, re-import, every kind of bad row, CSV with WKT and
Chinese headers, ESRI Shapefiles, barrier lines.

Bad files are small hand-made squares imported into the county with its units removed,
each file holding good units besides the bad one, so a file wrongly accepted in part
would visibly write rows."""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapefile  # pyshp
import shapely
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.polygon import orient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit.models import AuditEvent
from fengqiao.audit.service import SYSTEM
from fengqiao.db import unit_of_work
from fengqiao.demo.county import CountyFiles
from fengqiao.grids.importing import import_barriers, import_units
from fengqiao.grids.models import BarrierLine, PlanningUnit, UnitKind
from fengqiao.importfiles import ImportRejected, Problem
from fengqiao.org.models import AreaKind, PoliceDistrict, PoliceGrid
from tests.grids.helpers import district, feature, write_geojson

Factory = sessionmaker[Session]
SIDE = 0.001  # degrees: about 100 m


def _count(session: Session, model: type[PlanningUnit] | type[BarrierLine]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _rejected(session: Session, path: Path, *, barriers: bool = False) -> list[Problem]:
    before = (_count(session, PlanningUnit), _count(session, BarrierLine))
    with pytest.raises(ImportRejected) as caught:
        (import_barriers if barriers else import_units)(session, path, actor=SYSTEM)
    # Nothing pending either: the counts below flush whatever the import left behind.
    assert (_count(session, PlanningUnit), _count(session, BarrierLine)) == before
    return caught.value.problems


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# --------------------------------------------------------------------------- the demo


def test_demo_units_are_stored_with_grid_and_district(
    county: Factory, county_files: CountyFiles
) -> None:
    features = json.loads(county_files.units.read_text(encoding="utf-8"))["features"]
    with county() as session:
        units = list(session.scalars(select(PlanningUnit)))
        assert len(units) == len(features) == 1752
        assert {u.code for u in units} == {f["properties"]["code"] for f in features}
        grids = {g.id: g for g in session.scalars(select(PoliceGrid))}
        population: dict[int, int] = {}
        for u in units:
            assert u.grid_id is not None, u.code
            assert u.district_id == grids[u.grid_id].district_id, u.code
            assert u.code.startswith("QX-U")
            population[u.grid_id] = population.get(u.grid_id, 0) + u.population
        # Every grid is made of units, and its units' residents add up to its population.
        assert population == {g.id: g.population for g in grids.values()}
        first = next(u for u in units if u.code == features[0]["properties"]["code"])
        props = features[0]["properties"]
        assert (first.name, first.kind.value, first.area_kind.value, first.population) == (
            props["name"],
            props["kind"],
            props["area_kind"],
            props["population"],
        )
        assert (first.min_lon, first.min_lat, first.max_lon, first.max_lat) == pytest.approx(
            first.geometry.bounds
        )


def test_importing_the_same_file_again_changes_nothing(
    county: Factory, county_files: CountyFiles
) -> None:
    with unit_of_work(county) as session:
        audit_before = _count_audit(session)
        report = import_units(session, county_files.units, actor=SYSTEM)
        assert (report.created, report.updated, report.unchanged) == ([], [], 1752)
        assert _count_audit(session) == audit_before  # nothing changed, nothing audited


def _count_audit(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_changed_population_updates_only_that_unit(
    county: Factory, county_files: CountyFiles, tmp_path: Path
) -> None:
    data = json.loads(county_files.units.read_text(encoding="utf-8"))
    props = data["features"][5]["properties"]
    props["population"] += 7
    path = write_geojson(tmp_path / "units.geojson", data["features"])
    with unit_of_work(county) as session:
        report = import_units(session, path, actor=SYSTEM)
        assert (report.created, report.updated, report.unchanged) == ([], [props["code"]], 1751)
    with county() as session:
        unit = session.scalars(select(PlanningUnit).where(PlanningUnit.code == props["code"])).one()
        assert unit.population == props["population"]


# --------------------------------------------------------------------------- bad files


@pytest.fixture
def blank(county: Factory) -> Iterator[Session]:
    """A session on the county with every planning unit removed (districts and grids kept)."""
    with county() as session:
        session.execute(delete(PlanningUnit))
        session.commit()
        yield session


def _inside(session: Session, code: str = "QX-CG-D1") -> tuple[float, float]:
    """A point deep enough inside the district for a few squares around it."""
    geom = district(session, code).geometry
    assert geom is not None
    point = geom.representative_point()
    assert geom.contains(point.buffer(5 * SIDE))
    return point.x, point.y


def _square(x: float, y: float, size: float = SIDE) -> Polygon:
    return box(x, y, x + size, y + size)


def test_overlapping_units_are_refused(blank: Session, tmp_path: Path) -> None:
    x, y = _inside(blank)
    path = write_geojson(
        tmp_path / "overlap.geojson",
        [
            feature("T-1", _square(x, y)),
            feature("T-2", _square(x + SIDE / 2, y)),  # half of T-1
            feature("T-3", _square(x, y + 2 * SIDE)),
        ],
    )
    problem = _only(_rejected(blank, path))
    assert (problem.file, problem.where, problem.field) == (
        "overlap.geojson",
        "feature 1 (T-1)",
        "geometry",
    )
    assert "overlaps unit T-2" in problem.message
    # Half of a square of 0.001° by 0.001°: about 50 m by 111 m.
    m2 = float(problem.message.split("about ")[1].split(" m²")[0])
    assert 4500 < m2 < 6000, problem.message


def test_a_unit_overlapping_a_stored_unit_is_refused(county: Factory, tmp_path: Path) -> None:
    with county() as session:
        stored = session.scalars(select(PlanningUnit).order_by(PlanningUnit.code)).first()
        assert stored is not None
        inner = shapely.point_on_surface(stored.geometry)
        path = write_geojson(
            tmp_path / "new.geojson", [feature("T-NEW", inner.buffer(SIDE / 10, quad_segs=2))]
        )
        problems = _rejected(session, path)
        assert problems, "a unit on top of a stored unit was accepted"
        assert all(p.where == "feature 1 (T-NEW)" for p in problems)
        assert any(f"overlaps unit {stored.code}" in p.message for p in problems)


def _border_point(session: Session) -> tuple[str, tuple[float, float]]:
    """A point on the shared boundary of the first two neighbouring districts."""
    districts = list(session.scalars(select(PoliceDistrict).order_by(PoliceDistrict.code)))
    for a in districts:
        for b in districts:
            if a.id < b.id and a.geometry is not None and b.geometry is not None:
                shared = a.geometry.intersection(b.geometry)
                if shared.length > 50 * SIDE:
                    mid = shared.interpolate(0.5, normalized=True)
                    return f"{a.code}/{b.code}", (mid.x, mid.y)
    raise AssertionError("no two districts share a boundary")


@pytest.mark.parametrize(
    ("case", "field", "words"),
    [
        ("no population", "population", "is required"),
        ("bad population", "population", "'many' is not a whole number"),
        ("unknown kind", "kind", "'castle' is not allowed; use one of: compound, village"),
        ("unknown area kind", "area_kind", "'suburb' is not allowed"),
        ("outside", "geometry", "lies outside every police district"),
        ("across", "geometry", "crosses the boundary of police district"),
        ("unknown district", "district_code", "unknown police district QX-NOPE"),
        ("bad code", "code", "is not a valid code"),
        ("self-intersecting", "geometry", "is not a valid polygon (Self-intersection"),
    ],
)
def test_a_bad_unit_is_named_with_its_field_and_nothing_is_written(
    blank: Session, tmp_path: Path, case: str, field: str, words: str
) -> None:
    x, y = _inside(blank)
    geom = _square(x, y + 2 * SIDE)
    props: dict[str, object] = {}
    if case == "no population":
        props["population"] = None
    elif case == "bad population":
        props["population"] = "many"
    elif case == "unknown kind":
        props["kind"] = "castle"
    elif case == "unknown area kind":
        props["area_kind"] = "suburb"
    elif case == "outside":
        geom = _square(118.5, 26.5)  # WGS-84, but far from the county
    elif case == "across":
        _pair, (bx, by) = _border_point(blank)
        geom = _square(bx - SIDE, by - SIDE, 2 * SIDE)
    elif case == "unknown district":
        props["district_code"] = "QX-NOPE"
    elif case == "bad code":
        props["code"] = "T 2!"
    elif case == "self-intersecting":
        geom = Polygon([(x, y), (x + SIDE, y + SIDE), (x + SIDE, y), (x, y + SIDE)])
    code = str(props.pop("code", "T-2"))
    path = write_geojson(
        tmp_path / "bad.geojson",
        [feature("T-1", _square(x, y)), feature(code, geom, **props)],
    )
    problem = _only(_rejected(blank, path))
    assert problem.where == f"feature 2 ({code})"
    assert problem.field == field
    assert words in problem.message
    if case == "across":
        assert "outside:" in problem.message and "split the unit" in problem.message


def test_duplicate_codes_name_both_rows(blank: Session, tmp_path: Path) -> None:
    x, y = _inside(blank)
    path = write_geojson(
        tmp_path / "dup.geojson",
        [feature("T-1", _square(x, y)), feature("T-1", _square(x, y + 2 * SIDE))],
    )
    problem = _only(_rejected(blank, path))
    assert (problem.where, problem.field) == ("feature 2 (T-1)", "code")
    assert "feature 1 (T-1)" in problem.message


# --------------------------------------------------------------------------- formats


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


CN_HEADER = ["编码", "名称", "类型", "城乡", "人口", "几何"]


def test_csv_with_wkt_and_chinese_headers_imports(blank: Session, tmp_path: Path) -> None:
    x, y = _inside(blank)
    path = _write_csv(
        tmp_path / "units.csv",
        CN_HEADER,
        [
            ["C-1", "溪南小区", "小区", "城市", "1200", _square(x, y).wkt],
            ["C-2", "溪北村一组", "村", "农村", "800", _square(x + SIDE, y).wkt],
            ["C-3", "普查区三", "block", "urban", "0", _square(x, y + SIDE).wkt],
        ],
    )
    report = import_units(blank, path, actor=SYSTEM)
    assert sorted(report.created) == ["C-1", "C-2", "C-3"]
    units = {u.code: u for u in blank.scalars(select(PlanningUnit))}
    expected_district = district(blank, "QX-CG-D1").id
    c1, c2, c3 = units["C-1"], units["C-2"], units["C-3"]
    assert (c1.name, c1.kind, c1.area_kind, c1.population) == (
        "溪南小区",
        UnitKind.COMPOUND,
        AreaKind.URBAN,
        1200,
    )
    assert (c2.kind, c2.area_kind, c2.population) == (UnitKind.VILLAGE, AreaKind.RURAL, 800)
    assert c3.kind is UnitKind.BLOCK and c3.population == 0
    for unit in units.values():
        assert unit.district_id == expected_district
        assert unit.grid_id is not None  # the active grid under the unit
        assert unit.geometry.equals(_square(x, y)) or unit.code != "C-1"
    # Again: nothing new.
    again = import_units(blank, path, actor=SYSTEM)
    assert (again.created, again.updated, again.unchanged) == ([], [], 3)


def test_csv_with_invalid_wkt_names_the_row(blank: Session, tmp_path: Path) -> None:
    x, y = _inside(blank)
    path = _write_csv(
        tmp_path / "units.csv",
        ["code", "name", "kind", "area_kind", "population", "wkt"],
        [
            ["C-1", "甲", "compound", "urban", "10", _square(x, y).wkt],
            ["C-2", "乙", "compound", "urban", "10", "POLYGON((117 25, 117.001"],
            ["C-3", "丙", "compound", "urban", "10", ""],
        ],
    )
    problems = _rejected(blank, path)
    assert [(p.where, p.field) for p in problems] == [("row 3", "wkt"), ("row 4", "wkt")]
    assert "is not valid WKT" in problems[0].message
    assert "is required" in problems[1].message


def _write_shapefile(
    base: Path, squares: list[Polygon], *, cpg: bool = True, encoding: str = "utf-8"
) -> Path:
    with shapefile.Writer(str(base), shapeType=shapefile.POLYGON, encoding=encoding) as writer:
        for name in ("code", "name", "kind", "area_kind"):
            writer.field(name, "C", 50)
        writer.field("population", "N", 10, 0)
        for i, square in enumerate(squares, start=1):
            # A Shapefile's outer rings run clockwise.
            writer.poly([list(orient(square, -1.0).exterior.coords)])
            writer.record(f"S-{i}", f"石门{i}组", "village", "rural", 100 * i)
    if cpg:
        name = "UTF-8" if encoding == "utf-8" else "936"
        base.with_suffix(".cpg").write_text(name, encoding="ascii")
    return base.with_suffix(".shp")


@pytest.mark.parametrize("packed", [False, True], ids=["shp", "zip"])
def test_shapefile_imports(blank: Session, tmp_path: Path, packed: bool) -> None:
    x, y = _inside(blank)
    squares = [_square(x, y), _square(x + SIDE, y)]
    path = _write_shapefile(tmp_path / "units", squares)
    if packed:
        archive = tmp_path / "units.zip"
        with zipfile.ZipFile(archive, "w") as z:
            for suffix in (".shp", ".shx", ".dbf", ".cpg"):
                z.write(path.with_suffix(suffix), f"units{suffix}")
        path = archive
    report = import_units(blank, path, actor=SYSTEM)
    assert sorted(report.created) == ["S-1", "S-2"]
    units = {u.code: u for u in blank.scalars(select(PlanningUnit))}
    assert units["S-1"].name == "石门1组" and units["S-2"].population == 200
    assert units["S-1"].kind is UnitKind.VILLAGE and units["S-1"].area_kind is AreaKind.RURAL
    for square, code in zip(squares, ("S-1", "S-2"), strict=True):
        assert units[code].geometry.geom_type == "Polygon"
        assert units[code].geometry.equals(square)


@pytest.mark.parametrize("cpg", [True, False], ids=["cpg-936", "no-cpg"])
def test_zipped_gbk_shapefile_imports(blank: Session, tmp_path: Path, cpg: bool) -> None:
    """Chinese Shapefiles usually come zipped, in GBK, named by a .cpg of 936 (or not)."""
    x, y = _inside(blank)
    path = _write_shapefile(tmp_path / "units", [_square(x, y)], cpg=cpg, encoding="gbk")
    archive = tmp_path / "units.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for suffix in (".shp", ".shx", ".dbf", *((".cpg",) if cpg else ())):
            z.write(path.with_suffix(suffix), f"units{suffix}")
    assert import_units(blank, archive, actor=SYSTEM).created == ["S-1"]
    assert blank.scalars(select(PlanningUnit.name)).one() == "石门1组"


def test_shapefile_without_cpg_in_utf8_imports(blank: Session, tmp_path: Path) -> None:
    x, y = _inside(blank)
    path = _write_shapefile(tmp_path / "units", [_square(x, y)], cpg=False)
    report = import_units(blank, path, actor=SYSTEM)
    assert report.created == ["S-1"]


# --------------------------------------------------------------------------- barriers


def test_barrier_lines_import_and_polygons_are_refused(blank: Session, tmp_path: Path) -> None:
    x, y = _inside(blank)
    river = LineString([(x, y - 0.01), (x + 0.002, y), (x, y + 0.01)])
    path = write_geojson(
        tmp_path / "barriers.geojson",
        [
            {
                "type": "Feature",
                "properties": {"code": "R-1", "name": "清溪"},
                "geometry": shapely.geometry.mapping(river),
            }
        ],
    )
    report = import_barriers(blank, path, actor=SYSTEM)
    assert report.created == ["R-1"]
    stored = blank.scalars(select(BarrierLine)).one()
    assert stored.name == "清溪" and stored.geometry.equals(river)
    assert (stored.min_lon, stored.min_lat, stored.max_lon, stored.max_lat) == pytest.approx(
        river.bounds
    )
    again = import_barriers(blank, path, actor=SYSTEM)
    assert (again.created, again.updated, again.unchanged) == ([], [], 1)

    lake = write_geojson(
        tmp_path / "lake.geojson",
        [
            {"type": "Feature", "properties": {"code": code, "name": "湖"}, "geometry": g}
            for code, g in (
                ("R-2", shapely.geometry.mapping(river)),
                ("R-3", shapely.geometry.mapping(_square(x, y))),
            )
        ],
    )
    problem = _only(_rejected(blank, lake, barriers=True))
    assert (problem.where, problem.field) == ("feature 2 (R-3)", "geometry")
    assert "is a Polygon; a barrier must be a LineString" in problem.message
