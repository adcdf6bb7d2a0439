"""Publicity through the app (SQLite county): the JSON API, the compose page with its
errors, one notice, the groups page and the public board without login."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.app import create_app
from fengqiao.notify.models import Notice, NoticeDelivery, ResidentGroup
from fengqiao.org.models import PoliceDistrict, PoliceGrid
from tests.conftest import DEMO_PASSWORD, bearer, login_token
from tests.notify.helpers import count, principal_of, running_bot

HTML = {"Accept": "text/html"}
TITLE = "防范冒充公检法诈骗"
BODY = "公检法机关不会通过电话办案，更没有“安全账户”。如有疑问请拨打110或96110。"


def db(client: TestClient) -> Session:
    session: Session = client.app.state.sessionmaker()  # type: ignore[attr-defined]
    return session


def web_login(client: TestClient, username: str) -> None:
    response = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "next": "/"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def my_grids(client: TestClient, username: str = "officer", n: int = 2) -> list[PoliceGrid]:
    with db(client) as session:
        principal = principal_of(session, username)
        assert principal.station_ids
        return list(
            session.scalars(
                select(PoliceGrid)
                .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
                .where(PoliceDistrict.station_id.in_(principal.station_ids), PoliceGrid.active())
                .order_by(PoliceGrid.code)
                .limit(n)
            )
        )


def add_group(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/notice-groups", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_the_api_publishes_lists_and_shows_deliveries(web: TestClient) -> None:
    officer = bearer(login_token(web, "officer"))
    one, two = my_grids(web)
    with running_bot() as bot:
        board = add_group(
            web, officer, grid_id=one.id, name="一组公告栏", channel="in_app", members=210
        )
        hook = add_group(
            web,
            officer,
            grid_id=two.id,
            name="二组微信群",
            channel="webhook",
            style="dingtalk",
            webhook_url=bot.url("/robot/send?access_token=SECRET-TOKEN"),
            secret="SEC-x",
            members=90,
        )
        assert hook["webhook_host"] == "127.0.0.1" and hook["signed"] is True
        assert "SECRET-TOKEN" not in str(hook) and "SEC-x" not in str(hook)
        refused = web.post(
            "/api/v1/notice-groups",
            json={
                "grid_id": one.id,
                "name": "外部群",
                "channel": "webhook",
                "webhook_url": "https://example.com/hook",
            },
            headers=officer,
        )
        assert refused.status_code == 422 and "qyapi.weixin.qq.com" in refused.json()["detail"]
        listed = web.get("/api/v1/notice-groups", params={"grid_id": one.id}, headers=officer)
        assert [g["id"] for g in listed.json()] == [board["id"]]
        patched = web.patch(
            f"/api/v1/notice-groups/{board['id']}", json={"members": 230}, headers=officer
        )
        assert patched.status_code == 200 and patched.json()["members"] == 230

        post = {"title": TITLE, "body": BODY, "all_grids": True, "client_key": "api-1"}
        first = web.post("/api/v1/notices", json=post, headers=officer)
        assert first.status_code == 201, first.text
        notice = first.json()
        assert notice["reach"] == {
            "groups": 2,
            "sent": 1,
            "failed": 0,
            "pending": 1,
            "reach": 230,
            "views": 0,
        }
        again = web.post("/api/v1/notices", json=post, headers=officer)
        assert again.json()["id"] == notice["id"]
        bad = web.post(
            "/api/v1/notices",
            json={"title": TITLE, "body": "事主手机13907314826", "grid_ids": [one.id]},
            headers=officer,
        )
        assert bad.status_code == 422 and "mobile number (139****4826)" in bad.json()["detail"]
        with db(web) as session:
            assert session.scalars(select(Notice)).all().__len__() == 1

        detail = web.get(f"/api/v1/notices/{notice['id']}", headers=officer).json()
        assert [(d["group_name"], d["status"]) for d in detail["deliveries"]] == [
            ("一组公告栏", "sent"),
            ("二组微信群", "pending"),
        ]
        assert web.get("/api/v1/notices", headers=officer).json()[0]["id"] == notice["id"]
        assert bot.received == []  # the sender is off in tests


def test_the_compose_page_publishes_and_keeps_the_input_on_errors(web: TestClient) -> None:
    officer = bearer(login_token(web, "officer"))
    one, two = my_grids(web)
    add_group(web, officer, grid_id=one.id, name="一组公告栏", channel="in_app", members=120)
    web_login(web, "officer")
    page = web.get("/notices", headers=HTML)
    assert page.status_code == 200
    assert 'id="notice-form"' in page.text and f'value="{one.id}"' in page.text
    assert 'name="all_grids"' in page.text
    key = page.text.split('name="client_key" value="')[1].split('"')[0]

    bad = web.post(
        "/notices",
        data={
            "title": TITLE,
            "body": "身份证420102199001011234",
            "grid_ids": [str(one.id)],
            "client_key": key,
        },
        headers=HTML,
    )
    assert bad.status_code == 422
    assert 'id="notice-error"' in bad.text and "ID-card number" in bad.text
    assert "420102199001011234" in bad.text  # kept in the form for the officer to edit
    assert f'value="{key}"' in bad.text
    assert "checked" in bad.text.split(f'name="grid_ids" value="{one.id}"')[1].split(">")[0]
    none = web.post(
        "/notices", data={"title": TITLE, "body": BODY, "grid_ids": [str(two.id)]}, headers=HTML
    )
    assert none.status_code == 422 and "resident group" in none.text

    done = web.post(
        "/notices",
        data={"title": TITLE, "body": BODY, "grid_ids": [str(one.id)], "client_key": key},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303
    target = done.headers["location"]
    again = web.post(
        "/notices",
        data={"title": TITLE, "body": BODY, "grid_ids": [str(one.id)], "client_key": key},
        headers=HTML,
        follow_redirects=False,
    )
    assert again.headers["location"] == target  # a double submit publishes once
    detail = web.get(target, headers=HTML)
    assert detail.status_code == 200
    assert "一组公告栏" in detail.text and 'data-status="sent"' in detail.text
    assert f'href="/board/{one.code}"' in detail.text
    listing = web.get("/notices", headers=HTML)
    assert TITLE in listing.text and f'href="{target}"' in listing.text


def test_the_groups_page_adds_edits_and_switches_off(web: TestClient) -> None:
    one, _two = my_grids(web)
    web_login(web, "chief")
    page = web.get("/notices/groups", headers=HTML)
    assert page.status_code == 200 and 'id="group-form"' in page.text
    assert "127.0.0.1" in page.text  # the allowed hosts are named
    refused = web.post(
        "/notices/groups",
        data={
            "grid_id": str(one.id),
            "name": "外部群",
            "channel": "webhook",
            "webhook_url": "http://example.com/hook",
            "secret": "keep-me-out",
        },
        headers=HTML,
    )
    assert refused.status_code == 422 and 'id="add-error"' in refused.text
    assert 'value="外部群"' in refused.text and 'value="http://example.com/hook"' in refused.text
    assert "keep-me-out" not in refused.text
    added = web.post(
        "/notices/groups",
        data={"grid_id": str(one.id), "name": "东区警民群", "channel": "in_app", "members": "300"},
        headers=HTML,
        follow_redirects=False,
    )
    assert added.status_code == 303
    with db(web) as session:
        group = session.scalars(select(ResidentGroup)).one()
    wrong = web.post(
        f"/notices/groups/{group.id}", data={"name": "x", "members": "12"}, headers=HTML
    )
    assert wrong.status_code == 422 and 'id="group-error"' in wrong.text
    renamed = web.post(
        f"/notices/groups/{group.id}",
        data={"name": "东区警民一群", "members": "320"},
        headers=HTML,
        follow_redirects=False,
    )
    assert renamed.status_code == 303
    off = web.post(
        f"/notices/groups/{group.id}", data={"active": "0"}, headers=HTML, follow_redirects=False
    )
    assert off.status_code == 303
    with db(web) as session:
        group = session.get_one(ResidentGroup, group.id)
        assert (group.name, group.members, group.active) == ("东区警民一群", 320, False)
    page = web.get("/notices/groups", headers=HTML)
    assert f'id="group-{group.id}" data-active="false"' in page.text


def test_the_board_is_public_and_counts_views(web: TestClient) -> None:
    officer = bearer(login_token(web, "officer"))
    (grid,) = my_grids(web, n=1)
    add_group(web, officer, grid_id=grid.id, name="公告栏", channel="in_app", members=150)
    notice = web.post(
        "/api/v1/notices",
        json={"title": TITLE, "body": BODY, "grid_ids": [grid.id]},
        headers=officer,
    ).json()
    web.cookies.clear()
    web.cookies.set("fq_lang", "en")
    for _ in range(3):
        board = web.get(f"/board/{grid.code}", headers=HTML)
        assert board.status_code == 200
    assert TITLE in board.text and "96110" in board.text
    assert 'href="/logout"' not in board.text and "officer" not in board.text
    assert web.get("/board/NO-SUCH", headers=HTML).status_code == 404
    with db(web) as session:
        views = session.scalars(
            select(NoticeDelivery.views).where(NoticeDelivery.notice_id == notice["id"])
        ).one()
        assert views == 3
        assert count(session, Notice) == 1


def test_roles_without_the_permission_get_403(web: TestClient) -> None:
    for username in ("auxiliary", "admin", "case"):
        headers = bearer(login_token(web, username))
        assert web.get("/api/v1/notices", headers=headers).status_code == 403
        assert web.get("/api/v1/notice-groups", headers=headers).status_code == 403
    web_login(web, "auxiliary")
    assert web.get("/notices", headers=HTML).status_code == 403
    assert web.get("/notices/groups", headers=HTML).status_code == 403
    web.cookies.clear()
    login = web.get("/notices", headers=HTML, follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"].startswith("/login")


def test_the_app_runs_the_sender_and_finishes_its_round_on_shutdown(web: TestClient) -> None:
    """The sender job of the app's lifespan (off in the other tests)."""
    officer = bearer(login_token(web, "officer"))
    (grid,) = my_grids(web, n=1)
    add_group(web, officer, grid_id=grid.id, name="本地通道", channel="local")
    settings = web.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"notify_sender": True, "notify_check_seconds": 0.05}
    )
    app = create_app(settings)
    app.state.bus.start = lambda: None
    with TestClient(app) as client:
        headers = bearer(login_token(client, "officer"))
        posted = client.post(
            "/api/v1/notices",
            json={"title": TITLE, "body": BODY, "grid_ids": [grid.id]},
            headers=headers,
        )
        assert posted.status_code == 201
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            detail = client.get(f"/api/v1/notices/{posted.json()['id']}", headers=headers)
            if detail.json()["notice"]["reach"]["sent"] == 1:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the sender did not send the notice")
    sink = Path(settings.notify_sink_dir) / "notices.jsonl"
    assert TITLE in sink.read_text("utf-8")
