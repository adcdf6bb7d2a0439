"""The incident tests' county fixtures (organisation and demo accounts on SQLite and
PostgreSQL), reused for publicity; settings that let webhooks reach a local test bot."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fengqiao.app import create_app
from fengqiao.config import Settings
from tests.incidents.conftest import (  # noqa: F401  # fixtures
    _english,
    _settings,
    county,
    county_engine,
    county_files,
    county_settings,
    postgres_county_template,
    sqlite_county_template,
)

LOCAL_HOSTS = "127.0.0.1,qyapi.weixin.qq.com,oapi.dingtalk.com"


@pytest.fixture
def settings(county_settings: Settings, tmp_path: Path) -> Settings:  # noqa: F811  # the fixture imported above
    """The county's settings with a local sink in the test's folder and the loopback host
    allowed for webhooks (the test bots listen on 127.0.0.1)."""
    return county_settings.model_copy(
        update={"notify_sink_dir": str(tmp_path / "outbox"), "notify_webhook_hosts": LOCAL_HOSTS}
    )


@pytest.fixture
def web(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """The app on a copy of the county (SQLite), pages in English, the sender off."""
    path = tmp_path / "county.db"
    shutil.copy(request.getfixturevalue("sqlite_county_template"), path)
    settings = _settings(f"sqlite:///{path}").model_copy(
        update={"notify_sink_dir": str(tmp_path / "outbox"), "notify_webhook_hosts": LOCAL_HOSTS}
    )
    app = create_app(settings)
    app.state.bus.start = lambda: None  # the live bus is not under test (see incidents)
    with TestClient(app) as client:
        client.cookies.set("fq_lang", "en")
        yield client
