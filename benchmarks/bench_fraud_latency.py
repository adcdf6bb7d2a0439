"""One urgent fraud warning, from the API call to the grid officer's live feed.

The demo county is built fresh on a throw-away PostgreSQL server (Debian's binaries,
fsync on) and the real app is served by uvicorn in its own process (one worker, the
app's own settings: the event bus polls the ``live_event`` table every 0.25 s; only the
daily task job and the notice sender are off, and the access log). ``--officers`` grid
officers get accounts (``accounts.service.create_user``), log in by the OAuth2 token
route and each opens the live stream ``GET /api/v1/live/stream`` (server-sent events,
bearer token). A warning desk (the demo ``command`` account, role command_room) then
POSTs urgent warnings to ``/api/v1/fraud/warnings`` at a steady ``--rate`` per second
for ``--seconds`` (asyncio + httpx, each on its own schedule, not waiting for the one
before), each for a new person (unique phone, unique ``external_id``) placed in one of
those officers' grids: half by a registry address of the grid (its full name as the
registry spells it), half by a point inside the grid polygon.

For each warning: the POST time (request to response) and the delivery time, from just
before the POST to the moment the officer's stream delivers the ``fraud_order`` event of
the order the POST returned. Printed: achieved send rate, POST p50/p99, delivery
p50/p95/p99/max, events lost (must be 0), the part of the delivery after the POST's
response (the bus's polling), the server's CPU and peak RSS, the client's, and PASS/FAIL
against the aim (p99 under 1 s at 100 warnings/s). The peer measured in the same run:
the bus's own polling interval (0.25 s), the floor under the part after the response.

Run from the repository root: ``make bench``, or
``.venv/bin/python benchmarks/bench_fraud_latency.py [--rate 100] [--seconds 60] [--officers 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
import shapely
from sqlalchemy import select, text

from fengqiao.accounts import service as accounts
from fengqiao.accounts.models import Role
from fengqiao.audit.service import SYSTEM
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
from fengqiao.demo.build import build_demo
from fengqiao.live.bus import LOOKBACK_IDS
from fengqiao.org.models import GridAssignment, Person, PersonKind, PoliceGrid
from fengqiao.registry.models import Address, AddressLevel, RecordStatus

ROOT = Path(__file__).resolve().parents[1]
AIM_P99_S = 1.0
AIM_RATE = 100.0
PASSWORD = "bench-pass-2026"
BUS_INTERVAL_S = 0.25  # fengqiao.live.bus.EventBus default
DRAIN_S = 5.0  # how long to wait for the last events after the last POST
CALIB_RATE, CALIB_S = 10.0, 10.0  # the low-rate phase before the measured one


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(np.array(values), p)) if values else float("nan")


def proc_status(pid: int, key: str) -> float:
    """A ``/proc/<pid>/status`` figure in MB (VmRSS, VmHWM)."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- set-up --------------------------------------------------------------------------------


@dataclass
class Target:
    """An officer with a login and the places in their grids that warnings are sent to."""

    username: str
    person_id: int
    grids: list[int]
    addresses: list[str] = field(default_factory=list)
    points: list[tuple[float, float]] = field(default_factory=list)


