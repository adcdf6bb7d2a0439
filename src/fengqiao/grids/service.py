"""Grid plans: make one with the planner, look at its figures, edit it by hand.

Units are projected from lon/lat degrees to local metres before planning, so that
compactness (Polsby–Popper) means the same on both axes. Publishing is in ``publish.py``.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.audit.service import Actor
from fengqiao.auth import Principal
from fengqiao.db import lock_for_update, unit_of_work
from fengqiao.errors import Conflict, InvalidInput, NotFound
from fengqiao.geo import planning
from fengqiao.geo.adjacency import neighbours
from fengqiao.grids.models import (
    BarrierLine,
    GridPlan,
    PlanGrid,
    PlanningUnit,
    PlanStatus,
    PlanUnit,
)
from fengqiao.i18n import _
from fengqiao.labels import plan_status_label
from fengqiao.org.models import AreaKind, PoliceDistrict, PoliceGrid, Station

DEFAULT_CAPS = {AreaKind.URBAN: 5000, AreaKind.RURAL: 3000}
_M_PER_DEG = 111_320.0
Progress = Callable[[float, str], None]
PROGRESS_EVERY_S = 0.5  # how often a background run writes its progress


# --------------------------------------------------------------------------- inputs


def _project(geoms: Sequence[BaseGeometry], lat0: float) -> list[BaseGeometry]:
    """Lon/lat degrees → local metres (equirectangular at ``lat0``; fine for a county)."""
    kx = _M_PER_DEG * math.cos(math.radians(lat0))

    def to_metres(xy: Any) -> Any:
        out = xy.copy()
        out[:, 0] *= kx
        out[:, 1] *= _M_PER_DEG
        return out

    return [shapely.transform(g, to_metres) for g in geoms]


@dataclass
class ScopeData:
    """Units of a scope in a fixed order, with everything the planner needs."""

    units: list[PlanningUnit]
    problem: planning.Problem
    caps: list[int]
    _nbrs: list[list[int]] | None = field(default=None, repr=False)

    @property
    def nbrs(self) -> list[list[int]]:
        if self._nbrs is None:
            p = self.problem
            self._nbrs = neighbours(p.polygons, zone=p.zone, barriers=p.barriers)
        return self._nbrs


_nbr_cache: dict[tuple[object, ...], list[list[int]]] = {}
_nbr_lock = threading.Lock()


def scope_units(session: Session, station_id: int, district_id: int | None) -> list[PlanningUnit]:
    query = select(PlanningUnit).join(PoliceDistrict, PoliceDistrict.id == PlanningUnit.district_id)
    if district_id is not None:
        query = query.where(PlanningUnit.district_id == district_id)
    else:
        query = query.where(PoliceDistrict.station_id == station_id)
    return list(session.scalars(query.order_by(PlanningUnit.id)))


def scope_data(
    session: Session,
    units: list[PlanningUnit],
    caps: dict[AreaKind, int],
    current: Sequence[int] | None = None,
) -> ScopeData:
    lat0 = sum((u.min_lat + u.max_lat) / 2 for u in units) / max(len(units), 1)
    polygons = _project([u.geometry for u in units], lat0)
    barriers: list[BaseGeometry] = []
    if units:
        minx = min(u.min_lon for u in units)
        maxx = max(u.max_lon for u in units)
        miny = min(u.min_lat for u in units)
        maxy = max(u.max_lat for u in units)
        rows = session.scalars(
            select(BarrierLine.geometry).where(
                BarrierLine.max_lon >= minx,
                BarrierLine.min_lon <= maxx,
                BarrierLine.max_lat >= miny,
                BarrierLine.min_lat <= maxy,
            )
        ).all()
        barriers = _project(list(rows), lat0)
    unit_caps = [caps[u.area_kind] for u in units]
    problem = planning.Problem(
        polygons=polygons,
        population=[u.population for u in units],
        cap=unit_caps,
        zone=[u.district_id for u in units],
        barriers=barriers,
        current=current,
    )
    data = ScopeData(units, problem, unit_caps)
    key = (
        tuple(u.id for u in units),
        tuple(u.updated_at.isoformat() for u in units),
        tuple(shapely.to_wkb(b) for b in barriers),
    )
    with _nbr_lock:
        if key in _nbr_cache:
            data._nbrs = _nbr_cache[key]
        else:
            if len(_nbr_cache) > 32:
                _nbr_cache.clear()
            _nbr_cache[key] = data.nbrs
    return data


# --------------------------------------------------------------------------- access


def _station_or_raise(session: Session, principal: Principal, station_id: int) -> Station:
    station = session.get(Station, station_id)
    if station is None or not principal.sees_station(station_id):
        raise NotFound(_("Station not found or outside your area."))
    return station


def get_plan_or_raise(session: Session, principal: Principal, plan_id: int) -> GridPlan:
    plan = session.get(GridPlan, plan_id)
    if plan is None or not principal.sees_station(plan.station_id):
        raise NotFound(_("Grid plan {id} not found or outside your area.").format(id=plan_id))
    return plan


def draft_or_raise(session: Session, principal: Principal, plan_id: int) -> GridPlan:
    plan = get_plan_or_raise(session, principal, plan_id)
    if plan.status is not PlanStatus.DRAFT:
        raise Conflict(
            _("Plan version {v} is {status}; make a new version to change it.").format(
                v=plan.version, status=plan_status_label(plan.status)
            )
        )
    return plan


def caps_of(plan: GridPlan) -> dict[AreaKind, int]:
    return {AreaKind.URBAN: plan.cap_urban, AreaKind.RURAL: plan.cap_rural}


# --------------------------------------------------------------------------- creating


def new_codes(session: Session, station: Station, n: int, taken: set[str]) -> list[str]:
    """``n`` fresh grid codes of the station (never used by an active or retired grid)."""
    used = set(
        session.scalars(
            select(PoliceGrid.code)
            .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
            .where(PoliceDistrict.station_id == station.id)
        )
    )
    used |= set(
        session.scalars(
            select(PlanGrid.code).join(GridPlan).where(GridPlan.station_id == station.id)
        )
    )
    used |= taken
    out: list[str] = []
    number = 1
    while len(out) < n:
        code = f"{station.code}-G{number:02d}"
        if code not in used:
            out.append(code)
        number += 1
    return out


def auto_name(units: Sequence[PlanningUnit]) -> str:
    names = [u.name for u in sorted(units, key=lambda u: -u.population)][:2]
    return "、".join(names) + ("等" if len(units) > 2 else "") + "警格"


def parse_scope(session: Session, scope: str) -> tuple[int, int | None]:
    """``station:<id>`` or ``district:<id>`` (the plan form's choice) → (station, district)."""
    kind, _sep, raw = scope.partition(":")
    if kind == "district" and raw.isdigit():
        district = session.get(PoliceDistrict, int(raw))
        if district is None:
            raise NotFound(_("Police district not found."))
        return district.station_id, district.id
    if kind == "station" and raw.isdigit():
        return int(raw), None
    raise InvalidInput(_("Choose a station or a police district to plan."))


def create_plan(
    session: Session,
    principal: Principal,
    *,
    station_id: int,
    district_id: int | None = None,
    cap_urban: int = DEFAULT_CAPS[AreaKind.URBAN],
    cap_rural: int = DEFAULT_CAPS[AreaKind.RURAL],
    seed: int = 0,
    fresh: bool = False,
    effort: int = 8,
    progress: Progress | None = None,
    release_db: Callable[[], None] | None = None,
) -> GridPlan:
    """Plan the grids of a station (or one of its districts) and store it as a draft.

    Starting from the active layout (the default) keeps grids as they are where they still
    fit; ``fresh`` ignores it. ``release_db`` (e.g. the session's commit) is called before
    the planner runs, so that no transaction is held meanwhile.
    """
    plan = start_plan(
        session,
        principal,
        station_id=station_id,
        district_id=district_id,
        cap_urban=cap_urban,
        cap_rural=cap_rural,
        seed=seed,
        fresh=fresh,
    )
    job = _job(session, plan)
    if release_db is not None:
        release_db()  # planning takes seconds: hold no transaction (nor SQLite's lock)
    result = planning.plan(job.data.problem, seed=plan.seed, effort=effort, progress=progress)
    _store(session, session.get_one(GridPlan, plan.id), job, result, principal.actor)
    return plan


def start_plan(
    session: Session,
    principal: Principal,
    *,
    station_id: int,
    district_id: int | None = None,
    cap_urban: int = DEFAULT_CAPS[AreaKind.URBAN],
    cap_rural: int = DEFAULT_CAPS[AreaKind.RURAL],
    seed: int = 0,
    fresh: bool = False,
) -> GridPlan:
    """Check the request and store the plan, still being planned (``PlanStatus.PLANNING``);
    ``finish_plan`` (or ``create_plan``) fills it in."""
    station = _station_or_raise(session, principal, station_id)
    district = None
    if district_id is not None:
        district = session.get(PoliceDistrict, district_id)
        if district is None or district.station_id != station.id:
            raise NotFound(_("Police district not found in this station."))
    for name, cap in ((_("Cap, urban grid"), cap_urban), (_("Cap, rural grid"), cap_rural)):
        if not 100 <= cap <= 100_000:
            raise InvalidInput(
                _("{name} must be between 100 and 100000 residents.").format(name=name)
            )
    units = scope_units(session, station.id, district_id)
    if not units:
        raise InvalidInput(
            _(
                "There are no planning units in {scope}; import them first "
                "(fengqiao import units FILE)."
            ).format(scope=district.name if district else station.name)
        )
    with_units = {u.grid_id for u in units}
    uncovered = sorted(
        g.code
        for g in _scope_grids(session, station.id, district_id).values()
        if g.id not in with_units
    )
    if uncovered:
        raise InvalidInput(
            _(
                "Active grids {codes} contain no planning units; import units covering "
                "them first, or the plan would leave their area without a grid."
            ).format(codes=", ".join(uncovered))
        )
    lock_for_update(session, station)  # versions in order
    version = (
        session.scalar(select(func.max(GridPlan.version)).where(GridPlan.station_id == station.id))
        or 0
    ) + 1
    base = session.scalar(
        select(GridPlan.id)
        .where(GridPlan.station_id == station.id, GridPlan.status == PlanStatus.PUBLISHED)
        .order_by(GridPlan.published_at.desc(), GridPlan.id.desc())
        .limit(1)
    )
    plan = GridPlan(
        station_id=station.id,
        district_id=district_id,
        version=version,
        name=_("{scope} version {v}").format(
            scope=district.name if district else station.name, v=version
        ),
        status=PlanStatus.PLANNING,
        cap_urban=cap_urban,
        cap_rural=cap_rural,
        seed=seed,
        fresh=fresh,
        based_on_id=base,
        created_by=principal.username,
        report="{}",
    )
    session.add(plan)
    session.flush()
    return plan


@dataclass
class _Job:
    units: list[PlanningUnit]
    data: ScopeData
    scope_grids: dict[int, PoliceGrid]


def _job(session: Session, plan: GridPlan) -> _Job:
    units = scope_units(session, plan.station_id, plan.district_id)
    scope_grids = _scope_grids(session, plan.station_id, plan.district_id)
    home = {gid: g.district_id for gid, g in scope_grids.items()}
    current = None
    if not plan.fresh:  # a unit only continues a grid of its own district
        current = [
            u.grid_id if u.grid_id is not None and home.get(u.grid_id) == u.district_id else -1
            for u in units
        ]
    return _Job(units, scope_data(session, units, caps_of(plan), current), scope_grids)


def finish_plan(
    factory: sessionmaker[Session], plan_id: int, actor: Actor, *, effort: int = 8
) -> None:
    """Run the planner for a plan made by ``start_plan``, outside any transaction, writing
    its progress to the plan row (for the page to show) and then its grids. A failure is
    recorded on the plan, which is then discarded."""
    with unit_of_work(factory) as session:
        plan = session.get_one(GridPlan, plan_id)
        job = _job(session, plan)
        seed = plan.seed
    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        if time.monotonic() - last[0] < PROGRESS_EVERY_S and fraction < 1.0:
            return
        last[0] = time.monotonic()
        with unit_of_work(factory) as session:
            session.execute(
                update(GridPlan)
                .where(GridPlan.id == plan_id)
                .values(progress=round(fraction, 3), progress_note=message[:200])
            )

    try:
        result = planning.plan(job.data.problem, seed=seed, effort=effort, progress=progress)
        with unit_of_work(factory) as session:
            _store(session, session.get_one(GridPlan, plan_id), job, result, actor)
    except Exception as exc:  # the page must not wait for ever
        with unit_of_work(factory) as session:
            plan = session.get_one(GridPlan, plan_id)
            plan.status = PlanStatus.DISCARDED
            plan.report = json.dumps({"error": str(exc)[:500]}, ensure_ascii=False)
        raise


def _store(
    session: Session, plan: GridPlan, job: _Job, result: planning.Plan, actor: Actor
) -> None:
    """Write the planner's grids into ``plan`` and make it a draft."""
    units, data, scope_grids = job.units, job.data, job.scope_grids
    lock_for_update(session, plan)
    if plan.status is not PlanStatus.PLANNING:
        raise Conflict(_("Plan version {v} was already planned.").format(v=plan.version))
    station = session.get_one(Station, plan.station_id)
    plan.report = json.dumps(_report(data, result), ensure_ascii=False)
    members: list[list[PlanningUnit]] = [[] for _g in result.grids]
    for unit, label in zip(units, result.labels, strict=True):
        members[label].append(unit)
    keys = list(result.continues) if not plan.fresh else _successors(members)
    keys = [  # only active grids of the plan's scope, in the grid's own district
        k
        if k is not None and k in scope_grids and scope_grids[k].district_id == g[0].district_id
        else None
        for k, g in zip(keys, members, strict=True)
    ]
    continued = {k: scope_grids[k] for k in keys if k is not None}
    fresh_codes = iter(
        new_codes(session, station, sum(1 for c in keys if c not in continued), set())
    )
    grids: list[PlanGrid] = []
    for group, key in zip(members, keys, strict=True):
        old = continued.get(key) if key is not None else None
        grids.append(
            PlanGrid(
                plan_id=plan.id,
                code=old.code if old else next(fresh_codes),
                name=old.name if old else auto_name(group),
                district_id=group[0].district_id,
                continues_grid_id=old.id if old else None,
            )
        )
    session.add_all(grids)
    session.flush()
    session.add_all(
        PlanUnit(plan_id=plan.id, unit_id=u.id, plan_grid_id=grids[label].id)
        for u, label in zip(units, result.labels, strict=True)
    )
    plan.status = PlanStatus.DRAFT
    plan.progress = 1.0
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="grid_plan",
        object_id=plan.id,
        detail={
            "station": station.code,
            "version": plan.version,
            "grids": len(grids),
            "seed": plan.seed,
        },
    )


