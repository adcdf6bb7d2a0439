"""Who may open what: every role against every page and API endpoint, plus data scope.

The expected statuses are written out by hand from the POLICY in ``fengqiao.auth``
(not computed from it), so that any change of policy shows up here as a failing cell.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.accounts.models import Role, UserAccount
from fengqiao.app import create_app
from fengqiao.audit.models import AuditAction, AuditEvent
from fengqiao.demo.build import DEMO_ACCOUNTS
from fengqiao.org.models import GridAssignment, PoliceDistrict, PoliceGrid, Station
from tests.conftest import DEMO_PASSWORD, bearer, login_token, sqlite_settings

HTML = {"Accept": "text/html"}
GRID = "{grid}"  # placeholder in a path: a grid every demo account may see
# Registry records made in that grid by the fixture (the demo may hold none).
ADDRESS, RESIDENT, UNIT, FILE, CODE = "{address}", "{resident}", "{unit}", "{file}", "{code}"
NOTICE = "{notice}"  # a notice to residents, published by the chief in that grid
# A dispute registered by the chief in that grid, with a written agreement and its scan.
DISPUTE, AGREEMENT = "{dispute}", "{agreement}"

# One column per demo account; the demo has one account per role.
ROLES = ("admin", "chief", "command", "officer", "auxiliary", "case", "legal", "gridworker")
OK, NO = 200, 403

#                               admin chief command officer auxil case legal gridworker
PAGES: dict[str, tuple[int, ...]] = {
    "/": (OK, OK, OK, OK, OK, OK, OK, OK),
    "/grids": (OK, OK, OK, OK, OK, OK, OK, OK),
    f"/grids/{GRID}/card": (OK, OK, OK, OK, OK, OK, OK, OK),
    "/personnel": (OK, OK, OK, OK, OK, OK, OK, NO),
    "/admin/users": (OK, NO, NO, NO, NO, NO, NO, NO),
    "/audit": (OK, NO, NO, NO, NO, NO, OK, NO),
    "/account/password": (OK, OK, OK, OK, OK, OK, OK, OK),
    "/incidents/new": (OK, OK, OK, OK, OK, OK, OK, OK),
    "/command": (OK, OK, OK, NO, NO, NO, NO, NO),
    "/command/queue": (OK, OK, OK, NO, NO, NO, NO, NO),
    "/command/roster": (OK, OK, OK, NO, NO, NO, NO, NO),
    "/m": (NO, OK, OK, OK, OK, OK, NO, NO),
    "/incidents/metrics": (OK, OK, OK, NO, NO, NO, OK, NO),
    "/grids/plans": (OK, OK, NO, NO, NO, NO, NO, NO),
    "/grids/coverage": (OK, OK, OK, NO, NO, NO, OK, NO),
    f"/grids/{GRID}/staff": (OK, OK, NO, NO, NO, NO, NO, NO),
    "/registry": (NO, OK, OK, OK, OK, OK, NO, OK),
    "/registry/scan": (NO, OK, OK, OK, OK, OK, NO, OK),
    "/registry/duplicates": (NO, OK, OK, OK, OK, OK, NO, OK),
    f"/registry/addresses/{ADDRESS}": (NO, OK, OK, OK, OK, OK, NO, OK),
    f"/registry/addresses/{ADDRESS}/doorplates": (NO, OK, OK, OK, OK, OK, NO, OK),
    f"/registry/people/{RESIDENT}": (NO, OK, OK, OK, OK, OK, NO, OK),
    f"/registry/units/{UNIT}": (NO, OK, OK, OK, OK, OK, NO, OK),
    "/fraud": (NO, OK, OK, NO, NO, NO, NO, NO),
    "/notices": (NO, OK, OK, OK, NO, NO, NO, NO),
    "/notices/groups": (NO, OK, OK, OK, NO, NO, NO, NO),
    f"/notices/{NOTICE}": (NO, OK, OK, OK, NO, NO, NO, NO),
    "/fraud/figures": (OK, OK, OK, NO, NO, NO, OK, NO),
    "/disputes": (NO, OK, OK, OK, OK, NO, OK, OK),
    "/disputes/new": (NO, OK, OK, OK, OK, NO, NO, OK),
    "/disputes/mediators": (NO, OK, OK, OK, OK, NO, OK, OK),
    "/disputes/figures": (NO, OK, OK, OK, OK, NO, OK, OK),
    "/disputes/figures?by=type": (NO, OK, OK, OK, OK, NO, OK, OK),
    f"/disputes/{DISPUTE}": (NO, OK, OK, OK, OK, NO, OK, OK),
}

#                               admin chief command officer auxil case legal gridworker
API: dict[str, tuple[int, ...]] = {
    "/api/v1/stations": (OK, OK, OK, OK, OK, OK, OK, OK),
    "/api/v1/grids": (OK, OK, OK, OK, OK, OK, OK, OK),
    "/api/v1/grids.geojson": (OK, OK, OK, OK, OK, OK, OK, OK),
    f"/api/v1/grids/{GRID}": (OK, OK, OK, OK, OK, OK, OK, OK),
    "/api/v1/personnel": (OK, OK, OK, OK, OK, OK, OK, NO),
    "/api/v1/users": (OK, NO, NO, NO, NO, NO, NO, NO),
    "/api/v1/audit": (OK, NO, NO, NO, NO, NO, OK, NO),
    "/api/v1/audit/verify": (OK, NO, NO, NO, NO, NO, OK, NO),
    "/api/v1/me": (OK, OK, OK, OK, OK, OK, OK, OK),
    "/api/v1/incidents/open": (OK, OK, OK, OK, OK, OK, OK, OK),
    "/api/v1/incidents/metrics": (OK, OK, OK, NO, NO, NO, OK, NO),
    "/api/v1/me/assignments": (NO, OK, OK, OK, OK, OK, NO, NO),
    "/api/v1/grid-plans": (OK, OK, NO, NO, NO, NO, NO, NO),
    "/api/v1/grids/coverage": (OK, OK, OK, NO, NO, NO, OK, NO),
    "/api/v1/registry/search?q=jz": (NO, OK, OK, OK, OK, OK, NO, OK),
    "/api/v1/registry/duplicates": (NO, OK, OK, OK, OK, OK, NO, OK),
    f"/api/v1/registry/addresses/{ADDRESS}": (NO, OK, OK, OK, OK, OK, NO, OK),
    f"/api/v1/registry/addresses/by-code/{CODE}": (NO, OK, OK, OK, OK, OK, NO, OK),
    f"/api/v1/registry/residents/{RESIDENT}": (NO, OK, OK, OK, OK, OK, NO, OK),
    f"/api/v1/registry/establishments/{UNIT}": (NO, OK, OK, OK, OK, OK, NO, OK),
    "/api/v1/fraud/orders": (NO, OK, OK, OK, OK, NO, NO, NO),
    "/api/v1/fraud/orders?queue=true": (NO, OK, OK, OK, OK, NO, NO, NO),
    "/api/v1/fraud/figures": (OK, OK, OK, NO, NO, NO, OK, NO),
    "/api/v1/notices": (NO, OK, OK, OK, NO, NO, NO, NO),
    "/api/v1/notice-groups": (NO, OK, OK, OK, NO, NO, NO, NO),
    f"/api/v1/notices/{NOTICE}": (NO, OK, OK, OK, NO, NO, NO, NO),
    "/api/v1/disputes": (NO, OK, OK, OK, OK, NO, OK, OK),
    f"/api/v1/disputes/{DISPUTE}": (NO, OK, OK, OK, OK, NO, OK, OK),
    f"/api/v1/disputes/{DISPUTE}/follow-ups": (NO, OK, OK, OK, OK, NO, OK, OK),
    "/api/v1/disputes/figures": (NO, OK, OK, OK, OK, NO, OK, OK),
    "/api/v1/disputes/figures?by=month": (NO, OK, OK, OK, OK, NO, OK, OK),
    "/api/v1/disputes/mediators": (NO, OK, OK, OK, OK, NO, OK, OK),
}

# Answers that are neither a page nor JSON: a doorplate's QR redirect (303 to the address
# card) and the stored files (with a cookie, as <img> and <audio> fetch them, or a link
# downloads them): photos, the mediation agreement's PDF (it carries the parties' full
# names: mediators only, not the legal supervisor) and its signed scan.
SEE = 303
#                               admin chief command officer auxil case legal gridworker
OTHER: dict[str, tuple[int, ...]] = {
    f"/a/{CODE}": (NO, SEE, SEE, SEE, SEE, SEE, NO, SEE),
    f"/api/v1/attachments/{FILE}": (NO, OK, OK, OK, OK, OK, NO, OK),
    f"/api/v1/attachments/{FILE}/thumbnail": (NO, OK, OK, OK, OK, OK, NO, OK),
    f"/disputes/agreements/{AGREEMENT}/pdf": (NO, OK, OK, OK, OK, NO, NO, OK),
    f"/api/v1/disputes/agreements/{AGREEMENT}/pdf": (NO, OK, OK, OK, OK, NO, NO, OK),
    f"/disputes/agreements/{AGREEMENT}/scan": (NO, OK, OK, OK, OK, NO, NO, OK),
}
FILE_TYPES = {"/pdf": "application/pdf", "/scan": "image/png"}  # by the end of the path


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


def web_login(client: TestClient, username: str) -> str:
    """Log in through the form; returns the session cookie (also kept in the cookie jar)."""
    response = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "next": "/"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    cookie = response.cookies.get("fq_session")
    assert cookie, "the login did not set the session cookie"
    return cookie


def common_grid_id(client: TestClient) -> int:
    """A grid that both the auxiliary and the grid worker serve: everyone's scope holds it."""
    with db(client) as session:

        def grids_of(username: str) -> set[int]:
            user = session.scalar(select(UserAccount).where(UserAccount.username == username))
            assert user is not None and user.person_id is not None
            return set(
                session.scalars(
                    select(GridAssignment.grid_id).where(GridAssignment.person_id == user.person_id)
                )
            )

        common = grids_of("auxiliary") & grids_of("gridworker")
    assert common, "the demo should give the auxiliary and the grid worker a common grid"
    return min(common)


