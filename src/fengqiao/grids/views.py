"""Looking at grid plans: figures per grid and in total, warnings, units as GeoJSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.auth import Principal
from fengqiao.geo import planning
from fengqiao.grids.models import GridPlan, PlanGrid, PlanningUnit, PlanStatus, PlanUnit
from fengqiao.grids.service import caps_of, get_plan_or_raise, members_of, scope_data
from fengqiao.i18n import _
from fengqiao.org.models import PoliceDistrict, PoliceGrid, Station


@dataclass(frozen=True)
class PlanGridView:
    id: int
    code: str
    name: str
    district_id: int
    continues_code: str | None
    units: int
    population: int
    cap: int
    over_cap: bool
    contiguous: bool
    polsby_popper: float


@dataclass(frozen=True)
class PlanView:
    plan: GridPlan
    station: Station
    grids: list[PlanGridView]
    lower_bound: int
    max_population: int
    mean_population: float
    mean_polsby_popper: float
    moved_units: int
    moved_population: int
    warnings: list[str]
    report: dict[str, Any]
    unit_grid: dict[int, int]  # unit id -> plan grid id
    units: list[PlanningUnit]


def plan_view(session: Session, principal: Principal, plan_id: int) -> PlanView:
    plan = get_plan_or_raise(session, principal, plan_id)
    station = session.get_one(Station, plan.station_id)
    unit_grid = members_of(session, plan)
    units = list(
        session.scalars(
            select(PlanningUnit).where(PlanningUnit.id.in_(unit_grid)).order_by(PlanningUnit.id)
        )
    )
    grids = list(
        session.scalars(select(PlanGrid).where(PlanGrid.plan_id == plan.id).order_by(PlanGrid.code))
    )
    index = {g.id: i for i, g in enumerate(grids)}
    data = scope_data(session, units, caps_of(plan))
    labels = [index[unit_grid[u.id]] for u in units]
    figures = planning.evaluate(data.problem, labels, data.nbrs) if units else ()
    by_label = {i: f for i, f in enumerate(figures)}
    continued = dict(
        session.execute(
            select(PoliceGrid.id, PoliceGrid.code).where(
                PoliceGrid.id.in_([g.continues_grid_id for g in grids if g.continues_grid_id])
            )
        ).all()
    )
    views: list[PlanGridView] = []
    warnings: list[str] = []
    for i, g in enumerate(grids):
        f = by_label.get(i)
        view = PlanGridView(
            id=g.id,
            code=g.code,
            name=g.name,
            district_id=g.district_id,
            continues_code=continued.get(g.continues_grid_id) if g.continues_grid_id else None,
            units=len(f.units) if f else 0,
            population=f.population if f else 0,
            cap=f.cap if f else 0,
            over_cap=bool(f and f.over_cap),
            contiguous=bool(f is None or f.contiguous),
            polsby_popper=f.polsby_popper if f else 0.0,
        )
        views.append(view)
        if view.units == 0:
            warnings.append(_("Grid {code} has no units; merge or delete it.").format(code=g.code))
        if view.over_cap:
            warnings.append(
                _("Grid {code}: {pop} residents, over the cap of {cap}.").format(
                    code=g.code, pop=view.population, cap=view.cap
                )
            )
        if not view.contiguous:
            warnings.append(
                _("Grid {code} is not contiguous (its units do not share edges).").format(
                    code=g.code
                )
            )
    report = json.loads(plan.report or "{}")
    for item in report.get("over_cap_units", []):
        warnings.append(
            _(
                "Unit {code} {name} alone has {pop} residents, over the cap of {cap}; it is "
                "a grid by itself — split the unit into smaller ones."
            ).format(code=item["code"], name=item["name"], pop=item["population"], cap=item["cap"])
        )
    for group in report.get("islands", []):
        warnings.append(
            _("Units {codes} are cut off from the rest of their district (an island).").format(
                codes=", ".join(group)
            )
        )
    live = [v for v in views if v.units]
    if plan.status is PlanStatus.DRAFT:
        moved = [u for u in units if _moved(u, unit_grid, grids, index)]
        moved_units, moved_population = len(moved), sum(u.population for u in moved)
    else:  # the layout has moved on since: the figures of the planner, or of publishing
        moved_units = int(report.get("moved_units", 0))
        moved_population = int(report.get("moved_population", 0))
    return PlanView(
        plan=plan,
        station=station,
        grids=views,
        lower_bound=int(report.get("lower_bound", 0)),
        max_population=max((v.population for v in live), default=0),
        mean_population=sum(v.population for v in live) / max(len(live), 1),
        mean_polsby_popper=sum(v.polsby_popper for v in live) / max(len(live), 1),
        moved_units=moved_units,
        moved_population=moved_population,
        warnings=warnings,
        report=report,
        unit_grid=unit_grid,
        units=units,
    )


def _moved(
    unit: PlanningUnit, unit_grid: dict[int, int], grids: list[PlanGrid], index: dict[int, int]
) -> bool:
    """Whether the plan puts ``unit`` in another grid than the active layout does."""
    grid = grids[index[unit_grid[unit.id]]]
    return unit.grid_id is None or grid.continues_grid_id != unit.grid_id


def units_geojson(session: Session, principal: Principal, plan_id: int) -> dict[str, Any]:
    """The plan's units with the grid each belongs to (no figures: the map reloads this
    after every edit, beside the figures panel)."""
    plan = get_plan_or_raise(session, principal, plan_id)
    rows = session.execute(
        select(PlanningUnit, PlanGrid.id, PlanGrid.code)
        .join(PlanUnit, PlanUnit.unit_id == PlanningUnit.id)
        .join(PlanGrid, PlanGrid.id == PlanUnit.plan_grid_id)
        .where(PlanUnit.plan_id == plan.id)
        .order_by(PlanningUnit.id)
    ).all()
    features = [
        {
            "type": "Feature",
            "id": u.id,
            "geometry": shapely.geometry.mapping(u.geometry),
            "properties": {
                "id": u.id,
                "code": u.code,
                "name": u.name,
                "population": u.population,
                "plan_grid_id": gid,
                "grid_code": code,
            },
        }
        for u, gid, code in rows
    ]
    return {"type": "FeatureCollection", "features": features}


def list_districts(session: Session, principal: Principal) -> list[PoliceDistrict]:
    query = select(PoliceDistrict).order_by(PoliceDistrict.code)
    if principal.station_ids is not None:
        query = query.where(PoliceDistrict.station_id.in_(principal.station_ids))
    return list(session.scalars(query))


def list_plans(
    session: Session, principal: Principal, station_id: int | None = None
) -> list[GridPlan]:
    query = select(GridPlan).order_by(GridPlan.station_id, GridPlan.version.desc())
    if station_id is not None:
        query = query.where(GridPlan.station_id == station_id)
    if principal.station_ids is not None:
        query = query.where(GridPlan.station_id.in_(principal.station_ids))
    return list(session.scalars(query))
