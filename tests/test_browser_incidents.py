"""In headless Chromium: a report entered through the form appears live in the command
room of a second browser; the command room dispatches; the officer accepts, arrives and
closes on the phone-sized page; the timeline shows every step."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from shapely import point_on_surface
from sqlalchemy import select, update

from fengqiao.accounts.models import UserAccount
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
from fengqiao.incidents.models import RoutingRule
from fengqiao.org.models import GridAssignment, PersonKind, PoliceGrid
from tests.browser import chromium, serving
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _prepare(settings: Settings) -> tuple[float, float, int]:
    """Command-room confirmation for every rule; a point in the demo officer's grid."""
    engine = make_engine(settings)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            session.execute(update(RoutingRule).values(auto_dispatch=False))
            officer = session.scalars(
                select(UserAccount).where(UserAccount.username == "officer")
            ).one()
            assert officer.person_id is not None
            grid = session.scalars(
                select(PoliceGrid)
                .join(GridAssignment)
                .where(
                    GridAssignment.person_id == officer.person_id,
                    GridAssignment.role == PersonKind.OFFICER,
                )
            ).first()
            assert grid is not None
            point = point_on_surface(grid.geometry)
            return round(point.x, 6), round(point.y, 6), officer.person_id
    finally:
        engine.dispose()


def _login(browser: Browser, base: str, username: str, **context: object) -> Page:
    page = browser.new_context(**context).new_page()  # type: ignore[arg-type]
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login")
    expect(page).not_to_have_url(re.compile(r"/login"))
    return page


def test_report_dispatch_accept_arrive_close(demo_settings: Settings) -> None:
    lon, lat, officer_person = _prepare(demo_settings)
    with serving(demo_settings) as base, chromium() as browser:
        command = _login(browser, base, "command", viewport={"width": 1400, "height": 900})
        command.goto(f"{base}/command")
        expect(command.locator("#live-state")).to_have_attribute("data-live", "on", timeout=10_000)

        reporter = _login(browser, base, "chief")
        reporter.goto(f"{base}/incidents/new")
        reporter.select_option("#channel", "transfer_110")
        reporter.select_option("#category", "0601")
        reporter.fill("#reporter_name", "王建国")
        reporter.fill("#reporter_phone", "13912345678")
        reporter.fill("#address", "南门社区长安街12号")
        reporter.fill("#lon", str(lon))
        reporter.fill("#lat", str(lat))
        reporter.fill("#description", "邻居装修噪音纠纷，双方争吵")
        reporter.click("#submit-incident")
        expect(reporter).to_have_url(re.compile(r"/incidents/\d+$"))
        incident_id = int(reporter.url.rsplit("/", 1)[1])
        expect(reporter.locator("body")).to_contain_text("王**")  # reporter masked
        expect(reporter.locator("body")).not_to_contain_text("13912345678")

        # Live: the new incident appears on the command-room map and in its queue.
        marker = command.locator(f'.incident-marker[data-incident-id="{incident_id}"]')
        expect(marker).to_be_attached(timeout=10_000)
        item = command.locator(f'#queue li[data-incident-id="{incident_id}"]')
        expect(item).to_be_visible(timeout=10_000)
        # Routing proposed the grid's officer; the command room dispatches him.
        expect(item.locator("option.proposed")).to_have_attribute("value", str(officer_person))
        item.locator("select").select_option(str(officer_person))
        item.locator(".dispatch-button").click()
        expect(command.locator(f'#queue li[data-incident-id="{incident_id}"]')).to_have_attribute(
            "data-status", "dispatched", timeout=10_000
        )

        phone = _login(
            browser,
            base,
            "officer",
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
        )
        phone.goto(f"{base}/m")
        card = phone.locator(f'article.assignment[data-incident-id="{incident_id}"]')
        expect(card).to_be_visible()
        card.locator(".accept-button").click()
        card = phone.locator(f'article.assignment[data-incident-id="{incident_id}"]')
        card.locator(".arrive-button").click()
        card = phone.locator(f'article.assignment[data-incident-id="{incident_id}"]')
        card.locator("select.disposition").select_option("settled")
        card.locator(".close-button").click()
        expect(
            phone.locator(f'article.assignment[data-incident-id="{incident_id}"]')
        ).to_have_count(0)

        # The closed incident leaves the live map.
        expect(marker).to_have_count(0, timeout=10_000)

        reporter.goto(f"{base}/incidents/{incident_id}")
        statuses = reporter.locator("#timeline li[data-kind='status']")
        expect(statuses).to_have_count(6)
        assert [statuses.nth(i).get_attribute("data-status") for i in range(6)] == [
            "received",
            "dispatched",
            "accepted",
            "arrived",
            "handled",
            "closed",
        ]
        expect(reporter.locator("#timeline li[data-kind='routed']")).to_have_count(1)
