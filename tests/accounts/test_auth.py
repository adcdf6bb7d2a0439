"""Logging in and staying logged in: tokens, lock-out, idle expiry, ending sessions,
password rules and storage, redirects, security headers, language, settings errors."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from fengqiao.accounts.models import AuthSession, LoginFailure, UserAccount
from fengqiao.audit.models import AuditEvent
from fengqiao.config import SettingsError, load_settings
from fengqiao.db import utcnow
from fengqiao.demo.build import DEMO_ACCOUNTS
from tests.conftest import DEMO_PASSWORD, bearer, login_token

HTML = {"Accept": "text/html"}
NEW_PASSWORD = "river-bridge-2027"


# --- helpers ---------------------------------------------------------------------------


def db(client: TestClient) -> Session:
    """A session on the app's database; use it in a ``with`` block (SQLite locks on write)."""
    session: Session = client.app.state.sessionmaker()  # type: ignore[attr-defined]
    return session


def request_token(client: TestClient, username: str, password: str) -> Response:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def me(client: TestClient, token: str) -> Response:
    return client.get("/api/v1/me", headers=bearer(token))


def web_login(
    client: TestClient, username: str, password: str = DEMO_PASSWORD, next_: str = "/"
) -> Response:
    return client.post(
        "/login",
        data={"username": username, "password": password, "next": next_},
        headers=HTML,
        follow_redirects=False,
    )


def web_cookie(client: TestClient, username: str) -> dict[str, str]:
    """Log in through the form; the session cookie as a header (the jar is emptied)."""
    response = web_login(client, username)
    assert response.status_code == 303, response.text
    client.cookies.clear()
    return {**HTML, "Cookie": f"fq_session={response.cookies['fq_session']}"}


def page_is_served(client: TestClient, cookie: dict[str, str], path: str = "/grids") -> bool:
    """True when the page is served, False when it sends the browser to the login form."""
    response = client.get(path, headers=cookie, follow_redirects=False)
    assert response.status_code in (200, 303), response.text
    return response.status_code == 200


def move_session_back(client: TestClient, token: str, minutes: float) -> None:
    """Pretend the session was last used ``minutes`` ago."""
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    with db(client) as session, session.begin():
        done = session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == token_hash)
            .values(last_seen_at=utcnow() - timedelta(minutes=minutes))
        )
        assert done.rowcount == 1  # type: ignore[attr-defined]


def move_failures_back(client: TestClient, username: str, minutes: float) -> None:
    with db(client) as session, session.begin():
        session.execute(
            update(LoginFailure)
            .where(LoginFailure.username == username)
            .values(at=utcnow() - timedelta(minutes=minutes))
        )


def audit_actions(client: TestClient, object_id: str) -> list[str]:
    """The audit actions about one account (by username or id), oldest first."""
    with db(client) as session:
        return [
            a.value
            for a in session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_id == object_id)
                .order_by(AuditEvent.id)
            )
        ]


def password_hash(client: TestClient, username: str) -> str:
    with db(client) as session:
        value = session.scalar(
            select(UserAccount.password_hash).where(UserAccount.username == username)
        )
    assert value is not None
    return value


# --- tokens ----------------------------------------------------------------------------


def test_token_endpoint_issues_a_working_bearer_token(client: TestClient) -> None:
    response = request_token(client, "officer", DEMO_PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 30 * 60
    assert me(client, body["access_token"]).json()["username"] == "officer"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("officer", "wrong-password-1"),
        ("officer", DEMO_PASSWORD.upper()),
        ("OFFICER", DEMO_PASSWORD),
        ("nobody", DEMO_PASSWORD),
    ],
)
def test_token_endpoint_refuses_bad_credentials(
    client: TestClient, username: str, password: str
) -> None:
    response = request_token(client, username, password)
    assert response.status_code == 401
    assert "access_token" not in response.json()


def test_tokens_are_stored_only_as_hashes(client: TestClient) -> None:
    token = login_token(client, "officer")
    with db(client) as session:
        stored = list(session.scalars(select(AuthSession.token_hash)))
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored


# --- lock-out --------------------------------------------------------------------------


def test_four_failures_do_not_lock(client: TestClient) -> None:
    for _ in range(4):
        assert request_token(client, "officer", "wrong-password-1").status_code == 401
    assert request_token(client, "officer", DEMO_PASSWORD).status_code == 200


