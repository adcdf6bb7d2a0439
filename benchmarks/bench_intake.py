"""Intake-to-routed throughput and latency, beside the raw single-row INSERT rate.

For each backend (PostgreSQL with fsync on, SQLite as the app configures it) this builds a
fresh database with the demo county, then in the same run measures

* the raw rate: N threads, each inserting one small row per transaction into a scratch
  table through the app's engine (same driver, same pool): the server's limit for
  one-row-per-commit work on this machine;
* the intake: N client threads, each looping ``unit_of_work`` + ``create_incident``
  (placement, insert, audit row, routing with dispatch, live events) with random points in
  the county's grids and a realistic category mix; latency is from before the call to
  after the commit.

Where an aim is missed, one client's intake loop is profiled (cProfile, wall time) while
the others keep running, and the report shows where its time goes.

Run from the repository root: ``make bench`` or
``.venv/bin/python benchmarks/bench_intake.py [--seconds 15] [--clients 8] [--backend both]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, select, update
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

# A county station's day: mostly disputes, requests for help and traffic; some cases
# (handled by the case team); few emergencies (nearest units + command-room alert).
CATEGORY_MIX: list[tuple[str, float]] = [
    ("0601", 12), ("0602", 8), ("0603", 4), ("0604", 4), ("0605", 2), ("0606", 3), ("0699", 2),
    ("0701", 4), ("0703", 6), ("0799", 8),
    ("0301", 6), ("0302", 6), ("0399", 2),
    ("0203", 6), ("0299", 3), ("0801", 2), ("0802", 2), ("0901", 2), ("9901", 2),
    ("0101", 4), ("0102", 3), ("0201", 2), ("0202", 1),
    ("0104", 1), ("0401", 0.5), ("0702", 0.5), ("0502", 0.5),
]  # fmt: skip
CHANNELS = [Channel.TRANSFER_110, Channel.PHONE, Channel.WALK_IN, Channel.ONLINE]
CHANNEL_WEIGHTS = [60, 25, 10, 5]

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
    server: str
    clients: int
    setup_s: float = 0.0
    org: str = ""
    raw_rows: int = 0
    raw_s: float = 0.0
    incidents: int = 0
    routed: int = 0
    errors: int = 0
    intake_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    released: int = 0
    rss_mb: float = 0.0

    @property
    def raw_rate(self) -> float:
        return self.raw_rows / self.raw_s if self.raw_s else 0.0

    @property
    def rate(self) -> float:
        return self.incidents / self.intake_s if self.intake_s else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, round(q / 100 * (len(data) - 1)))]

    @property
    def share(self) -> float:
        return self.rate / self.raw_rate if self.raw_rate else 0.0

    def aims(self) -> list[tuple[str, bool, str]]:
        return [
            (f">= {AIM_RATE:.0f}/s", self.rate >= AIM_RATE, f"{self.rate:.1f}/s"),
            (f"p99 < {AIM_P99_MS:.0f} ms", self.pct(99) < AIM_P99_MS, f"{self.pct(99):.1f} ms"),
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
        grids = session.scalar(select(PoliceGrid.id).order_by(PoliceGrid.id.desc()).limit(1))
        people = len(session.scalars(select(Person.id)).all())
        available = len(
            session.scalars(
                select(Person.id).where(Person.duty_status == DutyStatus.AVAILABLE)
            ).all()
        )
    return f"{grids} grids, {people} people ({available} available)"


def grid_points(factory: sessionmaker[Session], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random points, each inside a randomly chosen police grid."""
    with factory() as session:
        polygons = [g for g in session.scalars(select(PoliceGrid.geometry)) if g is not None]
    picks = rng.integers(0, len(polygons), n)
    out = np.empty((n, 2))
    for i, k in enumerate(picks):
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
    """An endless, thread-safe supply of realistic reports."""

    def __init__(self, points: np.ndarray, seed: int) -> None:
        self._points = points
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._codes = [c for c, _w in CATEGORY_MIX]
        self._weights = [w for _c, w in CATEGORY_MIX]
        self._run = uuid.uuid4().hex[:8]
        self._n = 0

    def next(self) -> tuple[IncidentIn, str]:
        with self._lock:
            self._n += 1
            n = self._n
            code = self._rng.choices(self._codes, self._weights)[0]
            channel = self._rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
            lon, lat = self._points[n % len(self._points)]
            phone = f"1{self._rng.randrange(3, 9)}{self._rng.randrange(10**9):09d}"
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


