"""Live updates cross processes: an incident reported to one app process reaches a
server-sent-event stream served by another process behind the same database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
import pytest
from shapely import point_on_surface
from sqlalchemy import select

from fengqiao import migrate
from fengqiao.audit.service import SYSTEM
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
from fengqiao.demo.build import ensure_demo_accounts
from fengqiao.demo.county import generate_county
from fengqiao.incidents.service import ensure_reference_data
from fengqiao.org.importing import IMPORTERS
from fengqiao.org.models import PoliceGrid
from tests.conftest import DEMO_PASSWORD

FENGQIAO = str(Path(sys.executable).parent / "fengqiao")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def app_process(url: str) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    env.update(
        FENGQIAO_DATABASE_URL=url, FENGQIAO_PORT=str(port), FENGQIAO_LIVE_KEEPALIVE_SECONDS="0.3"
    )
    proc = subprocess.Popen(
        [FENGQIAO, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.stdout else ""
                raise RuntimeError(f"app process did not start: {out}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _org_database(settings: Settings, tmp_path: Path) -> tuple[float, float]:
    engine = make_engine(settings)
    migrate.upgrade(engine)
    files = generate_county(tmp_path / "county", seed=3)
    with unit_of_work(make_sessionmaker(engine)) as session:
        ensure_reference_data(session)
        for kind, path in (
            ("stations", files.stations),
            ("districts", files.districts),
            ("grids", files.grids),
            ("civil-grids", files.civil_grids),
            ("personnel", files.personnel),
        ):
            IMPORTERS[kind](session, path, actor=SYSTEM)
        ensure_demo_accounts(session, people=files.demo_people, password=DEMO_PASSWORD)
        grid = session.scalars(select(PoliceGrid).where(PoliceGrid.code.like("QX-CG-%"))).first()
        assert grid is not None
        point = point_on_surface(grid.geometry)
    engine.dispose()
    return round(point.x, 6), round(point.y, 6)


def _token(base: str) -> str:
    r = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": "command", "password": DEMO_PASSWORD}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_event_reaches_a_stream_of_another_process(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'live.db'}"
    else:
        server = request.getfixturevalue("postgres")
        name = server.create_database()
        request.addfinalizer(lambda: server.drop_database(name))
        url = server.sqlalchemy_url(name)
    lon, lat = _org_database(Settings(database_url=url), tmp_path)  # type: ignore[call-arg]

    with app_process(url) as first, app_process(url) as second:
        token = _token(first)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.stream(
            "GET", f"{second}/api/v1/live/stream", headers=headers, timeout=httpx.Timeout(15.0)
        ) as stream:
            lines = stream.iter_lines()
            assert next(lines) == "event: hello"
            # A quiet spell: keep-alives flow and the subscription survives them.
            keepalives = 0
            while keepalives < 3:
                if next(lines) == ": keep-alive":
                    keepalives += 1
            created = httpx.post(
                f"{first}/api/v1/incidents",
                headers=headers | {"Idempotency-Key": "live-1"},
                json={
                    "channel": "phone",
                    "category_code": "0601",
                    "lon": lon,
                    "lat": lat,
                    "description": "邻里纠纷",
                },
            )
            assert created.status_code == 201, created.text
            incident_id = created.json()["id"]
            deadline = time.monotonic() + 10
            event = None
            for line in lines:
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif (
                    line.startswith("data: ")
                    and event == "incident"
                    and json.loads(line.removeprefix("data: "))["id"] == incident_id
                ):
                    break
                assert time.monotonic() < deadline, "no event from the other process in 10 s"
            else:
                pytest.fail("stream ended before the event arrived")
