"""The hash-chained, append-only audit log, on SQLite and on a real PostgreSQL server:
recording, the guards in the ORM and in the database, detection of tampering by someone
who bypasses the guards, concurrent appenders, and the ``fengqiao audit verify`` command."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction, AuditEvent
from fengqiao.audit.service import SYSTEM, Actor, VerifyResult
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work

Factory = sessionmaker[Session]


# --- helpers ---------------------------------------------------------------------------


def append(factory: Factory, count: int, *, tag: str = "t", actor: Actor = SYSTEM) -> list[int]:
    """Record ``count`` events in one unit of work; returns their ids."""
    with unit_of_work(factory) as session:
        rows = [
            audit.record(
                session,
                actor=actor,
                action=AuditAction.READ,
                object_type="test",
                object_id=f"{tag}-{i}",
                detail={"tag": tag, "i": i},
            )
            for i in range(count)
        ]
        return [row.id for row in rows]


def verify(factory: Factory) -> VerifyResult:
    with factory() as session:
        return audit.verify_chain(session)


def all_ids(factory: Factory) -> list[int]:
    with factory() as session:
        return list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def detail_of(factory: Factory, row_id: int) -> str:
    with factory() as session:
        value = session.scalar(select(AuditEvent.detail).where(AuditEvent.id == row_id))
    assert value is not None
    return value


def run_sql(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def bypass_guards(engine: Engine) -> None:
    """What a database administrator could do: switch off the append-only triggers."""
    if engine.dialect.name == "postgresql":
        run_sql(engine, "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
    else:
        run_sql(engine, "DROP TRIGGER audit_event_no_update")
        run_sql(engine, "DROP TRIGGER audit_event_no_delete")


@pytest.fixture
def chain(session_factory: Factory) -> list[int]:
    """Ten events in three units of work; the ids, oldest first."""
    assert verify(session_factory) == VerifyResult(0, None, None)  # a new database is empty
    return (
        append(session_factory, 3, tag="a")
        + append(session_factory, 5, tag="b")
        + append(session_factory, 2, tag="c")
    )


# --- recording -------------------------------------------------------------------------


def test_recorded_events_form_a_verified_chain(session_factory: Factory, chain: list[int]) -> None:
    result = verify(session_factory)
    assert result.ok
    assert (result.checked, result.first_bad_id, result.reason) == (10, None, None)
    assert all_ids(session_factory) == chain


def test_each_row_links_to_the_previous_one(session_factory: Factory, chain: list[int]) -> None:
    with session_factory() as session:
        rows = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert rows[0].prev_hash == audit.GENESIS_HASH
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    assert len({row.hash for row in rows}) == len(rows)


def test_rolled_back_events_leave_no_gap_in_the_chain(session_factory: Factory) -> None:
    append(session_factory, 2, tag="kept")
    with pytest.raises(RuntimeError), unit_of_work(session_factory) as session:
        audit.record(session, actor=SYSTEM, action=AuditAction.READ, object_type="test")
        raise RuntimeError("the request failed")
    append(session_factory, 2, tag="after")
    assert verify(session_factory) == VerifyResult(4, None, None)


# --- guards ----------------------------------------------------------------------------


def test_orm_refuses_to_update_an_audit_row(session_factory: Factory, chain: list[int]) -> None:
    middle = chain[5]
    original = detail_of(session_factory, middle)
    with session_factory() as session:
        row = session.get(AuditEvent, middle)
        assert row is not None
        row.detail = '{"tampered":true}'
        with pytest.raises((PermissionError, DBAPIError), match="append-only"):
            session.flush()
        session.rollback()
    assert detail_of(session_factory, middle) == original
    assert verify(session_factory).ok


def test_orm_refuses_to_delete_an_audit_row(session_factory: Factory, chain: list[int]) -> None:
    with session_factory() as session:
        row = session.get(AuditEvent, chain[5])
        session.delete(row)
        with pytest.raises((PermissionError, DBAPIError), match="append-only"):
            session.flush()
        session.rollback()
    assert all_ids(session_factory) == chain


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_event SET detail = '{}' WHERE id = :id",
        "UPDATE audit_event SET outcome = 'ok'",
        "DELETE FROM audit_event WHERE id = :id",
    ],
)
def test_database_refuses_update_and_delete(
    engine: Engine, session_factory: Factory, chain: list[int], sql: str
) -> None:
    original = detail_of(session_factory, chain[5])
    with pytest.raises(DBAPIError, match="append-only"):
        run_sql(engine, sql, id=chain[5])
    assert all_ids(session_factory) == chain
    assert detail_of(session_factory, chain[5]) == original
    assert verify(session_factory).ok


def test_bulk_orm_statements_are_refused_by_the_database(
    session_factory: Factory, chain: list[int]
) -> None:
    for statement in (update(AuditEvent).values(outcome="ok"), delete(AuditEvent)):
        with pytest.raises(DBAPIError, match="append-only"), unit_of_work(session_factory) as s:
            s.execute(statement)
    assert all_ids(session_factory) == chain


def test_database_refuses_emptying_the_table(
    engine: Engine, session_factory: Factory, chain: list[int]
) -> None:
    sql = (
        "TRUNCATE audit_event" if engine.dialect.name == "postgresql" else "DELETE FROM audit_event"
    )
    with pytest.raises(DBAPIError, match="append-only"):
        run_sql(engine, sql)
    assert all_ids(session_factory) == chain


# --- tampering detection ---------------------------------------------------------------


def test_changed_detail_is_reported_at_that_row(
    engine: Engine, session_factory: Factory, chain: list[int]
) -> None:
    middle = chain[5]
    bypass_guards(engine)
    run_sql(
        engine, "UPDATE audit_event SET detail = :d WHERE id = :id", d='{"tag":"forged"}', id=middle
    )
    result = verify(session_factory)
    assert not result.ok
    assert result.first_bad_id == middle
    assert result.reason == "content does not match its hash"
    assert result.checked == 5  # the rows before it are intact


def test_changed_hash_column_is_reported_at_the_next_row(
    engine: Engine, session_factory: Factory, chain: list[int]
) -> None:
    """Rewriting a row together with its own hash still breaks the link to the next row."""
    middle = chain[5]
    bypass_guards(engine)
    with session_factory() as session:
        row = session.get(AuditEvent, middle)
        assert row is not None
        forged_hash = audit._chain_hash(row.prev_hash, "forged content")
    run_sql(engine, "UPDATE audit_event SET hash = :h WHERE id = :id", h=forged_hash, id=middle)
    result = verify(session_factory)
    assert result.first_bad_id == middle


def test_deleted_row_is_reported_at_the_next_row(
    engine: Engine, session_factory: Factory, chain: list[int]
) -> None:
    middle = chain[5]
    bypass_guards(engine)
    run_sql(engine, "DELETE FROM audit_event WHERE id = :id", id=middle)
    result = verify(session_factory)
    assert not result.ok
    assert result.first_bad_id == chain[6]
    assert result.reason == "prev_hash does not match the previous row"
    assert result.checked == 5


def test_deleted_first_row_is_reported(
    engine: Engine, session_factory: Factory, chain: list[int]
) -> None:
    bypass_guards(engine)
    run_sql(engine, "DELETE FROM audit_event WHERE id = :id", id=chain[0])
    assert verify(session_factory).first_bad_id == chain[1]


# --- concurrency -----------------------------------------------------------------------


def test_concurrent_appenders_keep_one_chain(session_factory: Factory) -> None:
    per_thread = 50
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def appender(tag: str) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(per_thread):  # each event its own unit of work
                append(session_factory, 1, tag=tag)
        except BaseException as exc:  # reported below, a thread cannot fail the test
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(tag,)) for tag in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "an appender hung"
    assert errors == []

    assert verify(session_factory) == VerifyResult(2 * per_thread, None, None)
    with session_factory() as session:
        tags = list(session.scalars(select(AuditEvent.detail)))
    assert sum('"tag": "x"' in d for d in tags) == per_thread
    assert sum('"tag": "y"' in d for d in tags) == per_thread


# --- the command line ------------------------------------------------------------------


def fengqiao_command() -> str:
    beside_python = Path(sys.executable).parent / "fengqiao"
    found = str(beside_python) if beside_python.exists() else shutil.which("fengqiao")
    assert found, "the fengqiao console script is not installed (pip install -e .)"
    return found


def run_verify(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    env.update(FENGQIAO_DATABASE_URL=settings.database_url, FENGQIAO_LANGUAGE="en")
    return subprocess.run(
        [fengqiao_command(), "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_verify_on_an_intact_and_a_tampered_database(demo_settings: Settings) -> None:
    engine = make_engine(demo_settings)
    try:
        factory = make_sessionmaker(engine)
        ids = all_ids(factory)
        assert len(ids) >= 3, "the demo database should hold audit rows"

        intact = run_verify(demo_settings)
        assert intact.returncode == 0, intact.stderr
        assert f"{len(ids)} rows checked" in intact.stdout

        middle = ids[len(ids) // 2]
        bypass_guards(engine)
        run_sql(engine, "UPDATE audit_event SET outcome = 'denied' WHERE id = :id", id=middle)
    finally:
        engine.dispose()

    broken = run_verify(demo_settings)
    assert broken.returncode == 1
    assert re.search(rf"\brow {middle}\b", broken.stderr), broken.stderr
    assert "intact" not in broken.stdout
