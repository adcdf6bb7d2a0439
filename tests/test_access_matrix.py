"""Who may open what: every role against every page and API endpoint, plus data scope.

The expected statuses are written out by hand from the POLICY in ``fengqiao.auth``
(not computed from it), so that any change of policy shows up here as a failing cell.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fengqiao.accounts.models import Role, UserAccount
from fengqiao.audit.models import AuditAction, AuditEvent
from fengqiao.demo.build import DEMO_ACCOUNTS
from fengqiao.org.models import GridAssignment, PoliceDistrict, PoliceGrid, Station
from tests.conftest import DEMO_PASSWORD, bearer, login_token

HTML = {"Accept": "text/html"}
GRID = "{grid}"  # placeholder in a path: a grid every demo account may see

# One column per demo account; the demo has one account per role.
ROLES = ("admin", "chief", "command", "officer", "auxiliary", "case", "legal", "gridworker")
OK, NO = 200, 403

#                               admin chief command officer auxil case legal gridworker
PAGES: dict[str, tuple[int, ...]] = {
    "/":                        (OK,  OK,   OK,     OK,     OK,   OK,  OK,   OK),
    "/grids":                   (OK,  OK,   OK,     OK,     OK,   OK,  OK,   OK),
    f"/grids/{GRID}/card":      (OK,  OK,   OK,     OK,     OK,   OK,  OK,   OK),
    "/personnel":               (OK,  OK,   OK,     OK,     OK,   OK,  OK,   NO),
    "/admin/users":             (OK,  NO,   NO,     NO,     NO,   NO,  NO,   NO),
    "/audit":                   (OK,  NO,   NO,     NO,     NO,   NO,  OK,   NO),
    "/account/password":        (OK,  OK,   OK,     OK,     OK,   OK,  OK,   OK),
}

#                               admin chief command officer auxil case legal gridworker
API: dict[str, tuple[int, ...]] = {
    "/api/v1/stations":         (OK,  OK,   OK,     OK,     OK,   OK,  OK,   OK),
    "/api/v1/grids":            (OK,  OK,   OK,     OK,     OK,   OK,  OK,   OK),
    "/api/v1/grids.geojson":    (OK,  OK,   OK,     OK,     OK,   OK,  OK,   OK),
    f"/api/v1/grids/{GRID}":    (OK,  OK,   OK,     OK,     OK,   OK,  OK,   OK),
    "/api/v1/personnel":        (OK,  OK,   OK,     OK,     OK,   OK,  OK,   NO),
    "/api/v1/users":            (OK,  NO,   NO,     NO,     NO,   NO,  NO,   NO),
    "/api/v1/audit":            (OK,  NO,   NO,     NO,     NO,   NO,  OK,   NO),
    "/api/v1/audit/verify":     (OK,  NO,   NO,     NO,     NO,   NO,  OK,   NO),
    "/api/v1/me":               (OK,  OK,   OK,     OK,     OK,   OK,  OK,   OK),
}


def _cells(table: dict[str, tuple[int, ...]]) -> list[Any]:
    return [
        pytest.param(path, user, row[i], id=f"{path}-{user}")
        for path, row in table.items()
        for i, user in enumerate(ROLES)
    ]


# --- helpers ---------------------------------------------------------------------------

def db(client: TestClient) -> Session:
    """A session on the app's database; use it in a ``with`` block (SQLite locks on write)."""
    session: Session = client.app.state.sessionmaker()  # type: ignore[attr-defined]
    return session


def web_login(client: TestClient, username: str) -> None:
    """Log in through the form; the session cookie stays in the client's cookie jar."""
    response = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "next": "/"},
        headers=HTML, follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert client.cookies.get("fq_session"), "the login did not set the session cookie"


def common_grid_id(client: TestClient) -> int:
    """A grid that both the auxiliary and the grid worker serve: everyone's scope holds it."""
    with db(client) as session:
        def grids_of(username: str) -> set[int]:
            user = session.scalar(select(UserAccount).where(UserAccount.username == username))
            assert user is not None and user.person_id is not None
            return set(session.scalars(
                select(GridAssignment.grid_id).where(GridAssignment.person_id == user.person_id)
            ))

        common = grids_of("auxiliary") & grids_of("gridworker")
    assert common, "the demo should give the auxiliary and the grid worker a common grid"
    return min(common)


def fill(path: str, client: TestClient) -> str:
    return path.replace(GRID, str(common_grid_id(client))) if GRID in path else path


def audit_count(client: TestClient, **where: Any) -> int:
    with db(client) as session:
        query = select(func.count()).select_from(AuditEvent)
        for column, value in where.items():
            query = query.where(getattr(AuditEvent, column) == value)
        return session.scalar(query) or 0


# --- the matrix ------------------------------------------------------------------------

def test_matrix_has_one_column_per_role() -> None:
    """A new role must get its own column here before the matrix can pass."""
    assert {DEMO_ACCOUNTS[user][0] for user in ROLES} == set(Role)
    assert all(len(row) == len(ROLES) for row in (*PAGES.values(), *API.values()))


@pytest.mark.parametrize(("path", "username", "expected"), _cells(PAGES))
def test_page_access(client: TestClient, path: str, username: str, expected: int) -> None:
    url = fill(path, client)
    web_login(client, username)
    response = client.get(url, headers=HTML, follow_redirects=False)
    assert response.status_code == expected, f"{username} GET {url}: {response.text[:300]}"
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(("path", "username", "expected"), _cells(API))
def test_api_access(client: TestClient, path: str, username: str, expected: int) -> None:
    url = fill(path, client)
    token = login_token(client, username)
    response = client.get(url, headers=bearer(token))
    assert response.status_code == expected, f"{username} GET {url}: {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/json")


