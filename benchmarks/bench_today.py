"""The phone page "today": server time for an officer with 50 tasks.

On the demo county (built fresh into a temporary SQLite file, and on a throw-away
PostgreSQL server with ``--backend both``), 50 tasks of every kind are made for the demo
community officer today (a quarter already done, some checked in, inspections with
their checklists). Then the officer's requests are timed inside the app, by a
middleware around the whole stack (session lookup, principal, queries, rendering):

* ``GET /today``: the HTML page (list, map data, result forms);
* ``GET /api/v1/me/tasks``: the same day as JSON, for the phone's own code.

Each is requested ``--requests`` times after 10 warm-up requests; it prints p50, p95,
p99 and max server time in ms, requests/s, the page size, the tracemalloc peak of one
request and the process's peak RSS, and PASS/FAIL against the limit: p95 under 200 ms.
A peer measured in the same run: the officer's incident page ``/m`` (the existing phone
page, a handful of rows), to show what the task list costs on top of the plumbing.

Run from the repository root: ``make bench``, or
``.venv/bin/python benchmarks/bench_today.py [--requests 200] [--backend sqlite|postgres|both]``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import Request, Response
from fastapi.testclient import TestClient
from sqlalchemy import select

from fengqiao.accounts.models import UserAccount
from fengqiao.app import create_app
from fengqiao.auth import system_principal
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
from fengqiao.demo.build import build_demo
from fengqiao.org.models import GridAssignment, PersonKind
from fengqiao.tasks import manage
from fengqiao.tasks import service as tasks
from fengqiao.tasks.models import TaskKind

LIMIT_MS = 200.0
TASKS = 50
PASSWORD = "bench-pass-2026"
KINDS = [
    TaskKind.HOUSEHOLD_VISIT,
    TaskKind.PATROL,
    TaskKind.INSPECTION,
    TaskKind.DISPUTE_FOLLOW_UP,
    TaskKind.FRAUD_DISSUASION,
    TaskKind.HAZARD_CHECK,
    TaskKind.SCHOOL_GATE,
    TaskKind.CUSTOM,
]


def _fill(settings: Settings) -> int:
    """50 tasks for the demo officer today; returns how many they have in all."""
    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    try:
        with unit_of_work(factory) as session:
            officer = session.scalars(
                select(UserAccount).where(UserAccount.username == "officer")
            ).one()
            grid_id = session.scalars(
                select(GridAssignment.grid_id).where(
                    GridAssignment.person_id == officer.person_id,
                    GridAssignment.role == PersonKind.OFFICER,
                )
            ).first()
            assert grid_id is not None and officer.person_id is not None
            chief = system_principal("bench")
            made = []
            for i in range(TASKS):
                kind = KINDS[i % len(KINDS)]
                if kind is TaskKind.INSPECTION:
                    from fengqiao.registry.models import Establishment

                    place = session.scalars(
                        select(Establishment.id).where(Establishment.grid_id == grid_id)
                    ).first()
                    target = {"establishment_id": place} if place else {"grid_id": grid_id}
                else:
                    target = {"grid_id": grid_id}
                made.append(
                    manage.create_task(
                        session,
                        chief,
                        manage.NewTask(
                            kind=kind,
                            title=f"基准任务 {i + 1}",
                            due_from_hour=i % 12 + 6,
                            due_by_hour=i % 12 + 8,
                            priority=i % 4 + 1,
                            assignee_id=officer.person_id,
                            detail="近28天3起警情 · benchmark",
                            **target,  # type: ignore[arg-type]
                        ),
                    )
                )
            session.flush()
            for task in made[: TASKS // 4]:
                task.status = tasks.TaskStatus.DONE  # type: ignore[attr-defined]
        with unit_of_work(factory) as session:
            officer = session.scalars(
                select(UserAccount).where(UserAccount.username == "officer")
            ).one()
            from fengqiao.auth import build_principal

            return len(tasks.today(session, build_principal(session, officer)).tasks)
    finally:
        engine.dispose()


def _measure(
    client: TestClient, timings: list[float], path: str, n: int
) -> tuple[list[float], int]:
    for _ in range(10):
        client.get(path)
    timings.clear()
    size = 0
    for _ in range(n):
        response = client.get(path)
        assert response.status_code == 200, response.text[:300]
        size = len(response.content)
    return list(timings), size


def _report(name: str, values: list[float], size: int, limit: float | None) -> bool:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    p95 = pct(95)
    verdict = ""
    ok = True
    if limit is not None:
        ok = p95 < limit
        verdict = f"  {'PASS' if ok else 'FAIL'} (limit p95 < {limit:.0f} ms)"
    print(
        f"  {name:<22} p50 {pct(50):6.1f} ms  p95 {p95:6.1f} ms  p99 {pct(99):6.1f} ms  "
        f"max {ordered[-1]:6.1f} ms  {1000 / statistics.mean(values):6.0f} req/s  {size / 1024:6.1f} KiB{verdict}"
    )
    return ok


def run(settings: Settings, label: str, requests: int) -> bool:
    t0 = time.perf_counter()
    build_demo(settings.model_copy(update={"demo_password": PASSWORD}))
    count = _fill(settings)
    print(
        f"{label}: demo county built and {TASKS} tasks added in {time.perf_counter() - t0:.1f} s; "
        f"the officer has {count} tasks today"
    )
    app = create_app(settings)
    timings: list[float] = []

    @app.middleware("http")
    async def _timer(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        timings.append((time.perf_counter() - start) * 1000)
        return response

    ok = True
    with TestClient(app) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "officer", "password": PASSWORD}
        ).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        for name, path, limit in (
            ("GET /today", "/today", LIMIT_MS),
            ("GET /api/v1/me/tasks", "/api/v1/me/tasks", LIMIT_MS),
            ("peer: GET /m", "/m", None),
        ):
            values, size = _measure(client, timings, path, requests)
            ok &= _report(name, values, size, limit)
        tracemalloc.start()
        client.get("/today")
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"  tracemalloc peak of one /today request: {peak / 2**20:.1f} MiB")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="fengqiao-bench-") as tmp:
        if args.backend in ("sqlite", "both"):
            settings = Settings(  # type: ignore[call-arg]
                database_url=f"sqlite:///{Path(tmp) / 'today.db'}",
                secret_key="bench",
                task_scheduler=False,
            )
            ok &= run(settings, "SQLite", args.requests)
        if args.backend in ("postgres", "both"):
            import sys

            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from tests.postgres_server import running_postgres

            with running_postgres() as server:
                name = server.create_database()
                settings = Settings(  # type: ignore[call-arg]
                    database_url=server.sqlalchemy_url(name),
                    secret_key="bench",
                    task_scheduler=False,
                )
                ok &= run(settings, "PostgreSQL", args.requests)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
