from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.accounts.models import UserAccount
from fengqiao.db import unit_of_work
from fengqiao.org.models import GridAssignment, PersonKind
from tests.conftest import bearer, login_token
from tests.fraud.helpers import SYSTEM


def test_flow(api: TestClient, county: sessionmaker[Session]) -> None:
    from fengqiao.registry import addresses

    with unit_of_work(county) as s:
        officer = s.scalars(select(UserAccount).where(UserAccount.username == "officer")).one()
        grid_id = s.scalars(
            select(GridAssignment.grid_id).where(
                GridAssignment.person_id == officer.person_id,
                GridAssignment.role == PersonKind.OFFICER,
            )
        ).first()
        from fengqiao.org.models import PoliceGrid
        from tests.incidents.helpers import inside

        lon, lat = inside(s.get(PoliceGrid, grid_id))
        addresses.add_address(s, SYSTEM, text="幸福路12号3栋2单元301室", lon=lon, lat=lat)
    desk = bearer(login_token(api, "command"))
    r = api.post(
        "/api/v1/fraud/warnings",
        json={
            "external_id": "W1",
            "type": "scam_call",
            "level": "urgent",
            "name": "王小明",
            "phone": "13812345678",
            "address": "幸福路12号3栋2单元301",
        },
        headers=desk,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    print(body)
    r2 = api.post(
        "/api/v1/fraud/warnings",
        json={
            "external_id": "W1",
            "type": "scam_call",
            "level": "urgent",
            "name": "王小明",
            "phone": "13812345678",
            "address": "幸福路12号3栋2单元301",
        },
        headers=desk,
    )
    assert r2.status_code == 200 and r2.json()["duplicate"]
    off = bearer(login_token(api, "officer"))
    page = api.get("/today", headers=off)
    assert f"/fraud/orders/{body['order_id']}" in page.text
    page = api.get(f"/fraud/orders/{body['order_id']}", headers=off)
    assert page.status_code == 200, page.text[:3000]
    r = api.post(
        f"/api/v1/fraud/orders/{body['order_id']}/outcome",
        json={"outcome": "dissuaded", "method": "phone", "money_saved": 20000},
        headers=off,
    )
    assert r.status_code == 200, r.text
    chief = bearer(login_token(api, "chief"))
    fig = api.get("/api/v1/fraud/figures?by=station", headers=chief)
    print(fig.json())
    assert fig.json()["total"]["money_saved"] == 20000
    for path in ("/fraud", "/fraud/figures", f"/fraud/orders/{body['order_id']}"):
        p = api.get(path, headers=chief)
        assert p.status_code == 200, (path, p.text[:2000])