def prepare(settings: Settings, officers: int, seed: int) -> list[Target]:
    """Accounts for ``officers`` grid officers (one per grid, spread over the stations)
    and, per officer, registry addresses and random points inside their grids."""
    rng = np.random.default_rng(seed)
    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    targets: list[Target] = []
    try:
        with unit_of_work(factory) as s:
            rows = s.execute(
                select(Person.id, Person.personnel_no, Person.station_id, GridAssignment.grid_id)
                .join(GridAssignment, GridAssignment.person_id == Person.id)
                .where(GridAssignment.role == PersonKind.OFFICER)
                .order_by(Person.station_id, Person.id, GridAssignment.grid_id)
            ).all()
            grids_of: dict[int, list[int]] = {}
            info: dict[int, tuple[str, int]] = {}
            for pid, no, station, grid in rows:
                grids_of.setdefault(pid, []).append(grid)
                info[pid] = (no, station)
            with_addresses = set(
                s.scalars(
                    select(Address.grid_id)
                    .where(
                        Address.level == AddressLevel.ROOM,
                        Address.status == RecordStatus.ACTIVE,
                        Address.grid_id.is_not(None),
                    )
                    .distinct()
                )
            )
            # Round-robin over the stations so that the officers are spread out; officers
            # whose grids have registry addresses first.
            by_station: dict[int, list[int]] = {}
            for pid in sorted(grids_of, key=lambda p: not set(grids_of[p]) & with_addresses):
                by_station.setdefault(info[pid][1], []).append(pid)
            chosen: list[int] = []
            while len(chosen) < officers and any(by_station.values()):
                for queue in by_station.values():
                    if queue and len(chosen) < officers:
                        chosen.append(queue.pop(0))
            for k, pid in enumerate(chosen):
                username = f"bench_officer{k:02d}"
                accounts.create_user(
                    s,
                    actor=SYSTEM,
                    username=username,
                    password=PASSWORD,
                    role=Role.COMMUNITY_OFFICER,
                    personnel_no=info[pid][0],
                    enforce_password_policy=False,
                )
                target = Target(username, pid, grids_of[pid])
                target.addresses = list(
                    s.scalars(
                        select(Address.full_name)
                        .where(
                            Address.grid_id.in_(target.grids),
                            Address.level == AddressLevel.ROOM,
                            Address.status == RecordStatus.ACTIVE,
                        )
                        .order_by(Address.id)
                        .limit(400)
                    )
                )
                for grid in target.grids:
                    poly = s.get_one(PoliceGrid, grid).geometry
                    x0, y0, x1, y1 = poly.bounds
                    xs, ys = rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400)
                    # well inside: not within 1 m or so of the edge, where a neighbour may win
                    inner = poly.buffer(-1e-5)
                    keep = shapely.contains_xy(inner, xs, ys)
                    target.points += list(zip(xs[keep].tolist(), ys[keep].tolist(), strict=True))
                targets.append(target)
    finally:
        engine.dispose()
    return targets


def start_server(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FENGQIAO_DATABASE_URL": settings.database_url,
        "FENGQIAO_SECRET_KEY": "bench",
        "FENGQIAO_TASK_SCHEDULER": "false",
        "FENGQIAO_NOTIFY_SENDER": "false",
    }
    code = (
        "import uvicorn\n"
        "from fengqiao.app import create_app\n"
        "from fengqiao.config import load_settings\n"
        f"uvicorn.run(create_app(load_settings()), host='127.0.0.1', port={port}, "
        "log_level='warning', access_log=False)\n"
    )
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(600):
            if proc.poll() is not None:
                raise SystemExit(f"the app stopped:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                await client.get("/login")  # any answer: the app is serving
                return
            await asyncio.sleep(0.1)
    raise SystemExit("the app did not start within 60 s")


class Sampler:
    """What the app's database sessions are doing, sampled every 50 ms from
    ``pg_stat_activity`` while warnings are sent (where the time of a request goes)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.counts: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-sampler", daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                ).fetchall()
                self.samples += 1
                for state, wtype, wevent, query in rows:
                    if state == "idle":
                        continue
                    what = " ".join((query or "").split())[:60]
                    if state == "idle in transaction":
                        self.counts["idle in transaction (the app's Python is working)"] += 1
                    elif wtype == "Lock" and wevent == "advisory":
                        self.counts["waiting for an advisory lock: " + what] += 1
                    elif wtype:
                        self.counts[f"waiting on {wtype}:{wevent}: {what}"] += 1
                    else:
                        self.counts["running: " + what] += 1
                time.sleep(0.05)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def lines(self) -> list[str]:
        if not self.samples:
            return []
        busy = sum(self.counts.values()) / self.samples
        out = [
            f"   the app's database sessions, sampled {self.samples} times from pg_stat_activity "
            f"while sending: {busy:.1f} busy at once on average; doing (sessions on average):"
        ]
        for what, n in self.counts.most_common(6):
            out.append(f"     {n / self.samples:5.2f}  {what}")
        return out


# --- measuring -------------------------------------------------------------------------


@dataclass
class Sent:
    target: int  # index into targets
    by: str  # "address" | "point"
    t0: float
    t_response: float = 0.0
    status: int = 0
    order_id: int | None = None
    assignee_id: int | None = None
    step: str | None = None


@dataclass
class Run:
    sent: list[Sent] = field(default_factory=list)
    arrivals: dict[tuple[int, int], float] = field(default_factory=dict)  # (officer, order)
    other_events: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    connected: int = 0
    calib: list[Sent] = field(default_factory=list)
    calib_wall: float = 0.0
    calib_cpu: float = 0.0
    calib_errors: int = 0
    server_cpu: float = 0.0


async def login(client: httpx.AsyncClient, username: str) -> str:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def listen(
    client: httpx.AsyncClient, token: str, index: int, run: Run, ready: asyncio.Event
) -> None:
    """Read one officer's stream; note when each ``fraud_order`` event arrives."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    kind = ""
    async with client.stream("GET", "/api/v1/live/stream", headers=headers) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            now = time.perf_counter()
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                if kind == "hello":
                    run.connected += 1
                    if run.connected >= ready_needed[0]:
                        ready.set()
                elif kind == "fraud_order":
                    payload = json.loads(line[5:])
                    run.arrivals.setdefault((index, int(payload["order"])), now)
                else:
                    run.other_events[kind] += 1


ready_needed = [0]


def warning_body(target: Target, by: str, k: int, rng: random.Random) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": f"LAT-{k:07d}",
        "type": rng.choice(("scam_call", "suspicious_transfer")),
        "level": "urgent",
        "name": rng.choice("王李张刘陈杨黄赵") + rng.choice("伟芳娜敏静丽强磊军洋"),
        "phone": f"173{k:08d}",
        "detail": f"涉诈号码 +85{rng.randrange(10**9, 10**10)}",
    }
    if by == "address":
        body["address"] = rng.choice(target.addresses)
    else:
        body["lon"], body["lat"] = rng.choice(target.points)
    return body


