"""Migrations run up and down on SQLite and PostgreSQL, and agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from fengqiao import migrate
from fengqiao.config import Settings
from fengqiao.db import make_engine
from fengqiao.models import metadata


def test_upgrade_downgrade_upgrade(any_settings: Settings) -> None:
    engine = make_engine(any_settings)
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        tables = set(inspect(engine).get_table_names())
        assert {"police_grid", "person", "audit_event", "user_account"} <= tables

        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_models_and_migrations_agree(any_settings: Settings) -> None:
    engine = make_engine(any_settings)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
        assert diff == [], f"models differ from migrations: {diff}"
    finally:
        engine.dispose()
