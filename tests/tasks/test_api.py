"""The task API and pages over the demo county: the daily job, my day, completion with a
photo (idempotent by key), check-in errors, the assessment feed and who may do what."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from fengqiao.accounts.models import UserAccount
from fengqiao.app import create_app
from fengqiao.clock import local_day
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from fengqiao.org.models import GridAssignment, PoliceGrid
from fengqiao.registry.models import Attachment
from fengqiao.tasks.models import FollowUp, FollowUpStatus, Task, TaskRun, TaskSource
from tests.conftest import bearer, login_token
from tests.incidents.helpers import inside


@dataclass(frozen=True)
class Demo:
    client: TestClient
    settings: Settings
    officer: int  # person id of the account ``officer``
    grid_id: int  # the officer's grid
    inside: tuple[float, float]
    outside: tuple[float, float]  # in a grid of the station that is not the officer's


def _forget_todays_run(settings: Settings) -> None:
    """The demo build ran today's job: undo it, so that the test's run makes the tasks."""
    engine = make_engine(settings)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            today = local_day(utcnow())
            session.execute(delete(Task).where(Task.day == today, Task.source != TaskSource.AD_HOC))
            session.execute(delete(TaskRun).where(TaskRun.day == today))
            session.execute(
                update(FollowUp)
                .where(FollowUp.status == FollowUpStatus.SCHEDULED)
                .values(status=FollowUpStatus.PENDING)
            )
    finally:
        engine.dispose()


def _places(session: Session) -> tuple[int, int, tuple[float, float], tuple[float, float]]:
    user = session.scalars(select(UserAccount).where(UserAccount.username == "officer")).one()
    assert user.person_id is not None
    mine = set(
        session.scalars(
            select(GridAssignment.grid_id).where(GridAssignment.person_id == user.person_id)
        )
    )
    grid = session.get_one(PoliceGrid, min(mine))
    other = session.scalars(
        select(PoliceGrid)
        .where(PoliceGrid.id.not_in(mine), PoliceGrid.active())
        .order_by(PoliceGrid.id)
    ).first()
    assert other is not None
    return user.person_id, grid.id, inside(grid), inside(other)


@pytest.fixture
def demo(demo_settings: Settings) -> Iterator[Demo]:
    settings = demo_settings.model_copy(update={"task_scheduler": False})
    _forget_todays_run(settings)
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            officer, grid_id, here, there = _places(session)
    finally:
        engine.dispose()
    with TestClient(create_app(settings)) as client:
        client.cookies.set("fq_lang", "en")
        yield Demo(client, settings, officer, grid_id, here, there)


def _as(demo: Demo, username: str) -> dict[str, str]:
    return bearer(login_token(demo.client, username))


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 120, 60)).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def _attachments(demo: Demo, task_id: int) -> int:
    engine = make_engine(demo.settings)
    try:
        with make_sessionmaker(engine)() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Attachment)
                    .where(Attachment.object_type == "task", Attachment.object_id == task_id)
                )
                or 0
            )
    finally:
        engine.dispose()


def test_the_daily_job_runs_once_a_day(demo: Demo) -> None:
    chief = _as(demo, "chief")
    first = demo.client.post("/api/v1/tasks/generate", headers=chief)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["runs"] > 0 and body["tasks"] > 0 and body["failed"] == []
    second = demo.client.post("/api/v1/tasks/generate", headers=chief)
    assert second.status_code == 200
    assert second.json() == {"runs": 0, "tasks": 0, "skipped": 0, "failed": []}
    board = demo.client.get("/api/v1/tasks", headers=chief)
    assert board.status_code == 200 and board.json()
    assert all(t["day"] == local_day(utcnow()).isoformat() for t in board.json())


def test_a_day_of_work_through_the_api_and_its_assessment(demo: Demo) -> None:
    client = demo.client
    chief, officer = _as(demo, "chief"), _as(demo, "officer")
    made = []
    for kind, title in (("household_visit", "走访三户"), ("custom", "张贴反诈海报")):
        response = client.post(
            "/api/v1/tasks",
            headers=chief,
            json={
                "kind": kind,
                "title": title,
                "grid_id": demo.grid_id,
                "assignee_id": demo.officer,
            },
        )
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
    visit, poster = made

    mine = client.get("/api/v1/me/tasks", headers=officer)
    assert mine.status_code == 200
    assert {visit, poster} <= {t["id"] for t in mine.json()["tasks"]}
    assert demo.grid_id in mine.json()["grid_ids"]

    form = {
        "values": json.dumps({"households_visited": 4, "leads": 2, "note": "租户已登记"}),
        "key": "api-done-1",
        "lon": str(demo.inside[0]),
        "lat": str(demo.inside[1]),
    }
    for expected in (201, 200):
        response = client.post(
            f"/api/v1/tasks/{visit}/complete",
            headers=officer,
            data=form,
            files=[("photos", ("door.jpg", _jpeg(), "image/jpeg"))],
        )
        assert response.status_code == expected, response.text
        assert response.json()["stored"] is (expected == 201)
        assert response.json()["task"]["status"] == "done"
    assert _attachments(demo, visit) == 1
    detail = client.get(f"/api/v1/tasks/{visit}", headers=officer).json()
    assert [f["content_type"] for f in detail["files"]] == ["image/jpeg"]
    assert detail["task"]["result"]["households_visited"] == 4

    no_position = client.post(
        f"/api/v1/tasks/{poster}/check-in", headers=officer, json={"key": "c"}
    )
    assert no_position.status_code == 422
    assert "location" in no_position.text
    away = client.post(
        f"/api/v1/tasks/{poster}/check-in",
        headers=officer,
        json={"key": "c", "lon": demo.outside[0], "lat": demo.outside[1], "accuracy_m": 12},
    )
    assert away.status_code == 200 and away.json()["check_in_inside_grid"] is False

    today = local_day(utcnow())
    year, week, _ = today.isocalendar()
    for by, period in (("day", today.isoformat()), ("week", f"{year}-W{week:02d}")):
        response = client.get(
            "/api/v1/assessment",
            headers=chief,
            params={"first": today.isoformat(), "last": today.isoformat(), "by": by},
        )
        assert response.status_code == 200, response.text
        [line] = [x for x in response.json() if x["person_id"] == demo.officer]
        assert line["period"] == period
        assert line["households_visited"] == 4 and line["leads"] == 2
        assert (line["check_ins"], line["check_ins_inside"]) == (2, 1)
        assert line["inside_share"] == 0.5
        assert line["done"] == 1 and line["tasks"] >= 2

    page = client.get("/today", headers=officer)
    assert page.status_code == 200
    assert f'id="task-{visit}"' in page.text and f'id="task-{poster}"' in page.text
    assert 'href="/manifest.webmanifest"' in page.text
    board = client.get("/tasks", headers=chief)
    assert board.status_code == 200 and "走访三户" in board.text
    table = client.get("/tasks/assessment", headers=chief)
    assert table.status_code == 200


REFUSED = [
    ("legal", "GET", "/today"),
    ("admin", "GET", "/today"),
    ("legal", "GET", "/api/v1/me/tasks"),
    ("officer", "POST", "/api/v1/tasks"),
    ("officer", "POST", "/api/v1/tasks/generate"),
    ("officer", "GET", "/tasks"),
    ("gridworker", "GET", "/api/v1/assessment?first=2026-11-01&last=2026-11-02"),
    ("officer", "GET", "/tasks/assessment"),
]


def test_roles_without_the_permission_are_refused(demo: Demo) -> None:
    body = {"kind": "custom", "title": "越权任务", "grid_id": demo.grid_id}
    tokens = {name: _as(demo, name) for name in {u for u, _m, _p in REFUSED}}
    for username, method, path in REFUSED:
        response = demo.client.request(
            method, path, headers=tokens[username], json=body if method == "POST" else None
        )
        assert response.status_code == 403, (username, path, response.text)
    engine = make_engine(demo.settings)
    try:
        with make_sessionmaker(engine)() as session:
            made = select(func.count()).select_from(Task).where(Task.title == "越权任务")
            assert session.scalar(made) == 0
    finally:
        engine.dispose()
