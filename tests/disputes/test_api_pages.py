"""The dispute API and pages through the app on the demo county: registering (a retry
answers the same dispute), masked parties, refusals with a clear message, who may do
what, converting a call, escalating, outcomes and re-opening, the agreement's PDF and
signed scan, the figures, the pages in Chinese, a refused form, and the audit of reads.

The demo may hold disputes of its own: lists are never assumed empty."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader
from shapely import point_on_surface
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fengqiao.accounts.models import UserAccount
from fengqiao.audit.models import AuditAction, AuditEvent
from fengqiao.disputes.models import Dispute, DisputeEvent, MediationAgreement
from fengqiao.org.models import GridAssignment, PoliceGrid
from fengqiao.web import LANG_COOKIE
from tests.conftest import bearer, login_token

HTML = {"Accept": "text/html"}
PHONE, OTHER_PHONE = "13812345678", "13987654321"
TERMS = ["李四赔偿张三两千元", "双方今后互不追究"]


# --- helpers ---------------------------------------------------------------------------


def db(client: TestClient) -> Session:
    """A session on the app's database (use it in a ``with`` block)."""
    session: Session = client.app.state.sessionmaker()  # type: ignore[attr-defined]
    return session


def who(client: TestClient, username: str) -> dict[str, str]:
    return bearer(login_token(client, username))


def in_english(client: TestClient, username: str) -> dict[str, str]:
    """The account's token with the English language chosen (messages are checked in it)."""
    return {**who(client, username), "Cookie": f"{LANG_COOKIE}=en"}


def page(client: TestClient, username: str) -> dict[str, str]:
    return {**who(client, username), **HTML}


def common_grid(client: TestClient) -> int:
    """A grid both the auxiliary and the grid worker serve: every account may see it."""
    with db(client) as session:

        def grids_of(username: str) -> set[int]:
            user = session.scalars(
                select(UserAccount).where(UserAccount.username == username)
            ).one()
            return set(
                session.scalars(
                    select(GridAssignment.grid_id).where(GridAssignment.person_id == user.person_id)
                )
            )

        common = grids_of("auxiliary") & grids_of("gridworker")
    assert common
    return min(common)


def body(grid_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "type_code": "neighbour",
        "title": "楼上漏水纠纷",
        "summary": "楼上漏水，楼下要求赔偿",
        "place": "城关镇建设路12号",
        "grid_id": grid_id,
        "parties": [
            {"side": "applicant", "name": "张三", "phone": PHONE},
            {"side": "respondent", "name": "李四", "phone": OTHER_PHONE},
        ],
        **extra,
    }