# --- without logging in ----------------------------------------------------------------

@pytest.mark.parametrize("path", list(PAGES))
def test_page_without_login_redirects_to_login(client: TestClient, path: str) -> None:
    url = fill(path, client)
    response = client.get(url, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", list(API))
def test_api_without_login_is_401(client: TestClient, path: str) -> None:
    url = fill(path, client)
    response = client.get(url)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/grids"])
def test_api_with_unknown_token_is_401(client: TestClient, path: str) -> None:
    response = client.get(path, headers=bearer("not-a-token"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


# --- data scope ------------------------------------------------------------------------

def api_get(client: TestClient, username: str, path: str) -> Response:
    return client.get(path, headers=bearer(login_token(client, username)))


def grids_of_station(session: Session, code: str | None = None) -> set[int]:
    query = select(PoliceGrid.id).join(PoliceDistrict).join(Station)
    if code is not None:
        query = query.where(Station.code == code)
    return set(session.scalars(query))


def test_grid_worker_lists_only_his_own_grids(client: TestClient) -> None:
    me = api_get(client, "gridworker", "/api/v1/me").json()
    with db(client) as session:
        assigned = set(session.scalars(
            select(GridAssignment.grid_id).where(GridAssignment.person_id == me["person_id"])
        ))
        station_grids = grids_of_station(session, "QX-CG")
    assert assigned, "the demo grid worker should serve at least one grid"
    assert assigned < station_grids  # so listing the whole station would be caught

    listed = {g["id"] for g in api_get(client, "gridworker", "/api/v1/grids").json()}
    on_map = {f["id"] for f in api_get(client, "gridworker", "/api/v1/grids.geojson").json()["features"]}
    assert listed == assigned
    assert on_map == assigned
    assert set(me["scope_grid_ids"]) == assigned


def test_officer_sees_only_the_grids_of_his_station(client: TestClient) -> None:
    grids = api_get(client, "officer", "/api/v1/grids").json()
    with db(client) as session:
        expected = grids_of_station(session, "QX-CG")
    assert {g["station_code"] for g in grids} == {"QX-CG"}
    assert {g["id"] for g in grids} == expected
    stations = api_get(client, "officer", "/api/v1/stations").json()
    assert [s["code"] for s in stations] == ["QX-CG"]


def test_admin_sees_all_five_stations_and_every_grid(client: TestClient) -> None:
    stations = api_get(client, "admin", "/api/v1/stations").json()
    grids = api_get(client, "admin", "/api/v1/grids").json()
    with db(client) as session:
        every_grid = grids_of_station(session)
    assert len(stations) == 5
    assert len({g["station_code"] for g in grids}) == 5
    assert {g["id"] for g in grids} == every_grid


def test_command_room_outside_a_joint_station_sees_only_its_station(client: TestClient) -> None:
    with db(client) as session:
        station = session.scalar(select(Station).where(Station.code == "QX-CG"))
        assert station is not None and station.joint_station_id is None
    stations = api_get(client, "command", "/api/v1/stations").json()
    assert [s["code"] for s in stations] == ["QX-CG"]


def test_grid_outside_the_grid_workers_scope_is_404(client: TestClient) -> None:
    token = login_token(client, "gridworker")
    me = client.get("/api/v1/me", headers=bearer(token)).json()
    with db(client) as session:
        own = set(me["scope_grid_ids"])
        same_station_other = min(grids_of_station(session, "QX-CG") - own)
        other_station = min(grids_of_station(session, "QX-LM"))
    for grid_id in (same_station_other, other_station):
        response = client.get(f"/api/v1/grids/{grid_id}", headers=bearer(token))
        assert response.status_code == 404, grid_id
    # ... while the officer of the station does see the first one
    officer = api_get(client, "officer", f"/api/v1/grids/{same_station_other}")
    assert officer.status_code == 200


def test_grid_card_outside_scope_is_404(client: TestClient) -> None:
    with db(client) as session:
        other_station = min(grids_of_station(session, "QX-LM"))
    web_login(client, "officer")
    response = client.get(f"/grids/{other_station}/card", headers=HTML)
    assert response.status_code == 404


@pytest.mark.parametrize(("username", "path"), [
    ("gridworker", "/api/v1/personnel"),
    ("officer", "/api/v1/audit"),
    ("legal", "/api/v1/users"),
])
def test_denied_api_request_is_audited(client: TestClient, username: str, path: str) -> None:
    token = login_token(client, username)
    before = audit_count(client, action=AuditAction.ACCESS_DENIED)
    response = client.get(path, headers=bearer(token))
    assert response.status_code == 403
    with db(client) as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.ACCESS_DENIED)
            .order_by(AuditEvent.id)
        ).all()
    assert len(rows) == before + 1
    assert (rows[-1].username, rows[-1].object_id, rows[-1].outcome) == (username, path, "denied")


def test_denied_page_request_is_audited(client: TestClient) -> None:
    web_login(client, "gridworker")
    before = audit_count(client, action=AuditAction.ACCESS_DENIED, object_id="/personnel")
    assert client.get("/personnel", headers=HTML).status_code == 403
    assert audit_count(client, action=AuditAction.ACCESS_DENIED, object_id="/personnel") == before + 1


def test_allowed_request_writes_no_access_denied_row(client: TestClient) -> None:
    before = audit_count(client, action=AuditAction.ACCESS_DENIED)
    assert api_get(client, "admin", "/api/v1/personnel").status_code == 200
    assert audit_count(client, action=AuditAction.ACCESS_DENIED) == before
