"""Disputes (矛盾纠纷多元化解): the figures for a city-sized year, the agreement PDF and
the dispute page.

A throw-away PostgreSQL server (Debian's binaries, fsync on) gets the schema from the
migrations and the reference data (incident categories, kinds of dispute), then a
generated city: 60 stations, 240 police districts, 1 440 grids (squares with polygons
and bounding boxes) with one officer each, a station chief account per station and a
roster of 8 mediators per station (officer, grid worker, two village cadres, a lawyer,
a "Fengqiao" mediator, a volunteer, a people's mediator). Then, by SQLAlchemy Core
``insert`` with executemany (numbers drawn with numpy):

* two years of disputes ending today, ``2 x 58 000`` (Wuhan's yearly count, see
  ../shared/docs/domain.md; ``--quick``: ``2 x 10 000``): more around the Spring
  Festival, busy and quiet grids (log-normal weights), the usual mix of kinds, 78 %
  settled at the grid, 17 % at the station, 5 % at the judicial office; older disputes
  mostly resolved (agreement, oral, reconciled), some failed or withdrawn, the last
  weeks' mostly open; days to resolve from a gamma distribution, 3 % re-opened once and
  0.5 % twice;
* calls (``incident``) of the same two years, 300 000 (``--quick`` 30 000, loaded by
  ``COPY``), that the dispute page looks through for later calls at the same place or
  from a party's phone.

1. Figures: ``disputes.figures.report`` for the last twelve months (the default page on
   31 December: a whole year) with the same days a year earlier, by level, kind, grid
   and month, for the whole city (the command line's system principal) and, beside it,
   for the busiest station's chief. Each call in its own session, ``--runs`` times (3)
   after one warm-up: p50/max, rows read per second, the tracemalloc peak of one call
   and the peak RSS of the phase. Peers in the same run: the same rows read as plain tuples
   (no ORM objects) and the found/resolved counts by a ``GROUP BY`` in the database.
   Limit: every answer under 2 s (the figures page is interactive). Also on SQLite (the
   app's settings, a temporary file) with the same rows, figures by level and by grid.
2. The agreement PDF: ``disputes.pdf.render`` of an agreement with 3 parties, 6 terms
   and 3 mediators: the first call (font file found and parsed) apart, then ``--pdfs``
   calls: p50/p95/max, size, tracemalloc peak; and ``agreements.printable`` (the
   audited read, the kinds of dispute, the render) p50 on PostgreSQL. Limit: p95 under
   1 s a PDF (someone waits at the desk).
3. The dispute page: ``disputes.views.detail`` for a dispute with 3 parties, 6 mediators,
   10 sessions, 3 agreements (two superseded), 5 revisits (3 with their tasks), 4 later
   calls linked and 30 timeline events, by the station chief, each call in its own
   ``unit_of_work`` (audit row and commit included), ``--pages`` times after 5 warm-ups:
   p50/p95/max, statements per call, the share spent looking for later calls
   (``revisits.find_links``), the tracemalloc peak. Limit: p95 under 200 ms, like the
   phone pages. Peer: the same page for a bare dispute (one party, nothing else).

When a limit is missed, the slowest case is profiled (cProfile, top functions).
Exit code 1 on any FAIL.

Run from the repository root: ``make bench``, or
``.venv/bin/python benchmarks/bench_disputes.py [--quick] [--backend postgres|sqlite|both]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Engine, case, event, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao import migrate
from fengqiao.accounts.models import Role, UserAccount
from fengqiao.audit import service as audit
from fengqiao.auth import Principal, build_principal, system_principal
from fengqiao.clock import CHINA_TZ, at_local, local_day
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from fengqiao.disputes import agreements, figures, pdf, revisits, views
from fengqiao.disputes.models import (
    Dispute,
    DisputeEvent,
    DisputeIncident,
    DisputeMediator,
    DisputeParty,
    DisputeSource,
    DisputeStatus,
    MediationAgreement,
    MediationLevel,
    MediationSession,
    Mediator,
    MediatorKind,
    Outcome,
    PartySide,
    RiskLevel,
)
from fengqiao.incidents.models import Channel, Incident, IncidentCategory, IncidentStatus, Priority
from fengqiao.incidents.service import ensure_reference_data
from fengqiao.org.models import (
    AreaKind,
    Bureau,
    DutyStatus,
    GridAssignment,
    Person,
    PersonKind,
    PoliceDistrict,
    PoliceGrid,
    Station,
    Team,
)
from fengqiao.tasks.models import (
    FollowUp,
    FollowUpStatus,
    Task,
    TaskKind,
    TaskSource,
    TaskStatus,
)

ROOT = Path(__file__).resolve().parents[1]
PER_YEAR = 58_000  # Wuhan, disputes a year
QUICK_PER_YEAR = 10_000
INCIDENTS = 300_000
QUICK_INCIDENTS = 30_000
STATIONS = 60
DISTRICTS_PER_STATION = 4
GRID_SIDE = 6  # 6 x 6 = 36 grids a station ... of which GRIDS_PER_STATION are used
GRIDS_PER_STATION = 24
ORIGIN = (114.0, 30.3)  # lon/lat of the south-west corner of the city
STATION_SIZE = 0.06  # degrees
FIGURES_LIMIT_S = 2.0
PDF_LIMIT_S = 1.0
PAGE_LIMIT_MS = 200.0
GROUPINGS = ("level", "type", "grid", "month")
CHUNK = 10_000

# kind → share of disputes (people's-mediation statistics, roughly)
TYPES = {
    "neighbour": 30,
    "family": 20,
    "property": 15,
    "wages": 9,
    "contract": 8,
    "marriage": 6,
    "land": 5,
    "other": 7,
}
SPRING_FESTIVAL = (date(2024, 2, 10), date(2025, 1, 29), date(2026, 2, 17), date(2027, 2, 6))
ROSTER = (
    (MediatorKind.OFFICER, ["grid", "station"], "派出所"),
    (MediatorKind.GRID_WORKER, ["grid"], "社区网格站"),
    (MediatorKind.VILLAGE_CADRE, ["grid", "station"], "社区居委会"),
    (MediatorKind.VILLAGE_CADRE, ["grid", "station"], "社区居委会"),
    (MediatorKind.LAWYER, ["station", "judicial"], "楚天律师事务所"),
    (MediatorKind.FENGQIAO_MEDIATOR, ["station"], "“枫桥式”调解工作室"),
    (MediatorKind.VOLUNTEER, ["grid", "station"], "平安志愿者协会"),
    (MediatorKind.PEOPLES_MEDIATOR, ["judicial"], "司法所人民调解委员会"),
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅志强文辉"


def name_of(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)] + GIVEN[(i * 13) % len(GIVEN)]


def vm_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (VmHWM), where allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """The process's peak RSS since the last reset (VmHWM), else since it started."""
    hwm = vm_kib("VmHWM")
    if hwm:
        return hwm / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_avg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def profile_lines(prof: cProfile.Profile, top: int = 22) -> list[str]:
    lines = []
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats(key).print_stats(
            top if key == "cumulative" else 12
        )
        body = out.getvalue().splitlines()
        head = next((i for i, ln in enumerate(body) if ln.lstrip().startswith("ncalls")), 0)
        lines.append(f"   cProfile by {key} time:")
        for ln in body[head:]:
            if ln.strip():
                ln = ln.replace(str(ROOT) + "/", "").replace(sys.prefix + "/lib/", "")
                lines.append("     " + ln.replace("python3.11/site-packages/", "")[:150])
    return lines


