"""Import of stations, districts, grids, civil grids (GeoJSON) and personnel (CSV, Excel).

All or nothing: every row is validated first and a file with any problem writes
nothing. Records are matched by code (personnel by number), so importing the same
file again changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.audit.service import Actor
from fengqiao.geo.validate import find_overlaps
from fengqiao.i18n import _
from fengqiao.importfiles import (
    Collector,
    ImportReport,
    apply_values,
    check_unique,
    choice_field,
    code_field,
    count_field,
    float_field,
    read_features,
    read_table,
    record_import,
    text_field,
    upsert,
)
from fengqiao.labels import kind_label
from fengqiao.org import placement
from fengqiao.org.models import (
    AreaKind,
    Bureau,
    CivilGrid,
    DutyStatus,
    GridAssignment,
    JointStation,
    Person,
    PersonKind,
    PoliceDistrict,
    PoliceGrid,
    Station,
    Team,
)

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
PERSONNEL_HEADERS = {
    "编号": "personnel_no",
    "警号": "personnel_no",
    "姓名": "name",
    "类别": "kind",
    "所属单位": "station_code",
    "派出所": "station_code",
    "队伍": "team",
    "职务": "position",
    "电话": "phone",
    "手机": "phone",
    "警格": "grid_codes",
    "勤务状态": "duty_status",
    "经度": "lon",
    "纬度": "lat",
}
KIND_ALIASES = {
    "民警": "officer",
    "辅警": "auxiliary",
    "网格员": "grid_worker",
    "志愿者": "volunteer",
}
TEAM_ALIASES = {"社区警务队": "community", "案件办理队": "case", "综合指挥室": "command_room"}
STATUS_ALIASES = {
    "在岗可派": "available",
    "在途": "en_route",
    "到场": "on_scene",
    "忙碌": "busy",
    "不在岗": "off_duty",
}


def _lookup(session: Session, model: Any, codes: Iterable[str]) -> dict[str, Any]:
    codes = {c for c in codes if c}
    if not codes:
        return {}
    query = select(model).where(model.code.in_(codes))
    if model is PoliceGrid:
        query = query.where(PoliceGrid.active())
    return {o.code: o for o in session.scalars(query)}


# --- upserting -----------------------------------------------------------------------


def _finish(session: Session, actor: Actor, report: ImportReport) -> ImportReport:
    session.flush()
    if report.kind == "grids" and (report.created or report.updated):
        placement.invalidate()
    return record_import(session, actor, report)


def import_stations(session: Session, path: Path, *, actor: Actor) -> ImportReport:
    bag = Collector(path.name)
    rows = read_features(path, bag, geometry_required=True)
    parsed: list[dict[str, Any]] = []
    for row in rows:
        parsed.append(
            {
                "code": code_field(bag, row),
                "name": text_field(bag, row, "name"),
                "kind": choice_field(bag, row, "kind", [k.value for k in AreaKind]),
                "bureau_code": code_field(bag, row, "bureau_code"),
                "bureau_name": text_field(bag, row, "bureau_name"),
                "joint_code": text_field(
                    bag, row, "joint_station_code", required=False, max_len=32
                ),
                "joint_name": text_field(bag, row, "joint_station_name", required=False),
                "address": text_field(bag, row, "address", required=False, max_len=200) or None,
            }
        )
        if parsed[-1]["joint_code"] and not parsed[-1]["joint_name"]:
            bag.add(
                row.where, "joint_station_name", _("is required when joint_station_code is set.")
            )
    check_unique(bag, rows, [p["code"] for p in parsed], "code", _("station code"))
    bag.raise_if_any()
    report = ImportReport("stations", path.name)
    bureaus = _lookup(session, Bureau, [p["bureau_code"] for p in parsed])
    joints = _lookup(session, JointStation, [p["joint_code"] for p in parsed])
    stations = _lookup(session, Station, [p["code"] for p in parsed])
    for row, p in zip(rows, parsed, strict=True):
        bureau = bureaus.get(p["bureau_code"])
        if bureau is None:
            bureau = bureaus[p["bureau_code"]] = Bureau(
                code=p["bureau_code"], name=p["bureau_name"]
            )
            session.add(bureau)
        else:
            apply_values(bureau, {"name": p["bureau_name"]})
        session.flush()
        joint = None
        if p["joint_code"]:
            joint = joints.get(p["joint_code"])
            if joint is None:
                joint = joints[p["joint_code"]] = JointStation(
                    code=p["joint_code"], name=p["joint_name"], bureau_id=bureau.id
                )
                session.add(joint)
                session.flush()
            else:
                apply_values(joint, {"name": p["joint_name"], "bureau_id": bureau.id})
        upsert(
            session,
            report,
            Station,
            stations,
            p["code"],
            {
                "name": p["name"],
                "kind": AreaKind(p["kind"]),
                "bureau_id": bureau.id,
                "joint_station_id": joint.id if joint else None,
                "address": p["address"],
                "geometry": row.geometry,
            },
        )
    return _finish(session, actor, report)


def import_districts(session: Session, path: Path, *, actor: Actor) -> ImportReport:
    bag = Collector(path.name)
    rows = read_features(path, bag, geometry_required=False)
    parsed: list[dict[str, Any]] = [
        {
            "code": code_field(bag, r),
            "name": text_field(bag, r, "name"),
            "station_code": code_field(bag, r, "station_code"),
        }
        for r in rows
    ]
    check_unique(bag, rows, [p["code"] for p in parsed], "code", _("district code"))
    stations = _lookup(session, Station, [p["station_code"] for p in parsed])
    for row, p in zip(rows, parsed, strict=True):
        if p["station_code"] and p["station_code"] not in stations:
            bag.add(
                row.where,
                "station_code",
                _(
                    "unknown station code {code}; import the station first or correct the code."
                ).format(code=p["station_code"]),
            )
    bag.raise_if_any()
    report = ImportReport("districts", path.name)
    existing = _lookup(session, PoliceDistrict, [p["code"] for p in parsed])
    for row, p in zip(rows, parsed, strict=True):
        upsert(
            session,
            report,
            PoliceDistrict,
            existing,
            p["code"],
            {
                "name": p["name"],
                "station_id": stations[p["station_code"]].id,
                "geometry": row.geometry,
            },
        )
    return _finish(session, actor, report)


def import_grids(session: Session, path: Path, *, actor: Actor) -> ImportReport:
    bag = Collector(path.name)
    rows = read_features(path, bag, geometry_required=True)
    parsed: list[dict[str, Any]] = [
        {
            "code": code_field(bag, r),
            "name": text_field(bag, r, "name"),
            "district_code": code_field(bag, r, "district_code"),
            "kind": choice_field(bag, r, "kind", [k.value for k in AreaKind]),
            "population": count_field(bag, r),
            "places": text_field(bag, r, "places", required=False, max_len=500) or None,
        }
        for r in rows
    ]
    check_unique(bag, rows, [p["code"] for p in parsed], "code", _("grid code"))
    districts = _lookup(session, PoliceDistrict, [p["district_code"] for p in parsed])
    for row, p in zip(rows, parsed, strict=True):
        if p["district_code"] and p["district_code"] not in districts:
            bag.add(
                row.where,
                "district_code",
                _(
                    "unknown police district {code}; import the "
                    "districts first or correct the code."
                ).format(code=p["district_code"]),
            )
    # Overlap check per district: the file's grids plus stored grids the file does not replace.
    # Rows without a usable polygon or district are already reported; checking the others
    # too reports every problem of the file at once.
    codes = {p["code"] for p in parsed}
    by_district: dict[str, list[tuple[str, str, BaseGeometry]]] = {}
    for row, p in zip(rows, parsed, strict=True):
        if row.geometry is None or p["district_code"] not in districts:
            continue
        by_district.setdefault(p["district_code"], []).append((row.where, p["code"], row.geometry))
        district = districts[p["district_code"]]
        if district.geometry is not None:
            outside = row.geometry.difference(district.geometry).area
            if outside > 0.01 * row.geometry.area:
                bag.add(
                    row.where,
                    "geometry",
                    _(
                        "Part of the grid ({pct:.0f}%) lies outside its "
                        "police district {code}; redraw it inside."
                    ).format(pct=100 * outside / row.geometry.area, code=p["district_code"]),
                )
    for dcode, items in by_district.items():
        stored = session.scalars(
            select(PoliceGrid).where(
                PoliceGrid.district_id == districts[dcode].id,
                PoliceGrid.code.not_in(codes),
                PoliceGrid.active(),
            )
        )
        items = items + [
            (_("stored grid {code}").format(code=g.code), g.code, g.geometry) for g in stored
        ]
        for i, j, area in find_overlaps([geom for _w, _c, geom in items]):
            bag.add(
                items[i][0],
                "geometry",
                _(
                    "overlaps grid {other} of the same district by "
                    "about {m2:.0f} m²; grids of one district must not "
                    "overlap."
                ).format(other=items[j][1], m2=area),
            )
    bag.raise_if_any()
    report = ImportReport("grids", path.name)
    existing = _lookup(session, PoliceGrid, codes)
    for row, p in zip(rows, parsed, strict=True):
        geom = row.geometry
        assert geom is not None
        min_lon, min_lat, max_lon, max_lat = geom.bounds
        upsert(
            session,
            report,
            PoliceGrid,
            existing,
            p["code"],
            {
                "name": p["name"],
                "district_id": districts[p["district_code"]].id,
                "kind": AreaKind(p["kind"]),
                "population": p["population"],
                "places": p["places"],
                "geometry": geom,
                "min_lon": min_lon,
                "min_lat": min_lat,
                "max_lon": max_lon,
                "max_lat": max_lat,
            },
        )
    return _finish(session, actor, report)


def import_civil_grids(session: Session, path: Path, *, actor: Actor) -> ImportReport:
    bag = Collector(path.name)
    rows = read_features(path, bag, geometry_required=False)
    parsed: list[dict[str, Any]] = [
        {
            "code": code_field(bag, r),
            "name": text_field(bag, r, "name"),
            "community": text_field(bag, r, "community"),
            "grid_code": code_field(bag, r, "police_grid_code"),
        }
        for r in rows
    ]
    check_unique(bag, rows, [p["code"] for p in parsed], "code", _("civil grid code"))
    grids = _lookup(session, PoliceGrid, [p["grid_code"] for p in parsed])
    for row, p in zip(rows, parsed, strict=True):
        if p["grid_code"] and p["grid_code"] not in grids:
            bag.add(
                row.where,
                "police_grid_code",
                _("unknown police grid {code}; import the grids first or correct the code.").format(
                    code=p["grid_code"]
                ),
            )
    bag.raise_if_any()
    report = ImportReport("civil-grids", path.name)
    existing = _lookup(session, CivilGrid, [p["code"] for p in parsed])
    for row, p in zip(rows, parsed, strict=True):
        upsert(
            session,
            report,
            CivilGrid,
            existing,
            p["code"],
            {
                "name": p["name"],
                "community": p["community"],
                "police_grid_id": grids[p["grid_code"]].id,
                "geometry": row.geometry,
            },
        )
    return _finish(session, actor, report)


def import_personnel(session: Session, path: Path, *, actor: Actor) -> ImportReport:
    bag = Collector(path.name)
    rows = read_table(path, bag, headers=PERSONNEL_HEADERS)
    if not rows:
        bag.add(_("the file"), "-", _("has a header but no rows."))
    parsed: list[dict[str, Any]] = []
    for r in rows:
        p: dict[str, Any] = {
            "no": text_field(bag, r, "personnel_no", max_len=32),
            "name": text_field(bag, r, "name", max_len=50),
            "kind": choice_field(
                bag, r, "kind", [k.value for k in PersonKind], aliases=KIND_ALIASES
            ),
            "station_code": text_field(bag, r, "station_code", max_len=32),
            "team": choice_field(
                bag, r, "team", [t.value for t in Team], aliases=TEAM_ALIASES, required=False
            )
            or None,
            "position": text_field(bag, r, "position", required=False, max_len=50) or None,
            "phone": text_field(bag, r, "phone", required=False, max_len=20) or None,
            "grids": [
                c.strip()
                for c in re.split(r"[;；,，]", str(r.values.get("grid_codes") or ""))
                if c.strip()
            ],
            "status": choice_field(
                bag,
                r,
                "duty_status",
                [s.value for s in DutyStatus],
                aliases=STATUS_ALIASES,
                required=False,
            )
            or DutyStatus.AVAILABLE.value,
            "lon": float_field(bag, r, "lon", -180, 180),
            "lat": float_field(bag, r, "lat", -90, 90),
        }
        if p["phone"] and not MOBILE_RE.match(p["phone"]):
            bag.add(
                r.where,
                "phone",
                _("{value!r} is not a mobile number (11 digits starting with 13-19).").format(
                    value=p["phone"]
                ),
            )
        parsed.append(p)
    check_unique(bag, rows, [p["no"] for p in parsed], "personnel_no", _("personnel ID"))
    stations = _lookup(session, Station, [p["station_code"] for p in parsed])
    grids = _lookup(session, PoliceGrid, [c for p in parsed for c in p["grids"]])
    grid_station = {g.code: g.district.station_id for g in grids.values()}
    fixed: dict[tuple[str, str], str] = {}
    for row, p in zip(rows, parsed, strict=True):
        station = stations.get(p["station_code"])
        if p["station_code"] and station is None:
            bag.add(
                row.where,
                "station_code",
                _(
                    "unknown station code {code}; import the station first or correct the code."
                ).format(code=p["station_code"]),
            )
        for code in p["grids"]:
            if code not in grids:
                bag.add(
                    row.where,
                    "grid_codes",
                    _(
                        "unknown police grid {code}; import the grids first or correct the code."
                    ).format(code=code),
                )
            elif station is not None and grid_station[code] != station.id:
                bag.add(
                    row.where,
                    "grid_codes",
                    _("grid {code} belongs to another station.").format(code=code),
                )
            elif p["kind"] in (PersonKind.OFFICER, PersonKind.AUXILIARY):
                other = fixed.setdefault((code, p["kind"]), p["no"])
                if other != p["no"]:
                    bag.add(
                        row.where,
                        "grid_codes",
                        _(
                            "grid {code} already has the {kind} {other}; a "
                            "grid has one fixed officer and one auxiliary."
                        ).format(code=code, kind=kind_label(p["kind"]), other=other),
                    )
    # A fixed post held in the database by someone not in this file also conflicts.
    if fixed:
        held = session.execute(
            select(PoliceGrid.code, GridAssignment.role, Person.personnel_no)
            .join(GridAssignment, GridAssignment.grid_id == PoliceGrid.id)
            .join(Person, Person.id == GridAssignment.person_id)
            .where(
                PoliceGrid.code.in_({c for c, _k in fixed}),
                GridAssignment.role.in_([PersonKind.OFFICER, PersonKind.AUXILIARY]),
            )
        )
        in_file = {p["no"] for p in parsed}
        for gcode, role, pno in held:
            holder = fixed.get((gcode, role.value))
            if holder and pno != holder and pno not in in_file:
                bag.add(
                    _("personnel {no}").format(no=holder),
                    "grid_codes",
                    _(
                        "grid {code} already has the {kind} {other} in the database; release it "
                        "first."
                    ).format(code=gcode, kind=kind_label(role.value), other=pno),
                )
    bag.raise_if_any()
    report = ImportReport("personnel", path.name)
    existing = {
        p.personnel_no: p
        for p in session.scalars(
            select(Person).where(Person.personnel_no.in_([p["no"] for p in parsed]))
        )
    }
    for p in parsed:
        person = upsert(
            session,
            report,
            Person,
            existing,
            p["no"],
            {
                "name": p["name"],
                "kind": PersonKind(p["kind"]),
                "station_id": stations[p["station_code"]].id,
                "team": Team(p["team"]) if p["team"] else None,
                "position": p["position"],
                "phone": p["phone"],
                "duty_status": DutyStatus(p["status"]),
                "last_lon": p["lon"],
                "last_lat": p["lat"],
            },
            key="personnel_no",
        )
        wanted = {grids[c].id for c in p["grids"]}
        current = {a.grid_id: a for a in person.assignments}
        if set(current) != wanted or any(a.role != person.kind for a in current.values()):
            person.assignments = [
                current[g]
                if g in current and current[g].role == person.kind
                else GridAssignment(grid_id=g, role=person.kind)
                for g in sorted(wanted)
            ]
            if p["no"] not in report.created and p["no"] not in report.updated:
                report.updated.append(p["no"])
                report.unchanged -= 1
    return _finish(session, actor, report)


IMPORTERS: dict[str, Callable[..., ImportReport]] = {
    "stations": import_stations,
    "districts": import_districts,
    "grids": import_grids,
    "civil-grids": import_civil_grids,
    "personnel": import_personnel,
}