def register(client: TestClient, headers: dict[str, str], grid_id: int, **extra: Any) -> int:
    r = client.post("/api/v1/disputes", json=body(grid_id, **extra), headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def roster(client: TestClient) -> tuple[int, int]:
    """A grid worker for the grid level and a lawyer for the station, added by the chief."""
    chief = who(client, "chief")
    ids = []
    for name, kind in (("王网格", "grid_worker"), ("赵律师", "lawyer")):
        r = client.post(
            "/api/v1/disputes/mediators",
            json={"name": name, "kind": kind, "weekdays": list(range(7))},
            headers=chief,
        )
        assert r.status_code == 201, r.text
        ids.append(int(r.json()["id"]))
    return ids[0], ids[1]


def mediate_to_agreement(client: TestClient, headers: dict[str, str], dispute: int) -> int:
    """Grid mediator, a session, escalation to the station, its mediator, the agreement."""
    grid_mediator, lawyer = roster(client)
    for mediator in (grid_mediator,):
        r = client.post(
            f"/api/v1/disputes/{dispute}/mediators",
            json={"mediator_id": mediator, "lead": True},
            headers=headers,
        )
        assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/disputes/{dispute}/sessions", json={"notes": "第一次"}, headers=headers
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"/api/v1/disputes/{dispute}/escalate",
        json={"to": "station", "reason": "网格调解未果"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/disputes/{dispute}/mediators",
        json={"mediator_id": lawyer, "lead": True},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    r = client.post(
        f"/api/v1/disputes/{dispute}/agreement",
        json={"facts": "楼上漏水致楼下受损", "terms": TERMS},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["pdf"] == f"/api/v1/disputes/agreements/{r.json()['id']}/pdf"
    return int(r.json()["id"])


def pdf_text(data: bytes) -> str:
    return "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (250, 250, 250)).save(buf, "PNG")
    return buf.getvalue()


def events(client: TestClient, dispute: int) -> list[str]:
    with db(client) as session:
        return list(
            session.scalars(
                select(DisputeEvent.kind)
                .where(DisputeEvent.dispute_id == dispute)
                .order_by(DisputeEvent.id)
            )
        )


# --- registering and reading -------------------------------------------------------------


def test_register_then_the_same_client_key_answers_the_same_dispute(client: TestClient) -> None:
    grid = common_grid(client)
    officer = who(client, "officer")
    first = client.post("/api/v1/disputes", json=body(grid, client_key="api-k1"), headers=officer)
    assert first.status_code == 201, first.text
    made = first.json()
    assert (made["status"], made["level"], made["grid_id"]) == ("registered", "grid", grid)
    assert made["number"].startswith("JF") and made["type_code"] == "neighbour"
    again = client.post("/api/v1/disputes", json=body(grid, client_key="api-k1"), headers=officer)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == made["id"] and again.json()["number"] == made["number"]
    with db(client) as session:
        assert session.scalar(select(func.count()).where(Dispute.client_key == "api-k1")) == 1
    listed = client.get("/api/v1/disputes", headers=officer)
    assert listed.status_code == 200
    assert [d["id"] for d in listed.json()].count(made["id"]) == 1


def test_parties_leave_the_api_masked(client: TestClient) -> None:
    officer = who(client, "officer")
    dispute = register(client, officer, common_grid(client))
    r = client.get(f"/api/v1/disputes/{dispute}", headers=officer)
    assert r.status_code == 200, r.text
    applicant, respondent = r.json()["parties"]
    assert (applicant["side"], applicant["name"], applicant["phone"]) == (
        "applicant",
        "张*",
        "138****5678",
    )
    assert (respondent["name"], respondent["phone"]) == ("李*", "139****4321")
    listed = client.get("/api/v1/disputes", headers=officer)
    for text in (r.text, listed.text):
        assert PHONE not in text and OTHER_PHONE not in text


def test_an_untitled_dispute_does_not_reveal_a_party_s_full_name(client: TestClient) -> None:
    officer = who(client, "officer")
    dispute = register(client, officer, common_grid(client), title="")
    one = client.get(f"/api/v1/disputes/{dispute}", headers=officer)
    listed = client.get("/api/v1/disputes", headers=officer)
    shown = client.get(f"/disputes/{dispute}", headers=page(client, "officer"))
    assert one.status_code == listed.status_code == shown.status_code == 200
    assert one.json()["title"]  # a title is made up (from the kind and the place)
    for text in (one.text, listed.text, shown.text):
        assert "张三" not in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"parties": [{"side": "applicant", "name": "张三", "phone": "12345"}]}, "Party 1: "),
        ({"type_code": "quarrel"}, "Unknown kind of dispute “quarrel”"),
        ({"parties": []}, "Name at least one party"),
    ],
)
def test_a_wrong_registration_is_refused_with_a_clear_message(
    client: TestClient, change: dict[str, Any], message: str
) -> None:
    grid = common_grid(client)
    with db(client) as session:
        before = session.scalar(select(func.count(Dispute.id)))
    r = client.post(
        "/api/v1/disputes", json=body(grid, **change), headers=in_english(client, "officer")
    )
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail.startswith(message), detail
    chinese = client.post(
        "/api/v1/disputes", json=body(grid, **change), headers=who(client, "officer")
    )
    assert chinese.status_code == 422
    assert re.search(r"[\u4e00-\u9fff]", chinese.json()["detail"])  # Chinese by default
    if "phone" in str(change):
        assert "12345" in detail  # the wrong number is named
    if "type_code" in change:
        assert "neighbour" in detail  # and the kinds that exist are listed
    with db(client) as session:
        assert session.scalar(select(func.count(Dispute.id))) == before


def test_the_legal_supervisor_reads_but_does_not_register_and_admin_sees_nothing(
    client: TestClient,
) -> None:
    grid = common_grid(client)
    dispute = register(client, who(client, "officer"), grid)
    legal = who(client, "legal")
    assert client.post("/api/v1/disputes", json=body(grid), headers=legal).status_code == 403
    assert client.get(f"/api/v1/disputes/{dispute}", headers=legal).status_code == 200
    assert (
        client.post(
            f"/api/v1/disputes/{dispute}/escalate",
            json={"to": "station", "reason": "x"},
            headers=legal,
        ).status_code
        == 403
    )
    admin = who(client, "admin")
    assert client.get("/api/v1/disputes", headers=admin).status_code == 403
    assert client.get(f"/api/v1/disputes/{dispute}", headers=admin).status_code == 403
    assert client.get(f"/disputes/{dispute}", headers={**admin, **HTML}).status_code == 403