class Statements:
    """Counts the statements an engine runs and their time."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.count, self.seconds, self._t = engine, 0, 0.0, 0.0

    def _before(self, *_args: Any) -> None:
        self._t = time.perf_counter()

    def _after(self, *_args: Any) -> None:
        self.count += 1
        self.seconds += time.perf_counter() - self._t

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


# --- the city ------------------------------------------------------------------------------


@dataclass
class City:
    station_ids: list[int] = field(default_factory=list)
    grid_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    grid_station: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    grid_officer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    grid_box: list[tuple[float, float, float, float]] = field(default_factory=list)
    grid_code: list[str] = field(default_factory=list)
    chief_user: dict[int, int] = field(default_factory=dict)  # station id → user id
    chief_person: dict[int, int] = field(default_factory=dict)
    mediators: dict[int, list[int]] = field(default_factory=dict)  # station id → ids
    category_ids: list[int] = field(default_factory=list)


def box_of(s: int, g: int) -> tuple[float, float, float, float]:
    cell = STATION_SIZE / GRID_SIDE
    x0 = ORIGIN[0] + (s % 10) * STATION_SIZE + (g % GRID_SIDE) * cell
    y0 = ORIGIN[1] + (s // 10) * STATION_SIZE + (g // GRID_SIDE) * cell
    return x0, y0, x0 + cell, y0 + cell


def build_city(factory: sessionmaker[Session]) -> City:
    """Bureau, stations, police districts, grids with one officer each, a chief account
    and a roster of mediators per station."""
    city = City()
    with unit_of_work(factory) as s:
        ensure_reference_data(s)
        bureau = Bureau(code="WH", name="武汉市公安局")
        s.add(bureau)
        s.flush()
        city.station_ids = list(
            s.scalars(
                insert(Station).returning(Station.id),
                [
                    {
                        "code": f"S{i:03d}",
                        "name": f"第{i + 1}派出所",
                        "kind": AreaKind.URBAN,
                        "bureau_id": bureau.id,
                        "geometry": shapely.box(*box_of(i, 0)[:2], *box_of(i, 35)[2:]),
                    }
                    for i in range(STATIONS)
                ],
            )
        )
        district_ids = list(
            s.scalars(
                insert(PoliceDistrict).returning(PoliceDistrict.id),
                [
                    {
                        "code": f"S{i:03d}D{d}",
                        "name": f"第{i + 1}所第{d + 1}警务区",
                        "station_id": sid,
                        "geometry": None,
                    }
                    for i, sid in enumerate(city.station_ids)
                    for d in range(DISTRICTS_PER_STATION)
                ],
            )
        )
        grids, stations_of = [], []
        for i, sid in enumerate(city.station_ids):
            for g in range(GRIDS_PER_STATION):
                x0, y0, x1, y1 = box_of(i, g)
                city.grid_box.append((x0, y0, x1, y1))
                city.grid_code.append(f"S{i:03d}G{g:03d}")
                stations_of.append(sid)
                grids.append(
                    {
                        "code": f"S{i:03d}G{g:03d}",
                        "name": f"第{g + 1}网格",
                        "district_id": district_ids[
                            i * DISTRICTS_PER_STATION
                            + g * DISTRICTS_PER_STATION // GRIDS_PER_STATION
                        ],
                        "kind": AreaKind.URBAN,
                        "population": 3000,
                        "geometry": shapely.box(x0, y0, x1, y1),
                        "min_lon": x0,
                        "min_lat": y0,
                        "max_lon": x1,
                        "max_lat": y1,
                    }
                )
        city.grid_ids = np.array(
            list(s.scalars(insert(PoliceGrid).returning(PoliceGrid.id), grids)), dtype=np.int64
        )
        city.grid_station = np.array(stations_of, dtype=np.int64)
        officers = list(
            s.scalars(
                insert(Person).returning(Person.id),
                [
                    {
                        "personnel_no": f"P{gid}",
                        "name": name_of(int(gid)),
                        "kind": PersonKind.OFFICER,
                        "station_id": int(city.grid_station[k]),
                        "team": Team.COMMUNITY,
                        "position": "社区民警",
                        "phone": f"1590{int(gid):07d}",
                        "duty_status": DutyStatus.AVAILABLE,
                    }
                    for k, gid in enumerate(city.grid_ids)
                ],
            )
        )
        city.grid_officer = np.array(officers, dtype=np.int64)
        s.execute(
            insert(GridAssignment),
            [
                {"person_id": p, "grid_id": int(g), "role": PersonKind.OFFICER}
                for p, g in zip(officers, city.grid_ids, strict=True)
            ],
        )
        chiefs = list(
            s.scalars(
                insert(Person).returning(Person.id),
                [
                    {
                        "personnel_no": f"C{sid}",
                        "name": name_of(sid + 5000),
                        "kind": PersonKind.OFFICER,
                        "station_id": sid,
                        "team": Team.COMMUNITY,
                        "position": "所长",
                        "phone": f"1370{sid:07d}",
                        "duty_status": DutyStatus.AVAILABLE,
                    }
                    for sid in city.station_ids
                ],
            )
        )
        users = list(
            s.scalars(
                insert(UserAccount).returning(UserAccount.id),
                [
                    {
                        "username": f"chief{sid}",
                        "password_hash": "!bench",
                        "role": Role.STATION_CHIEF,
                        "person_id": pid,
                        "station_id": sid,
                    }
                    for sid, pid in zip(city.station_ids, chiefs, strict=True)
                ],
            )
        )
        city.chief_user = dict(zip(city.station_ids, users, strict=True))
        city.chief_person = dict(zip(city.station_ids, chiefs, strict=True))
        rows = [
            {
                "station_id": sid,
                "name": name_of(sid * 10 + k + 9000),
                "kind": kind,
                "organisation": org,
                "phone": f"1380{sid:04d}{k:03d}",
                "skills": sorted(TYPES)[k % 8 : k % 8 + 3],
                "levels": levels,
                "weekdays": [0, 1, 2, 3, 4, 5, 6],
                "active": True,
            }
            for sid in city.station_ids
            for k, (kind, levels, org) in enumerate(ROSTER)
        ]
        ids = list(s.scalars(insert(Mediator).returning(Mediator.id), rows))
        for k, sid in enumerate(city.station_ids):
            city.mediators[sid] = ids[k * len(ROSTER) : (k + 1) * len(ROSTER)]
        city.category_ids = list(
            s.scalars(select(IncidentCategory.id).where(func.length(IncidentCategory.code) == 4))
        )
    return city


# --- two years of disputes -----------------------------------------------------------------


def day_weights(days: list[date]) -> np.ndarray:
    w = np.ones(len(days))
    for k, d in enumerate(days):
        if any(abs((d - f).days) <= 15 for f in SPRING_FESTIVAL):
            w[k] *= 1.6  # family and wage disputes around the Spring Festival
        if d.weekday() >= 5:
            w[k] *= 0.8
        if d.month in (7, 8):
            w[k] *= 1.15  # summer: neighbours and noise
    return w / w.sum()


def dispute_rows(city: City, n: int, today: date, rng: np.random.Generator) -> list[dict[str, Any]]:
    """``n`` disputes found in the 730 days ending ``today``."""
    days = [today - timedelta(days=k) for k in range(729, -1, -1)]
    day_idx = rng.choice(len(days), size=n, p=day_weights(days))
    grid_w = rng.lognormal(0.0, 0.8, size=len(city.grid_ids))
    grid_idx = rng.choice(len(city.grid_ids), size=n, p=grid_w / grid_w.sum())
    codes = list(TYPES)
    type_idx = rng.choice(
        len(codes), size=n, p=np.array(list(TYPES.values())) / sum(TYPES.values())
    )
    level_idx = rng.choice(3, size=n, p=[0.78, 0.17, 0.05])
    levels = (MediationLevel.GRID, MediationLevel.STATION, MediationLevel.JUDICIAL)
    age = np.array([(today - days[i]).days for i in day_idx])
    u = rng.random(n)
    p_open = np.exp(-age / 12.0)  # the last weeks' still open
    risk_idx = rng.choice(3, size=n, p=[0.75, 0.20, 0.05])
    risks = (RiskLevel.YELLOW, RiskLevel.ORANGE, RiskLevel.RED)
    outcome_u = rng.random(n)
    resolve_days = np.minimum(rng.gamma(1.5, 6.0, size=n) * (1 + level_idx), 400)
    hours = rng.integers(8, 21, size=n)
    reopen_u = rng.random(n)
    lon_f, lat_f = rng.random(n), rng.random(n)
    sources = list(DisputeSource)
    source_idx = rng.choice(len(sources), size=n, p=[0.45, 0.15, 0.2, 0.15, 0.05])
    now = utcnow()
    rows = []
    for k in range(n):
        found = days[day_idx[k]]
        g = grid_idx[k]
        level = levels[level_idx[k]]
        created = at_local(found, int(hours[k]))
        if u[k] < p_open[k] * 0.5:
            status, outcome = DisputeStatus.REGISTERED, None
        elif u[k] < p_open[k]:
            status, outcome = DisputeStatus.MEDIATING, None
        elif u[k] < p_open[k] + (1 - p_open[k]) * 0.93:
            status = DisputeStatus.RESOLVED
            o = outcome_u[k]
            outcome = (
                Outcome.AGREEMENT if o < 0.55 else Outcome.ORAL if o < 0.9 else Outcome.RECONCILED
            )
        elif u[k] < p_open[k] + (1 - p_open[k]) * 0.98:
            status, outcome = DisputeStatus.UNRESOLVED, Outcome.FAILED
        else:
            status, outcome = DisputeStatus.UNRESOLVED, Outcome.WITHDRAWN
        closed = status in (DisputeStatus.RESOLVED, DisputeStatus.UNRESOLVED)
        resolved_at = min(created + timedelta(days=float(resolve_days[k])), now) if closed else None
        reopen = 0
        if closed:
            reopen = 2 if reopen_u[k] < 0.005 else 1 if reopen_u[k] < 0.035 else 0
        x0, y0, x1, y1 = city.grid_box[g]
        code = codes[type_idx[k]]
        rows.append(
            {
                "number": f"JF{found:%Y%m%d}{k:07d}",
                "source": sources[source_idx[k]],
                "type_code": code,
                "title": f"{code} · {city.grid_code[g]}",
                "summary": "双方因琐事发生口角，经网格员上门了解情况后登记。",
                "place": f"{city.grid_code[g]}社区{k % 97 + 1}号",
                "lon": x0 + (x1 - x0) * lon_f[k],
                "lat": y0 + (y1 - y0) * lat_f[k],
                "grid_id": int(city.grid_ids[g]),
                "station_id": int(city.grid_station[g]),
                "found_on": found,
                "risk_answers": {},
                "risk_level": risks[risk_idx[k]],
                "level": level,
                "status": status,
                "outcome": outcome,
                "outcome_note": "",
                "resolved_at": resolved_at,
                "resolved_level": level if status is DisputeStatus.RESOLVED else None,
                "reopen_count": reopen,
                "reopened_at": resolved_at - timedelta(days=3) if reopen and resolved_at else None,
                "responsible_person_id": int(city.grid_officer[g]),
                "created_at": created,
                "updated_at": resolved_at or created,
            }
        )
    return rows


def incident_rows(
    city: City, n: int, today: date, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """``n`` calls of the 730 days ending ``today``, none in the first grid (where the
    page's dispute is, so that the page finds exactly the calls linked to it; the lookup
    is not limited to a grid, so it reads through the others all the same)."""
    start = at_local(today - timedelta(days=729), 0)
    secs = np.sort(rng.random(n)) * 730 * 86400
    grid_idx = rng.integers(1, len(city.grid_ids), size=n)
    cats = rng.integers(0, len(city.category_ids), size=n)
    lon_f, lat_f = rng.random(n), rng.random(n)
    phones = rng.integers(0, 10**8, size=n)
    rows = []
    for k in range(n):
        g = grid_idx[k]
        x0, y0, x1, y1 = city.grid_box[g]
        received = start + timedelta(seconds=float(secs[k]))
        rows.append(
            {
                "channel": Channel.TRANSFER_110,
                "category_id": city.category_ids[cats[k]],
                "priority": Priority.NORMAL,
                "status": IncidentStatus.CLOSED,
                "description": "群众报警称与邻居发生纠纷",
                "address": f"{city.grid_code[g]}路{k % 211 + 1}号",
                "reporter_name": name_of(k),
                "reporter_phone": f"139{int(phones[k]):08d}",
                "lon": x0 + (x1 - x0) * lon_f[k],
                "lat": y0 + (y1 - y0) * lat_f[k],
                "grid_id": int(city.grid_ids[g]),
                "station_id": int(city.grid_station[g]),
                "needs_attention": False,
                "received_at": received,
                "closed_at": received + timedelta(hours=2),
            }
        )
    return rows


def bulk_insert(
    factory: sessionmaker[Session], model: type[Any], rows: list[dict[str, Any]]
) -> float:
    """Core ``INSERT`` on the table, executemany by ``CHUNK`` rows (psycopg sends them in
    pipeline mode: one round trip per chunk)."""
    table = model.__table__
    t0 = time.perf_counter()
    with factory() as s, s.begin():
        conn = s.connection()
        for i in range(0, len(rows), CHUNK):
            conn.execute(table.insert(), rows[i : i + CHUNK])
    return time.perf_counter() - t0


def copy_rows(engine: Engine, model: type[Any], rows: list[dict[str, Any]]) -> float:
    """``COPY … FROM STDIN`` (PostgreSQL only): enums as their values, the rest as is."""
    columns = list(rows[0])
    t0 = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(  # type: ignore[attr-defined]
            f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            for r in rows:
                copy.write_row([getattr(r[c], "value", r[c]) for c in columns])
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - t0


# --- 1. figures ----------------------------------------------------------------------------


@dataclass
class FigureRun:
    label: str
    times: list[float]
    rows: int
    groups: int


def time_report(
    factory: sessionmaker[Session],
    principal: Principal,
    by: str,
    runs: int,
    first: date,
    last: date,
) -> FigureRun:
    times, rows, groups = [], 0, 0
    for _ in range(runs):
        with factory() as session:
            t0 = time.perf_counter()
            result = figures.report(session, principal, first=first, last=last, by=by)
            body = {key: f.as_dict() for key, f in result.groups.items()}  # as the route does
            times.append(time.perf_counter() - t0)
        rows = result.total.found + result.previous.found
        groups = len(body)
    return FigureRun(by, times, rows, groups)


def peer_tuples(factory: sessionmaker[Session], first: date, last: date) -> float:
    """The same rows and columns the report needs, read as tuples (no ORM objects)."""
    cols = (
        Dispute.status,
        Dispute.outcome,
        Dispute.level,
        Dispute.resolved_level,
        Dispute.type_code,
        Dispute.grid_id,
        Dispute.found_on,
        Dispute.resolved_at,
        Dispute.reopen_count,
    )
    t0 = time.perf_counter()
    with factory() as session:
        for lo, hi in ((figures.year_before(first), figures.year_before(last)), (first, last)):
            session.execute(
                select(*cols).where(Dispute.found_on >= lo, Dispute.found_on <= hi)
            ).all()
    return time.perf_counter() - t0


def peer_group_by(factory: sessionmaker[Session], first: date, last: date) -> float:
    """Found, resolved, unresolved, re-opened by level, counted by the database."""
    key = func.coalesce(Dispute.resolved_level, Dispute.level)
    t0 = time.perf_counter()
    with factory() as session:
        for lo, hi in ((figures.year_before(first), figures.year_before(last)), (first, last)):
            session.execute(
                select(
                    key,
                    func.count(),
                    func.sum(case((Dispute.status == DisputeStatus.RESOLVED, 1), else_=0)),
                    func.sum(case((Dispute.status == DisputeStatus.UNRESOLVED, 1), else_=0)),
                    func.sum(case((Dispute.reopen_count > 0, 1), else_=0)),
                )
                .where(Dispute.found_on >= lo, Dispute.found_on <= hi)
                .group_by(key)
            ).all()
    return time.perf_counter() - t0


def run_figures(
    label: str,
    factory: sessionmaker[Session],
    city: City,
    today: date,
    runs: int,
    groupings: tuple[str, ...] = GROUPINGS,
) -> tuple[bool, Callable[[], None] | None]:
    """Returns whether every answer was under the limit and the slowest case to profile."""
    first, last = today - timedelta(days=364), today
    with factory() as session:
        busiest = session.execute(
            select(Dispute.station_id, func.count())
            .where(Dispute.found_on >= first)
            .group_by(Dispute.station_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()[0]
        user = session.get(UserAccount, city.chief_user[busiest])
        assert user is not None
        chief = build_principal(session, user)
    city_wide = system_principal("bench")
    print(
        f"   report {first} – {last} with {figures.year_before(first)} – "
        f"{figures.year_before(last)}, {runs} runs each after one warm-up; rows = both periods:"
    )
    reset = reset_peak_rss()
    rss0 = vm_kib("VmRSS") / 1024
    ok, slowest, worst = True, 0.0, None
    for who, principal in (("city", city_wide), (f"station {busiest}", chief)):
        with factory() as session:  # one warm-up (pool, statement caches)
            figures.report(session, principal, first=first, last=last, by="level")
        for by in groupings:
            r = time_report(factory, principal, by, runs, first, last)
            top = max(r.times)
            good = top < FIGURES_LIMIT_S
            if who == "city":
                ok &= good
                if top > slowest:
                    slowest = top
                    worst = _profile_report(factory, principal, by, first, last)
            print(
                f"   {who:<12} by={by:<6} p50 {statistics.median(r.times):6.3f} s  max "
                f"{top:6.3f} s  {r.rows:>7,} rows ({r.rows / statistics.median(r.times):>8,.0f} "
                f"rows/s)  {r.groups:>5} groups  {verdict(good)} (limit < {FIGURES_LIMIT_S:.0f} s)"
            )
    tuples = statistics.median(peer_tuples(factory, first, last) for _ in range(3))
    grouped = statistics.median(peer_group_by(factory, first, last) for _ in range(3))
    print(
        f"   peers, city, both periods: the same columns as tuples {tuples:.3f} s; "
        f"counts by level in SQL (GROUP BY) {grouped:.3f} s"
    )
    tracemalloc.start()
    with factory() as session:
        figures.report(session, city_wide, first=first, last=last, by="grid")
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"   tracemalloc peak of one city report (by grid): {peak / 2**20:.1f} MiB; peak RSS of "
        f"the phase {peak_rss_mb():.0f} MB ({'since' if reset else 'process, not reset at'} "
        f"{rss0:.0f} MB at its start)"
    )
    print(f"   {label} figures: {verdict(ok)} (every city answer < {FIGURES_LIMIT_S:.0f} s)")
    return ok, worst


def _profile_report(
    factory: sessionmaker[Session], principal: Principal, by: str, first: date, last: date
) -> Callable[[], None]:
    def go() -> None:
        with factory() as session:
            figures.report(session, principal, first=first, last=last, by=by)

    return go


# --- 2. the agreement PDF ------------------------------------------------------------------


def agreement_text() -> pdf.AgreementText:
    parties = [
        {
            "side": "applicant",
            "name": "王秀英",
            "gender": "female",
            "id_number": "420102196503124528",
            "phone": "13907151234",
            "address": "湖北省武汉市江岸区花桥街道花桥一村12栋3单元502室",
            "is_organisation": False,
        },
        {
            "side": "respondent",
            "name": "李建国",
            "gender": "male",
            "id_number": "420102197008215617",
            "phone": "13871234567",
            "address": "湖北省武汉市江岸区花桥街道花桥一村12栋3单元602室",
            "is_organisation": False,
        },
        {
            "side": "third",
            "name": "武汉市江岸区安居物业服务有限公司",
            "gender": None,
            "id_number": None,
            "phone": "02782801234",
            "address": "湖北省武汉市江岸区花桥街道二七路88号",
            "is_organisation": True,
        },
    ]
    terms = [
        "被申请人李建国于2026年12月10日前自行修复602室卫生间防水层，费用由被申请人承担，"
        "施工前书面告知申请人及物业，施工时间为每日8时至12时、14时至18时。",
        "被申请人一次性赔偿申请人502室卫生间吊顶、墙面及衣柜损失共计人民币捌仟伍佰元整"
        "（¥8,500.00），于2026年11月30日前通过银行转账支付至申请人指定账户。",
        "第三人安居物业公司负责协调施工人员进出，并在修复完成后组织闭水试验48小时，"
        "试验结果书面告知双方当事人。",
        "修复完成后一年内如再次渗漏，由被申请人负责维修并承担由此造成的损失，"
        "双方可申请社区调委会再次调解。",
        "申请人同意在收到赔偿款后撤回向江岸区人民法院提起的诉讼，双方不再就本次渗水事宜"
        "向对方主张其他权利。",
        "双方当事人承诺今后和睦相处，遇事协商解决，不得采取过激行为；任何一方违反本协议，"
        "另一方可向人民法院申请司法确认或提起诉讼。",
    ]
    return pdf.AgreementText(
        number="（2026）调字第00421号",
        dispute_number="JF20261015000421",
        organisation="武汉市公安局江岸区分局花桥派出所",
        level="station",
        type_name="邻里纠纷",
        place="江岸区花桥街道花桥一村12栋3单元",
        facts=(
            "2026年9月起，被申请人李建国居住的602室卫生间防水层老化渗水，致使申请人王秀英"
            "居住的502室卫生间吊顶脱落、墙面霉变、衣柜受潮变形。申请人多次与被申请人协商"
            "未果，双方于2026年10月14日发生争吵并报警。经网格员、社区民警两次调解未能达成"
            "一致，2026年10月20日升级至派出所联合调解。经物业公司现场查勘，确认渗水源为"
            "602室卫生间地面防水层破损，申请人主张赔偿损失一万二千元，被申请人认为金额过高。"
        )
        * 2,
        terms=terms,
        performance=(
            "赔偿款于2026年11月30日前一次性银行转账支付；修复工程于2026年12月10日前完成，"
            "由物业公司组织闭水试验并书面确认；社区网格员于协议履行后第7日、第30日回访。"
        ),
        parties=parties,
        mediators=[
            {"id": 1, "name": "陈志强", "kind": "officer", "organisation": "花桥派出所"},
            {
                "id": 2,
                "name": "刘桂兰",
                "kind": "fengqiao_mediator",
                "organisation": "“枫桥式”调解工作室",
            },
            {"id": 3, "name": "张明", "kind": "lawyer", "organisation": "湖北楚天律师事务所"},
        ],
        signed_on=date(2026, 11, 20),
    )


def run_pdf(n: int, font: str) -> tuple[bool, Callable[[], None]]:
    text_ = agreement_text()
    pdf.find_font.cache_clear()
    t0 = time.perf_counter()
    data = pdf.render(text_, font=font)
    first = time.perf_counter() - t0
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        data = pdf.render(text_, font=font)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    pdf.render(text_, font=font)
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    p95 = pct(times, 95)
    ok = p95 < PDF_LIMIT_S
    font_path = pdf.find_font(font)
    print(
        f"   pdf.render (3 parties, 6 terms, 3 mediators; font {font_path}, "
        f"{Path(font_path).stat().st_size / 2**20:.1f} MiB): first call {first:.3f} s; "
        f"then {n} calls p50 {statistics.median(times):.3f} s  p95 {p95:.3f} s  max "
        f"{max(times):.3f} s; {len(data) / 1024:.0f} KB, {data.count(b'/Type /Page') - data.count(b'/Type /Pages')} "
        f"page(s); tracemalloc peak {peak / 2**20:.1f} MiB  {verdict(ok)} (limit p95 < "
        f"{PDF_LIMIT_S:.0f} s)"
    )

    def go() -> None:
        pdf.render(text_, font=font)

    return ok, go


# --- 3. the dispute page -------------------------------------------------------------------


def make_case(factory: sessionmaker[Session], city: City, today: date) -> tuple[int, int]:
    """A dispute with everything the page shows, and a bare one; returns their ids."""
    station = city.station_ids[0]
    g = 0
    grid, officer = int(city.grid_ids[g]), int(city.grid_officer[g])
    x0, y0, x1, y1 = city.grid_box[g]
    lon, lat = (x0 + x1) / 2, (y0 + y1) / 2
    found = today - timedelta(days=120)
    created = at_local(found, 10)
    place = "花桥一村12栋3单元"
    chief_user, chief_person = city.chief_user[station], city.chief_person[station]
    roster = city.mediators[station]
    text_ = agreement_text()
    with unit_of_work(factory) as s:
        d = Dispute(
            number="JFBENCH000001",
            source=DisputeSource.GRID_WORKER,
            type_code="neighbour",
            title="邻里纠纷 · 楼上渗水",
            summary="楼上卫生间渗水致楼下吊顶脱落，双方多次争吵。",
            place=place,
            lon=lon,
            lat=lat,
            grid_id=grid,
            station_id=station,
            found_on=found,
            risk_answers={
                "threats": False,
                "violence": False,
                "repeated_calls": 2,
                "people": 3,
                "money": 12000,
                "vulnerable": True,
                "long_standing": False,
            },
            risk_level=RiskLevel.ORANGE,
            level=MediationLevel.STATION,
            status=DisputeStatus.RESOLVED,
            outcome=Outcome.AGREEMENT,
            resolved_at=created + timedelta(days=70),
            resolved_level=MediationLevel.STATION,
            reopen_count=2,
            reopened_at=created + timedelta(days=60),
            responsible_person_id=officer,
            registered_by=chief_user,
            created_at=created,
            updated_at=created + timedelta(days=70),
        )
        bare = Dispute(
            number="JFBENCH000002",
            type_code="family",
            title="家庭纠纷",
            place="花桥二村3栋",
            lon=lon + 0.002,
            lat=lat + 0.002,
            grid_id=grid,
            station_id=station,
            found_on=today - timedelta(days=3),
            responsible_person_id=officer,
            created_at=at_local(today - timedelta(days=3), 9),
            updated_at=at_local(today - timedelta(days=3), 9),
        )
        s.add_all([d, bare])
        s.flush()
        for k, p in enumerate(text_.parties):
            s.add(
                DisputeParty(
                    dispute_id=d.id,
                    side=PartySide(p["side"]),
                    name=p["name"],
                    is_organisation=p["is_organisation"],
                    gender=p["gender"],
                    id_number=p["id_number"],
                    phone=p["phone"],
                    address=p["address"],
                    position=k,
                )
            )
        s.add(
            DisputeParty(
                dispute_id=bare.id, side=PartySide.APPLICANT, name="赵敏", phone="13500001111"
            )
        )
        grid_level = [roster[0], roster[1], roster[2]]
        station_level = [roster[4], roster[5], roster[6]]
        for k, mid in enumerate(grid_level):
            s.add(
                DisputeMediator(
                    dispute_id=d.id,
                    mediator_id=mid,
                    level=MediationLevel.GRID,
                    lead=k == 0,
                    added_at=created + timedelta(hours=k + 1),
                )
            )
        for k, mid in enumerate(station_level):
            s.add(
                DisputeMediator(
                    dispute_id=d.id,
                    mediator_id=mid,
                    level=MediationLevel.STATION,
                    lead=k == 0,
                    added_at=created + timedelta(days=20, hours=k),
                )
            )
        for k in range(10):
            level = MediationLevel.GRID if k < 4 else MediationLevel.STATION
            s.add(
                MediationSession(
                    dispute_id=d.id,
                    level=level,
                    held_at=created + timedelta(days=3 + 6 * k),
                    place="花桥派出所调解室" if k >= 4 else "花桥一村网格站",
                    mediator_ids=grid_level if k < 4 else station_level,
                    attendees="王秀英、李建国、物业代表",
                    notes="双方陈述意见，物业介绍查勘情况；申请人坚持赔偿一万二千元。" * 3,
                    user_id=chief_user,
                    created_at=created + timedelta(days=3 + 6 * k),
                )
            )
        for k in range(3):
            s.add(
                MediationAgreement(
                    dispute_id=d.id,
                    number=f"（2026）调字第{421 + k:05d}号",
                    level=MediationLevel.STATION,
                    facts=text_.facts,
                    terms=text_.terms,
                    performance=text_.performance,
                    parties=text_.parties,
                    mediators=text_.mediators,
                    organisation="花桥派出所",
                    signed_on=found + timedelta(days=30 + 20 * k),
                    superseded=k < 2,
                    user_id=chief_user,
                    created_at=created + timedelta(days=30 + 20 * k),
                )
            )
        s.flush()
        follow_ups = []
        for k in range(5):
            f = FollowUp(
                kind=TaskKind.DISPUTE_FOLLOW_UP,
                station_id=station,
                grid_id=grid,
                due_on=found + timedelta(days=75 + 15 * k),
                target_type="dispute",
                target_id=d.id,
                target_label=f"{d.number} {d.title}",
                lon=lon,
                lat=lat,
                note="回访：协议是否履行？",
                status=FollowUpStatus.DONE if k < 3 else FollowUpStatus.PENDING,
                dispute_id=d.id,
                created_by_user_id=chief_user,
                created_at=created + timedelta(days=70),
            )
            s.add(f)
            follow_ups.append(f)
        s.flush()
        for f in follow_ups[:3]:
            day = f.due_on
            s.add(
                Task(
                    station_id=station,
                    grid_id=grid,
                    kind=TaskKind.DISPUTE_FOLLOW_UP,
                    title="纠纷回访",
                    target_type="dispute",
                    target_id=d.id,
                    target_label=f.target_label,
                    lon=lon,
                    lat=lat,
                    day=day,
                    due_from=at_local(day, 8),
                    due_by=at_local(day, 18),
                    priority=3,
                    assignee_id=officer,
                    status=TaskStatus.DONE,
                    source=TaskSource.FOLLOW_UP,
                    source_key=f"bench-follow-{f.id}",
                    follow_up_id=f.id,
                    completed_at=at_local(day, 15),
                    completed_by_id=officer,
                    result={"situation": "kept", "note": "协议已履行"},
                )
            )
        # Four later calls at the place (same address text or within 50 m), linked as
        # the nightly run does: the page finds them again and adds nothing.
        linked = list(
            s.scalars(
                insert(Incident).returning(Incident.id),
                [
                    {
                        "channel": Channel.TRANSFER_110,
                        "category_id": city.category_ids[0],
                        "priority": Priority.NORMAL,
                        "status": IncidentStatus.CLOSED,
                        "description": "楼上又渗水，双方争吵",
                        "address": place,
                        "reporter_name": "王秀英",
                        "reporter_phone": "13907151234" if k % 2 else "13600000000",
                        "lon": lon + 0.0001 * k,
                        "lat": lat,
                        "grid_id": grid,
                        "station_id": station,
                        "received_at": created + timedelta(days=10 + 25 * k),
                    }
                    for k in range(4)
                ],
            )
        )
        for k, iid in enumerate(linked):
            s.add(
                DisputeIncident(
                    dispute_id=d.id,
                    incident_id=iid,
                    reasons=["same_place", "same_party"] if k % 2 else ["same_place"],
                    found_at=created + timedelta(days=11 + 25 * k),
                )
            )
        kinds = (
            ["registered", "risk", "mediator", "mediator", "mediator"]
            + ["session"] * 10
            + ["escalated", "mediator", "mediator", "mediator"]
            + ["agreement", "outcome", "reopened", "agreement", "reopened"]
            + ["agreement", "revisited"]
            + ["incident_linked"] * 4
        )
        assert len(kinds) == 30
        people = [chief_person, officer, *(int(p) for p in city.grid_officer[1:4])]
        for k, kind in enumerate(kinds):
            s.add(
                DisputeEvent(
                    dispute_id=d.id,
                    at=created + timedelta(days=2 * k, hours=1),
                    kind=kind,
                    level=MediationLevel.GRID if k < 15 else MediationLevel.STATION,
                    user_id=chief_user,
                    person_id=people[k % len(people)],
                    detail={"note": "基准", "k": k},
                )
            )
    return d.id, bare.id


def run_page(
    factory: sessionmaker[Session], engine: Engine, city: City, today: date, n: int, font: str
) -> tuple[bool, Callable[[], None]]:
    full_id, bare_id = make_case(factory, city, today)
    station = city.station_ids[0]
    with factory() as session:
        user = session.get(UserAccount, city.chief_user[station])
        assert user is not None
        chief = build_principal(session, user)
        view = views.detail(session, chief, full_id)
        shown = (
            f"{len(view.parties)} parties, {len(view.mediators)} mediators, {len(view.sessions)} "
            f"sessions, {len(view.agreements)} agreements, {len(view.follow_ups)} revisits "
            f"({len(view.tasks)} tasks), {len(view.links)} later calls, {len(view.events)} events, "
            f"{len(view.roster)} on the roster, {len(view.suggestions)} suggested"
        )
        session.rollback()

    def one(dispute_id: int) -> float:
        t0 = time.perf_counter()
        with unit_of_work(factory) as session:
            views.detail(session, chief, dispute_id)
        return time.perf_counter() - t0

    results = {}
    for label, did in (("full", full_id), ("bare", bare_id)):
        for _ in range(5):
            one(did)
        with Statements(engine) as st:
            times = [one(did) * 1000 for _ in range(n)]
        results[label] = (times, st.count / n, st.seconds * 1000 / n)
    links = []
    for _ in range(n):
        with factory() as session:
            dispute = session.get(Dispute, full_id)
            assert dispute is not None
            t0 = time.perf_counter()
            revisits.find_links(session, dispute, actor=chief)
            links.append((time.perf_counter() - t0) * 1000)
            session.rollback()
    tracemalloc.start()
    with unit_of_work(factory) as session:
        views.detail(session, chief, full_id)
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    times, per_call, sql_ms = results["full"]
    p95 = pct(times, 95)
    ok = p95 < PAGE_LIMIT_MS
    print(f"   views.detail by the station chief: {shown}")
    print(
        f"   full dispute  p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms  max "
        f"{max(times):6.1f} ms  {per_call:.0f} statements ({sql_ms:.1f} ms in SQL) a call  "
        f"{verdict(ok)} (limit p95 < {PAGE_LIMIT_MS:.0f} ms)"
    )
    print(
        f"     of which find_links (later calls among {count(factory, Incident):,}) p50 "
        f"{statistics.median(links):.1f} ms  p95 {pct(links, 95):.1f} ms; tracemalloc peak of "
        f"one call {peak / 2**20:.1f} MiB"
    )
    times, per_call, sql_ms = results["bare"]
    print(
        f"   peer: bare dispute p50 {statistics.median(times):6.1f} ms  p95 {pct(times, 95):6.1f} "
        f"ms  max {max(times):6.1f} ms  {per_call:.0f} statements ({sql_ms:.1f} ms in SQL)"
    )
    # The agreement printed through the app (audited read + kinds + render).
    with factory() as session:
        agreement_id = session.scalars(
            select(MediationAgreement.id).where(
                MediationAgreement.dispute_id == full_id,
                MediationAgreement.superseded.is_(False),
            )
        ).one()
    printed = []
    for _ in range(6):
        t0 = time.perf_counter()
        with unit_of_work(factory) as session:
            _name, data = agreements.printable(session, chief, agreement_id, font=font)
        printed.append(time.perf_counter() - t0)
    print(
        f"   agreements.printable (audited read + render) p50 {statistics.median(printed[1:]):.3f} s "
        f"max {max(printed[1:]):.3f} s, {len(data) / 1024:.0f} KB"
    )

    def go() -> None:
        with unit_of_work(factory) as session:
            views.detail(session, chief, full_id)

    return ok, go


def count(factory: sessionmaker[Session], model: type[Any]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- the runs ------------------------------------------------------------------------------


def load(
    label: str, settings: Settings, per_year: int, incidents: int, seed: int, today: date
) -> tuple[Engine, sessionmaker[Session], City]:
    engine = make_engine(settings)
    t0 = time.perf_counter()
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    city = build_city(factory)
    t_city = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    rows = dispute_rows(city, 2 * per_year, today, rng)
    t_gen = time.perf_counter() - t0
    t_ins = bulk_insert(factory, Dispute, rows)
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[r["status"].value] = by_status.get(r["status"].value, 0) + 1
    del rows
    t_inc = 0.0
    if incidents:
        calls = incident_rows(city, incidents, today, rng)
        t_inc = copy_rows(engine, Incident, calls)
        del calls
    t0 = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    t_an = time.perf_counter() - t0
    print(
        f"   city: {STATIONS} stations, {STATIONS * DISTRICTS_PER_STATION} police districts, "
        f"{len(city.grid_ids):,} grids, {len(city.grid_ids) + STATIONS:,} people, "
        f"{STATIONS * len(ROSTER)} mediators in {t_city:.1f} s (with the migrations)"
    )
    print(
        f"   disputes: {2 * per_year:,} over 730 days generated in {t_gen:.1f} s, inserted in "
        f"{t_ins:.1f} s ({2 * per_year / t_ins:,.0f} rows/s, executemany by {CHUNK:,}); "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(by_status.items()))
    )
    if incidents:
        print(
            f"   calls: {incidents:,} inserted in {t_inc:.1f} s ({incidents / t_inc:,.0f} rows/s); "
            f"ANALYZE {t_an:.1f} s"
        )
    return engine, factory, city


def profile(label: str, go: Callable[[], None]) -> None:
    prof = cProfile.Profile()
    prof.enable()
    go()
    prof.disable()
    print(f"   profile of the slowest case ({label}):")
    for line in profile_lines(prof):
        print(line)


def run_postgres(args: argparse.Namespace, per_year: int, incidents: int, today: date) -> bool:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.postgres_server import running_postgres

    ok = True
    with running_postgres(fsync=True) as server:
        name = server.create_database("disputes")
        settings = Settings(  # type: ignore[call-arg]
            database_url=server.sqlalchemy_url(name),
            secret_key="bench",
            task_scheduler=False,
        )
        try:
            engine = make_engine(settings)
            with engine.connect() as conn:
                version = conn.exec_driver_sql("SHOW server_version").scalar()
                shown = {
                    k: conn.exec_driver_sql(f"SHOW {k}").scalar()
                    for k in ("fsync", "shared_buffers", "work_mem")
                }
            engine.dispose()
            print(
                f"== PostgreSQL {version} ({', '.join(f'{k}={v}' for k, v in shown.items())}); "
                f"{os.cpu_count()} CPUs, load {load_avg()}; today {today}; seed {args.seed}",
                flush=True,
            )
            engine, factory, city = load(
                "PostgreSQL", settings, per_year, incidents, args.seed, today
            )
            print("-- 1. figures (PostgreSQL)", flush=True)
            good, worst = run_figures("PostgreSQL", factory, city, today, args.runs)
            if (not good or args.profile) and worst is not None:
                profile("figures, city", worst)
            ok &= good
            print("-- 2. agreement PDF", flush=True)
            good, go = run_pdf(args.pdfs, settings.pdf_font)
            if not good or args.profile:
                profile("pdf.render", go)
            ok &= good
            print("-- 3. dispute page (PostgreSQL)", flush=True)
            good, go = run_page(factory, engine, city, today, args.pages, settings.pdf_font)
            if not good or args.profile:
                profile("views.detail", go)
            ok &= good
            engine.dispose()
        finally:
            server.drop_database(name)
    return ok


def run_sqlite(args: argparse.Namespace, per_year: int, today: date) -> bool:
    with tempfile.TemporaryDirectory(prefix="fengqiao-bench-") as tmp:
        settings = Settings(  # type: ignore[call-arg]
            database_url=f"sqlite:///{Path(tmp) / 'disputes.db'}",
            secret_key="bench",
            task_scheduler=False,
        )
        print(f"== SQLite (a temporary file, the app's settings); today {today}", flush=True)
        engine, factory, city = load("SQLite", settings, per_year, 0, args.seed, today)
        print("-- 1. figures (SQLite)", flush=True)
        ok, worst = run_figures("SQLite", factory, city, today, args.runs, ("level", "grid"))
        if (not ok or args.profile) and worst is not None:
            profile("figures, city, SQLite", worst)
        engine.dispose()
    return ok


@contextmanager
def section() -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    print(f"   ({time.perf_counter() - t0:.0f} s)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 x 10 000 disputes, 30 000 calls")
    parser.add_argument("--per-year", type=int, default=PER_YEAR)
    parser.add_argument("--incidents", type=int, default=INCIDENTS)
    parser.add_argument("--runs", type=int, default=3, help="figure calls per grouping")
    parser.add_argument("--pdfs", type=int, default=20)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--backend", choices=("postgres", "sqlite", "both"), default="both")
    parser.add_argument("--profile", action="store_true", help="profile even when limits are met")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    per_year = QUICK_PER_YEAR if args.quick else args.per_year
    incidents = QUICK_INCIDENTS if args.quick else args.incidents
    audit.install_session_hooks()  # as create_app does
    today = local_day(datetime.now(UTC).astimezone(CHINA_TZ))
    t0 = time.perf_counter()
    ok = True
    if args.backend in ("postgres", "both"):
        with section():
            ok &= run_postgres(args, per_year, incidents, today)
    if args.backend in ("sqlite", "both"):
        with section():
            ok &= run_sqlite(args, per_year, today)
    print(
        f"== disputes: {verdict(ok)} in {time.perf_counter() - t0:.0f} s (load {load_avg()}); "
        "peak RSS of the "
        f"process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
