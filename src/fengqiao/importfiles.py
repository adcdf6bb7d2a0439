"""Reading import files and checking their fields, shared by every import.

A ``Collector`` gathers every problem of a file, each naming the file, the feature or
row, the field and the fix; ``raise_if_any`` then refuses the whole file.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.audit.service import Actor
from fengqiao.errors import InvalidInput
from fengqiao.geo.validate import polygon_problem
from fengqiao.i18n import _

CODE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")


@dataclass(frozen=True)
class Problem:
    file: str
    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return _("{file}, {where}, field '{field}': {message}").format(
            file=self.file, where=self.where, field=self.field, message=self.message
        )


class ImportRejected(InvalidInput):
    """The file has problems; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        head = _("{n} problem(s) found; nothing was imported.").format(n=len(self.problems))
        super().__init__("\n".join([head, *(str(p) for p in self.problems[:200])]))


@dataclass
class ImportReport:
    kind: str
    file: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    def summary(self) -> str:
        return _("{file}: {created} created, {updated} updated, {unchanged} unchanged.").format(
            file=self.file,
            created=len(self.created),
            updated=len(self.updated),
            unchanged=self.unchanged,
        )


@dataclass
class Row:
    where: str
    values: dict[str, Any]
    geometry: BaseGeometry | None = None


def record_import(session: Session, actor: Actor, report: ImportReport) -> ImportReport:
    """Flush and audit what an import changed (nothing is audited when nothing changed)."""
    session.flush()
    if report.created or report.updated:
        audit.record(
            session,
            actor=actor,
            action=AuditAction.IMPORT,
            object_type=report.kind,
            object_id=report.file,
            detail={
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            },
        )
    return report


def apply_values(obj: Any, values: dict[str, Any]) -> bool:
    """Set ``values`` on ``obj``; whether anything changed (geometries compared as WKB)."""
    changed = False
    for key, value in values.items():
        current = getattr(obj, key)
        if isinstance(value, BaseGeometry) or isinstance(current, BaseGeometry):
            same = (
                current is not None
                and value is not None
                and shapely.to_wkb(current) == shapely.to_wkb(value)
            ) or (current is None and value is None)
        else:
            same = current == value
        if not same:
            setattr(obj, key, value)
            changed = True
    return changed


def upsert(
    session: Session,
    report: ImportReport,
    model: Any,
    existing: dict[str, Any],
    code: str,
    values: dict[str, Any],
    key: str = "code",
) -> Any:
    """The record of ``code`` created or updated from ``values``, counted in ``report``."""
    obj = existing.get(code)
    if obj is None:
        obj = model(**{key: code}, **values)
        session.add(obj)
        existing[code] = obj
        report.created.append(code)
    elif apply_values(obj, values):
        report.updated.append(code)
    else:
        report.unchanged += 1
    return obj


