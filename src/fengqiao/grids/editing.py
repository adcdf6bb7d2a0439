"""Editing a draft grid plan by hand: move units, merge and split grids, versions."""

from __future__ import annotations

import math

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Principal
from fengqiao.db import lock_for_update
from fengqiao.errors import InvalidInput, NotFound
from fengqiao.geo import planning
from fengqiao.grids.models import GridPlan, PlanGrid, PlanningUnit, PlanStatus, PlanUnit
from fengqiao.grids.service import (
    auto_name,
    draft_or_raise,
    get_plan_or_raise,
    members_of,
    new_codes,
    scope_data,
)
from fengqiao.i18n import _
from fengqiao.org.models import AreaKind, PoliceDistrict, Station


def _record(
    session: Session, principal: Principal, plan: GridPlan, detail: dict[str, object]
) -> None:
    """Audit one change of a plan."""
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.UPDATE,
        object_type="grid_plan",
        object_id=plan.id,
        detail=detail,
    )


def _plan_grid_or_raise(session: Session, plan: GridPlan, grid_id: int) -> PlanGrid:
    grid = session.get(PlanGrid, grid_id)
    if grid is None or grid.plan_id != plan.id:
        raise NotFound(_("Grid {id} is not part of this plan.").format(id=grid_id))
    return grid


def move_unit(
    session: Session, principal: Principal, plan_id: int, *, unit_id: int, plan_grid_id: int
) -> None:
    plan = draft_or_raise(session, principal, plan_id)
    target = _plan_grid_or_raise(session, plan, plan_grid_id)
    member = session.scalar(
        select(PlanUnit).where(PlanUnit.plan_id == plan.id, PlanUnit.unit_id == unit_id)
    )
    if member is None:
        raise NotFound(_("Unit {id} is not part of this plan.").format(id=unit_id))
    unit = session.get_one(PlanningUnit, unit_id)
    if unit.district_id != target.district_id:
        raise InvalidInput(
            _(
                "Unit {unit} lies in another police district than grid {grid}; grids never "
                "cross district boundaries."
            ).format(unit=unit.code, grid=target.code)
        )
    if member.plan_grid_id == target.id:
        return
    source = session.get_one(PlanGrid, member.plan_grid_id)
    member.plan_grid_id = target.id
    _record(session, principal, plan, {"move": unit.code, "from": source.code, "to": target.code})
    session.flush()


def merge_grids(
    session: Session, principal: Principal, plan_id: int, *, keep_id: int, other_id: int
) -> None:
    plan = draft_or_raise(session, principal, plan_id)
    keep = _plan_grid_or_raise(session, plan, keep_id)
    other = _plan_grid_or_raise(session, plan, other_id)
    if keep.id == other.id:
        raise InvalidInput(_("Choose two different grids to merge."))
    if keep.district_id != other.district_id:
        raise InvalidInput(_("Grids of different police districts cannot be merged."))
    session.execute(
        update(PlanUnit)
        .where(PlanUnit.plan_id == plan.id, PlanUnit.plan_grid_id == other.id)
        .values(plan_grid_id=keep.id)
    )
    session.execute(delete(PlanGrid).where(PlanGrid.id == other.id))
    _record(session, principal, plan, {"merge": other.code, "into": keep.code})
    session.expire_all()


def split_grid(
    session: Session, principal: Principal, plan_id: int, *, plan_grid_id: int, seed: int = 0
) -> list[int]:
    """Cut one grid in two or more contiguous parts of about half its population."""
    plan = draft_or_raise(session, principal, plan_id)
    grid = _plan_grid_or_raise(session, plan, plan_grid_id)
    members = list(
        session.scalars(
            select(PlanUnit).where(PlanUnit.plan_id == plan.id, PlanUnit.plan_grid_id == grid.id)
        )
    )
    units = list(
        session.scalars(
            select(PlanningUnit)
            .where(PlanningUnit.id.in_([m.unit_id for m in members]))
            .order_by(PlanningUnit.id)
        )
    )
    if len(units) < 2:
        raise InvalidInput(
            _("Grid {code} has a single unit; split the unit itself.").format(code=grid.code)
        )
    total = sum(u.population for u in units)
    half = max(math.ceil(total / 2), max(u.population for u in units), 1)
    data = scope_data(session, units, {AreaKind.URBAN: half, AreaKind.RURAL: half})
    result = planning.plan(data.problem, seed=seed, effort=4)
    if len(result.grids) < 2:
        raise InvalidInput(_("Grid {code} cannot be split further.").format(code=grid.code))
    station = session.get_one(Station, plan.station_id)
    codes = new_codes(session, station, len(result.grids) - 1, set())
    parts = [grid]
    for code, labels in zip(codes, range(1, len(result.grids)), strict=True):
        group = [u for u, lab in zip(units, result.labels, strict=True) if lab == labels]
        part = PlanGrid(
            plan_id=plan.id, code=code, name=auto_name(group), district_id=grid.district_id
        )
        session.add(part)
        parts.append(part)
    session.flush()
    by_unit = {m.unit_id: m for m in members}
    for unit, label in zip(units, result.labels, strict=True):
        by_unit[unit.id].plan_grid_id = parts[label].id
    _record(session, principal, plan, {"split": grid.code, "into": [p.code for p in parts]})
    session.flush()
    return [p.id for p in parts]


def new_version(session: Session, principal: Principal, plan_id: int) -> GridPlan:
    """A draft copy of a plan, to edit without touching the original."""
    source = get_plan_or_raise(session, principal, plan_id)
    lock_for_update(session, session.get_one(Station, source.station_id))  # versions in order
    version = (
        session.scalar(
            select(func.max(GridPlan.version)).where(GridPlan.station_id == source.station_id)
        )
        or 0
    ) + 1
    scope: PoliceDistrict | Station = (
        session.get_one(PoliceDistrict, source.district_id)
        if source.district_id is not None
        else session.get_one(Station, source.station_id)
    )
    copy = GridPlan(
        station_id=source.station_id,
        district_id=source.district_id,
        version=version,
        name=_("{scope} version {v}").format(scope=scope.name, v=version),
        status=PlanStatus.DRAFT,
        cap_urban=source.cap_urban,
        cap_rural=source.cap_rural,
        seed=source.seed,
        based_on_id=source.id,
        report=source.report,
        created_by=principal.username,
    )
    session.add(copy)
    session.flush()
    mapping: dict[int, int] = {}
    for g in session.scalars(select(PlanGrid).where(PlanGrid.plan_id == source.id)):
        new = PlanGrid(
            plan_id=copy.id,
            code=g.code,
            name=g.name,
            district_id=g.district_id,
            continues_grid_id=g.published_grid_id or g.continues_grid_id,
        )
        session.add(new)
        session.flush()
        mapping[g.id] = new.id
    session.add_all(
        PlanUnit(plan_id=copy.id, unit_id=uid, plan_grid_id=mapping[gid])
        for uid, gid in members_of(session, source).items()
    )
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.CREATE,
        object_type="grid_plan",
        object_id=copy.id,
        detail={"copy_of": source.id, "version": version},
    )
    session.flush()
    return copy


def discard(session: Session, principal: Principal, plan_id: int) -> None:
    """Drop a draft, or a plan still being planned (e.g. its process stopped)."""
    plan = get_plan_or_raise(session, principal, plan_id)
    if plan.status is not PlanStatus.PLANNING:
        plan = draft_or_raise(session, principal, plan_id)
    plan.status = PlanStatus.DISCARDED
    _record(session, principal, plan, {"status": "discarded"})