# --- converting a call -----------------------------------------------------------------


def test_a_call_converts_once(client: TestClient) -> None:
    grid = common_grid(client)
    with db(client) as session:
        point = point_on_surface(session.get_one(PoliceGrid, grid).geometry)
    chief = who(client, "chief")
    call = client.post(
        "/api/v1/incidents",
        json={
            "channel": "transfer_110",
            "category_code": "0601",
            "description": "邻居装修噪音，双方争吵",
            "address": "城关镇建设路14号",
            "reporter_name": "王建国",
            "reporter_phone": "13911112222",
            "lon": round(point.x, 6),
            "lat": round(point.y, 6),
        },
        headers=chief,
    )
    assert call.status_code == 201, call.text
    incident = call.json()["id"]
    officer = who(client, "officer")
    first = client.post(f"/api/v1/disputes/from-incident/{incident}", headers=officer)
    assert first.status_code == 201, first.text
    made = first.json()
    assert made["incident_id"] == incident and made["type_code"] == "neighbour"
    assert made["grid_id"] == grid and made["status"] == "registered"
    assert made["parties"] == [
        {
            "side": "applicant",
            "name": "王**",
            "phone": "139****2222",
            "id_number": "",
            "vulnerable": False,
        }
    ]
    again = client.post(f"/api/v1/disputes/from-incident/{incident}", headers=officer)
    assert again.status_code == 200 and again.json()["id"] == made["id"]
    with db(client) as session:
        assert session.scalar(select(func.count()).where(Dispute.incident_id == incident)) == 1
    refused = client.post(
        f"/api/v1/disputes/from-incident/{incident}", headers=who(client, "legal")
    )
    assert refused.status_code == 403


# --- mediating through the API -----------------------------------------------------------


def test_escalate_outcome_and_reopen_through_the_api(client: TestClient) -> None:
    officer = in_english(client, "officer")
    dispute = register(client, officer, common_grid(client))
    grid_mediator, _lawyer = roster(client)
    assigned = client.post(
        f"/api/v1/disputes/{dispute}/mediators",
        json={"mediator_id": grid_mediator, "lead": True},
        headers=officer,
    )
    assert (assigned.json()["status"], assigned.json()["level"]) == ("mediating", "grid")
    no_reason = client.post(
        f"/api/v1/disputes/{dispute}/escalate",
        json={"to": "station", "reason": ""},
        headers=officer,
    )
    assert no_reason.status_code == 422
    up = client.post(
        f"/api/v1/disputes/{dispute}/escalate",
        json={"to": "station", "reason": "涉及金额较大"},
        headers=officer,
    )
    assert up.status_code == 200, up.text
    assert (up.json()["status"], up.json()["level"]) == ("mediating", "station")
    down = client.post(
        f"/api/v1/disputes/{dispute}/escalate", json={"to": "grid", "reason": "x"}, headers=officer
    )
    assert down.status_code == 422 and "not down" in down.json()["detail"]
    written = client.post(
        f"/api/v1/disputes/{dispute}/outcome", json={"outcome": "agreement"}, headers=officer
    )
    assert written.status_code == 422  # a written agreement is drawn up, not just recorded
    failed = client.post(
        f"/api/v1/disputes/{dispute}/outcome", json={"outcome": "failed"}, headers=officer
    )
    assert failed.status_code == 422  # failing needs a note on where the parties went
    settled = client.post(
        f"/api/v1/disputes/{dispute}/outcome",
        json={"outcome": "reconciled", "note": "当面和解"},
        headers=officer,
    )
    assert settled.status_code == 200, settled.text
    assert (settled.json()["status"], settled.json()["outcome"]) == ("resolved", "reconciled")
    revisits = client.get(f"/api/v1/disputes/{dispute}/follow-ups", headers=officer).json()
    assert revisits and {f["status"] for f in revisits} == {"pending"}
    closed = client.post(
        f"/api/v1/disputes/{dispute}/sessions", json={"notes": "再谈"}, headers=officer
    )
    assert closed.status_code == 409
    reopened = client.post(
        f"/api/v1/disputes/{dispute}/reopen", json={"reason": "又吵起来了"}, headers=officer
    )
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "mediating" and reopened.json()["outcome"] is None
    assert reopened.json()["reopen_count"] == 1 and reopened.json()["level"] == "station"
    revisits = client.get(f"/api/v1/disputes/{dispute}/follow-ups", headers=officer).json()
    assert {f["status"] for f in revisits} == {"cancelled"}
    twice = client.post(
        f"/api/v1/disputes/{dispute}/reopen", json={"reason": "again"}, headers=officer
    )
    assert twice.status_code == 409
    assert events(client, dispute) == [
        "registered",
        "mediator",
        "escalated",
        "outcome",
        "revisits",
        "reopened",
    ]


