"""Import of planning units (GeoJSON, Shapefile, CSV/Excel with WKT) and barrier lines.

All or nothing, matched by code like every other import. A unit's police district comes
from its ``district_code`` or, when that is empty, from the district covering the unit;
its current grid is the active grid covering its inner point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.audit.service import Actor
from fengqiao.geo.validate import find_overlaps, line_problem
from fengqiao.grids.models import BarrierLine, PlanningUnit, UnitKind
from fengqiao.i18n import _
from fengqiao.importfiles import (
    Collector,
    ImportReport,
    Row,
    check_unique,
    choice_field,
    code_field,
    count_field,
    read_areas,
    record_import,
    text_field,
    upsert,
)
from fengqiao.org import placement
from fengqiao.org.models import AreaKind, PoliceDistrict

UNIT_HEADERS = {
    "编码": "code",
    "名称": "name",
    "类型": "kind",
    "城乡": "area_kind",
    "人口": "population",
    "实有人口": "population",
    "警务区": "district_code",
    "警务区编码": "district_code",
}
BARRIER_HEADERS = {"编码": "code", "名称": "name"}
UNIT_KIND_ALIASES = {
    "小区": "compound",
    "村": "village",
    "村组": "village",
    "街区": "block",
    "普查区": "block",
    "其他": "other",
}
AREA_KIND_ALIASES = {"城市": "urban", "城镇": "urban", "农村": "rural"}
OUTSIDE_SHARE = 0.01  # a unit may stick out of its district by digitising noise only


def _bounds(geom: BaseGeometry) -> dict[str, float]:
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return {"min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}


def _districts_for(
    session: Session, bag: Collector, rows: list[Row], parsed: list[dict[str, Any]]
) -> dict[int, PoliceDistrict]:
    """The district of each row (by index), reporting rows outside or across districts."""
    all_districts = list(session.scalars(select(PoliceDistrict)))
    by_code = {d.code: d for d in all_districts}
    shaped = [(d, d.geometry) for d in all_districts if d.geometry is not None]
    out: dict[int, PoliceDistrict] = {}
    for i, (row, p) in enumerate(zip(rows, parsed, strict=True)):
        if row.geometry is None:
            continue
        inner = shapely.point_on_surface(row.geometry)
        if p["district_code"]:
            district = by_code.get(p["district_code"])
            if district is None:
                bag.add(
                    row.where,
                    "district_code",
                    _("unknown police district {code}; import the districts first.").format(
                        code=p["district_code"]
                    ),
                )
                continue
        else:
            district = next((d for d, g in shaped if g.covers(inner)), None)
            if district is None:
                found = placement.place_point(session, inner.x, inner.y)
                district = session.get(PoliceDistrict, found.district_id) if found else None
            if district is None:
                bag.add(
                    row.where,
                    "geometry",
                    _(
                        "lies outside every police district; give district_code or import "
                        "the district boundaries first."
                    ),
                )
                continue
        if district.geometry is not None:
            outside = row.geometry.difference(district.geometry).area
            if outside > OUTSIDE_SHARE * row.geometry.area:
                bag.add(
                    row.where,
                    "geometry",
                    _(
                        "crosses the boundary of police district {code} (outside: {pct:.0f}%); "
                        "split the unit along the boundary."
                    ).format(code=district.code, pct=100 * outside / row.geometry.area),
                )
                continue
        out[i] = district
    return out


def _check_overlaps(session: Session, bag: Collector, rows: list[Row], codes: list[str]) -> None:
    shaped = [(r.where, c, r.geometry) for r, c in zip(rows, codes, strict=True) if r.geometry]
    if not shaped:
        return
    box = shapely.box(*shapely.total_bounds([g for _w, _c, g in shaped]))
    minx, miny, maxx, maxy = box.bounds
    stored = session.scalars(
        select(PlanningUnit).where(
            PlanningUnit.code.not_in(set(codes)),
            PlanningUnit.max_lon >= minx,
            PlanningUnit.min_lon <= maxx,
            PlanningUnit.max_lat >= miny,
            PlanningUnit.min_lat <= maxy,
        )
    )
    items = shaped + [
        (_("stored unit {code}").format(code=u.code), u.code, u.geometry) for u in stored
    ]
    for i, j, area in find_overlaps([g for _w, _c, g in items]):
        if i >= len(shaped):
            continue
        bag.add(
            items[i][0],
            "geometry",
            _(
                "overlaps unit {other} by about {m2:.0f} m²; units must not overlap — "
                "fix the boundary so that every place belongs to one unit."
            ).format(other=items[j][1], m2=area),
        )


def import_units(session: Session, path: Path, *, actor: Actor) -> ImportReport:
    bag = Collector(path.name)
    rows = read_areas(path, bag, headers=UNIT_HEADERS)
    parsed: list[dict[str, Any]] = [
        {
            "code": code_field(bag, r),
            "name": text_field(bag, r, "name"),
            "kind": choice_field(
                bag, r, "kind", [k.value for k in UnitKind], aliases=UNIT_KIND_ALIASES
            ),
            "area_kind": choice_field(
                bag, r, "area_kind", [k.value for k in AreaKind], aliases=AREA_KIND_ALIASES
            ),
            "population": count_field(bag, r),
            "district_code": text_field(bag, r, "district_code", required=False, max_len=48),
        }
        for r in rows
    ]
    codes = [p["code"] for p in parsed]
    check_unique(bag, rows, codes, "code", _("unit code"))
    districts = _districts_for(session, bag, rows, parsed)
    _check_overlaps(session, bag, rows, codes)
    bag.raise_if_any()
    report = ImportReport("units", path.name)
    existing = {
        u.code: u for u in session.scalars(select(PlanningUnit).where(PlanningUnit.code.in_(codes)))
    }
    for i, (row, p) in enumerate(zip(rows, parsed, strict=True)):
        geom = row.geometry
        assert geom is not None
        inner = shapely.point_on_surface(geom)
        found = placement.place_point(session, inner.x, inner.y)
        values: dict[str, Any] = {
            "name": p["name"],
            "kind": UnitKind(p["kind"]),
            "area_kind": AreaKind(p["area_kind"]),
            "population": p["population"],
            "district_id": districts[i].id,
            "grid_id": found.grid_id if found else None,
            "geometry": geom,
            **_bounds(geom),
        }
        upsert(session, report, PlanningUnit, existing, p["code"], values)
    return record_import(session, actor, report)


def import_barriers(session: Session, path: Path, *, actor: Actor) -> ImportReport:
    bag = Collector(path.name)
    rows = read_areas(path, bag, headers=BARRIER_HEADERS, check=line_problem)
    parsed = [{"code": code_field(bag, r), "name": text_field(bag, r, "name")} for r in rows]
    codes = [p["code"] for p in parsed]
    check_unique(bag, rows, codes, "code", _("barrier code"))
    bag.raise_if_any()
    report = ImportReport("barriers", path.name)
    existing = {
        b.code: b for b in session.scalars(select(BarrierLine).where(BarrierLine.code.in_(codes)))
    }
    for row, p in zip(rows, parsed, strict=True):
        assert row.geometry is not None
        values = {"name": p["name"], "geometry": row.geometry, **_bounds(row.geometry)}
        upsert(session, report, BarrierLine, existing, p["code"], values)
    return record_import(session, actor, report)
