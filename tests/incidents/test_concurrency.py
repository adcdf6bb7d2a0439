"""Races that only a real database settles: two dispatches of one officer to two
incidents, and two intakes with one idempotency key. On PostgreSQL both transactions
have read the state before either writes (a barrier); SQLite serialises writers (every
transaction takes the write lock at BEGIN), so there the second simply comes after."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao import migrate
from fengqiao.audit import service as audit
from fengqiao.audit.service import SYSTEM
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
from fengqiao.demo.county import CountyFiles
from fengqiao.dispatch import service as dispatch
from fengqiao.dispatch.models import ACTIVE_ASSIGNMENT, Assignment
from fengqiao.errors import Conflict
from fengqiao.i18n import language
from fengqiao.incidents import service as incidents
from fengqiao.incidents.models import Incident, IncidentStatus
from fengqiao.org.models import DutyStatus, Person, Team
from tests.incidents.helpers import import_org, people_of, report, set_status, spot
from tests.postgres_server import PostgresServer

ROUNDS = 3
TIMEOUT = 60.0


@dataclass(frozen=True)
class Db:
    backend: str
    factory: sessionmaker[Session]


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def db(request: pytest.FixtureRequest, tmp_path: Path, county_files: CountyFiles) -> Iterator[Db]:
    """A migrated database with the county in it, on a real PostgreSQL server or SQLite."""
    audit.install_session_hooks()
    server: PostgresServer | None = None
    name = ""
    if request.param == "postgres":
        server = request.getfixturevalue("postgres")
        name = server.create_database("race")
        url = server.sqlalchemy_url(name)
    else:
        url = f"sqlite:///{tmp_path / 'race.db'}"
    engine = make_engine(Settings(database_url=url, secret_key="test-secret"))  # type: ignore[call-arg]
    try:
        migrate.upgrade(engine)
        factory = make_sessionmaker(engine)
        with unit_of_work(factory) as session:
            import_org(session, county_files)
        yield Db(request.param, factory)
    finally:
        engine.dispose()
        if server is not None:
            server.drop_database(name)


def _race(work: Callable[[int], object]) -> list[object]:
    """Run ``work(0)`` and ``work(1)`` in two threads; their results or exceptions."""
    results: list[object] = [None, None]

    def run(i: int) -> None:
        with language("en"):
            try:
                results[i] = work(i)
            except BaseException as exc:  # reported by the test, not lost in the thread
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a racing transaction hung"
    return results


def test_one_officer_cannot_be_dispatched_to_two_incidents(db: Db) -> None:
    with unit_of_work(db.factory) as session:
        here = spot(session)
        officers = [
            p
            for p in people_of(session, here.station.id)
            if p.team is Team.COMMUNITY and p.kind.value == "officer"
        ][:ROUNDS]
        set_status(session, officers, DutyStatus.AVAILABLE)
        officer_ids = [p.id for p in officers]
        pairs = [
            [
                incidents.create_incident(
                    session, actor=SYSTEM, data=report("0601", here.point), route=False
                ).incident.id
                for _ in (0, 1)
            ]
            for _ in range(ROUNDS)
        ]

    for officer_id, incident_ids in zip(officer_ids, pairs, strict=True):
        barrier = threading.Barrier(2, timeout=TIMEOUT / 2)
        seen: list[DutyStatus] = []

        def work(
            i: int,
            officer_id: int = officer_id,
            incident_ids: list[int] = incident_ids,
            barrier: threading.Barrier = barrier,
            seen: list[DutyStatus] = seen,
        ) -> str:
            session = db.factory()
            try:
                if db.backend == "sqlite":
                    barrier.wait()  # SQLite: a transaction would hold the write lock
                person = session.get(Person, officer_id)
                incident = session.get(Incident, incident_ids[i])
                assert person is not None and incident is not None
                seen.append(person.duty_status)
                if db.backend == "postgres":
                    barrier.wait()  # both have read "available"; neither has written
                dispatch.dispatch_person(session, actor=SYSTEM, incident=incident, person=person)
                session.commit()
                return "dispatched"
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

        results = _race(work)

        assert sorted(map(type, results), key=lambda t: t.__name__) == [Conflict, str], results
        winner = results.index("dispatched")
        refused = results[1 - winner]
        assert isinstance(refused, Conflict) and refused.status == 409
        if db.backend == "postgres":
            # Both saw the officer available: the database, not the check, refused one.
            assert seen == [DutyStatus.AVAILABLE, DutyStatus.AVAILABLE]
            assert "just been dispatched" in refused.message
        with db.factory() as session:
            active = session.scalars(
                select(Assignment).where(
                    Assignment.person_id == officer_id,
                    Assignment.status.in_(ACTIVE_ASSIGNMENT),
                )
            ).all()
            assert [a.incident_id for a in active] == [incident_ids[winner]]
            officer = session.get(Person, officer_id)
            assert officer is not None and officer.duty_status is DutyStatus.EN_ROUTE
            won = session.get(Incident, incident_ids[winner])
            lost = session.get(Incident, incident_ids[1 - winner])
            assert won is not None and won.status is IncidentStatus.DISPATCHED
            assert lost is not None and lost.status is IncidentStatus.RECEIVED
            assert lost.dispatched_at is None
            assert (
                session.scalar(
                    select(func.count())
                    .select_from(Assignment)
                    .where(Assignment.incident_id == lost.id)
                )
                == 0
            )


def test_concurrent_retries_with_one_key_create_one_incident(db: Db) -> None:
    with db.factory() as session:
        here = spot(session)

    for round_no in range(ROUNDS):
        key = f"race-{round_no}"
        barrier = threading.Barrier(2, timeout=TIMEOUT / 2)

        def work(i: int, key: str = key, barrier: threading.Barrier = barrier) -> tuple[int, bool]:
            session = db.factory()
            try:
                if db.backend == "sqlite":
                    barrier.wait()
                else:
                    assert incidents.find_by_key(session, key) is None  # inside the transaction
                    barrier.wait()
                intake = incidents.create_incident(
                    session,
                    actor=SYSTEM,
                    data=report("0601", here.point, description=f"caller {i}"),
                    idempotency_key=key,
                )
                session.commit()
                return intake.incident.id, intake.created
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

        results = _race(work)

        assert all(isinstance(r, tuple) for r in results), results
        (id0, created0), (id1, created1) = results  # type: ignore[misc]
        assert id0 == id1
        assert sorted([created0, created1]) == [False, True]
        with db.factory() as session:
            rows = session.scalars(select(Incident).where(Incident.idempotency_key == key)).all()
            assert [r.id for r in rows] == [id0]
    with db.factory() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == ROUNDS