def test_agreement_pdf_and_signed_scan(client: TestClient) -> None:
    officer = in_english(client, "officer")
    dispute = register(client, officer, common_grid(client))
    agreement = mediate_to_agreement(client, officer, dispute)
    state = client.get(f"/api/v1/disputes/{dispute}", headers=officer).json()
    assert (state["status"], state["outcome"], state["level"]) == (
        "resolved",
        "agreement",
        "station",
    )

    pdf = client.get(f"/api/v1/disputes/agreements/{agreement}/pdf", headers=officer)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert pdf.content.startswith(b"%PDF")
    text = pdf_text(pdf.content)
    assert "调解协议书" in text and all(term in text for term in TERMS)
    assert "张三" in text and "李四" in text  # the signed paper carries the full names
    # The page's download link answers the same document.
    link = client.get(f"/disputes/agreements/{agreement}/pdf", headers=page(client, "officer"))
    assert link.status_code == 200 and link.content.startswith(b"%PDF")
    assert (
        client.get(f"/api/v1/disputes/agreements/{agreement}/pdf", headers=who(client, "legal"))
    ).status_code == 403

    scan = client.post(
        f"/api/v1/disputes/agreements/{agreement}/scan",
        files={"file": ("signed.png", png(), "image/png")},
        headers=officer,
    )
    assert scan.status_code == 200, scan.text
    assert scan.json()["bytes"] == len(png()) and len(scan.json()["sha256"]) == 64
    text_file = client.post(
        f"/api/v1/disputes/agreements/{agreement}/scan",
        files={"file": ("signed.txt", b"signed by both parties", "text/plain")},
        headers=officer,
    )
    assert text_file.status_code == 422
    assert "PDF, JPEG or PNG" in text_file.json()["detail"]
    with db(client) as session:
        row = session.get_one(MediationAgreement, agreement)
        assert row.scan_content_type == "image/png" and row.scan_data == png()
    stored = client.get(f"/disputes/agreements/{agreement}/scan", headers=page(client, "officer"))
    assert stored.status_code == 200 and stored.content == png()


def test_figures_by_type_and_month_and_a_wrong_grouping(client: TestClient) -> None:
    officer = who(client, "officer")
    register(client, officer, common_grid(client))
    by_type = client.get("/api/v1/disputes/figures?by=type", headers=officer)
    assert by_type.status_code == 200, by_type.text
    figures = by_type.json()
    assert figures["by"] == "type" and figures["total"]["found"] >= 1
    assert figures["groups"]["neighbour"]["found"] >= 1
    assert sum(g["found"] for g in figures["groups"].values()) == figures["total"]["found"]
    by_month = client.get("/api/v1/disputes/figures?by=month", headers=officer)
    assert by_month.status_code == 200, by_month.text
    assert all(re.fullmatch(r"\d{4}-\d{2}", k) for k in by_month.json()["groups"])
    assert by_month.json()["total"] == figures["total"]
    wrong = client.get("/api/v1/disputes/figures?by=colour", headers=officer)
    assert wrong.status_code == 422 and "level, type, grid, station, month" in wrong.text
    page_wrong = client.get("/disputes/figures?by=colour", headers=page(client, "officer"))
    assert page_wrong.status_code == 422 and 'role="alert"' in page_wrong.text


# --- the pages ---------------------------------------------------------------------------


