"""Fixtures for the incident loop.

``county`` is the demo county's organisation, reference data and demo accounts (no
incident history) in a fresh database, once on SQLite and once on PostgreSQL. Importing
it takes a few seconds, so it is imported once per run into a template per backend and
each test gets a copy (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
PostgreSQL). ``api`` is a TestClient on that copy.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fengqiao import migrate
from fengqiao.app import create_app
from fengqiao.audit import service as audit
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
from fengqiao.demo.build import ensure_demo_accounts
from fengqiao.demo.county import CountyFiles, generate_county
from fengqiao.i18n import language
from tests.conftest import DEMO_PASSWORD
from tests.incidents.helpers import import_org
from tests.postgres_server import PostgresServer

COUNTY_SEED = 20261122  # the demo's seed: the same county as ``demo_settings``


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Service messages in English, whatever the catalogues say."""
    with language("en"):
        yield


@pytest.fixture(scope="session")
def county_files(tmp_path_factory: pytest.TempPathFactory) -> CountyFiles:
    return generate_county(tmp_path_factory.mktemp("county"), seed=COUNTY_SEED)


def _settings(url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        database_url=url,
        secret_key="test-secret",
        demo_password=DEMO_PASSWORD,
        task_scheduler=False,
        fraud_escalation=False,
        notify_sender=False,
    )


def build_county(engine: Engine, files: CountyFiles) -> None:
    audit.install_session_hooks()
    migrate.upgrade(engine)
    with unit_of_work(make_sessionmaker(engine)) as session:
        import_org(session, files)
        ensure_demo_accounts(session, people=files.demo_people, password=DEMO_PASSWORD)


@pytest.fixture(scope="session")
def sqlite_county_template(
    tmp_path_factory: pytest.TempPathFactory, county_files: CountyFiles
) -> Path:
    path = tmp_path_factory.mktemp("county-sqlite") / "county.db"
    engine = make_engine(_settings(f"sqlite:///{path}"))
    build_county(engine, county_files)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_county_template(postgres: PostgresServer, county_files: CountyFiles) -> Iterator[str]:
    name = postgres.create_database("county")
    engine = make_engine(_settings(postgres.sqlalchemy_url(name)))
    build_county(engine, county_files)
    engine.dispose()
    yield name
    postgres.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def county_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings of a fresh copy of the county, on each backend."""
    audit.install_session_hooks()
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_county_template")
        path = tmp_path / "county.db"
        shutil.copy(template, path)
        yield _settings(f"sqlite:///{path}")
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    template_name: str = request.getfixturevalue("postgres_county_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield _settings(server.sqlalchemy_url(name))
    finally:
        server.drop_database(name)


@pytest.fixture
def county_engine(county_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(county_settings)
    yield engine
    engine.dispose()


@pytest.fixture
def county(county_engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(county_engine)


@pytest.fixture
def api(county_settings: Settings) -> Iterator[TestClient]:
    """The app on a fresh copy of the county; service messages in English."""
    app = create_app(county_settings)
    # The live-event bus is not under test here. Its stop() cancels the polling task but
    # not a read already running in a worker thread, which then returns its connection to
    # the pool after the engine was disposed; on PostgreSQL psycopg warns (ResourceWarning,
    # an error in this suite) at random. So the bus is not started.
    app.state.bus.start = lambda: None
    with TestClient(app) as client:
        client.cookies.set("fq_lang", "en")
        yield client