def registry_records(client: TestClient, grid_id: int) -> dict[str, str]:
    """An address with a person, a unit and a photo in the common grid, made by the chief."""
    from fengqiao.accounts import service as accounts
    from fengqiao.auth import build_principal
    from fengqiao.db import unit_of_work
    from fengqiao.registry import addresses, attachments, people
    from fengqiao.registry.models import AttachmentKind, EstablishmentKind, ResidentKind

    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(photo, "JPEG")
    with unit_of_work(client.app.state.sessionmaker) as session:  # type: ignore[attr-defined]
        user = accounts.get_user_by_username(session, "chief")
        assert user is not None
        chief = build_principal(session, user)
        point = session.get_one(PoliceGrid, grid_id).geometry.representative_point()
        address = addresses.add_address(
            session, chief, text="矩阵测试花园1栋", lon=point.x, lat=point.y
        ).address
        person = people.add_resident(
            session, chief, name="矩阵", kind=ResidentKind.REGISTERED, address_id=address.id
        )
        unit = people.add_establishment(
            session,
            chief,
            people.EstablishmentInput(
                name="矩阵商店", kind=EstablishmentKind.SHOP, address_id=address.id
            ),
        )
        file = attachments.add_attachment(
            session,
            chief,
            object_type="address",
            object_id=address.id,
            kind=AttachmentKind.PHOTO,
            raw=photo.getvalue(),
        )
        from fengqiao.notify import service as notify

        notice = notify.publish(
            session, chief, title="矩阵通知", body="请拨打96110", grid_ids=[grid_id]
        )
        dispute, agreement = dispute_records(session, chief, grid_id)
        return {
            DISPUTE: str(dispute),
            AGREEMENT: str(agreement),
            NOTICE: str(notice.id),
            ADDRESS: str(address.id),
            RESIDENT: str(person.id),
            UNIT: str(unit.id),
            FILE: str(file.id),
            CODE: address.code,
        }


