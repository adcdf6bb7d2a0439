"""In headless Chromium: the community officer turns a neighbours' quarrel call into a
dispute from the incident page, mediates it at the grid, escalates it to the station,
draws up the agreement and downloads its PDF, brings the first revisit forward to today,
completes it on the phone page as "stable", and finds it done on the dispute's page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader
from shapely import point_on_surface
from sqlalchemy import select

from fengqiao.accounts.models import UserAccount
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker
from fengqiao.org.models import GridAssignment, PersonKind, PoliceGrid
from fengqiao.tasks.models import Task
from tests.browser import chromium, serving
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser
TERMS = ("李四于本月底前修好漏水的水管", "双方今后互不追究")


def _officer_point(settings: Settings) -> tuple[float, float]:
    """A point inside a grid the demo officer serves."""
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
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
                .order_by(PoliceGrid.id)
            ).first()
            assert grid is not None
            point = point_on_surface(grid.geometry)
            return round(point.x, 6), round(point.y, 6)
    finally:
        engine.dispose()


def _task_of(settings: Settings, follow_up_id: int) -> int:
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            task = session.scalars(select(Task).where(Task.follow_up_id == follow_up_id)).one()
            return int(task.id)
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


def _prepare_by_api(browser: Browser, base: str, lon: float, lat: float) -> tuple[int, int, int]:
    """The chief's API: a neighbours' quarrel call in the officer's grid, and the roster
    (a grid worker for the grid level, a lawyer for the station, every day of the week).
    Returns ``(incident, grid mediator, station mediator)``."""
    api = browser.new_context().request
    token = api.post(
        f"{base}/api/v1/auth/token", form={"username": "chief", "password": DEMO_PASSWORD}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    call = api.post(
        f"{base}/api/v1/incidents",
        headers=headers,
        data={
            "channel": "transfer_110",
            "category_code": "0601",
            "description": "楼上漏水，邻居争吵",
            "address": "城关镇建设路16号",
            "reporter_name": "王建国",
            "reporter_phone": "13966667777",
            "lon": lon,
            "lat": lat,
        },
    )
    assert call.status == 201, call.text()
    mediators = []
    for name, kind in (("钱网格", "grid_worker"), ("孙律师", "lawyer")):
        made = api.post(
            f"{base}/api/v1/disputes/mediators",
            headers=headers,
            data={"name": name, "kind": kind, "weekdays": list(range(7))},
        )
        assert made.status == 201, made.text()
        mediators.append(int(made.json()["id"]))
    return int(call.json()["id"]), mediators[0], mediators[1]


def _add_mediator(page: Page, mediator_id: int) -> None:
    form = page.locator("#add-mediator")
    form.locator("select[name=mediator_id]").select_option(str(mediator_id))
    form.locator("button[type=submit]").click()


def test_convert_mediate_escalate_agree_and_revisit(
    demo_settings: Settings, tmp_path: Path
) -> None:
    lon, lat = _officer_point(demo_settings)
    with serving(demo_settings) as base, chromium() as browser:
        incident, grid_mediator, lawyer = _prepare_by_api(browser, base, lon, lat)
        page = _login(
            browser,
            base,
            "officer",
            geolocation={"longitude": lon, "latitude": lat, "accuracy": 12},
            permissions=["geolocation"],
            accept_downloads=True,
        )

        # The call's page: convert it.
        page.goto(f"{base}/incidents/{incident}")
        page.locator("#convert-dispute button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/disputes/\d+$"))
        dispute = int(page.url.rsplit("/", 1)[1])
        status, levels = page.locator("#status"), page.locator("#levels")
        timeline = page.locator("#timeline")
        expect(status).to_have_class(re.compile(r"\bdstatus-registered\b"))
        expect(levels).to_have_attribute("data-level", "grid")
        expect(timeline.locator("li[data-kind=registered]")).to_have_count(1)
        expect(page.locator(f"#summary a[href='/incidents/{incident}']")).to_have_count(1)
        expect(page.locator("#parties tbody tr")).to_have_count(1)  # the caller only
        expect(page.locator("#parties")).to_contain_text("王**")
        expect(page.locator("#parties")).not_to_contain_text("13966667777")

        # Grid level: the grid worker mediates, a session is recorded.
        _add_mediator(page, grid_mediator)
        expect(page.locator("#mediators li[data-level=grid]")).to_contain_text("钱网格")
        expect(status).to_have_class(re.compile(r"\bdstatus-mediating\b"))
        expect(timeline.locator("li[data-kind=mediator]")).to_have_count(1)
        session_form = page.locator("#session-form")
        session_form.locator("input[name=place]").fill("社区调解室")
        session_form.locator("textarea[name=notes]").fill("双方各执一词，约定下周再谈")
        session_form.locator("button[type=submit]").click()
        expect(page.locator("#sessions article.session")).to_have_count(1)
        expect(page.locator("#sessions")).to_contain_text("双方各执一词")
        expect(timeline.locator("li[data-kind=session]")).to_have_count(1)

        # Up to the station, with the reason; its lawyer joins.
        escalate = page.locator("#escalate-form")
        escalate.locator("select[name=to]").select_option("station")
        escalate.locator("input[name=reason]").fill("网格调解未果，需要律师参与")
        escalate.locator("button[type=submit]").click()
        expect(levels).to_have_attribute("data-level", "station")
        expect(levels.locator("li.current")).to_have_count(1)
        expect(levels.locator("li.done")).to_have_count(1)
        expect(timeline.locator("li[data-kind=escalated]")).to_contain_text("需要律师参与")
        _add_mediator(page, lawyer)
        expect(page.locator("#mediators li[data-level=station]")).to_contain_text("孙律师")
        expect(timeline.locator("li[data-kind=mediator]")).to_have_count(2)

        # The respondent, who the call did not name.
        parties = page.locator("#parties")
        parties.locator("details summary").click()
        add = parties.locator("form[action$='/parties']")
        add.locator("select[name=side]").select_option("respondent")
        add.locator("input[name=name]").fill("李四")
        add.locator("input[name=phone]").fill("13955554444")
        add.locator("button[type=submit]").click()
        expect(page.locator("#parties tbody tr")).to_have_count(2)
        expect(parties).to_contain_text("李*")
        expect(parties).not_to_contain_text("13955554444")
        expect(timeline.locator("li[data-kind=party_added]")).to_have_count(1)

        # The agreement: facts and two terms; the dispute is settled at the station.
        agreement_form = page.locator("#agreement-form")
        agreement_form.locator("textarea[name=facts]").fill("楼上漏水致楼下天花板受损，双方争吵")
        agreement_form.locator("textarea[name=terms]").fill("\n".join(TERMS))
        agreement_form.locator("button[type=submit]").click()
        expect(page).to_have_url(re.compile(rf"/disputes/{dispute}#agreements$"))
        expect(status).to_have_class(re.compile(r"\bdstatus-resolved\b"))
        expect(levels).to_have_attribute("data-level", "station")
        article = page.locator("#agreements article.agreement")
        expect(article).to_have_count(1)
        expect(article.locator("ol li")).to_have_text(list(TERMS))
        expect(page.locator("#agreement-form")).to_have_count(0)  # closed: no more forms
        for kind in ("agreement", "outcome", "revisits"):
            expect(timeline.locator(f"li[data-kind={kind}]")).to_have_count(1)

        # The PDF through the link.
        with page.expect_download() as info:
            article.locator("a[id^=agreement-pdf-]").click()
        download = info.value
        assert download.suggested_filename.endswith(".pdf")
        saved = tmp_path / "agreement.pdf"
        download.save_as(saved)
        data = saved.read_bytes()
        assert data.startswith(b"%PDF")
        text = "".join(p.extract_text() or "" for p in PdfReader(saved).pages)
        assert "调解协议书" in text
        assert all(term in text for term in TERMS)
        assert "王建国" in text and "李四" in text  # the paper to sign names them in full

        # The first revisit, brought forward to today.
        first = page.locator("#revisits tr[id^=follow-up-]").first
        expect(first).to_have_attribute("data-status", "pending")
        row_id = first.get_attribute("id")
        assert row_id is not None
        follow_up = int(row_id.rsplit("-", 1)[1])
        row = page.locator(f"#{row_id}")
        row.locator("form[action$='/today'] button[type=submit]").click()
        expect(page).to_have_url(re.compile(rf"/disputes/{dispute}#revisits$"))
        expect(row).to_have_attribute("data-status", "scheduled")
        expect(row.locator("a[href='/today']")).to_be_visible()
        expect(timeline.locator("li[data-kind=revisit_today]")).to_have_count(1)
        task = _task_of(demo_settings, follow_up)

        # On the officer's today page: complete it, the situation is stable.
        page.goto(f"{base}/today")
        expect(page.locator("#today")).to_have_attribute("data-ready", "1")
        card = page.locator(f"#task-{task}")
        expect(card).to_have_attribute("data-kind", "dispute_follow_up")
        expect(card).to_have_attribute("data-status", "open")
        card.locator(".complete-box summary").click()
        card.locator("select[data-field=situation]").select_option("stable")
        card.locator(".complete-button").click()
        expect(card).to_have_attribute("data-status", "done", timeout=10_000)
        expect(page.locator("#sync-state")).to_have_attribute("data-pending", "0")

        # Back on the dispute: the revisit is done and on the timeline.
        page.reload()
        expect(page.locator(f"#task-{task}")).to_have_attribute("data-status", "done")
        page.locator(f"#task-{task} a.dispute-link").click()
        expect(page).to_have_url(re.compile(rf"/disputes/{dispute}$"))
        expect(row).to_have_attribute("data-status", "done")
        expect(row).to_contain_text(str(task))
        expect(timeline.locator("li[data-kind=revisited]")).to_have_count(1)
        expect(status).to_have_class(re.compile(r"\bdstatus-resolved\b"))  # stable: stays settled
        later = page.locator("#revisits tr[id^=follow-up-]")
        expect(later.first).to_have_attribute("id", row_id)