def test_five_failures_lock_the_account_for_fifteen_minutes(client: TestClient) -> None:
    before = audit_actions(client, "officer")
    for _ in range(5):
        assert request_token(client, "officer", "wrong-password-1").status_code == 401
    assert audit_actions(client, "officer")[len(before) :] == ["login_failed"] * 5

    # Now even the right password is refused, on the API and on the login form alike.
    locked = request_token(client, "officer", DEMO_PASSWORD)
    assert locked.status_code == 401
    form = web_login(client, "officer")
    assert form.status_code == 401
    assert "fq_session" not in form.cookies
    assert audit_actions(client, "officer")[len(before) :] == (
        ["login_failed"] * 5 + ["login_locked"] * 2
    )

    # Other accounts are not affected.
    assert request_token(client, "chief", DEMO_PASSWORD).status_code == 200

    move_failures_back(client, "officer", minutes=14)
    assert request_token(client, "officer", DEMO_PASSWORD).status_code == 401
    move_failures_back(client, "officer", minutes=16)
    assert request_token(client, "officer", DEMO_PASSWORD).status_code == 200


def test_lock_out_message_is_clear(client: TestClient) -> None:
    for _ in range(5):
        request_token(client, "officer", "wrong-password-1")
    response = client.post(
        "/api/v1/auth/token",
        headers={"Cookie": "fq_lang=en"},
        data={"username": "officer", "password": DEMO_PASSWORD},
    )
    assert response.json()["detail"] == (
        "Too many failed logins: the account is locked for 15 minutes."
    )


# --- idle expiry and ending sessions ---------------------------------------------------