async def send_one(client: httpx.AsyncClient, sent: Sent, body: dict[str, Any], run: Run) -> None:
    try:
        response = await client.post("/api/v1/fraud/warnings", json=body)
    except httpx.HTTPError as exc:
        run.errors[type(exc).__name__] += 1
        return
    sent.t_response = time.perf_counter()
    sent.status = response.status_code
    if response.status_code == 201:
        out = response.json()
        sent.order_id, sent.assignee_id, sent.step = (
            out["order_id"],
            out["assignee_id"],
            out["step"],
        )
    else:
        run.errors[f"HTTP {response.status_code}"] += 1


async def send_phase(
    desk: httpx.AsyncClient,
    targets: list[Target],
    rate: float,
    seconds: float,
    rng: random.Random,
    out: list[Sent],
    k0: int,
) -> tuple[float, list[asyncio.Task[None]]]:
    """POST ``rate`` warnings a second for ``seconds``, each on its own schedule."""
    total = int(rate * seconds)
    tasks = []
    start = time.perf_counter() + 0.1
    for k in range(total):
        due = start + k / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        index = k % len(targets)
        target = targets[index]
        by = "address" if (k // len(targets)) % 2 == 0 and target.addresses else "point"
        body = warning_body(target, by, k0 + k, rng)
        sent = Sent(index, by, time.perf_counter())
        out.append(sent)
        tasks.append(asyncio.create_task(send_one(desk, sent, body, run_of[0])))
    return time.perf_counter() - start, tasks


run_of: list[Run] = []


async def measure(
    base: str,
    targets: list[Target],
    rate: float,
    seconds: float,
    seed: int,
    sampler: Sampler,
    pid: int,
) -> tuple[Run, float]:
    run = Run()
    run_of[:] = [run]
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=len(targets) + 10, max_keepalive_connections=len(targets))
    timeout = httpx.Timeout(30.0, read=None)
    async with (
        httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as feeds,
        httpx.AsyncClient(
            base_url=base, limits=httpx.Limits(max_connections=200), timeout=30.0
        ) as desk,
    ):
        tokens = [await login(feeds, t.username) for t in targets]
        desk.headers["Authorization"] = f"Bearer {await login(desk, 'command')}"
        ready = asyncio.Event()
        ready_needed[0] = len(targets)
        listeners = [
            asyncio.create_task(listen(feeds, tok, i, run, ready)) for i, tok in enumerate(tokens)
        ]
        await asyncio.wait_for(ready.wait(), 30)
        # A few warnings first so that the placement index and caches are warm.
        for k in range(5):
            t = targets[k % len(targets)]
            warm = Sent(k % len(targets), "point", time.perf_counter())
            await send_one(desk, warm, warning_body(t, "point", 9_000_000 + k, rng), run)
        await asyncio.sleep(1.0)
        # Calibration at a low rate: the app's cost per warning when nothing queues.
        run.errors.clear()
        cpu0 = proc_cpu_s(pid)
        run.calib_wall, calib_tasks = await send_phase(
            desk, targets, CALIB_RATE, CALIB_S, rng, run.calib, 8_000_000
        )
        await asyncio.gather(*calib_tasks)
        run.calib_cpu = proc_cpu_s(pid) - cpu0
        await asyncio.sleep(2.0)
        run.calib_errors = sum(run.errors.values())
        run.errors.clear()
        sampler.start()
        cpu0 = proc_cpu_s(pid)
        send_wall, tasks = await send_phase(desk, targets, rate, seconds, rng, run.sent, 0)
        await asyncio.gather(*tasks)
        sampler.stop()
        run.server_cpu = proc_cpu_s(pid) - cpu0
        deadline = time.perf_counter() + DRAIN_S
        while time.perf_counter() < deadline:
            expected = [
                (s.target, s.order_id)
                for s in run.sent
                if s.order_id is not None
                and s.assignee_id == targets[s.target].person_id
                and (s.target, s.order_id) not in run.arrivals
            ]
            if not expected:
                break
            await asyncio.sleep(0.1)
        for task in listeners:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await asyncio.gather(*listeners, return_exceptions=True)
    return run, send_wall