def test_pages_render_in_chinese_by_default(client: TestClient) -> None:
    officer = who(client, "officer")
    dispute = register(client, officer, common_grid(client))
    headers = page(client, "officer")
    number = client.get(f"/api/v1/disputes/{dispute}", headers=officer).json()["number"]
    for path, heading, marker in (
        ("/disputes", "矛盾纠纷", 'id="disputes"'),
        ("/disputes/new", "登记纠纷", 'name="client_key"'),
        ("/disputes/mediators", "调解员", "<table"),
        ("/disputes/figures", "纠纷统计", "<table"),
        (f"/disputes/{dispute}", f"纠纷{number}", 'id="levels" data-level="grid"'),
    ):
        r = client.get(path, headers=headers)
        assert r.status_code == 200, f"{path}: {r.text[:300]}"
        assert r.headers["content-type"].startswith("text/html")
        assert '<html lang="zh-CN">' in r.text, path
        h1 = re.search(r"<h1>(.*?)(?:<span|</h1>)", r.text, re.S)
        assert h1 is not None and h1.group(1).strip() == heading, path
        assert marker in r.text, path
    shown = client.get(f"/disputes/{dispute}", headers=headers).text
    assert "邻里纠纷" in shown and "Neighbours" not in shown  # the kind in Chinese
    for section in ("summary", "parties", "risk", "mediators", "sessions", "timeline"):
        assert f'id="{section}"' in shown
    assert 'id="status"' in shown and "dstatus-registered" in shown
    assert '<li data-kind="registered">' in shown
    assert "张*" in shown and PHONE not in shown
    listed = client.get("/disputes", headers=headers).text
    assert f'id="dispute-{dispute}"' in listed and "邻里纠纷" in listed
    english = client.get(f"/disputes/{dispute}", headers={**headers, "Cookie": f"{LANG_COOKIE}=en"})
    assert english.status_code == 200
    assert '<html lang="en">' in english.text and f"Dispute {number}" in english.text
    assert "Neighbours" in english.text


def test_a_refused_escalation_shows_the_page_again_and_stores_nothing(client: TestClient) -> None:
    officer = who(client, "officer")
    dispute = register(client, officer, common_grid(client))
    before = events(client, dispute)
    r = client.post(
        f"/disputes/{dispute}/escalate",
        data={"to": "station", "reason": "   "},
        headers=page(client, "officer"),
        follow_redirects=False,
    )
    assert r.status_code == 422, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in r.text and 'id="escalate-form"' in r.text
    assert 'id="levels" data-level="grid"' in r.text
    with db(client) as session:
        assert session.get_one(Dispute, dispute).level.value == "grid"
    assert events(client, dispute) == before
    # The same form with a reason goes through (303 back to the dispute).
    ok = client.post(
        f"/disputes/{dispute}/escalate",
        data={"to": "station", "reason": "网格调解未果"},
        headers=page(client, "officer"),
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == f"/disputes/{dispute}"
    assert events(client, dispute)[-1] == "escalated"


def test_a_refused_agreement_form_keeps_what_was_typed(client: TestClient) -> None:
    officer = who(client, "officer")
    dispute = register(client, officer, common_grid(client))
    r = client.post(
        f"/disputes/{dispute}/agreement",
        data={"facts": "漏水的事实", "terms": "赔偿两千元"},
        headers=page(client, "officer"),
        follow_redirects=False,
    )
    # No mediator yet at this level: refused, the page comes back with the text kept.
    assert r.status_code == 422, r.text[:300]
    assert 'role="alert"' in r.text and "赔偿两千元" in r.text
    with db(client) as session:
        assert (
            session.scalar(
                select(func.count(MediationAgreement.id)).where(
                    MediationAgreement.dispute_id == dispute
                )
            )
            == 0
        )
        assert session.get_one(Dispute, dispute).status.value == "registered"


# --- the audit ---------------------------------------------------------------------------


def test_reading_a_dispute_is_audited(client: TestClient) -> None:
    officer = who(client, "officer")
    dispute = register(client, officer, common_grid(client))

    def reads() -> list[tuple[str | None, str | None]]:
        with db(client) as session:
            return [
                (row.username, row.object_id)
                for row in session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.object_type == "dispute",
                        AuditEvent.object_id == str(dispute),
                        AuditEvent.action == AuditAction.READ,
                    )
                )
            ]

    assert reads() == []
    assert (
        client.get(f"/api/v1/disputes/{dispute}", headers=who(client, "legal")).status_code == 200
    )
    assert reads() == [("legal", str(dispute))]
    assert client.get(f"/disputes/{dispute}", headers=page(client, "officer")).status_code == 200
    assert reads() == [("legal", str(dispute)), ("officer", str(dispute))]
