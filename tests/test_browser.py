"""In headless Chromium: log in, switch language, open the map, click a grid, see its card."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker
from fengqiao.org.models import GridAssignment, Person, PersonKind, PoliceGrid
from tests.browser import chromium, serving
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _grid_facts(settings: Settings, code: str) -> tuple[str, int, str]:
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            grid = session.scalars(select(PoliceGrid).where(PoliceGrid.code == code)).one()
            officer = session.scalars(
                select(Person)
                .join(GridAssignment)
                .where(GridAssignment.grid_id == grid.id, GridAssignment.role == PersonKind.OFFICER)
            ).one()
            return grid.name, grid.population, officer.name
    finally:
        engine.dispose()


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login")


def test_login_language_map_and_grid_card(demo_settings: Settings) -> None:
    with serving(demo_settings) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        _login(page, base, "admin")
        # Chinese by default.
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("header nav")).to_contain_text("警格")

        # Switch to English and back keeps the page.
        page.click("#lang-en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("header nav")).to_contain_text("Overview map")

        # The map draws every grid.
        page.wait_for_selector("path.grid-shape")
        map_el = page.locator("#map")
        expect(map_el).to_have_attribute("data-grid-count", re.compile(r"^\d+$"))
        count = int(map_el.get_attribute("data-grid-count") or 0)
        assert count >= 40
        assert page.locator("path.grid-shape").count() == count

        # Click one grid and see its card with population and officer.
        shape = page.locator('path.grid-shape[data-grid-code="QX-CG-G03"]')
        box = shape.bounding_box()
        assert box is not None
        shape.click(force=True)
        name, population, officer = _grid_facts(demo_settings, "QX-CG-G03")
        card = page.locator("#grid-card .grid-card")
        expect(card).to_be_visible()
        expect(card.locator("h2")).to_have_text(name)
        expect(card.locator(".population")).to_have_text(f"{population:,}")
        expect(card.locator(".officer")).to_contain_text(officer)
        expect(card.locator(".officer")).to_contain_text("****")  # phone masked

        page.click("#lang-zh")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        assert errors == [], errors


def test_grid_worker_map_shows_only_his_grids(demo_settings: Settings) -> None:
    with serving(demo_settings) as base, chromium() as browser:
        page = browser.new_page()
        _login(page, base, "gridworker")
        page.wait_for_selector("path.grid-shape")
        count = int(page.locator("#map").get_attribute("data-grid-count") or 0)
        assert 1 <= count <= 3
        page.goto(f"{base}/personnel")
        expect(page.locator("h1")).not_to_contain_text("实有警力")


def test_api_docs_render_without_any_other_origin(demo_settings: Settings) -> None:
    with serving(demo_settings) as base, chromium() as browser:
        page = browser.new_page()
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: blocked.append(r.url) if not r.url.startswith(base) else None)
        page.goto(f"{base}/api/v1/docs")
        expect(page.locator("#swagger-ui .info .title")).to_contain_text("fengqiao")
        expect(page.locator("#swagger-ui")).to_contain_text("/api/v1/grids")
        assert blocked == [], blocked