def _scope_grids(
    session: Session, station_id: int, district_id: int | None
) -> dict[int, PoliceGrid]:
    query = select(PoliceGrid).join(PoliceDistrict).where(PoliceGrid.active())
    if district_id is not None:
        query = query.where(PoliceGrid.district_id == district_id)
    else:
        query = query.where(PoliceDistrict.station_id == station_id)
    return {g.id: g for g in session.scalars(query)}


def _successors(members: list[list[PlanningUnit]]) -> list[int | None]:
    """For a plan made from scratch: each new grid carries on the active grid it shares
    the most residents with (each active grid at most once), so posts follow."""
    shared = sorted(
        (
            (-sum(u.population for u in group if u.grid_id == gid), i, gid)
            for i, group in enumerate(members)
            for gid in {u.grid_id for u in group if u.grid_id is not None}
        ),
    )
    out: list[int | None] = [None] * len(members)
    used: set[int] = set()
    for _neg, i, gid in shared:
        if out[i] is None and gid not in used:
            out[i] = gid
            used.add(gid)
    return out


def _report(data: ScopeData, result: planning.Plan) -> dict[str, Any]:
    units = data.units
    return {
        "lower_bound": result.lower_bound,
        "grids": len(result.grids),
        "over_cap_units": [
            {
                "code": units[i].code,
                "name": units[i].name,
                "population": units[i].population,
                "cap": data.caps[i],
            }
            for i in result.over_cap_units
        ],
        "islands": [[units[i].code for i in group] for group in result.islands],
        "moved_units": result.moved_units,
        "moved_population": result.moved_population,
        "seconds": round(result.seconds, 3),
    }


def members_of(session: Session, plan: GridPlan) -> dict[int, int]:
    return dict(
        session.execute(
            select(PlanUnit.unit_id, PlanUnit.plan_grid_id).where(PlanUnit.plan_id == plan.id)
        ).all()
    )
