"""Alembic environment: the engine comes from fengqiao settings (or the caller's connection)."""

from __future__ import annotations

from alembic import context

from fengqiao.config import load_settings
from fengqiao.db import make_engine
from fengqiao.models import metadata

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(load_settings())
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]  # a SQLAlchemy Connection
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
