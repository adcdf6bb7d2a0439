"""Publishing a grid plan as the active layout.

A plan grid whose units are exactly those of the grid it continues keeps that grid's row.
Any other plan grid gets a new ``police_grid`` row (the code it continues is carried on),
and the row it replaces is retired, never edited: incidents keep the grid they had when
they happened. Fixed posts follow a continued grid to its new row; posts on grids that
disappear end and show up in the coverage report. The shared location index is rebuilt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Principal
from fengqiao.db import lock_for_update, utcnow
from fengqiao.errors import Conflict, InvalidInput
from fengqiao.geo.location import LocationIndex
from fengqiao.geo.validate import square_metres
from fengqiao.grids.models import GridPlan, PlanGrid, PlanningUnit, PlanStatus, PlanUnit
from fengqiao.grids.service import draft_or_raise, scope_units
from fengqiao.grids.views import plan_view
from fengqiao.i18n import _
from fengqiao.org import placement
from fengqiao.org.models import (
    AreaKind,
    CivilGrid,
    GridAssignment,
    Person,
    PoliceDistrict,
    PoliceGrid,
    Station,
)


@dataclass
class PublishResult:
    plan_id: int
    kept: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    units_moved: int = 0
    residents_moved: int = 0
    posts_moved: int = 0
    posts_ended: list[str] = field(default_factory=list)  # "personnel_no@grid_code"

    def summary(self) -> str:
        return _(
            "Published: {kept} grids kept, {created} new, {retired} retired; {units} units "
            "({residents} residents) changed grid; {moved} posts carried over, {ended} ended."
        ).format(
            kept=len(self.kept),
            created=len(self.created),
            retired=len(self.retired),
            units=self.units_moved,
            residents=self.residents_moved,
            moved=self.posts_moved,
            ended=len(self.posts_ended),
        )


def _union(geoms: list[BaseGeometry]) -> BaseGeometry:
    merged = shapely.union_all(geoms)
    if not merged.is_valid:
        merged = shapely.make_valid(merged)
    return merged


def _refuse_if_not_ready(session: Session, principal: Principal, plan: GridPlan) -> None:
    view = plan_view(session, principal, plan.id)
    # A plan made for other units or another layout cannot be fixed by editing it.
    in_scope = {u.id for u in scope_units(session, plan.station_id, plan.district_id)}
    in_plan = set(view.unit_grid)
    if in_scope != in_plan:
        raise Conflict(
            _(
                "Units changed since this plan was made ({added} new, {removed} gone); "
                "make a new plan."
            ).format(added=len(in_scope - in_plan), removed=len(in_plan - in_scope))
        )
    replaced = session.scalars(
        select(PlanGrid.code)
        .join(PoliceGrid, PoliceGrid.id == PlanGrid.continues_grid_id)
        .where(PlanGrid.plan_id == plan.id, PoliceGrid.retired_at.is_not(None))
        .order_by(PlanGrid.code)
    ).all()
    if replaced:
        raise Conflict(
            _(
                "The grid layout changed since this plan was made (grids {codes} were "
                "published again); make a new plan."
            ).format(codes=", ".join(replaced))
        )
    problems = []
    for g in view.grids:
        if g.units == 0:
            problems.append(_("grid {code} has no units").format(code=g.code))
        elif not g.contiguous:
            problems.append(_("grid {code} is not contiguous").format(code=g.code))
        elif g.over_cap and g.units > 1:
            problems.append(
                _("grid {code} has {pop} residents, over the cap of {cap}").format(
                    code=g.code, pop=g.population, cap=g.cap
                )
            )
    if problems:
        raise InvalidInput(
            _("The plan cannot be published yet: {problems}. Fix them and publish again.").format(
                problems="; ".join(problems)
            )
        )


def publish(session: Session, principal: Principal, plan_id: int) -> PublishResult:
    plan = draft_or_raise(session, principal, plan_id)
    lock_for_update(session, session.get_one(Station, plan.station_id), plan)  # one at a time
    plan = draft_or_raise(session, principal, plan_id)  # still a draft after the wait?
    _refuse_if_not_ready(session, principal, plan)
    now = utcnow()
    result = PublishResult(plan.id)
    grids = list(session.scalars(select(PlanGrid).where(PlanGrid.plan_id == plan.id)))
    by_grid: dict[int, list[PlanningUnit]] = {g.id: [] for g in grids}
    for unit, gid in session.execute(
        select(PlanningUnit, PlanUnit.plan_grid_id)
        .join(PlanUnit, PlanUnit.unit_id == PlanningUnit.id)
        .where(PlanUnit.plan_id == plan.id)
    ).all():
        by_grid[gid].append(unit)
    scope = select(PoliceGrid).join(PoliceDistrict).where(PoliceGrid.active())
    if plan.district_id is not None:
        scope = scope.where(PoliceGrid.district_id == plan.district_id)
    else:
        scope = scope.where(PoliceDistrict.station_id == plan.station_id)
    active = {g.id: g for g in session.scalars(scope)}
    units_now: dict[int | None, set[int]] = {}  # active grid id -> its units, one query
    for unit_id, grid_id in session.execute(
        select(PlanningUnit.id, PlanningUnit.grid_id).where(PlanningUnit.grid_id.in_(active))
    ):
        units_now.setdefault(grid_id, set()).add(unit_id)
    successor: dict[int, PoliceGrid] = {}  # retired grid id -> the row that continues it
    replacements: list[tuple[PlanGrid, PoliceGrid | None, list[PlanningUnit]]] = []
    for g in grids:
        units = by_grid[g.id]
        old = active.get(g.continues_grid_id) if g.continues_grid_id else None
        same = (
            old is not None
            and old.district_id == g.district_id
            and {u.id for u in units} == units_now.get(old.id, set())
            and _same_shape(old.geometry, _union([u.geometry for u in units]))
        )
        if old is not None and same:
            old.population = sum(u.population for u in units)
            old.name = g.name
            g.published_grid_id = old.id
            result.kept.append(old.code)
            del active[old.id]
            continue
        if old is not None:
            del active[old.id]
        replacements.append((g, old, units))
    retiring = [old for _g, old, _u in replacements if old is not None] + list(active.values())
    _refuse_gaps(retiring, [_union([u.geometry for u in units]) for _g, _o, units in replacements])
    for old in retiring:  # changed grids and the grids the plan drops
        old.retired_at = now
        result.retired.append(old.code)
    session.flush()  # retire first: codes are unique among active grids
    for g, old, units in replacements:
        geom = _union([u.geometry for u in units])
        urban = sum(u.population for u in units if u.area_kind is AreaKind.URBAN)
        total = sum(u.population for u in units)
        min_lon, min_lat, max_lon, max_lat = geom.bounds
        new = PoliceGrid(
            code=g.code,
            name=g.name,
            district_id=g.district_id,
            kind=AreaKind.URBAN if 2 * urban >= total and urban else AreaKind.RURAL,
            population=total,
            places=old.places if old else ";".join(u.name for u in units[:3])[:500],
            geometry=geom,
            min_lon=min_lon,
            min_lat=min_lat,
            max_lon=max_lon,
            max_lat=max_lat,
            plan_id=plan.id,
            created_at=now,
            replaces_id=old.id if old else None,
        )
        session.add(new)
        session.flush()
        g.published_grid_id = new.id
        result.created.append(new.code)
        if old is not None:
            successor[old.id] = new
    _carry_posts(session, result, successor, list(active))
    _move_units(session, result, grids, by_grid)
    report = json.loads(plan.report or "{}")  # what publishing changed, for the plan's page
    report.update(moved_units=result.units_moved, moved_population=result.residents_moved)
    plan.report = json.dumps(report, ensure_ascii=False)
    _move_civil_grids(session, plan, successor, list(active))
    _supersede(session, plan)
    plan.status = PlanStatus.PUBLISHED
    plan.published_by = principal.username
    plan.published_at = now
    session.flush()
    # Rebuild the shared location index once the new layout is committed (not before:
    # another request could rebuild it from the old layout in between).
    placement.invalidate()
    event.listen(session, "after_commit", lambda _s: placement.invalidate(), once=True)
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.UPDATE,
        object_type="grid_plan",
        object_id=plan.id,
        detail={
            "status": "published",
            "kept": result.kept,
            "created": result.created,
            "retired": result.retired,
            "posts_ended": result.posts_ended,
        },
    )
    return result


def _same_shape(a: BaseGeometry, b: BaseGeometry) -> bool:
    """Equal but for digitising noise (one part in a million of the area)."""
    return float(shapely.area(shapely.symmetric_difference(a, b))) <= 1e-6 * max(
        float(shapely.area(a)), 1e-12
    )


GAP_TOLERANCE_M2 = 100.0


def _refuse_gaps(retired: list[PoliceGrid], new: list[BaseGeometry]) -> None:
    """Refuse a layout that would leave part of the retired grids' area in no grid (their
    area must be covered by the units of the new grids)."""
    if not retired:
        return
    before = shapely.union_all([g.geometry for g in retired])
    after = shapely.union_all(new) if new else shapely.Polygon()
    lost = shapely.difference(before, after)
    lat = float(shapely.centroid(before).y)
    lost_m2 = square_metres(float(shapely.area(lost)), lat)
    if lost_m2 > GAP_TOLERANCE_M2:
        where = shapely.point_on_surface(lost)
        raise InvalidInput(
            _(
                "The new grids would leave about {m2:.0f} m² of today's grids without a "
                "grid (for example at {lon:.5f}, {lat:.5f}): the planning units do not "
                "cover the whole area. Import units for the gaps and make a new plan."
            ).format(m2=lost_m2, lon=where.x, lat=where.y)
        )


def _carry_posts(
    session: Session,
    result: PublishResult,
    successor: dict[int, PoliceGrid],
    dropped: list[int],
) -> None:
    for old_id, new in successor.items():
        moved = session.execute(
            update(GridAssignment).where(GridAssignment.grid_id == old_id).values(grid_id=new.id)
        )
        result.posts_moved += int(getattr(moved, "rowcount", 0) or 0)
    if dropped:
        ended = session.execute(
            select(Person.personnel_no, PoliceGrid.code)
            .join(GridAssignment, GridAssignment.person_id == Person.id)
            .join(PoliceGrid, PoliceGrid.id == GridAssignment.grid_id)
            .where(GridAssignment.grid_id.in_(dropped))
        ).all()
        result.posts_ended = [f"{no}@{code}" for no, code in ended]
        session.execute(delete(GridAssignment).where(GridAssignment.grid_id.in_(dropped)))


def _move_units(
    session: Session,
    result: PublishResult,
    grids: list[PlanGrid],
    by_grid: dict[int, list[PlanningUnit]],
) -> None:
    for g in grids:
        for unit in by_grid[g.id]:
            if unit.grid_id != g.published_grid_id:
                if unit.grid_id is None or g.continues_grid_id != unit.grid_id:
                    result.units_moved += 1
                    result.residents_moved += unit.population
                unit.grid_id = g.published_grid_id


def _move_civil_grids(
    session: Session, plan: GridPlan, successor: dict[int, PoliceGrid], dropped: list[int]
) -> None:
    """Civil grids follow the new grid covering them, else their grid's successor."""
    gone = list(successor) + dropped
    if not gone:
        return
    layout = session.execute(
        select(PoliceGrid.id, PoliceGrid.geometry)
        .join(PoliceDistrict)
        .where(PoliceGrid.active(), PoliceDistrict.station_id == plan.station_id)
    ).all()
    index = LocationIndex([r[0] for r in layout], [r[1] for r in layout])
    for civil in session.scalars(select(CivilGrid).where(CivilGrid.police_grid_id.in_(gone))):
        target: int | None = None
        if civil.geometry is not None:
            inner = shapely.point_on_surface(civil.geometry)
            target = index.locate(inner.x, inner.y)
        if target is None and civil.police_grid_id in successor:
            target = successor[civil.police_grid_id].id
        if target is None:  # the new grid sharing the most area with the old one
            old_geom = civil.geometry or session.get_one(PoliceGrid, civil.police_grid_id).geometry
            overlap = [(shapely.area(shapely.intersection(old_geom, g)), gid) for gid, g in layout]
            best = max(overlap, default=(0.0, None))
            target = best[1] if best[0] > 0 else None
        if target is not None:
            civil.police_grid_id = target


def _supersede(session: Session, plan: GridPlan) -> None:
    """Earlier published plans of the same area, or that contain it or lie in it, are
    superseded (a station-wide plan also when one of its districts is re-published)."""
    query = select(GridPlan).where(
        GridPlan.station_id == plan.station_id,
        GridPlan.status == PlanStatus.PUBLISHED,
        GridPlan.id != plan.id,
    )
    if plan.district_id is not None:
        query = query.where(
            (GridPlan.district_id == plan.district_id) | GridPlan.district_id.is_(None)
        )
    for old in session.scalars(query):
        old.status = PlanStatus.SUPERSEDED
