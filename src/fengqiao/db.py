"""Database plumbing: declarative base, engine, unit of work, portable geometry type."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    create_engine,
    event,
    inspect,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from fengqiao.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both SQLite (which drops the zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use fengqiao.db.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Geometry(TypeDecorator[BaseGeometry]):
    """A shapely geometry stored as WKB (WGS-84 lon/lat degrees); portable across databases."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect) -> bytes | None:
        return None if value is None else shapely.to_wkb(value)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> BaseGeometry | None:
        return None if value is None else shapely.from_wkb(bytes(value))


def make_engine(settings: Settings) -> Engine:
    """Build the engine. SQLite gets WAL, foreign keys and write-locking transactions."""
    if settings.is_sqlite:
        engine = create_engine(
            settings.database_url,
            echo=settings.sql_echo,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        _configure_sqlite(engine)
        return engine
    # Enough connections for every worker thread of the web server (40) holding one for
    # the request and one for its login check, with the live-event bus beside them: with
    # fewer, an overload leaves threads waiting for connections held by requests that
    # wait for a thread, and everything stalls until the pool's timeout.
    return create_engine(
        settings.database_url,
        echo=settings.sql_echo,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=75,
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy own transactions so BEGIN IMMEDIATE below takes effect.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Every transaction may append to the audit hash chain, so take the write
        # lock up front: two writers then queue instead of failing half-way.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def insert_ignoring(session: Session, model: type[Any], *, conflict: list[str]) -> Any:
    """``INSERT … ON CONFLICT (conflict) DO NOTHING`` in the session's dialect (SQLite and
    PostgreSQL share the syntax but not the construct); add ``.values()`` and execute."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(model).on_conflict_do_nothing(index_elements=conflict)


def lock_for_update(session: Session, *objects: object) -> None:
    """Re-read rows with SELECT … FOR UPDATE on PostgreSQL, so that concurrent changes of
    the same incident or assignment queue instead of overwriting each other. SQLite's
    BEGIN IMMEDIATE (above) already serialises writers."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.flush()  # a refresh would drop unflushed changes
    for obj in objects:
        mapper = inspect(obj).mapper
        table = mapper.local_table
        key = {
            col.name: getattr(obj, attr.key)
            for attr in mapper.column_attrs
            for col in attr.columns
            if col.primary_key
        }
        session.execute(
            select(*table.primary_key.columns)
            .where(*(table.c[name] == value for name, value in key.items()))
            .with_for_update()
        )
        session.refresh(obj)  # now that the row is ours, read what others committed
