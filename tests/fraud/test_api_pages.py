"""The anti-fraud API and pages through the app: pushing warnings, listing orders, the
order page and its forms, the warning desk, the officer's day — and that personal
numbers leave the server masked (the order page's call link excepted)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.db import unit_of_work
from fengqiao.fraud.models import Channel, FraudCall, FraudOrder, FraudWarning, OrderStatus
from tests.conftest import bearer, login_token
from tests.fraud.helpers import Place, id_number, place

PHONE = "13812345678"
ID_NUMBER = id_number(7)
HTML = {"Accept": "text/html"}


def here(county: sessionmaker[Session]) -> Place:
    with unit_of_work(county) as s:
        return place(s, "幸福路12号3栋2单元301室")


def who(api: TestClient, username: str) -> dict[str, str]:
    return {**bearer(login_token(api, username)), **HTML}


def warning(n: int = 1, at: Place | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": f"W{n}",
        "type": "scam_call",
        "level": "urgent",
        "name": "王小明",
        "phone": PHONE,
        "id_number": ID_NUMBER,
        **extra,
    }
    if at is not None:
        body |= {"lon": at.lon, "lat": at.lat}
    return body


def push(api: TestClient, headers: dict[str, str], body: dict[str, Any]) -> int:
    r = api.post("/api/v1/fraud/warnings", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["order_id"])


def section(html: str, section_id: str) -> str:
    found = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert found is not None, f"no section {section_id}"
    return found.group(0)


def post(api: TestClient, path: str, headers: dict[str, str], **form: str) -> Any:
    return api.post(path, data=form, headers=headers, follow_redirects=False)


def stored(county: sessionmaker[Session], order_id: int) -> FraudOrder:
    with unit_of_work(county) as s:
        found = s.get(FraudOrder, order_id)
        assert found is not None
        return found


# --- the API ---------------------------------------------------------------------------------


def test_a_warning_pushed_twice_makes_one_order(
    api: TestClient, county: sessionmaker[Session]
) -> None:
    spot = here(county)
    desk = who(api, "command")
    r = api.post("/api/v1/fraud/warnings", json=warning(at=spot), headers=desk)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["step"] in ("address", "point") and 0 < body["confidence"] <= 1
    assert (body["duplicate"], body["merged"], body["queued"]) == (False, False, False)
    assert body["assignee_id"] == spot.officer_id
    again = api.post("/api/v1/fraud/warnings", json=warning(at=spot), headers=desk)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["order_id"] == body["order_id"]
    officer = api.post("/api/v1/fraud/warnings", json=warning(2), headers=who(api, "officer"))
    assert officer.status_code == 403
    with unit_of_work(county) as s:
        assert s.scalar(select(func.count(FraudWarning.id))) == 1
        assert s.scalar(select(FraudWarning.channel)) is Channel.API


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"id_number": "330100195603120000"}, "id_number", ""),
        ({"phone": "12345"}, "phone", ""),
        ({"phone": None, "id_number": None}, "phone", "one of them is needed"),
        ({"lon": 118.1}, "lat", "both lon and lat"),
        ({"warned_at": "2099-01-01T08:00:00+08:00"}, "warned_at", "future"),
    ],
)
def test_a_wrong_warning_is_refused_naming_the_field(
    api: TestClient, county: sessionmaker[Session], change: dict[str, Any], field: str, message: str
) -> None:
    desk = who(api, "command")
    body = {k: v for k, v in (warning() | change).items() if v is not None}
    r = api.post("/api/v1/fraud/warnings", json=body, headers=desk)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(f"{field}: ") and message in r.json()["detail"]
    wrong_type = api.post("/api/v1/fraud/warnings", json=warning(type="lottery"), headers=desk)
    assert wrong_type.status_code == 422
    assert any(e["loc"][-1] == "type" for e in wrong_type.json()["detail"])
    with unit_of_work(county) as s:
        assert s.scalar(select(func.count(FraudOrder.id))) == 0


def test_order_lists_carry_masked_numbers(api: TestClient, county: sessionmaker[Session]) -> None:
    spot = here(county)
    desk = who(api, "command")
    placed = push(api, desk, warning(1, at=spot))
    queued = push(api, desk, warning(2, phone="13900001111", id_number=id_number(8)))
    r = api.get("/api/v1/fraud/orders?queue=true", headers=desk)
    assert r.status_code == 200
    assert [o["id"] for o in r.json()] == [queued]
    assert r.json()[0]["phone"] == "139****1111" and r.json()[0]["status"] == "queued"
    everything = api.get("/api/v1/fraud/orders", headers=desk)
    assert {o["id"] for o in everything.json()} == {placed, queued}
    mine = api.get("/api/v1/fraud/orders?mine=true", headers=who(api, "officer"))
    [order] = mine.json()
    assert order["id"] == placed and order["name"] == "王**"
    assert (
        order["phone"] == "138****5678" and order["id_number"] == "330***********" + ID_NUMBER[-4:]
    )
    one = api.get(f"/api/v1/fraud/orders/{placed}", headers=who(api, "auxiliary"))
    assert one.status_code == 200 and one.json()["id_number"].count("*") == 11
    for text in (r.text, everything.text, mine.text, one.text):
        assert PHONE not in text and ID_NUMBER not in text and "13900001111" not in text
    assert api.get("/api/v1/fraud/orders", headers=who(api, "gridworker")).status_code == 403
    hidden = api.get(f"/api/v1/fraud/orders/{queued}", headers=who(api, "auxiliary"))
    assert hidden.status_code == 403


# --- the order page --------------------------------------------------------------------------


def test_the_officer_s_order_page_shows_the_person_masked_and_the_forms(
    api: TestClient, county: sessionmaker[Session]
) -> None:
    order_id = push(api, who(api, "command"), warning(at=here(county)))
    page = api.get(f"/fraud/orders/{order_id}", headers=who(api, "officer"))
    assert page.status_code == 200
    summary = section(page.text, "order-summary")
    assert "王**" in summary and "138****5678" in summary
    assert "330***********" + ID_NUMBER[-4:] in summary
    assert f'href="tel:{PHONE}"' in summary and 'data-status="open"' in summary
    assert 'id="outcome-form"' in page.text and 'id="call-form"' in page.text
    assert 'id="desk-actions"' not in page.text  # placing and reopening are the desk's
    desk_page = api.get(f"/fraud/orders/{order_id}", headers=who(api, "command"))
    assert f'action="/fraud/orders/{order_id}/assign"' in desk_page.text
    assert api.get(f"/fraud/orders/{order_id}", headers=who(api, "gridworker")).status_code == 403


def test_the_outcome_form_takes_an_amount_with_commas(
    api: TestClient, county: sessionmaker[Session]
) -> None:
    order_id = push(api, who(api, "command"), warning(at=here(county)))
    officer = who(api, "officer")
    path = f"/fraud/orders/{order_id}"
    r = post(
        api, f"{path}/outcome", officer, outcome="dissuaded", method="phone", money_saved="20,000"
    )
    assert r.status_code == 303 and r.headers["location"] == path
    page = api.get(path, headers=officer)
    assert re.search(r'id="saved">20,000 ', page.text)
    assert 'data-status="closed"' in page.text and 'id="outcome">Dissuaded<' in page.text
    assert 'id="outcome-form"' not in page.text
    order = stored(county, order_id)
    assert (order.money_saved, order.status) == (20_000, OrderStatus.CLOSED)


def test_a_wrong_outcome_form_comes_back_with_the_message_and_the_values(
    api: TestClient, county: sessionmaker[Session]
) -> None:
    order_id = push(api, who(api, "command"), warning(at=here(county)))
    officer = who(api, "officer")
    path = f"/fraud/orders/{order_id}"
    typed = {"outcome": "money_lost", "method": "visit", "money_saved": "300"}
    r = post(api, f"{path}/outcome", officer, money_lost="", note="打了两次电话", **typed)
    assert r.status_code == 422
    assert 'role="alert">Give the amount already lost' in r.text
    form = section(r.text, "outcome-form")
    assert '<option value="money_lost" selected>' in form
    assert '<option value="visit" selected>' in form
    assert 'name="money_saved" inputmode="numeric" value="300"' in form
    assert ">打了两次电话</textarea>" in form
    bad = post(
        api, f"{path}/outcome", officer, outcome="dissuaded", method="sms", money_saved="lots"
    )
    assert bad.status_code == 422 and "“lots” is not an amount in yuan" in bad.text
    order = stored(county, order_id)
    assert (order.status, order.outcome, order.incident_id) == (OrderStatus.OPEN, None, None)


def test_the_call_form_logs_a_call(api: TestClient, county: sessionmaker[Session]) -> None:
    order_id = push(api, who(api, "command"), warning(at=here(county)))
    officer = who(api, "officer")
    path = f"/fraud/orders/{order_id}"
    call = {
        "result": "answered",
        "called": "person",
        "duration_min": "2.5",
        "client_key": "k-123456",
    }
    assert post(api, f"{path}/call", officer, **call).status_code == 303
    assert post(api, f"{path}/call", officer, **call).status_code == 303  # a double tap
    page = api.get(path, headers=officer)
    calls = re.search(r'<ul id="calls">(.*?)</ul>', page.text, re.S)
    assert calls is not None and "Answered · 2.5 min" in calls.group(1)
    assert 'data-status="contacted"' in page.text
    with unit_of_work(county) as s:
        assert s.scalars(
            select(FraudCall.duration_s).where(FraudCall.order_id == order_id)
        ).all() == [150]
    for wrong in (
        post(api, f"{path}/call", officer, result="maybe"),
        post(api, f"{path}/call", officer, result="busy", duration_min="inf"),
    ):
        assert wrong.status_code == 422 and "Check the form" in wrong.text
    assert post(api, f"{path}/call", officer, result="busy", duration_min="-1").status_code == 422


# --- the warning desk ------------------------------------------------------------------------


def test_the_desk_shows_the_queue_and_takes_a_typed_warning(
    api: TestClient, county: sessionmaker[Session]
) -> None:
    desk = who(api, "command")
    queued = push(api, desk, warning(1))  # no address, no position: nobody to give it to
    page = api.get("/fraud", headers=desk)
    assert page.status_code == 200
    queue = section(page.text, "queue")
    assert f'id="order-{queued}"' in queue and "138****5678" in queue
    assert f'id="order-{queued}"' not in section(page.text, "open-orders")
    typed = {"type": "scam_app", "level": "high", "name": "李四", "address": "幸福路9号"}
    r = post(api, "/fraud/new", desk, phone="13900002222", source="96110", **typed)
    assert r.status_code == 303
    made = int(r.headers["location"].rsplit("/", 1)[1])
    assert r.headers["location"] == f"/fraud/orders/{made}" and made != queued
    with unit_of_work(county) as s:
        w = s.scalars(select(FraudWarning).where(FraudWarning.order_id == made)).one()
        assert (w.channel, w.source, w.phone, w.level.value) == (
            Channel.MANUAL, "96110", "13900002222", "high",
        )  # fmt: skip
    assert api.get(r.headers["location"], headers=desk).status_code == 200
    wrong = post(api, "/fraud/new", desk, phone="12345", **typed)
    assert wrong.status_code == 422
    form = section(wrong.text, "new-warning")
    assert 'role="alert">phone: ' in form
    assert 'value="李四"' in form and 'value="12345"' in form and 'value="幸福路9号"' in form
    assert '<option value="scam_app" selected>' in form
    assert (
        post(api, "/fraud/new", who(api, "officer"), phone="13900003333", **typed).status_code
        == 403
    )


def test_the_assign_form_gives_a_queued_order_to_a_person(
    api: TestClient, county: sessionmaker[Session]
) -> None:
    spot = here(county)
    desk = who(api, "command")
    queued = push(api, desk, warning(1))
    path = f"/fraud/orders/{queued}"
    empty = post(api, f"{path}/assign", desk, person_id="")
    assert empty.status_code == 422 and "Choose the person" in empty.text
    assert (
        post(api, f"{path}/assign", who(api, "officer"), person_id=str(spot.officer_id)).status_code
        == 403
    )
    r = post(api, f"{path}/assign", desk, person_id=str(spot.officer_id))
    assert r.status_code == 303 and r.headers["location"] == path
    order = stored(county, queued)
    assert (order.status, order.assignee_id, order.grid_id) == (
        OrderStatus.OPEN, spot.officer_id, spot.grid.id,
    )  # fmt: skip
    assert order.match_detail["placed_by"] == "command"
    page = api.get(path, headers=desk)
    assert "placed by command" in page.text and 'data-status="open"' in page.text
    today = api.get("/today", headers=who(api, "officer"))
    assert f'href="/fraud/orders/{queued}"' in today.text


def test_the_reopen_form_needs_a_reason(api: TestClient, county: sessionmaker[Session]) -> None:
    order_id = push(api, who(api, "command"), warning(at=here(county)))
    r = api.post(
        f"/api/v1/fraud/orders/{order_id}/outcome",
        json={"outcome": "false_alarm"},
        headers=who(api, "officer"),
    )
    assert r.status_code == 200 and r.json()["status"] == "closed"
    desk = who(api, "command")
    path = f"/fraud/orders/{order_id}"
    assert f'action="{path}/reopen"' in api.get(path, headers=desk).text
    empty = post(api, f"{path}/reopen", desk, reason="")
    assert empty.status_code == 422 and "Give the reason for reopening" in empty.text
    assert post(api, f"{path}/reopen", who(api, "officer"), reason="x").status_code == 403
    assert post(api, f"{path}/reopen", desk, reason="wrong outcome").status_code == 303
    order = stored(county, order_id)
    assert (order.status, order.outcome) == (OrderStatus.OPEN, None)
    assert 'id="outcome-form"' in api.get(path, headers=desk).text


def test_the_officer_s_day_lists_the_fraud_task(
    api: TestClient, county: sessionmaker[Session]
) -> None:
    order_id = push(api, who(api, "command"), warning(at=here(county)))
    today = api.get("/today", headers=who(api, "officer"))
    assert today.status_code == 200
    assert f'href="/fraud/orders/{order_id}"' in today.text
    assert "Fraud warning: on a suspected scam call" in today.text
    assert "王**" in today.text and "138****5678" in today.text


# --- personal numbers ------------------------------------------------------------------------


def test_no_page_shows_a_full_personal_number_but_the_call_link(
    api: TestClient, county: sessionmaker[Session]
) -> None:
    spot = here(county)
    desk = who(api, "command")
    placed = push(api, desk, warning(1, at=spot))
    queued = push(api, desk, warning(2, phone="13900001111", id_number=id_number(8)))
    officer = who(api, "officer")
    post(api, f"/fraud/orders/{placed}/call", officer, result="no_answer", note="关机")
    order_pages = [
        (desk, f"/fraud/orders/{placed}", PHONE),
        (desk, f"/fraud/orders/{queued}", "13900001111"),
        (officer, f"/fraud/orders/{placed}", PHONE),
        (who(api, "auxiliary"), f"/fraud/orders/{placed}", PHONE),
        (who(api, "chief"), f"/fraud/orders/{queued}", "13900001111"),
    ]
    for headers, path, phone in order_pages:
        page = api.get(path, headers=headers)
        assert page.status_code == 200, path
        assert page.text.count(phone) == 1 and f'href="tel:{phone}"' in page.text, path
        assert ID_NUMBER not in page.text and id_number(8) not in page.text, path
    other_pages = [
        (desk, "/fraud"),
        (officer, "/today"),
        (who(api, "chief"), "/fraud"),
        (who(api, "chief"), "/fraud/figures"),
    ]
    for headers, path in other_pages:
        page = api.get(path, headers=headers)
        assert page.status_code == 200, path
        for number in (PHONE, "13900001111", ID_NUMBER, id_number(8)):
            assert number not in page.text, (path, number)
    denied = api.get(f"/fraud/orders/{placed}", headers=who(api, "gridworker"))
    assert denied.status_code == 403 and PHONE not in denied.text
