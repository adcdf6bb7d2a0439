"""Staffing the grids and the coverage report (fengqiao.grids.staffing), on SQLite and
PostgreSQL. Coverage figures are checked against counts made here from the posts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.errors import InvalidInput, NotFound
from fengqiao.grids import staffing
from fengqiao.org.models import GridAssignment, Person, PersonKind, PoliceDistrict, PoliceGrid
from tests.conftest import bearer, login_token
from tests.grids.helpers import SYSTEM_PRINCIPAL, principal_of
from tests.incidents.helpers import grid_person, grids_of, station

Factory = sessionmaker[Session]


def _posts(session: Session, grid_id: int) -> set[tuple[int, PersonKind]]:
    return set(
        session.execute(
            select(GridAssignment.person_id, GridAssignment.role).where(
                GridAssignment.grid_id == grid_id
            )
        ).all()
    )


def _officer_grids(session: Session, person_id: int) -> set[int]:
    return set(
        session.scalars(
            select(GridAssignment.grid_id).where(
                GridAssignment.person_id == person_id, GridAssignment.role == PersonKind.OFFICER
            )
        )
    )


def test_a_new_officer_replaces_the_grid_officer(county: Factory) -> None:
    with county() as session:
        chief = principal_of(session, "chief")
        grids = grids_of(session, station(session, "QX-CG").id)
        grid, other = (
            grids[0],
            next(
                g
                for g in grids[1:]
                if grid_person(session, g.id, PersonKind.OFFICER)
                != grid_person(session, grids[0].id, PersonKind.OFFICER)
            ),
        )
        before = grid_person(session, grid.id, PersonKind.OFFICER)
        newcomer = grid_person(session, other.id, PersonKind.OFFICER)
        assert before is not None and newcomer is not None and before.id != newcomer.id
        posts = _posts(session, grid.id)
        theirs = _officer_grids(session, newcomer.id)

        message = staffing.assign_post(session, chief, grid_id=grid.id, person_id=newcomer.id)
        assert newcomer.name in message and grid.code in message
        assert _posts(session, grid.id) == (
            posts - {(before.id, PersonKind.OFFICER)} | {(newcomer.id, PersonKind.OFFICER)}
        )
        assert grid_person(session, grid.id, PersonKind.OFFICER) == newcomer
        assert _officer_grids(session, newcomer.id) == theirs | {grid.id}  # keeps the others
        assert grid.id not in _officer_grids(session, before.id)

        again = staffing.assign_post(session, chief, grid_id=grid.id, person_id=newcomer.id)
        assert "already serves" in again
        assert _posts(session, grid.id) == (
            posts - {(before.id, PersonKind.OFFICER)} | {(newcomer.id, PersonKind.OFFICER)}
        )

        # A grid worker joins the N: nobody is replaced.
        worker = session.scalars(
            select(Person)
            .where(Person.station_id == newcomer.station_id, Person.kind == PersonKind.GRID_WORKER)
            .order_by(Person.id)
        ).first()
        assert worker is not None
        staffing.assign_post(session, chief, grid_id=grid.id, person_id=worker.id)
        assert (newcomer.id, PersonKind.OFFICER) in _posts(session, grid.id)
        assert (worker.id, PersonKind.GRID_WORKER) in _posts(session, grid.id)


def test_people_and_grids_of_other_stations_are_refused(county: Factory) -> None:
    with county() as session:
        chief = principal_of(session, "chief")
        own = grids_of(session, station(session, "QX-CG").id)[0]
        foreign_grid = grids_of(session, station(session, "QX-LM").id)[0]
        stranger = grid_person(session, foreign_grid.id, PersonKind.OFFICER)
        assert stranger is not None
        posts = _posts(session, own.id)
        with pytest.raises(InvalidInput) as refused:
            staffing.assign_post(session, chief, grid_id=own.id, person_id=stranger.id)
        assert str(stranger.id) in refused.value.message
        # The same, done by the command line (every station in sight): still refused.
        with pytest.raises(InvalidInput):
            staffing.assign_post(session, SYSTEM_PRINCIPAL, grid_id=own.id, person_id=stranger.id)
        assert _posts(session, own.id) == posts
        # A chief does not staff another station's grid at all.
        with pytest.raises(NotFound):
            staffing.assign_post(session, chief, grid_id=foreign_grid.id, person_id=stranger.id)
        with pytest.raises(NotFound):
            staffing.remove_post(session, chief, grid_id=foreign_grid.id, person_id=stranger.id)


def test_coverage_counts_and_gaps(county: Factory) -> None:
    with county() as session:
        st = station(session, "QX-LM")
        grids = grids_of(session, st.id)
        c = _coverage(session, "QX-LM")
        assert c.grids == len(grids)
        assert c.population == sum(g.population for g in grids)
        officers = {
            p.id for g in grids if (p := grid_person(session, g.id, PersonKind.OFFICER)) is not None
        }
        assert c.officers == len(officers)
        assert c.residents_per_officer == pytest.approx(c.population / len(officers))
        assert c.without_officer == [] and c.overloaded == []

        # Remove a grid's officer: the grid is listed, and the officer count follows.
        grid = grids[0]
        officer = grid_person(session, grid.id, PersonKind.OFFICER)
        assert officer is not None
        staffing.remove_post(session, SYSTEM_PRINCIPAL, grid_id=grid.id, person_id=officer.id)
        with pytest.raises(NotFound):
            staffing.remove_post(session, SYSTEM_PRINCIPAL, grid_id=grid.id, person_id=officer.id)
        c = _coverage(session, "QX-LM")
        assert c.without_officer == [grid.code]
        still = {
            p.id for g in grids if (p := grid_person(session, g.id, PersonKind.OFFICER)) is not None
        }
        assert c.officers == len(still)
        assert c.residents_per_officer == pytest.approx(c.population / len(still))
        assert grid.code not in c.without_fixed  # the auxiliary is still there

        # Give one officer a third and fourth grid: overloaded over 2, not over 4.
        busy = grid_person(session, grids[1].id, PersonKind.OFFICER)
        assert busy is not None
        targets = [g for g in grids if g.id not in _officer_grids(session, busy.id)][:2]
        for g in targets:
            staffing.assign_post(session, SYSTEM_PRINCIPAL, grid_id=g.id, person_id=busy.id)
        load = len(_officer_grids(session, busy.id))
        assert load > 2
        c = _coverage(session, "QX-LM")
        assert [(o.personnel_no, o.grids) for o in c.overloaded] == [(busy.personnel_no, load)]
        relaxed = _coverage(session, "QX-LM", max_grids=load)
        assert relaxed.overloaded == []


def _coverage(session: Session, code: str, max_grids: int = 2) -> staffing.StationCoverage:
    rows = staffing.coverage(session, SYSTEM_PRINCIPAL, max_grids=max_grids)
    assert [r.code for r in rows] == sorted(r.code for r in rows)
    return next(r for r in rows if r.code == code)


def test_coverage_counts_active_grids_only_and_respects_scope(county: Factory) -> None:
    with county() as session:
        chief = principal_of(session, "chief")
        rows = staffing.coverage(session, chief)
        assert [r.code for r in rows] == ["QX-CG"]
        everyone = staffing.coverage(session, SYSTEM_PRINCIPAL)
        assert len(everyone) == 5
        qx_cg = next(r for r in everyone if r.code == "QX-CG")
        active = session.scalars(
            select(PoliceGrid)
            .join(PoliceDistrict)
            .where(PoliceDistrict.station_id == qx_cg.station_id, PoliceGrid.active())
        ).all()
        assert rows[0].grids == qx_cg.grids == len(active)


def test_coverage_and_staffing_api(api: TestClient) -> None:
    chief = bearer(login_token(api, "chief"))
    command = bearer(login_token(api, "command"))
    mine = api.get("/api/v1/grids/coverage", headers=chief)
    assert mine.status_code == 200, mine.text
    assert [r["station_code"] for r in mine.json()] == ["QX-CG"]
    joint = api.get("/api/v1/grids/coverage", headers=command).json()
    assert len(joint) >= 1 and all(r["grids"] > 0 for r in joint)
    denied = api.post("/api/v1/grids/1/staff", json={"person_id": 1}, headers=command)
    assert denied.status_code == 403
