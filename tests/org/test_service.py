"""Organisation queries: scope, masking, and a query count that does not grow with the data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from fengqiao.accounts import service as accounts
from fengqiao.auth import Principal, build_principal
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker
from fengqiao.org import service as org
from fengqiao.org.models import PoliceGrid, Station


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def _count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def _principal(session: Session, username: str) -> Principal:
    user = accounts.get_user_by_username(session, username)
    assert user is not None
    return build_principal(session, user)


def _reads(engine: Engine, username: str) -> tuple[int, int]:
    with make_sessionmaker(engine)() as session:
        principal = _principal(session, username)
        with counting(engine) as statements:
            grids = org.list_grids(session, principal)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    return len(grids), len(selects)


def test_list_grids_query_count_does_not_grow_with_grids(demo_settings: Settings) -> None:
    engine = make_engine(demo_settings)
    many, admin_selects = _reads(engine, "admin")
    few, worker_selects = _reads(engine, "gridworker")
    engine.dispose()
    assert many > 40 and 1 <= few <= 3
    # grids, team members, civil grids, and the audit chain head: the same for 70 grids or 1.
    assert admin_selects == worker_selects <= 5


def test_scope_and_masking(demo_settings: Settings) -> None:
    engine = make_engine(demo_settings)
    with make_sessionmaker(engine)() as session:
        total = session.scalar(select(func.count()).select_from(PoliceGrid))
        officer = _principal(session, "officer")
        own_station = session.scalars(select(Station).where(Station.code == "QX-CG")).one()
        grids = org.list_grids(session, officer)
        people = org.list_personnel(session, officer)
        stations = org.list_stations(session, _principal(session, "admin"))
    engine.dispose()
    assert 0 < len(grids) < (total or 0)
    assert {g.station_code for g in grids} == {"QX-CG"}
    assert {p.station_code for p in people} == {own_station.code}
    assert all("****" in p.phone_masked for p in people if p.phone_masked)
    assert sum(s.grids for s in stations) == total
    assert len(stations) == 5
