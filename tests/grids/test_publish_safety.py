"""Publishing never leaves area without a grid, keeps a grid's lineage for the scope of
its staff, and refuses to plan grids that have no units; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.auth import with_predecessors
from fengqiao.errors import InvalidInput
from fengqiao.grids import editing, publish
from fengqiao.grids.models import PlanningUnit
from fengqiao.org.models import PoliceGrid
from tests.grids.helpers import (
    SYSTEM_PRINCIPAL,
    active_grids,
    district,
    movable,
    plan_district,
    view,
)

Factory = sessionmaker[Session]


def test_a_plan_that_would_leave_a_gap_is_refused(county: Factory) -> None:
    with county() as session:
        d = district(session, "QX-GP-D1")
        grid = max(active_grids(session, d.id), key=lambda g: g.population)
        victim = session.scalars(
            select(PlanningUnit).where(PlanningUnit.grid_id == grid.id).order_by(PlanningUnit.id)
        ).first()
        assert victim is not None
        session.execute(delete(PlanningUnit).where(PlanningUnit.id == victim.id))
        plan = plan_district(session, "QX-GP-D1")
        with pytest.raises(InvalidInput) as refused:
            publish.publish(session, SYSTEM_PRINCIPAL, plan.id)
        assert "m²" in refused.value.message and "units" in refused.value.message
        # Nothing was retired.
        assert grid.id in {g.id for g in active_grids(session, d.id)}
        session.rollback()


def test_grids_without_units_cannot_be_planned(county: Factory) -> None:
    with county() as session:
        d = district(session, "QX-GP-D1")
        grid = active_grids(session, d.id)[0]
        session.execute(delete(PlanningUnit).where(PlanningUnit.grid_id == grid.id))
        with pytest.raises(InvalidInput) as refused:
            plan_district(session, "QX-GP-D1")
        assert grid.code in refused.value.message
        session.rollback()


def test_a_redrawn_grid_remembers_the_row_it_replaces(county: Factory) -> None:
    with county() as session:
        plan = plan_district(session, "QX-GP-D1")
        v = view(session, plan.id)
        unit, source, target = movable(session, v)
        editing.move_unit(
            session, SYSTEM_PRINCIPAL, plan.id, unit_id=unit.id, plan_grid_id=target.id
        )
        before = {g.code: g.id for g in active_grids(session, district(session, "QX-GP-D1").id)}
        publish.publish(session, SYSTEM_PRINCIPAL, plan.id)
        session.commit()
        for code in (source.code, target.code):
            new = session.scalars(
                select(PoliceGrid).where(PoliceGrid.code == code, PoliceGrid.active())
            ).one()
            assert new.id != before[code]
            assert new.replaces_id == before[code]
            # Staff of the new row keep sight of the old row's history.
            assert with_predecessors(session, frozenset({new.id})) == {new.id, before[code]}