def report(
    run: Run, targets: list[Target], send_wall: float, rate: float
) -> tuple[bool, list[int]]:
    calib = [s for s in run.calib if s.status == 201 and (s.target, s.order_id) in run.arrivals]
    c_post = [(s.t_response - s.t0) * 1000 for s in calib]
    c_feed = [(run.arrivals[(s.target, s.order_id or 0)] - s.t0) * 1000 for s in calib]
    per = run.calib_cpu / max(1, len(run.calib)) * 1000
    print(
        f"   calibration, {CALIB_RATE:g}/s for {CALIB_S:g} s first ({len(run.calib)} warnings, "
        f"{run.calib_errors} errors): POST p50 {pct(c_post, 50):.0f} ms / p99 "
        f"{pct(c_post, 99):.0f} ms, to the feed p50 {pct(c_feed, 50):.0f} ms / p99 "
        f"{pct(c_feed, 99):.0f} ms; server CPU {per:.1f} ms per warning, so one process "
        f"can take about {1000 / per if per else float('nan'):.0f} warnings/s at most"
    )
    sent = run.sent
    answered = [s for s in sent if s.status == 201]
    post_ms = [(s.t_response - s.t0) * 1000 for s in answered]
    mine = [s for s in answered if s.assignee_id == targets[s.target].person_id]
    elsewhere = [s for s in answered if s.assignee_id != targets[s.target].person_id]
    delivered = [s for s in mine if (s.target, s.order_id) in run.arrivals]
    lost = len(mine) - len(delivered)
    latency = [run.arrivals[(s.target, s.order_id or 0)] - s.t0 for s in delivered]
    after = [run.arrivals[(s.target, s.order_id or 0)] - s.t_response for s in delivered]
    steps = Counter(f"{s.by}→{s.step}" for s in answered)
    print(
        f"   sent {len(sent):,} urgent warnings in {send_wall:.1f} s = {len(sent) / send_wall:.1f}/s "
        f"(aim {rate:g}/s); answered 201: {len(answered):,}; errors: "
        f"{dict(run.errors) or 'none'}"
    )
    print(
        "   placed: "
        + ", ".join(f"{k} {n:,}" for k, n in steps.most_common())
        + f"; to the intended officer {len(mine):,}, elsewhere or queued {len(elsewhere):,}"
    )
    print(
        f"   POST /api/v1/fraud/warnings: p50 {pct(post_ms, 50):.1f} ms, p99 "
        f"{pct(post_ms, 99):.1f} ms, max {max(post_ms, default=float('nan')):.1f} ms"
    )
    ms = [x * 1000 for x in latency]
    print(
        f"   POST → officer's live feed: p50 {pct(ms, 50):.0f} ms, p95 {pct(ms, 95):.0f} ms, "
        f"p99 {pct(ms, 99):.0f} ms, max {max(ms, default=float('nan')):.0f} ms "
        f"({len(delivered):,} delivered)"
    )
    after_ms = [x * 1000 for x in after]
    print(
        f"   of which after the POST's response (commit → bus poll → stream): p50 "
        f"{pct(after_ms, 50):.0f} ms, p99 {pct(after_ms, 99):.0f} ms; peer: the bus polls "
        f"every {BUS_INTERVAL_S * 1000:.0f} ms, so ~{BUS_INTERVAL_S * 500:.0f} ms on average "
        f"and up to {BUS_INTERVAL_S * 1000:.0f} ms of waiting are built in"
    )
    print(
        f"   events lost: {lost} (orders given to a listening officer whose fraud_order "
        f"event never came within {DRAIN_S:g} s after the last POST); other events seen on "
        f"the feeds: {dict(run.other_events) or 'none'}"
    )
    p99 = pct(ms, 99) / 1000
    achieved = len(sent) / send_wall
    ok = bool(latency) and p99 < AIM_P99_S and lost == 0 and achieved >= 0.95 * rate
    ok = ok and not run.errors
    print(
        f"   aim p99 < {AIM_P99_S:g} s at {rate:g} warnings/s, nothing lost: "
        f"{'PASS' if ok else 'FAIL'} (p99 {p99:.3f} s, {achieved:.1f}/s, lost {lost}, "
        f"errors {sum(run.errors.values())})"
    )
    lost_orders = [s.order_id or 0 for s in mine if (s.target, s.order_id) not in run.arrivals]
    return ok, lost_orders