class Collector:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, where: str, field_name: str, message: str) -> None:
        self.problems.append(Problem(self.file, where, field_name, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ImportRejected(self.problems)


GeometryCheck = Callable[[BaseGeometry], "str | None"]


def _geometry(bag: Collector, where: str, raw: Any, check: GeometryCheck) -> BaseGeometry | None:
    try:
        geom = shape(raw) if not isinstance(raw, BaseGeometry) else raw
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.ShapelyError) as exc:
        bag.add(where, "geometry", _("malformed ({error}).").format(error=exc))
        return None
    problem = check(geom)
    if problem:
        bag.add(where, "geometry", problem)
        return None
    return geom


def read_areas(
    path: Path,
    bag: Collector,
    *,
    headers: dict[str, str],
    check: GeometryCheck = polygon_problem,
) -> list[Row]:
    """Rows with geometry from GeoJSON, an ESRI Shapefile (.shp, or a .zip holding one) or
    CSV/Excel with a ``wkt`` column; a row without a usable geometry is reported."""
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        rows = read_features(path, bag, geometry_required=True, check=check)
    elif suffix in (".shp", ".zip"):
        with warnings.catch_warnings():  # pyshp notes that a .cpg said "936": we mean GBK
            warnings.simplefilter("ignore", UserWarning)
            rows = _read_shapefile(path, bag, check)
    else:
        rows = read_table(path, bag, headers={**headers, "几何": "wkt", "geometry": "wkt"})
        for row in rows:
            text = str(row.values.get("wkt") or "").strip()
            if not text:
                bag.add(row.where, "wkt", _("is required: the shape as WKT, e.g. POLYGON((...))."))
                continue
            try:
                parsed = shapely.from_wkt(text)
            except shapely.errors.ShapelyError as exc:
                bag.add(row.where, "wkt", _("is not valid WKT ({error}).").format(error=exc))
                continue
            row.geometry = _geometry(bag, row.where, parsed, check)
    for row in rows:
        row.values = {headers.get(k, k.lower()): v for k, v in row.values.items()}
    if not rows and not bag.problems:
        bag.add(_("the file"), "-", _("is empty; nothing to import."))
    return rows


def _read_shapefile(path: Path, bag: Collector, check: GeometryCheck) -> list[Row]:
    import shapefile  # pyshp

    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.lower().endswith(".shp")]
                if len(names) != 1:
                    bag.add(
                        _("the file"),
                        "-",
                        _("the .zip must hold exactly one .shp (found {n}).").format(n=len(names)),
                    )
                    bag.raise_if_any()
        reader = shapefile.Reader(str(path), encoding=_dbf_encoding(path))
        with reader:
            fields = [f[0] for f in reader.fields[1:]]
            rows = []
            for i, item in enumerate(reader.iterShapeRecords(), start=1):
                shp, record = item.shape, item.record
                values = dict(zip(fields, list(record or []), strict=False))
                code = values.get("code") or values.get("CODE") or values.get("编码")
                where = _("record {i}").format(i=i) + (f" ({code})" if code else "")
                geom = None
                if shp is None or shp.shapeType == shapefile.NULL:
                    bag.add(where, "geometry", _("missing; every area needs its polygon."))
                else:
                    geom = _geometry(bag, where, shp.__geo_interface__, check)
                rows.append(Row(where=where, values=values, geometry=geom))
            return rows
    except (shapefile.ShapefileException, OSError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        bag.add(_("the file"), "-", _("cannot be read as a Shapefile ({error}).").format(error=exc))
        bag.raise_if_any()
    return []


def _dbf_encoding(path: Path) -> str:
    """The attribute encoding named by the .cpg beside the .shp (or inside the .zip), else
    UTF-8 if the records decode as UTF-8, else GBK (the usual encoding of Chinese files)."""
    cpg: bytes | None = None
    dbf: bytes | None = None
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.lower().endswith(".cpg"):
                    cpg = archive.read(name)
                elif name.lower().endswith(".dbf"):
                    dbf = archive.read(name)
    else:
        if path.with_suffix(".cpg").exists():
            cpg = path.with_suffix(".cpg").read_bytes()
        if path.with_suffix(".dbf").exists():
            dbf = path.with_suffix(".dbf").read_bytes()
    if cpg is not None:
        name = cpg.decode("ascii", errors="ignore").strip() or "utf-8"
        return {"936": "gbk", "65001": "utf-8"}.get(name, name)
    if dbf is not None:
        header = int.from_bytes(dbf[8:10], "little") if len(dbf) >= 10 else len(dbf)
        try:
            dbf[header:].decode("utf-8")  # the records only; the header is binary
        except UnicodeDecodeError:
            return "gbk"
    return "utf-8"


def read_features(
    path: Path, bag: Collector, *, geometry_required: bool, check: GeometryCheck = polygon_problem
) -> list[Row]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        bag.add(_("the file"), "-", _("cannot be read ({error}).").format(error=exc))
        bag.raise_if_any()
    except json.JSONDecodeError as exc:
        bag.add(
            _("line {line}, column {col}").format(line=exc.lineno, col=exc.colno),
            "-",
            _("not valid JSON ({error}); save the file as GeoJSON (UTF-8).").format(error=exc.msg),
        )
        bag.raise_if_any()
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        bag.add(
            _("the file"), "type", _("must be a GeoJSON FeatureCollection with a 'features' list.")
        )
        bag.raise_if_any()
    rows: list[Row] = []
    for i, feature in enumerate(data["features"], start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        code = props.get("code") if isinstance(props, dict) else None
        where = _("feature {i}").format(i=i) + (f" ({code})" if code else "")
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            bag.add(where, "type", _("is not a GeoJSON Feature."))
            continue
        if not isinstance(props, dict):
            bag.add(where, "properties", _("missing; add the properties object."))
            continue
        geom = None
        raw = feature.get("geometry")
        if raw is None:
            if geometry_required:
                bag.add(where, "geometry", _("missing; every area needs its polygon."))
        else:
            geom = _geometry(bag, where, raw, check)
        rows.append(Row(where=where, values=props, geometry=geom))
    if not rows and not bag.problems:
        bag.add(_("the file"), "features", _("is empty; nothing to import."))
    return rows


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(path: Path, bag: Collector, *, headers: dict[str, str]) -> list[Row]:
    """Rows of a CSV (UTF-8, BOM or not) or .xlsx file (first sheet); ``headers`` maps
    alternative header names (e.g. Chinese) to field names."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            from openpyxl import load_workbook

            book = load_workbook(path, read_only=True, data_only=True)
            sheet = book.worksheets[0]
            table = [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            book.close()
        elif suffix in (".csv", ".txt"):
            text = path.read_text(encoding="utf-8-sig")
            table = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
        else:
            bag.add(
                _("the file"),
                "-",
                _("unsupported type {suffix}; use .csv or .xlsx.").format(suffix=suffix or "?"),
            )
            bag.raise_if_any()
    except UnicodeDecodeError:
        bag.add(_("the file"), "-", _("is not UTF-8; save it as 'CSV UTF-8' or as .xlsx."))
        bag.raise_if_any()
    except (OSError, ValueError, KeyError) as exc:
        bag.add(_("the file"), "-", _("cannot be read ({error}).").format(error=exc))
        bag.raise_if_any()
    if not table:
        bag.add(_("the file"), "-", _("is empty; the first row must be the header."))
        bag.raise_if_any()
    header = [headers.get(h, h.lower()) for h in table[0]]
    rows = []
    for line_no, raw in enumerate(table[1:], start=2):
        if not any(raw):
            continue
        values = {h: (raw[i] if i < len(raw) else "") for i, h in enumerate(header) if h}
        rows.append(Row(where=_("row {n}").format(n=line_no), values=values))
    return rows


def text_field(
    bag: Collector, row: Row, name: str, *, required: bool = True, max_len: int = 100
) -> str:
    raw = row.values.get(name)
    value = "" if raw is None else str(raw).strip()
    if required and not value:
        bag.add(row.where, name, _("is required; fill it in."))
    elif len(value) > max_len:
        bag.add(row.where, name, _("is longer than {n} characters.").format(n=max_len))
    return value


def code_field(bag: Collector, row: Row, name: str = "code") -> str:
    value = text_field(bag, row, name, max_len=48)
    if value and not CODE_RE.match(value):
        bag.add(
            row.where,
            name,
            _("{value!r} is not a valid code: use letters, digits, '-', '_' or '.'.").format(
                value=value
            ),
        )
    return value


def choice_field(
    bag: Collector,
    row: Row,
    name: str,
    allowed: Iterable[str],
    *,
    aliases: dict[str, str] | None = None,
    required: bool = True,
) -> str:
    value = text_field(bag, row, name, required=required)
    value = (aliases or {}).get(value, value)
    allowed = list(allowed)
    if value and value not in allowed:
        bag.add(
            row.where,
            name,
            _("{value!r} is not allowed; use one of: {allowed}.").format(
                value=value, allowed=", ".join(allowed)
            ),
        )
    return value


def check_unique(bag: Collector, rows: list[Row], keys: list[str], name: str, what: str) -> None:
    seen: dict[str, str] = {}
    for row, key in zip(rows, keys, strict=True):
        if not key:
            continue
        if key in seen:
            bag.add(
                row.where,
                name,
                _("duplicate {what} {key}, also in {other}; each must be unique.").format(
                    what=what, key=key, other=seen[key]
                ),
            )
        else:
            seen[key] = row.where


def count_field(bag: Collector, row: Row) -> int:
    raw = row.values.get("population")
    if raw is None or raw == "":
        bag.add(row.where, "population", _("is required: the number of residents."))
        return 0
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # 2500.0 from tools that write every number as a double
    try:
        value = int(str(raw).strip())
    except ValueError:
        bag.add(row.where, "population", _("{value!r} is not a whole number.").format(value=raw))
        return 0
    if value < 0:
        bag.add(row.where, "population", _("must be zero or more."))
    return value


def float_field(bag: Collector, row: Row, name: str, lo: float, hi: float) -> float | None:
    raw = str(row.values.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        bag.add(row.where, name, _("{value!r} is not a number.").format(value=raw))
        return None
    if not lo <= value <= hi:
        bag.add(
            row.where,
            name,
            _("{value} is outside {lo}..{hi}; give WGS-84 degrees.").format(
                value=value, lo=lo, hi=hi
            ),
        )
        return None
    return value
