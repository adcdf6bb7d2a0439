"""Shared fixtures: settings, migrated databases on SQLite and a real PostgreSQL server,
the demo county, an app client."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fengqiao import migrate
from fengqiao.app import create_app
from fengqiao.audit import service as audit
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker
from fengqiao.demo.build import build_demo
from tests.postgres_server import PostgresServer, running_postgres

DEMO_PASSWORD = "demo-pass-2026"


def sqlite_settings(path: Path, **extra: object) -> Settings:
    # The daily task job stays off unless a test runs it: tests decide when tasks appear.
    extra.setdefault("task_scheduler", False)
    extra.setdefault("fraud_escalation", False)
    extra.setdefault("notify_sender", False)
    return Settings(database_url=f"sqlite:///{path}", secret_key="test-secret", **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole run; failing to start it fails the tests."""
    with running_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for an empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_settings(tmp_path / "test.db")
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = server.create_database()
    try:
        yield Settings(  # type: ignore[call-arg]
            database_url=server.sqlalchemy_url(name),
            secret_key="test-secret",
            task_scheduler=False,
            fraud_escalation=False,
            notify_sender=False,
        )
    finally:
        server.drop_database(name)


@pytest.fixture
def engine(any_settings: Settings) -> Iterator[Engine]:
    """A migrated, empty database on each backend."""
    audit.install_session_hooks()
    eng = make_engine(any_settings)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo county on SQLite, built once per run and copied by tests that change it."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(sqlite_settings(path, demo_password=DEMO_PASSWORD))
    return path


@pytest.fixture
def demo_settings(demo_template: Path, tmp_path: Path) -> Settings:
    path = tmp_path / "demo.db"
    shutil.copy(demo_template, path)
    return sqlite_settings(path, demo_password=DEMO_PASSWORD)


@pytest.fixture
def client(demo_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(demo_settings)) as test_client:
        yield test_client


def login_token(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