def dispute_records(session: Session, chief: Any, grid_id: int) -> tuple[int, int]:
    """A dispute in the common grid mediated to a written agreement with a signed scan:
    ``(dispute id, agreement id)``."""
    from fengqiao.disputes import agreements, mediation, mediators, service
    from fengqiao.disputes.models import MediatorKind, PartySide
    from fengqiao.disputes.schemas import AgreementIn, DisputeIn, MediatorIn, PartyIn

    dispute, _created = service.register(
        session,
        chief,
        DisputeIn(
            type_code="neighbour",
            title="矩阵纠纷",
            summary="楼上漏水",
            place="矩阵测试花园1栋",
            grid_id=grid_id,
            parties=[
                PartyIn(side=PartySide.APPLICANT, name="矩甲", phone="13812345678"),
                PartyIn(side=PartySide.RESPONDENT, name="矩乙"),
            ],
        ),
    )
    grid_mediator = mediators.save_mediator(
        session,
        chief,
        MediatorIn(name="矩阵网格员", kind=MediatorKind.GRID_WORKER, weekdays=list(range(7))),
    )
    mediation.assign(session, chief, dispute.id, grid_mediator.id, lead=True)
    agreement = agreements.draw_up(
        session,
        chief,
        dispute.id,
        AgreementIn(facts="楼上漏水", terms=["矩乙修好水管"]),
        revisit_days={"yellow": [15]},
    )
    scan = io.BytesIO()
    Image.new("RGB", (40, 30), (255, 255, 255)).save(scan, "PNG")
    agreements.attach_scan(session, chief, agreement.id, scan.getvalue())
    return dispute.id, agreement.id


