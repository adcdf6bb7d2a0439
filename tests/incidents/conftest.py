"""Fixtures for the incident loop: one generated county (files) per run, imported into a
fresh database on each backend per test, and helpers to build duty situations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.db import unit_of_work
from fengqiao.demo.county import CountyFiles, generate_county
from fengqiao.i18n import language
from tests.incidents.helpers import import_org

COUNTY_SEED = 20261122


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Service messages in English, whatever the catalogues say."""
    with language("en"):
        yield


@pytest.fixture(scope="session")
def county_files(tmp_path_factory: pytest.TempPathFactory) -> CountyFiles:
    return generate_county(tmp_path_factory.mktemp("county"), seed=COUNTY_SEED)


@pytest.fixture
def county(session_factory: sessionmaker[Session], county_files: CountyFiles) -> sessionmaker[Session]:
    """The demo county's organisation and reference data (no incident history), on SQLite
    and on PostgreSQL."""
    with unit_of_work(session_factory) as session:
        import_org(session, county_files)
    return session_factory


