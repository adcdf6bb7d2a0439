"""In headless Chromium at a phone's size: the officer opens today, checks in with the
browser's position, completes a task with a photo; goes offline, completes another
(queued on the phone), comes back online and sees it sent — stored once."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from shapely import point_on_surface
from sqlalchemy import func, select

from fengqiao.accounts.models import UserAccount
from fengqiao.audit.models import AuditEvent
from fengqiao.auth import system_principal
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
from fengqiao.org.models import GridAssignment, PersonKind, PoliceGrid
from fengqiao.registry.models import Attachment
from fengqiao.tasks import manage
from fengqiao.tasks.models import Task, TaskKind, TaskStatus
from tests.browser import chromium, serving
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _prepare(settings: Settings) -> tuple[float, float, list[int]]:
    """Two household visits for the demo officer today; a point inside the officer's grid."""
    engine = make_engine(settings)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            officer = session.scalars(
                select(UserAccount).where(UserAccount.username == "officer")
            ).one()
            grid = session.scalars(
                select(PoliceGrid)
                .join(GridAssignment)
                .where(
                    GridAssignment.person_id == officer.person_id,
                    GridAssignment.role == PersonKind.OFFICER,
                    PoliceGrid.active(),
                )
            ).first()
            assert grid is not None
            chief = system_principal("test")
            ids = [
                manage.create_task(
                    session,
                    chief,
                    manage.NewTask(
                        kind=TaskKind.HOUSEHOLD_VISIT,
                        title=title,
                        grid_id=grid.id,
                        due_from_hour=0,
                        due_by_hour=24,
                        priority=1,
                        assignee_id=officer.person_id,
                    ),
                ).id
                for title in ("走访甲 Visit A", "走访乙 Visit B")
            ]
            point = point_on_surface(grid.geometry)
            return round(point.x, 6), round(point.y, 6), ids
    finally:
        engine.dispose()


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (2400, 1800), (200, 60, 40)).save(buf, "JPEG")
    return buf.getvalue()


def _login(browser: Browser, base: str, lon: float, lat: float) -> Page:
    context = browser.new_context(
        **PHONE,  # type: ignore[arg-type]
        geolocation={"longitude": lon, "latitude": lat, "accuracy": 12},
        permissions=["geolocation"],
        locale="zh-CN",
    )
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", "officer")
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login")
    expect(page).not_to_have_url(re.compile(r"/login"))
    return page


def _complete(page: Page, task_id: int, households: str, photo: bytes | None) -> None:
    card = page.locator(f"#task-{task_id}")
    card.locator(".complete-box summary").click()
    card.locator("input[data-field=households_visited]").fill(households)
    if photo is not None:
        card.locator("input[name=photos]").set_input_files(
            files=[{"name": "door.jpg", "mimeType": "image/jpeg", "buffer": photo}]
        )
    card.locator(".complete-button").click()


def test_today_check_in_complete_offline_sync(demo_settings: Settings) -> None:
    lon, lat, (first, second) = _prepare(demo_settings)
    with serving(demo_settings) as base, chromium() as browser:
        page = _login(browser, base, lon, lat)
        page.goto(f"{base}/today")
        expect(page.locator("#today")).to_have_attribute("data-ready", "1")
        # The list and the map: both tasks, pins drawn, a phone-sized layout.
        expect(page.locator(f"#task-{first}")).to_be_visible()
        expect(page.locator(f"#task-{second}")).to_be_visible()
        assert int(page.locator("#today-map").get_attribute("data-pins") or 0) >= 2
        assert page.evaluate("document.documentElement.scrollWidth") <= 400

        card = page.locator(f"#task-{first}")
        card.locator(".check-in-button").click()
        expect(card).to_have_attribute("data-status", "checked_in")
        _complete(page, first, "3", _jpeg())
        expect(card).to_have_attribute("data-status", "done")

        page.context.set_offline(True)
        expect(page.locator("#net-state")).to_have_class(re.compile("overdue"))
        _complete(page, second, "2", None)
        expect(page.locator("#sync-state")).to_have_attribute("data-pending", "1")
        expect(page.locator(f"#task-{second} .task-message")).to_contain_text("网络")
        expect(page.locator(f"#task-{second}")).to_have_attribute("data-status", "done")

        page.context.set_offline(False)
        expect(page.locator("#sync-state")).to_have_attribute("data-pending", "0", timeout=15_000)
        # A reload syncs again (and the outbox is empty): nothing is sent twice.
        page.reload()
        expect(page.locator("#today")).to_have_attribute("data-ready", "1")
        expect(page.locator(f"#task-{second}")).to_have_attribute("data-status", "done")
        manifest = page.evaluate("fetch('/manifest.webmanifest').then(r => r.json())")
        assert manifest["start_url"] == "/today"

    engine = make_engine(demo_settings)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            a, b = session.get_one(Task, first), session.get_one(Task, second)
            assert a.status is TaskStatus.DONE and b.status is TaskStatus.DONE
            assert a.check_in_inside_grid is True and a.households_visited == 3
            assert b.households_visited == 2 and b.completion_key
            photos = session.scalars(
                select(Attachment).where(
                    Attachment.object_type == "task", Attachment.object_id == first
                )
            ).all()
            assert len(photos) == 1 and photos[0].width == 1600  # resized on the server
            completions = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.object_type == "task", AuditEvent.object_id == str(second))
                .where(AuditEvent.detail.contains('"completed"'))
            )
            assert completions == 1
            assert json.loads(json.dumps(b.result))["households_visited"] == 2
    finally:
        engine.dispose()
