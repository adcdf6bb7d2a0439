"""Publishing a grid plan (fengqiao.grids.publish), on SQLite and PostgreSQL: changed grids
get new rows under the same codes, the rows they replace are retired and keep their
incidents, placement, posts, civil grids and units follow; plans that are not ready, or
were made for another layout, are refused; the API publishes for a station chief only."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit.service import SYSTEM
from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
from fengqiao.errors import Conflict, InvalidInput
from fengqiao.grids import editing, publish
from fengqiao.grids.importing import import_units
from fengqiao.grids.models import GridPlan, PlanGrid, PlanningUnit, PlanStatus
from fengqiao.incidents import service as incidents
from fengqiao.incidents.models import Incident
from fengqiao.org import placement
from fengqiao.org.models import CivilGrid, GridAssignment, PersonKind, PoliceGrid
from tests.conftest import bearer, login_token
from tests.grids.helpers import (
    SYSTEM_PRINCIPAL,
    active_grids,
    district,
    feature,
    grid_view,
    layout,
    members,
    movable,
    partition,
    plan_district,
    principal_of,
    view,
    write_geojson,
)
from tests.incidents.helpers import report

Factory = sessionmaker[Session]
Posts = set[tuple[int, PersonKind]]


def _posts(session: Session, grid_id: int) -> Posts:
    return {
        (person_id, role)
        for person_id, role in session.execute(
            select(GridAssignment.person_id, GridAssignment.role).where(
                GridAssignment.grid_id == grid_id
            )
        )
    }


def _civil(session: Session, grid_ids: list[int]) -> set[int]:
    return set(session.scalars(select(CivilGrid.id).where(CivilGrid.police_grid_id.in_(grid_ids))))


def test_publishing_a_moved_unit_replaces_the_two_grids(county: Factory) -> None:
    with county() as session:
        chief = principal_of(session, "chief")
        d = district(session, "QX-CG-D3")
        before = {g.code: g for g in active_grids(session, d.id)}
        total_rows = session.scalar(select(func.count()).select_from(PoliceGrid))

        # A first plan with nothing changed keeps every row.
        first = plan_district(session, "QX-CG-D3", chief)
        kept = publish.publish(session, chief, first.id)
        assert sorted(kept.kept) == sorted(before) and kept.created == kept.retired == []
        assert session.scalar(select(func.count()).select_from(PoliceGrid)) == total_rows
        assert {g.id for g in active_grids(session, d.id)} == {g.id for g in before.values()}
        assert first.status is PlanStatus.PUBLISHED and first.published_by == "chief"

        second = plan_district(session, "QX-CG-D3", chief)
        v = view(session, second.id, chief)
        unit, source, target = movable(session, v)
        old_source, old_target = before[source.code], before[target.code]
        assert unit.grid_id == old_source.id
        inner = shapely.point_on_surface(unit.geometry)
        incident = incidents.create_incident(
            session, actor=SYSTEM, data=report("0601", (inner.x, inner.y)), route=False
        ).incident
        assert incident.grid_id == old_source.id
        posts = {old_source.id: _posts(session, old_source.id)}
        posts[old_target.id] = _posts(session, old_target.id)
        assert posts[old_source.id] and posts[old_target.id]
        civil = _civil(session, [old_source.id, old_target.id])
        assert civil

        editing.move_unit(session, chief, second.id, unit_id=unit.id, plan_grid_id=target.id)
        done = publish.publish(session, chief, second.id)

        changed = sorted([source.code, target.code])
        assert sorted(done.created) == sorted(done.retired) == changed
        assert sorted(done.kept) == sorted(set(before) - set(changed))
        assert (done.units_moved, done.residents_moved) == (1, unit.population)
        assert done.posts_moved == len(posts[old_source.id]) + len(posts[old_target.id])
        assert done.posts_ended == []

        after = {g.code: g for g in active_grids(session, d.id)}
        assert set(after) == set(before)
        for code in set(before) - set(changed):
            assert after[code].id == before[code].id  # kept rows are the same rows
        moved = view(session, second.id, chief)
        # The published plan still shows what publishing changed (one unit), although its
        # grids' rows have been replaced since.
        assert (moved.moved_units, moved.moved_population) == (1, unit.population)
        for plan_grid, old in ((source, old_source), (target, old_target)):
            new = after[plan_grid.code]
            assert new.id != old.id and new.plan_id == second.id and new.retired_at is None
            assert old.retired_at is not None  # retired, not deleted nor edited
            assert session.get(PoliceGrid, old.id) is old
            units = members(moved, plan_grid.id)
            assert new.population == sum(u.population for u in units)
            assert new.geometry.area == pytest.approx(
                shapely.union_all([u.geometry for u in units]).area, rel=1e-9
            )
            assert _posts(session, new.id) == posts[old.id]  # posts followed the code
            assert _posts(session, old.id) == set()
        assert session.get(PoliceGrid, old_source.id).population == old_source.population

        # The incident keeps the grid it had; a new point in the unit lands in the new grid.
        session.expire_all()
        assert session.get_one(Incident, incident.id).grid_id == old_source.id
        placement.invalidate()
        found = placement.place_point(session, inner.x, inner.y)
        assert found is not None and found.grid_id == after[target.code].id
        later = incidents.create_incident(
            session, actor=SYSTEM, data=report("0601", (inner.x, inner.y)), route=False
        ).incident
        assert later.grid_id == after[target.code].id

        # Units, civil grids and plans follow.
        assert session.get_one(PlanningUnit, unit.id).grid_id == after[target.code].id
        population: dict[int | None, int] = defaultdict(int)
        for u in session.scalars(select(PlanningUnit).where(PlanningUnit.district_id == d.id)):
            population[u.grid_id] += u.population
        assert population == {g.id: g.population for g in after.values()}
        assert layout(session, d.id) == partition(view(session, second.id, chief))
        dangling = session.scalars(
            select(CivilGrid.code)
            .join(PoliceGrid, PoliceGrid.id == CivilGrid.police_grid_id)
            .where(PoliceGrid.retired_at.is_not(None))
        ).all()
        assert dangling == []
        assert _civil(session, [after[source.code].id, after[target.code].id]) == civil
        session.refresh(first)
        assert first.status is PlanStatus.SUPERSEDED
        assert second.status is PlanStatus.PUBLISHED and second.published_at is not None
        published = session.scalars(select(PlanGrid).where(PlanGrid.plan_id == second.id)).all()
        assert {g.published_grid_id for g in published} == {g.id for g in after.values()}
        session.commit()

        # Codes stay unique among active grids, across the whole county.
        codes = session.scalars(select(PoliceGrid.code).where(PoliceGrid.active())).all()
        assert len(codes) == len(set(codes))


def _far_grid(session: Session, plan_id: int) -> tuple[PlanningUnit, int, str]:
    """A unit and a grid of the same district that it does not touch."""
    v = view(session, plan_id)
    for unit in v.units:
        for g in v.grids:
            if g.id == v.unit_grid[unit.id]:
                continue
            if not any(unit.geometry.intersects(u.geometry) for u in members(v, g.id)):
                return unit, g.id, g.code
    raise AssertionError("every unit touches every grid")


def test_a_plan_with_a_broken_grid_is_not_published(county: Factory) -> None:
    with county() as session:
        d = district(session, "QX-LM-D1")
        before = {g.id for g in active_grids(session, d.id)}
        plan = plan_district(session, "QX-LM-D1")
        unit, grid_id, code = _far_grid(session, plan.id)
        editing.move_unit(session, SYSTEM_PRINCIPAL, plan.id, unit_id=unit.id, plan_grid_id=grid_id)
        assert not grid_view(view(session, plan.id), grid_id).contiguous
        with pytest.raises(InvalidInput) as refused:
            publish.publish(session, SYSTEM_PRINCIPAL, plan.id)
        assert f"grid {code} is not contiguous" in refused.value.message
        assert plan.status is PlanStatus.DRAFT
        assert {g.id for g in active_grids(session, d.id)} == before


def test_a_plan_is_not_published_after_its_units_changed(county: Factory, tmp_path: Path) -> None:
    with county() as session:
        plan = plan_district(session, "QX-SM-D2")
        # Split one unit of the district in two: the new half is not in the plan.
        v = view(session, plan.id)
        unit = max(members(v, v.grids[0].id), key=lambda u: u.geometry.area)
        minx, miny, maxx, maxy = unit.geometry.bounds
        cut = shapely.box(minx, miny, (minx + maxx) / 2, maxy)
        west, east = unit.geometry.intersection(cut), unit.geometry.difference(cut)
        assert west.geom_type == east.geom_type == "Polygon"
        path = write_geojson(
            tmp_path / "split.geojson",
            [
                feature(unit.code, west, kind="village", area_kind="rural", population=10),
                feature(f"{unit.code}-B", east, kind="village", area_kind="rural", population=20),
            ],
        )
        import_units(session, path, actor=SYSTEM)
        with pytest.raises(Conflict) as refused:
            publish.publish(session, SYSTEM_PRINCIPAL, plan.id)
        assert "1 new, 0 gone" in refused.value.message
        assert plan.status is PlanStatus.DRAFT
        assert all(g.retired_at is None for g in active_grids(session, plan.district_id or 0))


def test_a_plan_made_for_an_older_layout_is_not_published(county: Factory) -> None:
    """Two drafts of one district; once one is published, the other was made for a layout
    that is gone. Publishing it anyway would retire the grids just published and end
    their posts (they are not among the grids it carries on)."""
    with county() as session:
        d = district(session, "QX-ML-D2")
        older = plan_district(session, "QX-ML-D2")
        newer = plan_district(session, "QX-ML-D2")
        unit, _source, target = movable(session, view(session, newer.id))
        editing.move_unit(
            session, SYSTEM_PRINCIPAL, newer.id, unit_id=unit.id, plan_grid_id=target.id
        )
        publish.publish(session, SYSTEM_PRINCIPAL, newer.id)
        grids = {g.id: _posts(session, g.id) for g in active_grids(session, d.id)}
        assert all(grids.values())

        with pytest.raises(Conflict) as refused:
            publish.publish(session, SYSTEM_PRINCIPAL, older.id)
        assert target.code in refused.value.message
        assert older.status is PlanStatus.DRAFT and newer.status is PlanStatus.PUBLISHED
        assert {g.id: _posts(session, g.id) for g in active_grids(session, d.id)} == grids

        # A new version of the published plan is up to date and can be published.
        again = editing.new_version(session, SYSTEM_PRINCIPAL, newer.id)
        result = publish.publish(session, SYSTEM_PRINCIPAL, again.id)
        assert result.created == [] and len(result.kept) == len(grids)


def _ids(settings: Settings, district_code: str) -> tuple[int, int]:
    engine = make_engine(settings)
    with make_sessionmaker(engine)() as session:
        d = district(session, district_code)
        ids = d.station_id, d.id
    engine.dispose()
    return ids


def test_publish_through_the_api(api: TestClient, county_settings: Settings) -> None:
    station_id, district_id = _ids(county_settings, "QX-CG-D1")
    chief = bearer(login_token(api, "chief"))
    command = bearer(login_token(api, "command"))

    made = api.post(
        "/api/v1/grid-plans",
        json={"station_id": station_id, "district_id": district_id},
        headers=chief,
    )
    assert made.status_code == 201, made.text
    plan = made.json()
    assert plan["status"] == "draft" and plan["moved_units"] == 0 and plan["grids"]
    codes = sorted(g["code"] for g in plan["grids"])

    denied = api.post(f"/api/v1/grid-plans/{plan['id']}/publish", headers=command)
    assert denied.status_code == 403, denied.text
    assert api.get(f"/api/v1/grid-plans/{plan['id']}", headers=chief).json()["status"] == "draft"

    done = api.post(f"/api/v1/grid-plans/{plan['id']}/publish", headers=chief)
    assert done.status_code == 200, done.text
    body = done.json()
    assert sorted(body["kept"]) == codes and body["created"] == body["retired"] == []
    shown = api.get(f"/api/v1/grid-plans/{plan['id']}", headers=chief).json()
    assert shown["status"] == "published" and shown["published_at"]

    again = api.post(f"/api/v1/grid-plans/{plan['id']}/publish", headers=chief)
    assert again.status_code == 409, again.text

    engine = make_engine(county_settings)
    with unit_of_work(make_sessionmaker(engine)) as session:
        stored = session.get_one(GridPlan, plan["id"])
        assert stored.status is PlanStatus.PUBLISHED and stored.published_by == "chief"
    engine.dispose()
