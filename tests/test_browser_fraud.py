"""In headless Chromium: an urgent warning posted to the API by the anti-fraud centre
reaches the grid officer's phone page live within seconds; the officer opens the order
and records "dissuaded, 20 000 yuan saved"; the chief's figures page shows the money."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from fengqiao.accounts.models import UserAccount
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker
from fengqiao.fraud.models import FraudOrder, Outcome
from fengqiao.org.models import GridAssignment, PersonKind, PoliceGrid
from fengqiao.registry.models import Address, AddressLevel, RecordStatus
from tests.browser import chromium, serving
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _officer_address(settings: Settings) -> tuple[str, float, float]:
    """A room in the registry inside the demo officer's grid, as the centre would write it."""
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            officer = session.scalars(
                select(UserAccount).where(UserAccount.username == "officer")
            ).one()
            grid_ids = session.scalars(
                select(GridAssignment.grid_id)
                .join(PoliceGrid, PoliceGrid.id == GridAssignment.grid_id)
                .where(
                    GridAssignment.person_id == officer.person_id,
                    GridAssignment.role == PersonKind.OFFICER,
                    PoliceGrid.active(),
                )
            ).all()
            room = session.scalars(
                select(Address)
                .where(
                    Address.grid_id.in_(grid_ids),
                    Address.level == AddressLevel.ROOM,
                    Address.status == RecordStatus.ACTIVE,
                )
                .order_by(Address.id)
            ).first()
            assert room is not None and room.lon is not None and room.lat is not None
            return room.full_name, room.lon, room.lat
    finally:
        engine.dispose()


def _login(browser: Browser, base: str, username: str, **context: object) -> Page:
    page = browser.new_context(locale="zh-CN", **context).new_page()  # type: ignore[arg-type]
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("#login")
    expect(page).not_to_have_url(re.compile(r"/login"))
    return page


def _money_saved(page: Page, base: str) -> int:
    page.goto(f"{base}/fraud/figures")
    text = page.locator("#figures-total .money-saved").inner_text()
    return int(text.replace(",", ""))


def test_urgent_warning_reaches_the_officer_and_the_figures(demo_settings: Settings) -> None:
    address, lon, lat = _officer_address(demo_settings)
    with serving(demo_settings) as base, chromium() as browser:
        chief = _login(browser, base, "chief")
        saved_before = _money_saved(chief, base)

        phone = _login(
            browser,
            base,
            "officer",
            **PHONE,
            geolocation={"longitude": lon, "latitude": lat, "accuracy": 12},
            permissions=["geolocation"],
        )
        phone.goto(f"{base}/today")
        expect(phone.locator("#today")).to_have_attribute("data-live", "on", timeout=10_000)

        # The centre's system pushes an urgent warning (a warning-desk account, by API).
        api = browser.new_context().request
        token = api.post(
            f"{base}/api/v1/auth/token",
            form={"username": "command", "password": DEMO_PASSWORD},
        ).json()["access_token"]
        posted = api.post(
            f"{base}/api/v1/fraud/warnings",
            headers={"Authorization": f"Bearer {token}"},
            data={
                "external_id": "PW-1",
                "source": "96110",
                "type": "scam_call",
                "level": "urgent",
                "name": "赵桂兰",
                "phone": "13900001234",
                "address": address.replace("栋", "幢", 1),  # as a centre may spell it
                "detail": "冒充公检法",
            },
        )
        assert posted.status == 201, posted.text()
        order_id = posted.json()["order_id"]
        assert posted.json()["step"] == "address"

        # Live on the phone within seconds, then in the list (the page reloads itself).
        alert = phone.locator("#fraud-alert")
        expect(alert).to_be_visible(timeout=5_000)
        expect(alert).to_have_attribute("data-order", str(order_id))
        link = phone.locator(f"a.fraud-order-link[href='/fraud/orders/{order_id}']")
        expect(link).to_be_visible(timeout=10_000)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 400
        link.click()

        expect(phone.locator("#order-summary")).to_contain_text("赵**")
        assert "13900001234" not in phone.locator("#order-summary").inner_text()
        form = phone.locator("#outcome-form")
        form.locator("select[name=outcome]").select_option("dissuaded")
        form.locator("select[name=method]").select_option("phone")
        form.locator("input[name=money_saved]").fill("20000")
        form.locator("button[type=submit]").click()
        expect(phone.locator("#order-summary")).to_have_attribute("data-status", "closed")
        expect(phone.locator("#saved")).to_contain_text("20,000")

        assert _money_saved(chief, base) == saved_before + 20000

    engine = make_engine(demo_settings)
    try:
        with make_sessionmaker(engine)() as session:
            order = session.get(FraudOrder, order_id)
            assert order is not None
            assert order.outcome is Outcome.DISSUADED and order.money_saved == 20000
            assert order.contacted_at is not None and order.follow_up_id is not None
    finally:
        engine.dispose()