def test_token_idle_for_31_minutes_has_expired(client: TestClient) -> None:
    token = login_token(client, "officer")
    move_session_back(client, token, minutes=31)
    response = me(client, token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_token_idle_for_29_minutes_is_still_valid_and_touched(client: TestClient) -> None:
    token = login_token(client, "officer")
    move_session_back(client, token, minutes=29)
    assert me(client, token).status_code == 200
    with db(client) as session:  # the request renewed the idle clock
        seen = session.scalar(
            select(AuthSession.last_seen_at).where(
                AuthSession.token_hash == hashlib.sha256(token.encode()).hexdigest()
            )
        )
    assert seen is not None and utcnow() - seen < timedelta(minutes=1)


def test_web_session_expires_after_30_idle_minutes(client: TestClient) -> None:
    cookie = web_cookie(client, "officer")
    assert page_is_served(client, cookie)
    move_session_back(client, cookie["Cookie"].split("=", 1)[1], minutes=31)
    assert not page_is_served(client, cookie)


def test_api_logout_ends_the_token(client: TestClient) -> None:
    token = login_token(client, "officer")
    other = login_token(client, "officer")
    response = client.post("/api/v1/auth/logout", headers=bearer(token))
    assert response.status_code == 204
    assert me(client, token).status_code == 401
    assert me(client, other).status_code == 200  # only the session used is ended


def test_web_logout_ends_the_session(client: TestClient) -> None:
    cookie = web_cookie(client, "officer")
    response = client.post("/logout", headers=cookie, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert not page_is_served(client, cookie)  # the old cookie no longer works


def test_password_change_ends_every_session_of_the_user(client: TestClient) -> None:
    first, second = login_token(client, "officer"), login_token(client, "officer")
    cookie = web_cookie(client, "officer")
    bystander = login_token(client, "chief")
    response = client.post(
        "/api/v1/me/password",
        headers=bearer(first),
        json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 204
    assert me(client, first).status_code == 401
    assert me(client, second).status_code == 401
    assert not page_is_served(client, cookie)
    assert me(client, bystander).status_code == 200
    assert request_token(client, "officer", DEMO_PASSWORD).status_code == 401
    assert request_token(client, "officer", NEW_PASSWORD).status_code == 200


def test_password_change_on_the_page_ends_every_session(client: TestClient) -> None:
    token = login_token(client, "officer")
    cookie = web_cookie(client, "officer")
    response = client.post(
        "/account/password",
        headers=cookie,
        follow_redirects=False,
        data={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert me(client, token).status_code == 401
    assert not page_is_served(client, cookie)
    assert request_token(client, "officer", NEW_PASSWORD).status_code == 200


def test_password_change_needs_the_current_password(client: TestClient) -> None:
    token = login_token(client, "officer")
    response = client.post(
        "/api/v1/me/password",
        headers=bearer(token),
        json={"current_password": "not-it-123", "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 422
    assert me(client, token).status_code == 200
    assert request_token(client, "officer", DEMO_PASSWORD).status_code == 200


def test_disabling_a_user_ends_its_sessions(client: TestClient) -> None:
    admin = login_token(client, "admin")
    token = login_token(client, "officer")
    cookie = web_cookie(client, "officer")
    response = client.post("/api/v1/users/officer/disable", headers=bearer(admin))
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert me(client, token).status_code == 401
    assert not page_is_served(client, cookie)
    assert request_token(client, "officer", DEMO_PASSWORD).status_code == 401

    # enabling again lets the user log in anew, but the old sessions stay ended
    assert client.post("/api/v1/users/officer/enable", headers=bearer(admin)).status_code == 200
    assert request_token(client, "officer", DEMO_PASSWORD).status_code == 200
    assert me(client, token).status_code == 401


# --- a response is sent only after its unit of work is committed -------------------


@contextmanager
def failing_commits(client: TestClient) -> Iterator[TestClient]:
    """Every commit of the app's sessions fails (say, the disk is full); yields a client
    that returns server errors as responses instead of raising them."""
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]

    def refuse(_session: Session) -> None:
        raise RuntimeError("commit failed")

    event.listen(factory, "before_commit", refuse)
    try:
        yield TestClient(client.app, raise_server_exceptions=False)
    finally:
        event.remove(factory, "before_commit", refuse)


def test_logout_whose_commit_fails_is_not_reported_as_done(client: TestClient) -> None:
    token = login_token(client, "officer")
    with failing_commits(client) as failing:
        response = failing.post("/api/v1/auth/logout", headers=bearer(token))
    assert response.status_code == 500
    assert me(client, token).status_code == 200  # indeed still logged in


def test_read_whose_audit_row_is_not_committed_returns_no_data(client: TestClient) -> None:
    token = login_token(client, "officer")
    with failing_commits(client) as failing:
        response = failing.get("/api/v1/grids", headers=bearer(token))
    assert response.status_code == 500
    assert "station_code" not in response.text


# --- passwords -------------------------------------------------------------------------


@pytest.mark.parametrize("weak", ["short1!", "onlyletterslong", "12345678901234"])
def test_weak_password_is_refused_with_a_clear_message(client: TestClient, weak: str) -> None:
    token = login_token(client, "officer")
    response = client.post(
        "/api/v1/me/password",
        headers={**bearer(token), "Cookie": "fq_lang=en"},
        json={"current_password": DEMO_PASSWORD, "new_password": weak},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "The password must have at least 10 characters and mix letters with digits or symbols."
    )
    assert me(client, token).status_code == 200  # nothing changed, the session lives on
    assert request_token(client, "officer", DEMO_PASSWORD).status_code == 200


def test_weak_password_message_in_chinese(client: TestClient) -> None:
    token = login_token(client, "officer")
    response = client.post(
        "/api/v1/me/password",
        headers=bearer(token),
        json={"current_password": DEMO_PASSWORD, "new_password": "abc"},
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "密码" in detail and "10" in detail


def test_weak_password_is_refused_when_an_admin_creates_an_account(client: TestClient) -> None:
    admin = login_token(client, "admin")
    response = client.post(
        "/api/v1/users",
        headers=bearer(admin),
        json={
            "username": "newbie",
            "password": "password",
            "role": "community_officer",
            "station_code": "QX-CG",
        },
    )
    assert response.status_code == 422
    assert request_token(client, "newbie", "password").status_code == 401


def test_passwords_are_stored_as_argon2id_hashes(client: TestClient) -> None:
    for username in DEMO_ACCOUNTS:
        stored = password_hash(client, username)
        assert stored.startswith("$argon2id$"), username
        assert DEMO_PASSWORD not in stored
    token = login_token(client, "officer")
    before = password_hash(client, "officer")
    client.post(
        "/api/v1/me/password",
        headers=bearer(token),
        json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
    )
    after = password_hash(client, "officer")
    assert after != before
    assert after.startswith("$argon2id$")


# --- redirects -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "http://evil.example",
        "https://evil.example/login",
        "/\\evil.example",
        "\\\\evil.example",
        "evil.example",
    ],
)
def test_login_never_redirects_to_another_site(client: TestClient, target: str) -> None:
    response = web_login(client, "officer", next_=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\r\n/evil.example", "/ /evil.example"])
def test_login_redirect_with_control_characters_stays_on_this_site(
    client: TestClient, target: str
) -> None:
    """Browsers drop tabs and newlines from a URL, so "/<tab>/x" would become "//x"."""
    response = web_login(client, "officer", next_=target)
    assert response.status_code == 303
    as_read = re.sub(r"[\t\n\r]", "", response.headers["location"]).strip()
    assert as_read.startswith("/")
    assert not as_read.startswith(("//", "/\\")), as_read


def test_login_redirects_to_a_local_next_page(client: TestClient) -> None:
    response = web_login(client, "officer", next_="/grids?x=1")
    assert (response.status_code, response.headers["location"]) == (303, "/grids?x=1")


def test_login_form_does_not_carry_a_foreign_next(client: TestClient) -> None:
    page = client.get("/login", params={"next": "//evil.example"}, headers=HTML)
    assert 'name="next" value="/"' in page.text
    assert "evil.example" not in page.text


def test_language_switch_does_not_redirect_to_another_site(client: TestClient) -> None:
    response = client.get("/lang/en", params={"next": "//evil.example"}, follow_redirects=False)
    assert response.headers["location"] == "/"


# --- security headers ------------------------------------------------------------------


def csp_sources(header: str) -> dict[str, list[str]]:
    directives = [d.split() for d in header.split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def assert_security_headers(response: Response) -> None:
    csp = csp_sources(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    allowed = {"'self'", "'none'", "data:"}
    for directive, sources in csp.items():
        assert set(sources) <= allowed, f"{directive} allows {sources}"
    assert csp["frame-ancestors"] == ["'none'"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_security_headers_on_a_page(client: TestClient) -> None:
    response = client.get("/login", headers=HTML)
    assert response.status_code == 200
    assert_security_headers(response)


def test_security_headers_on_an_api_response(client: TestClient) -> None:
    response = me(client, login_token(client, "officer"))
    assert response.status_code == 200
    assert_security_headers(response)
    assert response.headers["cache-control"] == "no-store"


def test_security_headers_on_an_error_response(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert_security_headers(response)


def test_session_cookie_is_http_only_and_same_site_strict(client: TestClient) -> None:
    response = web_login(client, "officer")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("fq_session=")
    assert "httponly" in cookie.lower()
    assert "samesite=strict" in cookie.lower()


# --- language --------------------------------------------------------------------------


def html_lang(page: Response) -> str:
    found = re.search(r'<html lang="([^"]+)"', page.text)
    assert found, "no lang attribute on <html>"
    return found.group(1)


def test_language_switch(client: TestClient) -> None:
    switched = client.get("/lang/en", params={"next": "/login"}, follow_redirects=False)
    assert (switched.status_code, switched.headers["location"]) == (303, "/login")
    english = client.get("/login", headers=HTML)
    assert html_lang(english) == "en"
    assert "Log in" in english.text
    assert "登录" not in english.text

    client.get("/lang/zh_CN", follow_redirects=False)
    chinese = client.get("/login", headers=HTML)
    assert html_lang(chinese) == "zh-CN"
    assert "登录" in chinese.text
    assert "Log in" not in chinese.text


# --- settings --------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("FENGQIAO_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_good_settings_load_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FENGQIAO_PORT", "8080")
    clean_env.setenv("FENGQIAO_DATABASE_URL", "postgresql://u:p@db/fq")
    settings = load_settings()
    assert settings.port == 8080
    assert settings.database_url == "postgresql+psycopg://u:p@db/fq"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FENGQIAO_PORT", "abc"),
        ("FENGQIAO_PORT", "70000"),
        ("FENGQIAO_DATABASE_URL", "mysql://x"),
        ("FENGQIAO_SESSION_IDLE_MINUTES", "90"),
    ],
)
def test_bad_setting_names_the_variable(
    clean_env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    clean_env.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert variable in message
    assert repr(value) in message
    assert message.count("FENGQIAO_") == 1  # only the bad variable is blamed
