"""Grid plans (fengqiao.grids.service and .editing), on SQLite and PostgreSQL: planning a
district from the active layout or afresh, re-planning after residents changed, and
editing a draft by hand.

Figures the service reports are checked against figures computed here from the units
themselves (populations added up, contiguity as "the union is one polygon")."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from shapely.geometry import LineString, mapping
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit.service import SYSTEM
from fengqiao.errors import Conflict, InvalidInput, NotFound
from fengqiao.grids import editing, publish, service, views
from fengqiao.grids.importing import import_barriers
from fengqiao.grids.models import GridPlan, PlanGrid, PlanningUnit, PlanStatus, PlanUnit
from fengqiao.labels import plan_status_label
from fengqiao.org.models import AreaKind, PoliceGrid, Station
from tests.grids.helpers import (
    SYSTEM_PRINCIPAL,
    active_grids,
    district,
    grid_view,
    is_one_piece,
    layout,
    members,
    movable,
    partition,
    plan_district,
    principal_of,
    view,
    write_geojson,
)

Factory = sessionmaker[Session]
CAP = {AreaKind.URBAN: 5000, AreaKind.RURAL: 3000}


def _cap_of(units: list[PlanningUnit]) -> int:
    return min(CAP[u.area_kind] for u in units)


def active_code(session: Session, unit: PlanningUnit) -> str:
    return session.get_one(PoliceGrid, unit.grid_id).code


def code_in(v: views.PlanView, unit: PlanningUnit) -> str:
    return grid_view(v, v.unit_grid[unit.id]).code


def test_replanning_the_current_layout_keeps_every_grid(county: Factory) -> None:
    with county() as session:
        d = district(session, "QX-LM-D1")
        active = {g.id: g for g in active_grids(session, d.id)}
        plan = plan_district(session, "QX-LM-D1")
        v = view(session, plan.id)
        assert plan.status is PlanStatus.DRAFT and plan.district_id == d.id
        assert v.moved_units == 0 and v.moved_population == 0 and v.warnings == []
        grids = session.scalars(select(PlanGrid).where(PlanGrid.plan_id == plan.id)).all()
        assert {g.continues_grid_id for g in grids} == set(active)
        for g in grids:
            assert g.continues_grid_id is not None
            assert (g.code, g.name) == (
                active[g.continues_grid_id].code,
                active[g.continues_grid_id].name,
            )
        assert partition(v) == layout(session, d.id)
        by_code = {g.code: g for g in active.values()}
        for g in v.grids:
            assert g.continues_code == g.code
            assert g.population == by_code[g.code].population
            assert g.contiguous and not g.over_cap


def test_a_fresh_plan_partitions_the_district_within_the_cap(county: Factory) -> None:
    with county() as session:
        d = district(session, "QX-CG-D3")
        scope = session.scalars(select(PlanningUnit).where(PlanningUnit.district_id == d.id)).all()
        assert {u.area_kind for u in scope} == {AreaKind.URBAN}
        plan = plan_district(session, "QX-CG-D3", fresh=True, seed=11)
        v = view(session, plan.id)
        rows = session.scalars(select(PlanUnit.unit_id).where(PlanUnit.plan_id == plan.id)).all()
        assert sorted(rows) == sorted(u.id for u in scope)  # every unit exactly once
        lower = math.ceil(sum(u.population for u in scope) / 5000)
        assert v.lower_bound == lower
        assert lower <= len(v.grids) <= lower + 2
        for g in v.grids:
            units = members(v, g.id)
            assert units, g.code
            assert sum(u.population for u in units) == g.population <= 5000, g.code
            assert g.contiguous and is_one_piece(units), g.code
        # Made from scratch, each grid still carries on the active grid it shares the most
        # residents with (each at most once), so that posts follow.
        active = {g.code: g for g in active_grids(session, d.id)}
        continued = [g.continues_code for g in v.grids if g.continues_code]
        assert continued and len(continued) == len(set(continued))
        for g in v.grids:
            if g.continues_code is None:
                # Only when every active grid it overlaps is carried on by another grid.
                assert g.code not in active
                assert {active_code(session, u) for u in members(v, g.id)} <= set(continued)
                continue
            assert g.code == g.continues_code
            shared = sum(u.population for u in members(v, g.id) if u.grid_id == active[g.code].id)
            assert shared > 0, g.code
        moved = [u for u in scope if active_code(session, u) != code_in(v, u)]
        assert v.moved_units == len(moved)
        assert v.moved_population == sum(u.population for u in moved)

        again = view(session, plan_district(session, "QX-CG-D3", fresh=True, seed=11).id)
        assert partition(again) == partition(v)
        assert again.plan.version == plan.version + 1


def test_a_grid_over_its_cap_is_fixed_with_few_moves(county: Factory) -> None:
    with county() as session:
        d = district(session, "QX-ML-D2")
        fullest = max(active_grids(session, d.id), key=lambda g: g.population)
        units = session.scalars(
            select(PlanningUnit).where(PlanningUnit.grid_id == fullest.id)
        ).all()
        cap = _cap_of(list(units))
        smallest = min(units, key=lambda u: u.population)
        smallest.population += cap - fullest.population + 300  # the grid is now 300 over
        assert smallest.population < cap
        session.flush()
        before = {
            u.id: u.grid_id
            for u in session.scalars(select(PlanningUnit).where(PlanningUnit.district_id == d.id))
        }

        v = view(session, plan_district(session, "QX-ML-D2").id)
        continues = {
            g.id: g.continues_grid_id
            for g in session.scalars(select(PlanGrid).where(PlanGrid.plan_id == v.plan.id))
        }
        moved = [uid for uid, gid in v.unit_grid.items() if continues[gid] != before[uid]]
        assert 1 <= len(moved) <= len(units)
        assert v.moved_units == len(moved)
        assert all(before[uid] == fullest.id for uid in moved)  # only the full grid sheds
        for g in v.grids:
            assert not g.over_cap and g.population <= g.cap, g.code
            assert is_one_piece(members(v, g.id)), g.code
        assert len(v.grids) == len(active_grids(session, d.id))


def test_a_unit_alone_over_the_cap_is_a_grid_of_its_own(county: Factory) -> None:
    with county() as session:
        d = district(session, "QX-CG-D2")
        big = session.scalars(
            select(PlanningUnit).where(PlanningUnit.district_id == d.id).order_by(PlanningUnit.code)
        ).first()
        assert big is not None and big.area_kind is AreaKind.URBAN
        big.population = 6200
        session.flush()
        v = view(session, plan_district(session, "QX-CG-D2").id)
        alone = v.unit_grid[big.id]
        assert [u.id for u in members(v, alone)] == [big.id]
        assert any(
            f"Unit {big.code}" in w and "alone has 6200 residents, over the cap of 5000" in w
            for w in v.warnings
        ), v.warnings
        assert v.report["over_cap_units"] == [
            {"code": big.code, "name": big.name, "population": 6200, "cap": 5000}
        ]
        others = [g for g in v.grids if g.id != alone]
        assert all(not g.over_cap for g in others)
        assert grid_view(v, alone).over_cap


def test_a_barrier_line_cuts_grids_and_replanning_respects_it(
    county: Factory, tmp_path: Path
) -> None:
    with county() as session:
        d = district(session, "QX-ML-D2")
        draft = plan_district(session, "QX-ML-D2")
        assert all(g.contiguous for g in view(session, draft.id).grids)
        assert d.geometry is not None
        minx, miny, maxx, maxy = d.geometry.bounds
        y = (miny + maxy) / 2
        river = LineString([(minx - 0.01, y), (maxx + 0.01, y)])  # across the whole district
        path = write_geojson(
            tmp_path / "river.geojson",
            [
                {
                    "type": "Feature",
                    "properties": {"code": "R-1", "name": "溪"},
                    "geometry": mapping(river),
                }
            ],
        )
        import_barriers(session, path, actor=SYSTEM)

        def straddling(v: views.PlanView) -> set[str]:
            """Grids with units (by centroid) on both banks."""
            return {
                g.code
                for g in v.grids
                if len({u.geometry.centroid.y > y for u in members(v, g.id)}) == 2
            }

        cut = view(session, draft.id)  # the same draft, seen with the river
        assert straddling(cut)
        assert straddling(cut) <= {g.code for g in cut.grids if not g.contiguous}
        with pytest.raises(InvalidInput):
            publish.publish(session, SYSTEM_PRINCIPAL, draft.id)

        again = view(session, plan_district(session, "QX-ML-D2").id)
        assert straddling(again) == set()
        assert all(g.contiguous and not g.over_cap for g in again.grids)
        assert sorted(again.unit_grid) == sorted(cut.unit_grid)


def test_moving_a_unit_shifts_its_residents_between_the_two_grids(county: Factory) -> None:
    with county() as session:
        st = session.scalars(select(Station).where(Station.code == "QX-ML")).one()
        plan = service.create_plan(session, SYSTEM_PRINCIPAL, station_id=st.id)
        v = view(session, plan.id)
        assert len({g.district_id for g in v.grids}) == 3  # the whole station
        unit, source, target = movable(session, v)
        editing.move_unit(
            session, SYSTEM_PRINCIPAL, plan.id, unit_id=unit.id, plan_grid_id=target.id
        )
        after = view(session, plan.id)
        assert grid_view(after, source.id).population == source.population - unit.population
        assert grid_view(after, target.id).population == target.population + unit.population
        assert grid_view(after, target.id).units == target.units + 1
        assert after.unit_grid[unit.id] == target.id
        assert after.moved_units == 1 and after.moved_population == unit.population
        untouched = {g.id: g.population for g in v.grids if g.id not in (source.id, target.id)}
        assert {g.id: g.population for g in after.grids if g.id in untouched} == untouched

        # A grid of another police district: refused, nothing moves.
        elsewhere = next(g for g in after.grids if g.district_id != unit.district_id)
        with pytest.raises(InvalidInput) as refused:
            editing.move_unit(
                session, SYSTEM_PRINCIPAL, plan.id, unit_id=unit.id, plan_grid_id=elsewhere.id
            )
        assert unit.code in refused.value.message and elsewhere.code in refused.value.message
        # A grid of another plan, a unit outside the plan: not found.
        other = view(session, plan_district(session, "QX-ML-D1").id)
        with pytest.raises(NotFound):
            editing.move_unit(
                session, SYSTEM_PRINCIPAL, plan.id, unit_id=unit.id, plan_grid_id=other.grids[0].id
            )
        stranger = session.scalars(
            select(PlanningUnit).where(PlanningUnit.id.not_in(list(after.unit_grid)))
        ).first()
        assert stranger is not None
        with pytest.raises(NotFound):
            editing.move_unit(
                session, SYSTEM_PRINCIPAL, plan.id, unit_id=stranger.id, plan_grid_id=target.id
            )
        assert view(session, plan.id).unit_grid == after.unit_grid


def test_merge_and_split(county: Factory) -> None:
    with county() as session:
        plan = plan_district(session, "QX-LM-D2")
        v = view(session, plan.id)
        _unit, keep, other = movable(session, v)  # two neighbouring grids
        merged_units = {u.id for u in members(v, keep.id)} | {u.id for u in members(v, other.id)}

        editing.merge_grids(session, SYSTEM_PRINCIPAL, plan.id, keep_id=keep.id, other_id=other.id)
        merged = view(session, plan.id)
        assert len(merged.grids) == len(v.grids) - 1
        assert other.id not in {g.id for g in merged.grids}
        assert {u.id for u in members(merged, keep.id)} == merged_units
        assert grid_view(merged, keep.id).population == keep.population + other.population
        assert grid_view(merged, keep.id).contiguous
        with pytest.raises(InvalidInput):
            editing.merge_grids(
                session, SYSTEM_PRINCIPAL, plan.id, keep_id=keep.id, other_id=keep.id
            )

        parts = editing.split_grid(session, SYSTEM_PRINCIPAL, plan.id, plan_grid_id=keep.id)
        split = view(session, plan.id)
        assert parts[0] == keep.id and len(parts) >= 2
        assert {g.id for g in split.grids} == {g.id for g in merged.grids} | set(parts)
        assert set().union(*({u.id for u in members(split, p)} for p in parts)) == merged_units
        total = keep.population + other.population
        biggest = max(u.population for u in split.units if u.id in merged_units)
        for p in parts:
            g = grid_view(split, p)
            assert g.units and g.contiguous and is_one_piece(members(split, p)), g.code
            assert g.population <= max(math.ceil(total / 2), biggest), g.code
        codes = [g.code for g in split.grids]
        assert len(codes) == len(set(codes))
        assert grid_view(split, keep.id).code == keep.code  # the first part keeps the code

        single = next((g for g in split.grids if g.units == 1), None)
        if single is None:
            lone = members(split, parts[1])
            for u in lone[1:]:
                editing.move_unit(
                    session, SYSTEM_PRINCIPAL, plan.id, unit_id=u.id, plan_grid_id=parts[0]
                )
            single = grid_view(view(session, plan.id), parts[1])
        with pytest.raises(InvalidInput) as refused:
            editing.split_grid(session, SYSTEM_PRINCIPAL, plan.id, plan_grid_id=single.id)
        assert "single unit" in refused.value.message


def test_merging_grids_of_two_districts_is_refused(county: Factory) -> None:
    with county() as session:
        st = session.scalars(select(Station).where(Station.code == "QX-SM")).one()
        plan = service.create_plan(session, SYSTEM_PRINCIPAL, station_id=st.id)
        v = view(session, plan.id)
        a = v.grids[0]
        b = next(g for g in v.grids if g.district_id != a.district_id)
        with pytest.raises(InvalidInput):
            editing.merge_grids(session, SYSTEM_PRINCIPAL, plan.id, keep_id=a.id, other_id=b.id)
        assert partition(view(session, plan.id)) == partition(v)


def test_published_and_discarded_plans_refuse_edits(county: Factory) -> None:
    with county() as session:
        published = plan_district(session, "QX-GP-D1")
        publish.publish(session, SYSTEM_PRINCIPAL, published.id)
        discarded = plan_district(session, "QX-GP-D1")
        editing.discard(session, SYSTEM_PRINCIPAL, discarded.id)
        assert discarded.status is PlanStatus.DISCARDED
        for plan in (published, discarded):
            v = view(session, plan.id)
            unit, _source, target = movable(session, v)
            first, second = v.grids[0].id, v.grids[1].id
            with pytest.raises(Conflict) as refused:
                editing.move_unit(
                    session, SYSTEM_PRINCIPAL, plan.id, unit_id=unit.id, plan_grid_id=target.id
                )
            assert plan_status_label(plan.status) in refused.value.message  # "Published"
            with pytest.raises(Conflict):
                editing.merge_grids(
                    session, SYSTEM_PRINCIPAL, plan.id, keep_id=first, other_id=second
                )
            with pytest.raises(Conflict):
                editing.split_grid(session, SYSTEM_PRINCIPAL, plan.id, plan_grid_id=first)
            with pytest.raises(Conflict):
                editing.discard(session, SYSTEM_PRINCIPAL, plan.id)
            with pytest.raises(Conflict):
                publish.publish(session, SYSTEM_PRINCIPAL, plan.id)
            assert partition(view(session, plan.id)) == partition(v)


def test_new_version_copies_a_plan_as_a_draft(county: Factory) -> None:
    with county() as session:
        source = plan_district(session, "QX-SM-D1")
        publish.publish(session, SYSTEM_PRINCIPAL, source.id)
        copy = editing.new_version(session, SYSTEM_PRINCIPAL, source.id)
        assert copy.status is PlanStatus.DRAFT and source.status is PlanStatus.PUBLISHED
        assert copy.based_on_id == source.id and copy.version == source.version + 1
        assert (copy.district_id, copy.cap_urban, copy.cap_rural) == (
            source.district_id,
            source.cap_urban,
            source.cap_rural,
        )
        assert str(copy.version) in copy.name and "version v" not in copy.name
        src, dup = view(session, source.id), view(session, copy.id)
        assert partition(dup) == partition(src)
        assert [g.code for g in dup.grids] == [g.code for g in src.grids]
        active = {g.id for g in active_grids(session, source.district_id or 0)}
        continued = session.scalars(
            select(PlanGrid.continues_grid_id).where(PlanGrid.plan_id == copy.id)
        ).all()
        assert set(continued) == active
        assert dup.moved_units == 0

        # Editing the copy leaves the original as it was.
        unit, _source_grid, target = movable(session, dup)
        editing.move_unit(
            session, SYSTEM_PRINCIPAL, copy.id, unit_id=unit.id, plan_grid_id=target.id
        )
        assert partition(view(session, source.id)) == partition(src)
        assert partition(view(session, copy.id)) != partition(src)


def test_a_chief_plans_only_the_own_station(county: Factory) -> None:
    with county() as session:
        chief = principal_of(session, "chief")
        own = plan_district(session, "QX-CG-D1", chief)
        assert own.created_by == "chief"
        other = district(session, "QX-ML-D1")
        with pytest.raises(NotFound):
            service.create_plan(session, chief, station_id=other.station_id, district_id=other.id)
        with pytest.raises(NotFound):  # a district of another station under the own station
            service.create_plan(session, chief, station_id=own.station_id, district_id=other.id)
        foreign = plan_district(session, "QX-ML-D1")
        with pytest.raises(NotFound):
            views.plan_view(session, chief, foreign.id)
        assert [p.id for p in views.list_plans(session, chief)] == [own.id]
        with pytest.raises(InvalidInput):
            plan_district(session, "QX-CG-D1", chief, cap_urban=50)
        assert session.scalars(select(GridPlan.id)).all() == [own.id, foreign.id]
        assert all(g.retired_at is None for g in session.scalars(select(PoliceGrid)))
