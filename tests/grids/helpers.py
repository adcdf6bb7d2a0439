"""Helpers for the grid-planning tests: principals, plans, plan partitions, unit files."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.accounts import service as accounts
from fengqiao.auth import Principal, build_principal, system_principal
from fengqiao.geo import planning
from fengqiao.grids import service, views
from fengqiao.grids.models import GridPlan, PlanningUnit
from fengqiao.grids.views import PlanGridView, PlanView
from fengqiao.org.models import PoliceDistrict, PoliceGrid

SYSTEM_PRINCIPAL = system_principal("test")


def principal_of(session: Session, username: str) -> Principal:
    user = accounts.get_user_by_username(session, username)
    assert user is not None, username
    return build_principal(session, user)


def district(session: Session, code: str) -> PoliceDistrict:
    return session.scalars(select(PoliceDistrict).where(PoliceDistrict.code == code)).one()


def plan_district(
    session: Session, code: str, principal: Principal = SYSTEM_PRINCIPAL, **options: Any
) -> GridPlan:
    d = district(session, code)
    return service.create_plan(
        session, principal, station_id=d.station_id, district_id=d.id, **options
    )


def view(session: Session, plan_id: int, principal: Principal = SYSTEM_PRINCIPAL) -> PlanView:
    return views.plan_view(session, principal, plan_id)


def partition(v: PlanView) -> set[frozenset[int]]:
    """The plan's grids as sets of unit ids (independent of grid ids and codes)."""
    groups: dict[int, set[int]] = defaultdict(set)
    for unit_id, grid_id in v.unit_grid.items():
        groups[grid_id].add(unit_id)
    return {frozenset(g) for g in groups.values()}


def members(v: PlanView, grid_id: int) -> list[PlanningUnit]:
    return [u for u in v.units if v.unit_grid[u.id] == grid_id]


def grid_view(v: PlanView, grid_id: int) -> PlanGridView:
    return next(g for g in v.grids if g.id == grid_id)


def active_grids(session: Session, district_id: int) -> list[PoliceGrid]:
    return list(
        session.scalars(
            select(PoliceGrid)
            .where(PoliceGrid.district_id == district_id, PoliceGrid.active())
            .order_by(PoliceGrid.code)
        )
    )


def layout(session: Session, district_id: int) -> set[frozenset[int]]:
    """The active layout of a district as sets of unit ids."""
    groups: dict[int | None, set[int]] = defaultdict(set)
    for unit_id, grid_id in session.execute(
        select(PlanningUnit.id, PlanningUnit.grid_id).where(PlanningUnit.district_id == district_id)
    ):
        groups[grid_id].add(unit_id)
    return {frozenset(g) for g in groups.values()}


def is_one_piece(units: Iterable[PlanningUnit]) -> bool:
    """Whether the units form one polygon (they share edges), checked with shapely alone."""
    return shapely.union_all([u.geometry for u in units]).geom_type == "Polygon"


def movable(session: Session, v: PlanView) -> tuple[PlanningUnit, PlanGridView, PlanGridView]:
    """A unit on the edge of its grid that can move to a neighbouring grid while every
    grid stays contiguous, non-empty and within its cap: (unit, from grid, to grid)."""
    data = service.scope_data(session, v.units, service.caps_of(v.plan))
    order = [g.id for g in v.grids]
    labels = [order.index(v.unit_grid[u.id]) for u in v.units]
    for i, unit in enumerate(v.units):
        for j in data.nbrs[i]:
            if labels[j] == labels[i]:
                continue
            moved = list(labels)
            moved[i] = labels[j]
            figures = planning.evaluate(data.problem, moved, data.nbrs)
            if all(f.units and f.contiguous and not f.over_cap for f in figures):
                return unit, v.grids[labels[i]], v.grids[labels[j]]
    raise AssertionError("no unit can move without breaking a grid")


def feature(code: str, geom: BaseGeometry, **props: Any) -> dict[str, Any]:
    """A GeoJSON unit feature; a property given as None is left out."""
    values: dict[str, Any] = {
        "code": code,
        "name": f"测试{code}",
        "kind": "compound",
        "area_kind": "urban",
        "population": 100,
    }
    values.update(props)
    return {
        "type": "Feature",
        "properties": {k: v for k, v in values.items() if v is not None},
        "geometry": mapping(geom),
    }


def write_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path