@contextmanager
def housekeeping(factory: sessionmaker[Session], result: Result) -> Iterator[None]:
    """Untimed: every ~0.5 s release the active assignments and set their people back to
    available with plain UPDATEs, so that routing keeps finding people."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(HOUSEKEEPING_EVERY_S):
            try:
                with unit_of_work(factory) as session:
                    rows = session.execute(
                        select(Assignment.id, Assignment.person_id).where(
                            Assignment.status.in_(ACTIVE_ASSIGNMENT)
                        )
                    ).all()
                    if not rows:
                        continue
                    now = utcnow()
                    session.execute(
                        update(Assignment)
                        .where(Assignment.id.in_([r[0] for r in rows]))
                        .values(status=AssignmentStatus.RELEASED, released_at=now)
                    )
                    session.execute(
                        update(Person)
                        .where(Person.id.in_({r[1] for r in rows}))
                        .values(duty_status=DutyStatus.AVAILABLE, status_changed_at=now)
                    )
                result.released += len(rows)
            except Exception as exc:  # a deadlock or lock timeout: try again next round
                print(f"   (housekeeping round failed: {type(exc).__name__})", file=sys.stderr)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def intake_once(factory: sessionmaker[Session], calls: Calls) -> bool:
    data, key = calls.next()
    with unit_of_work(factory) as session:
        intake = create_incident(session, actor=SYSTEM, data=data, idempotency_key=key)
    return intake.incident.status is IncidentStatus.DISPATCHED


def measure_intake(
    factory: sessionmaker[Session],
    calls: Calls,
    clients: int,
    seconds: float,
    result: Result,
    profile_client: cProfile.Profile | None = None,
) -> None:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    routed = [0] * clients
    errors = [0] * clients
    start = time.perf_counter()
    stop_at = start + seconds

    def worker(i: int) -> None:
        lat, ok = latencies[i], 0
        profiler = profile_client if i == 0 else None
        if profiler is not None:
            profiler.enable()
        try:
            while (t0 := time.perf_counter()) < stop_at:
                try:
                    ok += intake_once(factory, calls)
                except Exception as exc:
                    errors[i] += 1
                    if errors[i] <= 3:
                        print(f"   client {i}: {type(exc).__name__}: {exc}"[:300], file=sys.stderr)
                    continue
                lat.append((time.perf_counter() - t0) * 1000.0)
        finally:
            if profiler is not None:
                profiler.disable()
        routed[i] = ok

    run_threads(clients, worker)
    elapsed = time.perf_counter() - start
    if profile_client is None:
        result.intake_s = elapsed
        result.latencies_ms = [x for lat in latencies for x in lat]
        result.incidents = len(result.latencies_ms)
        result.routed = sum(routed)
        result.errors = sum(errors)


# --- where the time goes ------------------------------------------------------------------

# (label, file suffix, function name): cumulative wall time of one client, per call.
BREAKDOWN = [
    ("idempotency-key lookup", "incidents/service.py", "find_by_key"),
    ("category lookup", "incidents/service.py", "get_category_or_raise"),
    ("placement (point in grid)", "org/placement.py", "place_point"),
    ("grid officer lookup", "incidents/service.py", "_grid_officer_id"),
    ("audit rows (all)", "audit/service.py", "record"),
    ("  of which chain head + lock", "audit/service.py", "_last_hash"),
    ("routing + dispatch", "incidents/service.py", "route_incident"),
    ("  of which plan_routing", "incidents/routing.py", "plan_routing"),
    ("  of which dispatch_person", "dispatch/service.py", "dispatch_person"),
    ("commit (flush + COMMIT)", "sqlalchemy/orm/session.py", "commit"),
    ("  of which the COMMIT itself", "sqlalchemy/engine/default.py", "do_commit"),
    ("SQLite BEGIN IMMEDIATE (write lock)", "fengqiao/db.py", "_on_begin"),
    ("all SQL round trips (cursor.execute)", "sqlalchemy/engine/default.py", "do_execute"),
]


def profile_report(prof: cProfile.Profile, calls: int) -> list[str]:
    stats = pstats.Stats(prof)
    raw = stats.stats  # type: ignore[attr-defined]  # {(file, line, name): (cc, nc, tt, ct, callers)}
    total = sum(
        v[3] for k, v in raw.items() if k[0].endswith("bench_intake.py") and k[2] == "intake_once"
    )
    lines = [f"   where one client's time goes ({calls} intakes, {total:.2f} s wall):"]
    for label, suffix, name in BREAKDOWN:
        ct = sum(v[3] for k, v in raw.items() if k[0].endswith(suffix) and k[2] == name)
        if ct <= 0:
            continue
        per = ct / calls * 1000 if calls else 0.0
        lines.append(f"     {label:<38} {per:7.2f} ms/intake  {ct / total:6.1%}")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(18)
    body = out.getvalue().splitlines()
    head = next((i for i, ln in enumerate(body) if ln.lstrip().startswith("ncalls")), 0)
    lines.append("   cProfile, sorted by cumulative time (top 18):")
    root = str(ROOT) + "/"
    for ln in body[head:]:
        if ln.strip():
            lines.append("     " + ln.replace(root, "").replace(sys.prefix + "/", "")[:150])
    return lines


# --- one backend --------------------------------------------------------------------------


@contextmanager
def backend_database(backend: str, workdir: Path) -> Iterator[tuple[Settings, str]]:
    if backend == "sqlite":
        path = workdir / "bench.db"
        yield (
            Settings(database_url=f"sqlite:///{path}"),  # type: ignore[call-arg]
            "SQLite file (WAL, synchronous=NORMAL, BEGIN IMMEDIATE: the app's settings)",
        )
        return
    sys.path.insert(0, str(ROOT))
    from tests.postgres_server import running_postgres

    with running_postgres(fsync=True) as server:
        name = server.create_database("bench")
        url = server.sqlalchemy_url(name)
        settings = Settings(database_url=url)  # type: ignore[call-arg]
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
        result = Result(backend=backend, server=server, clients=clients)
        print(f"== {backend}: {server}; {clients} clients, {seconds:g} s per phase", flush=True)
        engine = make_engine(settings)
        factory = make_sessionmaker(engine)
        t0 = time.perf_counter()
        result.org = build_database(engine, factory, Path(tmp))
        points = grid_points(factory, 20_000, np.random.default_rng(7))
        result.setup_s = time.perf_counter() - t0
        print(f"   set-up: migrations + demo county ({result.org}) in {result.setup_s:.1f} s")

        result.raw_rows, result.raw_s = measure_raw_inserts(engine, clients, seconds)
        print(f"   raw single-row INSERT, {clients} threads, one commit per row: "
              f"{result.raw_rate:,.0f} rows/s", flush=True)  # fmt: skip

        calls = Calls(points, seed=11)
        for _ in range(20):  # warm-up: location index, statement caches, pool
            intake_once(factory, calls)
        with housekeeping(factory, result):
            measure_intake(factory, calls, clients, seconds, result)
        result.rss_mb = peak_rss_mb()
        print_result(result)

        if not result.passed:
            prof = cProfile.Profile()
            dummy = Result(backend=backend, server=server, clients=clients)
            with housekeeping(factory, dummy):
                measure_intake(factory, calls, clients, PROFILE_SECONDS, dummy, prof)
            n = sum(
                v[1]
                for k, v in pstats.Stats(prof).stats.items()  # type: ignore[attr-defined]
                if k[2] == "intake_once"
            )
            print(f"   profile: client 0 under cProfile for {PROFILE_SECONDS:g} s while "
                  f"{clients - 1} others run (profiling slows that client)")  # fmt: skip
            for line in profile_report(prof, n):
                print(line)
        engine.dispose()
        print(flush=True)
        return result


def print_result(r: Result) -> None:
    routed = r.routed / r.incidents if r.incidents else 0.0
    print(f"   intake→routed: {r.incidents:,} incidents in {r.intake_s:.1f} s = "
          f"{r.rate:,.1f}/s; {routed:.0%} dispatched to someone, {r.errors} errors")  # fmt: skip
    print(f"   latency (call + commit) ms: p50 {r.pct(50):.1f}  p90 {r.pct(90):.1f}  "
          f"p99 {r.pct(99):.1f}  max {max(r.latencies_ms, default=float('nan')):.1f}")  # fmt: skip
    print(f"   intake / raw INSERT rate: {r.share:.1%}   peak RSS (this process): {r.rss_mb:.0f} MB")
    print(f"   housekeeping (separate, untimed thread, plain UPDATE every {HOUSEKEEPING_EVERY_S} s): "
          f"released {r.released:,} assignments and set their people available")  # fmt: skip
    marks = "  ".join(f"{aim}: {'PASS' if ok else 'FALL SHORT'} ({v})" for aim, ok, v in r.aims())
    print(f"   aims: {marks}", flush=True)


def print_summary(results: list[Result]) -> None:
    print("== summary")
    print(f"   {'backend':<10} {'clients':>7} {'s':>5} {'incidents':>9} {'per s':>7} "
          f"{'p50':>6} {'p90':>6} {'p99':>6} {'max':>6} {'raw/s':>7} {'share':>6} {'RSS MB':>6}  "
          "aims")  # fmt: skip
    for r in results:
        verdict = "PASS" if r.passed else "FALL SHORT"
        print(f"   {r.backend:<10} {r.clients:>7} {r.intake_s:>5.1f} {r.incidents:>9,} "
              f"{r.rate:>7.1f} {r.pct(50):>6.1f} {r.pct(90):>6.1f} {r.pct(99):>6.1f} "
              f"{max(r.latencies_ms, default=float('nan')):>6.1f} {r.raw_rate:>7,.0f} "
              f"{r.share:>6.1%} {r.rss_mb:>6.0f}  {verdict}")  # fmt: skip
    print(f"   aims: >= {AIM_RATE:.0f} incidents/s, p99 < {AIM_P99_MS:.0f} ms, "
          f">= {AIM_RAW_SHARE:.0%} of the raw single-row INSERT rate (latencies in ms)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
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
