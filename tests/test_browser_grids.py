"""In headless Chromium: the chief plans a police district, moves a unit to the
neighbouring grid and sees the figures change, publishes the plan, and finds the new
grid on the overview map."""

from __future__ import annotations

import re

import pytest
import shapely
from playwright.sync_api import Page, expect
from sqlalchemy import select

from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker
from fengqiao.grids.models import PlanningUnit
from fengqiao.org.models import PoliceDistrict, PoliceGrid
from tests.browser import chromium, serving
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser
DISTRICT = "QX-CG-D1"


def _border_unit(settings: Settings) -> tuple[int, str, str, int, int]:
    """(district id, unit code, from-grid code, to-grid code's population, unit population)
    for a unit whose move keeps both grids contiguous and within the urban cap."""
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            district = session.scalars(
                select(PoliceDistrict).where(PoliceDistrict.code == DISTRICT)
            ).one()
            grids = {
                g.id: g
                for g in session.scalars(
                    select(PoliceGrid).where(
                        PoliceGrid.district_id == district.id, PoliceGrid.active()
                    )
                )
            }
            units = list(
                session.scalars(
                    select(PlanningUnit)
                    .where(PlanningUnit.district_id == district.id)
                    .order_by(PlanningUnit.id)
                )
            )
            by_grid: dict[int, list[PlanningUnit]] = {}
            for u in units:
                assert u.grid_id is not None
                by_grid.setdefault(u.grid_id, []).append(u)
            for u in units:
                assert u.grid_id is not None
                rest = [v.geometry for v in by_grid[u.grid_id] if v.id != u.id]
                if not rest or shapely.union_all(rest).geom_type != "Polygon":
                    continue
                for gid, members in by_grid.items():
                    target = grids[gid]
                    if gid == u.grid_id or target.population + u.population > 5000:
                        continue
                    grown = shapely.union_all([*(v.geometry for v in members), u.geometry])
                    if grown.geom_type == "Polygon":
                        return (
                            district.id,
                            u.code,
                            target.code,
                            target.population,
                            u.population,
                        )
    finally:
        engine.dispose()
    raise AssertionError("no movable border unit in the demo district")


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login")
    expect(page).not_to_have_url(re.compile(r"/login"))


def _population(page: Page, code: str) -> int:
    text = page.locator(f'#plan-grids tr[data-code="{code}"] td.pop').inner_text()
    return int(re.sub(r"[^\d]", "", text.split("⚠")[0]))


def test_plan_move_publish_and_see_on_map(demo_settings: Settings) -> None:
    district_id, unit_code, target_code, target_pop, unit_pop = _border_unit(demo_settings)
    with serving(demo_settings) as base, chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        _login(page, base, "chief")
        page.goto(f"{base}/grids/plans")
        page.select_option("#plan-scope", f"district:{district_id}")
        page.click("#make-plan")
        expect(page).to_have_url(re.compile(r"/grids/plans/\d+$"), timeout=30_000)
        expect(page.locator("#plan-map")).to_have_attribute(
            "data-units", re.compile(r"^\d+$"), timeout=60_000
        )
        expect(page.locator("#fig-moved")).to_contain_text("0 / 0")
        lower = int(page.locator("#fig-lower").inner_text())
        assert 1 <= lower <= int(page.locator("#fig-count").inner_text())
        assert _population(page, target_code) == target_pop

        # Pick the unit (clicking its shape on the map selects it in the form) and move it.
        unit_option = page.locator("#move-unit option", has_text=unit_code)
        unit_id = unit_option.get_attribute("value")
        assert unit_id is not None
        source_plan_grid = unit_option.get_attribute("data-grid")
        source_code = page.locator(f'#plan-grids tr[data-plan-grid="{source_plan_grid}"]')
        source_code_text = source_code.get_attribute("data-code")
        assert source_code_text is not None
        source_before = _population(page, source_code_text)
        page.locator(f'path[data-unit="{unit_code}"]').dispatch_event("click")
        expect(page.locator("#move-unit")).to_have_value(unit_id)
        target_plan_grid = page.locator(f'#plan-grids tr[data-code="{target_code}"]').get_attribute(
            "data-plan-grid"
        )
        assert target_plan_grid is not None
        page.select_option("#move-target", target_plan_grid)
        page.click("#move-button")

        # Live figures: both grids change by the unit's residents; one unit moved.
        expect(page.locator(f'#plan-grids tr[data-code="{target_code}"] td.pop')).to_contain_text(
            f"{target_pop + unit_pop:,}"
        )
        assert _population(page, source_code_text) == source_before - unit_pop
        expect(page.locator("#fig-moved")).to_contain_text(f"1 / {unit_pop:,}")
        # The map is recoloured: the unit now belongs to the target grid.
        expect(page.locator(f'path[data-unit="{unit_code}"]')).to_have_attribute(
            "data-grid", target_code
        )

        page.click("#publish-plan")
        expect(page.locator("#plan-notice")).to_be_visible()
        expect(page.locator("#plan-notice")).to_contain_text("2")

        # The overview map draws the published layout: the target grid, bigger now.
        page.goto(f"{base}/")
        expect(page.locator(f'path[data-grid-code="{target_code}"]')).to_have_count(1)
        layout = page.request.get(f"{base}/api/v1/grids.geojson").json()
        by_code = {f["properties"]["code"]: f["properties"] for f in layout["features"]}
        assert by_code[target_code]["population"] == target_pop + unit_pop
        assert by_code[source_code_text]["population"] == source_before - unit_pop
