"""Intake-to-routed throughput and latency, beside the raw single-row INSERT rate.

For each backend (PostgreSQL with fsync on, SQLite as the app configures it) this builds a
fresh database with the demo county, then measures in the same run:

* raw: N threads, each inserting one small row per transaction into a scratch table
  through the app's engine (same driver, same pool) -- the server's rate for
  one-row-per-commit work on this machine, the limit this work is compared with;
* intake: N client threads, each looping ``unit_of_work`` + ``create_incident``
  (placement, insert, audit row, routing with dispatch, live events) with random points
  in the county's grids and a realistic category mix; latency runs from before the call
  to after the commit. A separate, untimed thread releases assignments every 0.5 s.

Where an aim is missed, one client's intake loop is profiled (cProfile, wall time) while
the others keep running, and the report shows where its time goes.

Run from the repository root: ``make bench``, or
``.venv/bin/python benchmarks/bench_intake.py [--seconds 15] [--clients 8] [--backend both]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import re
import resource
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from fengqiao import migrate
from fengqiao.audit import service as audit
from fengqiao.audit.service import SYSTEM
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from fengqiao.demo.county import generate_county
from fengqiao.dispatch.models import ACTIVE_ASSIGNMENT, Assignment, AssignmentStatus
from fengqiao.incidents.models import Channel, IncidentStatus
from fengqiao.incidents.schemas import IncidentIn
from fengqiao.incidents.service import create_incident, ensure_reference_data
from fengqiao.org.importing import IMPORTERS
from fengqiao.org.models import DutyStatus, Person, PoliceGrid

ROOT = Path(__file__).resolve().parents[1]

AIM_RATE = 300.0  # incidents/s
AIM_P99_MS = 100.0
AIM_RAW_SHARE = 0.40
HOUSEKEEPING_EVERY_S = 0.5
PROFILE_SECONDS = 4.0

# A county station's calls: mostly disputes, requests for help and traffic; some cases
# (the case-handling team); few emergencies (nearest units and a command-room alert).
CATEGORY_MIX: dict[str, float] = {
    **{"0601": 12, "0602": 8, "0603": 4, "0604": 4, "0605": 2, "0606": 3, "0699": 2},
    **{"0701": 4, "0703": 6, "0799": 8, "0301": 6, "0302": 6, "0399": 2},
    **{"0203": 6, "0299": 3, "0801": 2, "0802": 2, "0901": 2, "9901": 2},
    **{"0101": 4, "0102": 3, "0201": 2, "0202": 1},
    **{"0104": 1, "0401": 0.5, "0702": 0.5, "0502": 0.5},
}
CHANNELS = {Channel.TRANSFER_110: 60, Channel.PHONE: 25, Channel.WALK_IN: 10, Channel.ONLINE: 5}

scratch_meta = MetaData()
scratch = Table(
    "bench_scratch",
    scratch_meta,
    Column("id", Integer, primary_key=True),
    Column("client", Integer, nullable=False),
    Column("note", String(40), nullable=False),
)


@dataclass
class Result:
    backend: str
    clients: int
    raw_rows: int = 0
    raw_s: float = 0.0
    incidents: int = 0
    routed: int = 0
    errors: int = 0
    intake_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    cpu_s: float = 0.0  # Python thread CPU of all clients
    serial_ms: list[float] = field(default_factory=list)
    released: int = 0
    rounds: list[float] = field(default_factory=list)  # when each housekeeping round ended
    rss_mb: float = 0.0

    @property
    def raw_rate(self) -> float:
        return self.raw_rows / self.raw_s if self.raw_s else 0.0

    @property
    def rate(self) -> float:
        return self.incidents / self.intake_s if self.intake_s else 0.0

    @property
    def share(self) -> float:
        return self.rate / self.raw_rate if self.raw_rate else 0.0

    def pct(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        return data[round(q / 100 * (len(data) - 1))] if data else float("nan")

    def aims(self) -> list[tuple[str, bool, str]]:
        p99 = self.pct(99)
        return [
            (f">= {AIM_RATE:.0f}/s", self.rate >= AIM_RATE, f"{self.rate:.1f}/s"),
            (f"p99 < {AIM_P99_MS:.0f} ms", p99 < AIM_P99_MS, f"{p99:.1f} ms"),
            (f">= {AIM_RAW_SHARE:.0%} of raw", self.share >= AIM_RAW_SHARE, f"{self.share:.1%}"),
        ]

    @property
    def passed(self) -> bool:
        return all(ok for _aim, ok, _value in self.aims())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


# --- set-up -------------------------------------------------------------------------------


def build_database(engine: Engine, factory: sessionmaker[Session], workdir: Path) -> str:
    """Migrations, reference data and the demo county through the normal importers."""
    migrate.upgrade(engine)
    files = generate_county(workdir / "county")
    with unit_of_work(factory) as session:
        ensure_reference_data(session)
        for kind, path in (
            ("stations", files.stations),
            ("districts", files.districts),
            ("grids", files.grids),
            ("civil-grids", files.civil_grids),
            ("personnel", files.personnel),
        ):
            IMPORTERS[kind](session, path, actor=SYSTEM)
    scratch_meta.create_all(engine)
    with factory() as session:
        grids = len(session.scalars(select(PoliceGrid.id)).all())
        statuses = session.scalars(select(Person.duty_status)).all()
    available = sum(s is DutyStatus.AVAILABLE for s in statuses)
    return f"{grids} grids, {len(statuses)} people, {available} available"


def grid_points(
    factory: sessionmaker[Session], n: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """``n`` random points, each inside a randomly chosen police grid."""
    with factory() as session:
        polygons = [g for g in session.scalars(select(PoliceGrid.geometry)) if g is not None]
    out = np.empty((n, 2))
    for i, k in enumerate(rng.integers(0, len(polygons), n)):
        poly = polygons[k]
        x0, y0, x1, y1 = poly.bounds
        while True:
            xs, ys = rng.uniform(x0, x1, 16), rng.uniform(y0, y1, 16)
            inside = shapely.contains_xy(poly, xs, ys)
            if inside.any():
                j = int(np.argmax(inside))
                out[i] = (xs[j], ys[j])
                break
    return out


class Calls:
    """An endless, thread-safe supply of realistic reports with unique idempotency keys."""

    def __init__(self, points: npt.NDArray[np.float64], seed: int) -> None:
        self._points = points
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._run = uuid.uuid4().hex[:8]
        self._n = 0

    def next(self) -> tuple[IncidentIn, str]:
        with self._lock:
            self._n += 1
            n = self._n
            code = self._rng.choices(list(CATEGORY_MIX), list(CATEGORY_MIX.values()))[0]
            channel = self._rng.choices(list(CHANNELS), list(CHANNELS.values()))[0]
            phone = f"1{self._rng.randrange(3, 9)}{self._rng.randrange(10**9):09d}"
        lon, lat = self._points[n % len(self._points)]
        data = IncidentIn(
            channel=channel,
            category_code=code,
            description=f"基准测试警情 {n}",
            address=f"清溪县测试路{n % 500}号",
            reporter_name="张三",
            reporter_phone=phone,
            lon=float(lon),
            lat=float(lat),
        )
        return data, f"bench-{self._run}-{n}"


# --- probes: SQL by statement, the serialised part of each transaction --------------------

LOCK_KIND = "SELECT pg_advisory_xact_lock (audit chain)"
_TABLE = re.compile(r"^(INSERT INTO|UPDATE|DELETE FROM|SELECT .*? FROM)\s+(\w+)", re.S)


def statement_kind(sql: str) -> str:
    sql = " ".join(sql.split())
    if "pg_advisory_xact_lock" in sql:
        return LOCK_KIND
    match = _TABLE.match(sql)
    if match:
        verb = match.group(1).split()[0]
        return f"{verb} {match.group(2)}"
    return sql.split(" ")[0][:40]


class Probe:
    """Engine events, per thread: when the transaction got the lock that serialises intake
    (PostgreSQL: the audit chain's advisory lock; SQLite: the write lock of BEGIN
    IMMEDIATE), and, for one chosen thread, the time of each SQL statement by kind."""

    def __init__(self, engine: Engine) -> None:
        self.local = threading.local()
        self.sql_thread: int | None = None
        self.sql: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        self.lock_name = (
            "write lock (BEGIN IMMEDIATE)"
            if engine.dialect.name == "sqlite"
            else "audit-chain advisory lock"
        )
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "begin", self._begin)  # runs after the app's BEGIN IMMEDIATE

    def _before(self, *_args: Any) -> None:
        self.local.t0 = time.perf_counter()

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        now = time.perf_counter()
        if "pg_advisory_xact_lock" in statement and getattr(self.local, "locked", None) is None:
            self.local.locked = now
        if threading.get_ident() == self.sql_thread:
            entry = self.sql[statement_kind(statement)]
            entry[0] += 1
            entry[1] += now - self.local.t0

    def _begin(self, _conn: Any) -> None:
        self.local.locked = time.perf_counter()

    def start(self) -> None:
        self.local.locked = None

    def held_ms(self, end: float) -> float | None:
        locked = getattr(self.local, "locked", None)
        return None if locked is None else (end - locked) * 1000.0


# --- the measurements ---------------------------------------------------------------------


def run_threads(clients: int, target: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def measure_raw_inserts(engine: Engine, clients: int, seconds: float) -> tuple[int, float]:
    """One small row per transaction, per thread, for ``seconds``."""
    counts = [0] * clients
    ins = scratch.insert()
    start = time.perf_counter()
    stop_at = start + seconds

    def worker(i: int) -> None:
        n = 0
        while time.perf_counter() < stop_at:
            with engine.begin() as conn:
                conn.execute(ins, {"client": i, "note": f"row {n}"})
            n += 1
        counts[i] = n

    run_threads(clients, worker)
    return sum(counts), time.perf_counter() - start


def housekeeping_engine(engine: Engine) -> Engine:
    """PostgreSQL: the app's engine. SQLite: an engine of its own that takes the write lock
    by polling every millisecond, because SQLite's busy handler backs off to 100 ms sleeps
    and the clients would starve this thread for seconds."""
    if engine.dialect.name != "sqlite":
        return engine
    own = create_engine(engine.url, connect_args={"timeout": 0, "check_same_thread": False})

    @event.listens_for(own, "connect")
    def _no_implicit_begin(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    return own


@contextmanager
def housekeeping(engine: Engine, result: Result) -> Iterator[None]:
    """Untimed: every ~0.5 s release the active assignments and set their people back to
    available with plain UPDATEs, so that routing keeps finding people."""
    stop = threading.Event()
    own = housekeeping_engine(engine)

    def one_round() -> int:
        with own.connect() as conn:
            if conn.dialect.name == "sqlite":
                while True:
                    try:
                        conn.exec_driver_sql("BEGIN IMMEDIATE")
                        break
                    except OperationalError:
                        time.sleep(0.001)
            rows = conn.execute(
                select(Assignment.id, Assignment.person_id).where(
                    Assignment.status.in_(ACTIVE_ASSIGNMENT)
                )
            ).all()
            if rows:
                now = utcnow()
                conn.execute(
                    update(Assignment)
                    .where(Assignment.id.in_([r[0] for r in rows]))
                    .values(status=AssignmentStatus.RELEASED, released_at=now)
                )
                conn.execute(
                    update(Person)
                    .where(Person.id.in_({r[1] for r in rows}))
                    .values(duty_status=DutyStatus.AVAILABLE, status_changed_at=now)
                )
            conn.commit()
        return len(rows)

    def loop() -> None:
        while not stop.wait(HOUSEKEEPING_EVERY_S):
            try:
                result.released += one_round()
                result.rounds.append(time.perf_counter())
            except Exception as exc:  # a deadlock, say: try again next round
                print(f"   (housekeeping round failed: {type(exc).__name__})", file=sys.stderr)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if own is not engine:
            own.dispose()


def intake_once(factory: sessionmaker[Session], calls: Calls) -> bool:
    """One report, in its own unit of work; True when someone was dispatched."""
    data, key = calls.next()
    with unit_of_work(factory) as session:
        intake = create_incident(session, actor=SYSTEM, data=data, idempotency_key=key)
    return intake.incident.status is IncidentStatus.DISPATCHED


def measure_intake(
    factory: sessionmaker[Session],
    probe: Probe,
    calls: Calls,
    result: Result,
    seconds: float,
    profiler: cProfile.Profile | None = None,
) -> None:
    clients = result.clients
    latencies: list[list[float]] = [[] for _ in range(clients)]
    serial: list[list[float]] = [[] for _ in range(clients)]
    routed, errors, cpu = [0] * clients, [0] * clients, [0.0] * clients
    start = time.perf_counter()
    stop_at = start + seconds

    def worker(i: int) -> None:
        if i == 0 and profiler is not None:
            probe.sql_thread = threading.get_ident()
            profiler.enable()
        cpu0 = time.thread_time()
        try:
            while (t0 := time.perf_counter()) < stop_at:
                probe.start()
                try:
                    routed[i] += intake_once(factory, calls)
                except Exception as exc:
                    errors[i] += 1
                    if errors[i] <= 3:
                        print(f"   client {i}: {type(exc).__name__}: {exc}"[:300], file=sys.stderr)
                    continue
                t1 = time.perf_counter()
                latencies[i].append((t1 - t0) * 1000.0)
                if (held := probe.held_ms(t1)) is not None:
                    serial[i].append(held)
        finally:
            cpu[i] = time.thread_time() - cpu0
            if i == 0 and profiler is not None:
                profiler.disable()
                probe.sql_thread = None

    run_threads(clients, worker)
    result.intake_s = time.perf_counter() - start
    result.latencies_ms = [x for lat in latencies for x in lat]
    result.serial_ms = [x for s in serial for x in s]
    result.incidents = len(result.latencies_ms)
    result.routed, result.errors, result.cpu_s = sum(routed), sum(errors), sum(cpu)


# --- where the time goes ------------------------------------------------------------------

# (label, path suffix, function): cumulative wall time inside, for the profiled client.
STAGES = [
    ("idempotency lookup (opens the tx)", "incidents/service.py", "find_by_key"),
    ("category lookup", "incidents/service.py", "get_category_or_raise"),
    ("placement (point in grid)", "org/placement.py", "place_point"),
    ("grid officer lookup", "incidents/service.py", "_grid_officer_id"),
    ("audit rows (with autoflush)", "audit/service.py", "record"),
    ("  chain head (+ lock wait on PG)", "audit/service.py", "_last_hash"),
    ("routing + dispatch", "incidents/service.py", "route_incident"),
    ("  plan_routing + chain queries", "incidents/routing.py", "plan_routing"),
    ("  dispatch_person", "dispatch/service.py", "dispatch_person"),
    ("commit: final flush + COMMIT", "sqlalchemy/orm/session.py", "commit"),
    ("  the COMMIT itself (fsync on PG)", "sqlalchemy/engine/default.py", "do_commit"),
    ("SQLite BEGIN IMMEDIATE (lock wait)", "fengqiao/db.py", "_on_begin"),
    ("all statements (driver execute)", "sqlalchemy/engine/default.py", "do_execute"),
]


def profile_report(prof: cProfile.Profile, probe: Probe) -> list[str]:
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(prof).stats  # type: ignore[attr-defined]

    def cumulative(suffix: str, name: str) -> tuple[int, float]:
        rows = [v for k, v in raw.items() if k[0].endswith(suffix) and k[2] == name]
        return sum(v[1] for v in rows), sum(v[3] for v in rows)

    calls, total = cumulative("bench_intake.py", "intake_once")
    if not calls:
        return ["   (the profiled client finished no intake)"]
    lock_kind = "BEGIN" if probe.lock_name.startswith("write") else LOCK_KIND
    wait = probe.sql.get(lock_kind, [0, 0.0])[1]
    sql = sum(secs for _n, secs in probe.sql.values()) - wait
    per = 1000 / calls
    lines = [
        f"   where one client's time goes: {calls} intakes, {total * per:.1f} ms each = "
        f"{wait * per:.1f} waiting for the {probe.lock_name} + {sql * per:.1f} in the other "
        f"statements + {(total - wait - sql) * per:.1f} in Python"
    ]
    lines.append(f"     {'stage':<36} {'ms/intake':>9} {'share':>6}")
    for label, suffix, name in STAGES:
        _n, ct = cumulative(suffix, name)
        if ct > 0:
            lines.append(f"     {label:<36} {ct / calls * 1000:>9.2f} {ct / total:>6.1%}")
    lines.append(f"     {'SQL by statement (same client)':<36} {'ms/intake':>9} {'n':>6}")
    top = sorted(probe.sql.items(), key=lambda kv: -kv[1][1])[:8]
    for kind, (n, secs) in top:
        lines.append(f"     {kind[:36]:<36} {secs / calls * 1000:>9.2f} {n / calls:>6.1f}")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(15)
    body = out.getvalue().splitlines()
    head = next((i for i, ln in enumerate(body) if ln.lstrip().startswith("ncalls")), 0)
    lines.append("   cProfile of that client, by cumulative time (top 15):")
    for ln in body[head:]:
        if ln.strip():
            ln = ln.replace(str(ROOT) + "/", "").replace(sys.prefix + "/lib/", "")
            lines.append("     " + ln.replace("python3.11/site-packages/", "")[:140])
    return lines


# --- one backend --------------------------------------------------------------------------


@contextmanager
def backend_database(backend: str, workdir: Path) -> Iterator[tuple[Settings, str]]:
    if backend == "sqlite":
        settings = Settings(database_url=f"sqlite:///{workdir / 'bench.db'}")
        yield settings, "SQLite file (WAL, synchronous=NORMAL, BEGIN IMMEDIATE, as the app sets)"
        return
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.postgres_server import running_postgres

    with running_postgres(fsync=True) as server:
        name = server.create_database("bench")
        settings = Settings(database_url=server.sqlalchemy_url(name))
        engine = make_engine(settings)
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
            fsync = conn.exec_driver_sql("SHOW fsync").scalar()
            sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
        engine.dispose()
        try:
            yield settings, f"PostgreSQL {version} (fsync={fsync}, synchronous_commit={sync})"
        finally:
            server.drop_database(name)


def run_backend(backend: str, clients: int, seconds: float) -> Result:
    with (
        tempfile.TemporaryDirectory(prefix="fengqiao-bench-") as tmp,
        backend_database(backend, Path(tmp)) as (settings, server),
    ):
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"== {backend}: {server}")
        print(f"   {clients} clients, {seconds:g} s per phase, {os.cpu_count()} CPUs, load {load}")
        engine = make_engine(settings)
        factory = make_sessionmaker(engine)
        t0 = time.perf_counter()
        org = build_database(engine, factory, Path(tmp))
        points = grid_points(factory, 20_000, np.random.default_rng(7))
        print(f"   set-up: migrations + demo county ({org}) in {time.perf_counter() - t0:.1f} s")

        result = Result(backend=backend, clients=clients)
        result.raw_rows, result.raw_s = measure_raw_inserts(engine, clients, seconds)
        print(
            f"   raw single-row INSERT ({clients} threads, one commit per row): "
            f"{result.raw_rate:,.0f} rows/s",
            flush=True,
        )
        probe = Probe(engine)
        calls = Calls(points, seed=11)
        for _ in range(20):  # warm-up: location index, statement caches, pool
            intake_once(factory, calls)
        with housekeeping(engine, result):
            measure_intake(factory, probe, calls, result, seconds)
        result.rss_mb = peak_rss_mb()
        print_result(result, probe)

        if not result.passed:
            prof = cProfile.Profile()
            scratch_result = Result(backend=backend, clients=clients)
            with housekeeping(engine, scratch_result):
                measure_intake(factory, probe, calls, scratch_result, PROFILE_SECONDS, prof)
            print(
                f"   profile: client 0 under cProfile for {PROFILE_SECONDS:g} s while "
                f"{clients - 1} others run (the profiler slows that client down)"
            )
            for line in profile_report(prof, probe):
                print(line)
        engine.dispose()
        print(flush=True)
        return result


def print_result(r: Result, probe: Probe) -> None:
    dispatched = r.routed / r.incidents if r.incidents else 0.0
    worst = max(r.latencies_ms, default=float("nan"))
    print(
        f"   intake→routed: {r.incidents:,} incidents in {r.intake_s:.1f} s = {r.rate:,.1f}/s "
        f"({dispatched:.0%} dispatched to someone, {r.errors} errors)"
    )
    print(
        f"   latency ms (call + commit): p50 {r.pct(50):.1f}  p90 {r.pct(90):.1f}  "
        f"p99 {r.pct(99):.1f}  max {worst:.1f}"
    )
    print(f"   intake / raw rate: {r.share:.1%}    peak RSS of this process: {r.rss_mb:.0f} MB")
    if r.incidents:
        cpu_ms = r.cpu_s / r.incidents * 1000
        line = f"   Python CPU {cpu_ms:.1f} ms/intake (one GIL: <= {1000 / cpu_ms:,.0f}/s)"
        if r.serial_ms:
            held = sum(r.serial_ms) / len(r.serial_ms)
            line += f"; {probe.lock_name} held {held:.1f} ms/intake (<= {1000 / held:,.0f}/s)"
        print(line)
    gaps = [b - a for a, b in zip(r.rounds, r.rounds[1:], strict=False)]
    print(
        f"   housekeeping (separate untimed thread, plain UPDATEs every {HOUSEKEEPING_EVERY_S} s): "
        f"{len(r.rounds)} rounds (longest gap {max(gaps, default=0):.1f} s) released "
        f"{r.released:,} assignments and set those people available"
    )
    marks = "  ".join(f"{aim}: {'PASS' if ok else 'FALL SHORT'} ({v})" for aim, ok, v in r.aims())
    print(f"   aims: {marks}", flush=True)


def print_summary(results: list[Result]) -> None:
    print("== summary (latency in ms)")
    head = ("backend", "clients", "secs", "incidents", "per s", "p50", "p90", "p99", "max")
    print("   " + " ".join(f"{h:>9}" for h in head) + f" {'raw/s':>9} {'share':>6} {'RSS MB':>6}")
    for r in results:
        cells = [r.backend, str(r.clients), f"{r.intake_s:.1f}", f"{r.incidents:,}"]
        cells += [f"{r.rate:.1f}", *(f"{r.pct(q):.1f}" for q in (50, 90, 99))]
        cells.append(f"{max(r.latencies_ms, default=float('nan')):.1f}")
        print(
            "   "
            + " ".join(f"{c:>9}" for c in cells)
            + f" {r.raw_rate:>9,.0f} {r.share:>6.1%} {r.rss_mb:>6.0f}"
            + ("  PASS" if r.passed else "  FALL SHORT")
        )
    print(
        f"   aims: >= {AIM_RATE:.0f} incidents/s, p99 < {AIM_P99_MS:.0f} ms, "
        f">= {AIM_RAW_SHARE:.0%} of the raw single-row INSERT rate of the same server"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Intake-to-routed throughput and latency.")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    args = parser.parse_args(argv)
    audit.install_session_hooks()  # as the app does
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    results = [run_backend(b, args.clients, args.seconds) for b in backends]
    print_summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