class Logins:
    """One app over one demo copy for the whole matrix; each account logs in once
    (argon2 makes every login cost ~0.1 s), through POST /login and the token endpoint."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.grid_id = common_grid_id(client)
        self.records = registry_records(client, self.grid_id)
        self._tokens: dict[str, str] = {}
        self._cookies: dict[str, str] = {}

    def url(self, path: str) -> str:
        for placeholder, value in {GRID: str(self.grid_id), **self.records}.items():
            path = path.replace(placeholder, value)
        return path

    def token(self, username: str) -> str:
        if username not in self._tokens:
            self._tokens[username] = login_token(self.client, username)
        return self._tokens[username]

    def cookie(self, username: str) -> dict[str, str]:
        if username not in self._cookies:
            self._cookies[username] = web_login(self.client, username)
            self.client.cookies.clear()  # each request names its account explicitly
        return {"Cookie": f"fq_session={self._cookies[username]}"}


@pytest.fixture(scope="module")
def logins(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Logins]:
    path = tmp_path_factory.mktemp("matrix") / "demo.db"
    shutil.copy(demo_template, path)
    with TestClient(create_app(sqlite_settings(path, demo_password=DEMO_PASSWORD))) as client:
        yield Logins(client)


# --- the matrix ------------------------------------------------------------------------


def test_matrix_has_one_column_per_role() -> None:
    """A new role must get its own column here before the matrix can pass."""
    assert {DEMO_ACCOUNTS[user][0] for user in ROLES} == set(Role)
    assert all(len(row) == len(ROLES) for row in (*PAGES.values(), *API.values(), *OTHER.values()))


@pytest.mark.parametrize(("path", "username", "expected"), _cells(PAGES))
def test_page_access(logins: Logins, path: str, username: str, expected: int) -> None:
    url = logins.url(path)
    response = logins.client.get(
        url, headers={**HTML, **logins.cookie(username)}, follow_redirects=False
    )
    assert response.status_code == expected, f"{username} GET {url}: {response.text[:300]}"
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(("path", "username", "expected"), _cells(API))
def test_api_access(logins: Logins, path: str, username: str, expected: int) -> None:
    url = logins.url(path)
    response = logins.client.get(url, headers=bearer(logins.token(username)))
    assert response.status_code == expected, f"{username} GET {url}: {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(("path", "username", "expected"), _cells(OTHER))
def test_redirect_and_file_access(logins: Logins, path: str, username: str, expected: int) -> None:
    url = logins.url(path)
    response = logins.client.get(
        url, headers={**HTML, **logins.cookie(username)}, follow_redirects=False
    )
    assert response.status_code == expected, f"{username} GET {url}: {response.text[:300]}"
    if expected == SEE:
        assert response.headers["location"] == f"/registry/addresses/{logins.records[ADDRESS]}"
    elif expected == OK:
        wanted = next((t for end, t in FILE_TYPES.items() if path.endswith(end)), "image/jpeg")
        assert response.headers["content-type"] == wanted


# --- without logging in ----------------------------------------------------------------


@pytest.mark.parametrize("path", list(PAGES))
def test_page_without_login_redirects_to_login(logins: Logins, path: str) -> None:
    url = logins.url(path)
    response = logins.client.get(url, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={quote(url, safe='/')}"


@pytest.mark.parametrize("path", list(API))
def test_api_without_login_is_401(logins: Logins, path: str) -> None:
    response = logins.client.get(logins.url(path))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/grids"])
def test_api_with_unknown_token_is_401(logins: Logins, path: str) -> None:
    response = logins.client.get(path, headers=bearer("not-a-token"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


# --- data scope ------------------------------------------------------------------------


def api_get(logins: Logins, username: str, path: str) -> Any:
    response = logins.client.get(path, headers=bearer(logins.token(username)))
    assert response.status_code == 200, response.text
    return response.json()


def grids_of_station(session: Session, code: str | None = None) -> set[int]:
    query = select(PoliceGrid.id).join(PoliceDistrict).join(Station)
    if code is not None:
        query = query.where(Station.code == code)
    return set(session.scalars(query))


def test_grid_worker_lists_only_his_own_grids(logins: Logins) -> None:
    me = api_get(logins, "gridworker", "/api/v1/me")
    with db(logins.client) as session:
        assigned = set(
            session.scalars(
                select(GridAssignment.grid_id).where(GridAssignment.person_id == me["person_id"])
            )
        )
        station_grids = grids_of_station(session, "QX-CG")
    assert assigned, "the demo grid worker should serve at least one grid"
    assert assigned < station_grids  # so listing his whole station would be caught

    listed = {g["id"] for g in api_get(logins, "gridworker", "/api/v1/grids")}
    mapped = {f["id"] for f in api_get(logins, "gridworker", "/api/v1/grids.geojson")["features"]}
    assert listed == assigned
    assert mapped == assigned
    assert set(me["scope_grid_ids"]) == assigned


def test_officer_sees_only_the_grids_of_his_station(logins: Logins) -> None:
    grids = api_get(logins, "officer", "/api/v1/grids")
    with db(logins.client) as session:
        expected = grids_of_station(session, "QX-CG")
    assert {g["station_code"] for g in grids} == {"QX-CG"}
    assert {g["id"] for g in grids} == expected
    assert [s["code"] for s in api_get(logins, "officer", "/api/v1/stations")] == ["QX-CG"]


def test_admin_sees_all_five_stations_and_every_grid(logins: Logins) -> None:
    stations = api_get(logins, "admin", "/api/v1/stations")
    grids = api_get(logins, "admin", "/api/v1/grids")
    with db(logins.client) as session:
        every_grid = grids_of_station(session)
    assert len(stations) == 5
    assert len({g["station_code"] for g in grids}) == 5
    assert {g["id"] for g in grids} == every_grid


def test_command_room_outside_a_joint_station_sees_only_its_station(logins: Logins) -> None:
    with db(logins.client) as session:
        station = session.scalar(select(Station).where(Station.code == "QX-CG"))
        assert station is not None and station.joint_station_id is None
    assert [s["code"] for s in api_get(logins, "command", "/api/v1/stations")] == ["QX-CG"]


def test_grid_outside_the_grid_workers_scope_is_404(logins: Logins) -> None:
    own = set(api_get(logins, "gridworker", "/api/v1/me")["scope_grid_ids"])
    with db(logins.client) as session:
        same_station_other = min(grids_of_station(session, "QX-CG") - own)
        other_station = min(grids_of_station(session, "QX-LM"))
    token = logins.token("gridworker")
    for grid_id in (same_station_other, other_station):
        response = logins.client.get(f"/api/v1/grids/{grid_id}", headers=bearer(token))
        assert response.status_code == 404, grid_id
    # ... while the station's officer does see the first one
    assert (
        api_get(logins, "officer", f"/api/v1/grids/{same_station_other}")["id"]
        == same_station_other
    )


def test_grid_card_outside_scope_is_404(logins: Logins) -> None:
    with db(logins.client) as session:
        other_station = min(grids_of_station(session, "QX-LM"))
    response = logins.client.get(
        f"/grids/{other_station}/card", headers={**HTML, **logins.cookie("officer")}
    )
    assert response.status_code == 404


# --- denied requests are audited (each on a fresh copy of the demo) ----------------------


def access_denied_rows(client: TestClient) -> list[tuple[Any, ...]]:
    """(id, username, role, object_id, outcome) of every access_denied audit row."""
    with db(client) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    AuditEvent.id,
                    AuditEvent.username,
                    AuditEvent.role,
                    AuditEvent.object_id,
                    AuditEvent.outcome,
                )
                .where(AuditEvent.action == AuditAction.ACCESS_DENIED)
                .order_by(AuditEvent.id)
            )
        ]


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("gridworker", "/api/v1/personnel"),
        ("officer", "/api/v1/audit"),
        ("legal", "/api/v1/users"),
    ],
)
def test_denied_api_request_is_audited(client: TestClient, username: str, path: str) -> None:
    token = login_token(client, username)
    before = access_denied_rows(client)
    assert client.get(path, headers=bearer(token)).status_code == 403
    after = access_denied_rows(client)
    assert len(after) == len(before) + 1
    assert after[-1][1:] == (username, DEMO_ACCOUNTS[username][0].value, path, "denied")


def test_denied_page_request_is_audited(client: TestClient) -> None:
    web_login(client, "gridworker")  # the cookie stays in the client's jar
    before = access_denied_rows(client)
    assert client.get("/personnel", headers=HTML).status_code == 403
    after = access_denied_rows(client)
    assert len(after) == len(before) + 1
    assert after[-1][1:] == ("gridworker", "grid_worker", "/personnel", "denied")


def test_allowed_request_writes_no_access_denied_row(client: TestClient) -> None:
    token = login_token(client, "admin")
    before = access_denied_rows(client)
    assert client.get("/api/v1/personnel", headers=bearer(token)).status_code == 200
    assert access_denied_rows(client) == before