def explain_lost(settings: Settings, orders: list[int]) -> str:
    """Whether the lost orders' events are in the ``live_event`` table (written in the
    intake's transaction) and how far behind the newest event their ids were."""
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, payload FROM live_event WHERE kind = 'fraud_order'")
            ).all()
    finally:
        engine.dispose()
    by_order = {int(json.loads(p)["order"]): i for i, p in rows}
    found = [by_order[o] for o in orders if o in by_order]
    ids = sorted(i for i, _p in rows)
    behind = [len(ids) - bisect.bisect_right(ids, i) for i in found]
    return (
        f"lost orders: {len(found)} of {len(orders)} have their fraud_order row in live_event "
        f"(so the intake wrote it and the bus did not deliver it); ids behind the newest "
        f"event at the end: min {min(behind, default=0)}, max {max(behind, default=0)} "
        f"(the bus re-reads {LOOKBACK_IDS} ids behind its newest and drops older late commits)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=AIM_RATE)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--officers", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.postgres_server import running_postgres

    with (
        running_postgres(fsync=True) as server,
        tempfile.TemporaryDirectory(prefix="fengqiao-latency-") as tmp,
    ):
        name = server.create_database("latency")
        settings = Settings(
            database_url=server.sqlalchemy_url(name),
            secret_key="bench",
            task_scheduler=False,
            notify_sender=False,
            demo_password=PASSWORD,
        )
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"== fraud warning latency: {args.rate:g} urgent warnings/s for {args.seconds:g} s "
            f"to {args.officers} grid officers' live feeds; PostgreSQL (fsync on), one uvicorn "
            f"process; {os.cpu_count()} CPUs, load {load}",
            flush=True,
        )
        t0 = time.perf_counter()
        build_demo(settings)
        targets = prepare(settings, args.officers, args.seed)
        print(
            f"   demo county built and {len(targets)} officer accounts made in "
            f"{time.perf_counter() - t0:.1f} s; {sum(len(t.grids) for t in targets)} grids, "
            f"{sum(1 for t in targets if t.addresses)} officers with registry addresses in "
            f"their grids",
            flush=True,
        )
        port = free_port()
        log = Path(tmp) / "server.log"
        proc = start_server(settings, port, log)
        base = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(wait_ready(base, proc, log))
            client0 = time.process_time()
            sampler = Sampler(server.admin_url.rsplit("/", 1)[0] + "/" + name)
            run, send_wall = asyncio.run(
                measure(base, targets, args.rate, args.seconds, args.seed, sampler, proc.pid)
            )
            server_cpu = run.server_cpu
            client_cpu = time.process_time() - client0
            ok, lost_orders = report(run, targets, send_wall, args.rate)
            if lost_orders:
                print("   " + explain_lost(settings, lost_orders))
            for line in sampler.lines():
                print(line)
            print(
                f"   server process: CPU {server_cpu:.1f} s ({server_cpu / send_wall:.0%} of one "
                f"core over the sending), RSS {proc_status(proc.pid, 'VmRSS'):.0f} MB, peak RSS "
                f"{proc_status(proc.pid, 'VmHWM'):.0f} MB; client: CPU {client_cpu:.1f} s, peak RSS "
                f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (demo "
                f"build included)"
            )
            text_ = log.read_text(errors="replace")
            pool_waits = text_.count("QueuePool limit")
            if pool_waits:
                print(
                    f"   server log: {pool_waits} requests gave up after 30 s waiting for one of "
                    f"the engine's 20 pooled connections (pool_size 10 + overflow 10; anyio's "
                    f"thread pool runs 40 request steps at once, each request holds its "
                    f"connection across its steps)"
                )
            if not ok:
                tail = text_.strip().splitlines()[-5:]
                if tail:
                    print("   server log (last lines): " + " | ".join(tail)[:600])
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
            server.drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
