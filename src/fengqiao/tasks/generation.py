"""The daily job: each morning, per grid, tasks made from rules.

Exactly once per grid and day, with any number of schedulers: the ``task_run`` row of
(grid, day) is inserted first, in the same transaction as the tasks, with ON CONFLICT
DO NOTHING; the loser of a race (on PostgreSQL it waits for the winner's commit)
inserts nothing and skips the grid. A crash rolls everything back, so a restarted
scheduler finds the day still to do; days missed while nothing ran are caught up
(up to ``catch_up_days``) with the rules whose work is still to do.

Rules: follow-ups that fall due; key places due by their inspection frequency; school
gates on school days; patrols of the places with the most incidents in the last 28 days
(with the count and peak hour, so the reason is shown); household visits, rented houses
and the longest unvisited first. Work is balanced across the grid team.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.auth import with_predecessors
from fengqiao.clock import CHINA_TZ, at_local, local_day
from fengqiao.db import insert_ignoring, unit_of_work, utcnow
from fengqiao.i18n import _
from fengqiao.incidents.models import Incident
from fengqiao.org.models import PoliceGrid
from fengqiao.registry.models import (
    Address,
    AddressLevel,
    Establishment,
    EstablishmentKind,
    House,
    HouseUse,
    RecordStatus,
    Resident,
)
from fengqiao.tasks.kinds import checklist_for
from fengqiao.tasks.models import (
    FollowUp,
    FollowUpStatus,
    Task,
    TaskKind,
    TaskRun,
    TaskSource,
    TaskStatus,
)
from fengqiao.tasks.service import OPEN_STATES, pick_assignee

HOTSPOT_DAYS = 28
HOTSPOT_CELL_DEG = (0.0016, 0.00135)  # lon, lat: about 150 m at 30°N
HOTSPOTS_PER_GRID = 2
SCHOOL_KINDS = (EstablishmentKind.SCHOOL, EstablishmentKind.KINDERGARTEN)


@dataclass(frozen=True)
class Rules:
    visits_per_grid: int = 6
    hotspots_per_grid: int = HOTSPOTS_PER_GRID
    catch_up_days: int = 3


@dataclass
class Candidate:
    kind: TaskKind
    source: TaskSource
    key: str
    title: str
    target_type: str
    target_id: int | None
    target_label: str
    lon: float | None
    lat: float | None
    due_from: datetime
    due_by: datetime
    priority: int
    detail: str = ""
    checklist: list[dict[str, Any]] | None = None
    follow_up_id: int | None = None


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def _lineage(session: Session, grid: PoliceGrid) -> list[int]:
    """The grid first, then the retired rows it carries on: their follow-ups and places
    are its own."""
    return [grid.id, *sorted(with_predecessors(session, frozenset({grid.id})) - {grid.id})]


def _has_open_task(target_type: str, target_id: Any, kind: TaskKind) -> Any:
    """A task of ``kind`` for this target is still open: do not make another."""
    return exists().where(
        Task.target_type == target_type,
        Task.target_id == target_id,
        Task.kind == kind,
        Task.status.in_(OPEN_STATES),
    )


def _follow_ups(session: Session, grids: list[int], day: date) -> Iterator[Candidate]:
    rows = session.scalars(
        select(FollowUp)
        .where(
            FollowUp.grid_id.in_(grids),
            FollowUp.status == FollowUpStatus.PENDING,
            FollowUp.due_on <= day,
        )
        .order_by(FollowUp.due_on, FollowUp.id)
        .limit(50)
    )
    for row in rows:
        late = (day - row.due_on).days
        yield Candidate(
            kind=row.kind,
            source=TaskSource.FOLLOW_UP,
            key=f"fu:{row.id}:{day.isoformat()}",
            title=_("Follow-up visit: {target}").format(target=row.target_label),
            target_type=row.target_type,
            target_id=row.target_id,
            target_label=row.target_label,
            lon=row.lon,
            lat=row.lat,
            due_from=at_local(day, 9),
            due_by=at_local(day, 18),
            priority=2 if late == 0 else 1,
            detail=row.note,
            follow_up_id=row.id,
        )


def _inspections(session: Session, grids: list[int], day: date) -> Iterator[Candidate]:
    end_of_day = at_local(day + timedelta(days=1), 0)
    places = session.scalars(
        select(Establishment).where(
            Establishment.grid_id.in_(grids),
            Establishment.key_place.is_(True),
            Establishment.status == RecordStatus.ACTIVE,
            Establishment.inspection_every_days.is_not(None),
            ~_has_open_task("establishment", Establishment.id, TaskKind.INSPECTION),
        )
    )
    for place in places:
        every = timedelta(days=place.inspection_every_days or 30)
        if place.last_inspected_at is not None and place.last_inspected_at + every > end_of_day:
            continue
        last = place.last_inspected_at
        yield Candidate(
            kind=TaskKind.INSPECTION,
            source=TaskSource.INSPECTION,
            key=f"insp:{place.id}:{day.isoformat()}",
            title=_("Inspect {place}").format(place=place.name),
            target_type="establishment",
            target_id=place.id,
            target_label=place.name,
            lon=place.lon,
            lat=place.lat,
            due_from=at_local(day, 9),
            due_by=at_local(day, 17),
            priority=2 if last is None else 3,
            detail=(
                _("Never inspected.")
                if last is None
                else _("Last inspected {days} days ago (every {every} days).").format(
                    days=(end_of_day - last).days, every=every.days
                )
            ),
            checklist=checklist_for(place.kind),
        )


def _school_gates(session: Session, grids: list[int], day: date) -> Iterator[Candidate]:
    if day.weekday() >= 5:  # school days only
        return
    for school in session.scalars(
        select(Establishment).where(
            Establishment.grid_id.in_(grids),
            Establishment.kind.in_(SCHOOL_KINDS),
            Establishment.status == RecordStatus.ACTIVE,
        )
    ):
        yield Candidate(
            kind=TaskKind.SCHOOL_GATE,
            source=TaskSource.SCHOOL_GATE,
            key=f"school:{school.id}:{day.isoformat()}",
            title=_("School-gate duty at {place}").format(place=school.name),
            target_type="establishment",
            target_id=school.id,
            target_label=school.name,
            lon=school.lon,
            lat=school.lat,
            due_from=at_local(day, 7, 20),
            due_by=at_local(day, 8, 20),
            priority=2,
        )


def _hotspots(session: Session, grids: list[int], day: date, count: int) -> Iterator[Candidate]:
    since = at_local(day, 0) - timedelta(days=HOTSPOT_DAYS)
    rows = session.execute(
        select(Incident.lon, Incident.lat, Incident.received_at, Incident.address).where(
            Incident.grid_id.in_(grids),
            Incident.received_at >= since,
            Incident.received_at < at_local(day, 0),
            Incident.lon.is_not(None),
        )
    ).all()
    cells: dict[tuple[int, int], list[Any]] = {}
    for lon, lat, at, address in rows:
        if lon is None or lat is None:
            continue
        cell = (int(lon // HOTSPOT_CELL_DEG[0]), int(lat // HOTSPOT_CELL_DEG[1]))
        cells.setdefault(cell, []).append((lon, lat, at, address))
    ranked = sorted(cells.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:count]
    for rank, (_cell, hits) in enumerate(ranked, start=1):
        if len(hits) < 2:
            break
        lon = sum(h[0] for h in hits) / len(hits)
        lat = sum(h[1] for h in hits) / len(hits)
        hours = Counter(h[2].astimezone(CHINA_TZ).hour for h in hits)
        peak = max(sorted(hours), key=lambda h: hours[h])
        start = min(max(peak - 1, 6), 21)
        place = Counter(h[3] for h in hits if h[3]).most_common(1)
        label = place[0][0] if place else _("around {lon:.4f}, {lat:.4f}").format(lon=lon, lat=lat)
        yield Candidate(
            kind=TaskKind.PATROL,
            source=TaskSource.HOTSPOT,
            key=f"patrol:{grids[0]}:{day.isoformat()}:{rank}",
            title=_("Patrol: {place}").format(place=label),
            target_type="grid",
            target_id=grids[0],
            target_label=label,
            lon=lon,
            lat=lat,
            due_from=at_local(day, start),
            due_by=at_local(day, start + 2),
            priority=2 if rank == 1 else 3,
            detail=_(
                "{n} incidents within about 150 m in the last {days} days; most around {hour}:00."
            ).format(n=len(hits), days=HOTSPOT_DAYS, hour=peak),
        )


def _visits(session: Session, grids: list[int], day: date, count: int) -> Iterator[Candidate]:
    if count <= 0:
        return
    rows = session.execute(
        select(Address, House.use)
        .outerjoin(House, House.address_id == Address.id)
        .where(
            Address.grid_id.in_(grids),
            Address.level.in_((AddressLevel.ROOM, AddressLevel.NUMBER)),
            Address.status == RecordStatus.ACTIVE,
            # A household: a lived-in house, or people registered there (not a shop's door).
            or_(
                House.use.in_((HouseUse.OWNER_OCCUPIED, HouseUse.RENTED)),
                exists().where(
                    Resident.address_id == Address.id, Resident.status == RecordStatus.ACTIVE
                ),
            ),
            or_(House.id.is_(None), House.use != HouseUse.EMPTY),
            ~_has_open_task("address", Address.id, TaskKind.HOUSEHOLD_VISIT),
        )
        # Never visited first, then the longest ago (portable NULLS FIRST).
        .order_by(Address.last_visited_at.is_not(None), Address.last_visited_at, Address.id)
        .limit(count * 4)
    ).all()
    # Rented houses first among those (a stable sort keeps the visit order).
    ordered = sorted(rows, key=lambda r: r[1] is not HouseUse.RENTED)[:count]
    for address, use in ordered:
        why = (
            _("Rented house: check who lives there.")
            if use is HouseUse.RENTED
            else (
                _("Never visited.")
                if address.last_visited_at is None
                else _("Last visited on {day}.").format(
                    day=local_day(address.last_visited_at).isoformat()
                )
            )
        )
        yield Candidate(
            kind=TaskKind.HOUSEHOLD_VISIT,
            source=TaskSource.VISIT,
            key=f"visit:{address.id}:{day.isoformat()}",
            title=_("Visit {address}").format(address=address.full_name),
            target_type="address",
            target_id=address.id,
            target_label=address.full_name,
            lon=address.lon,
            lat=address.lat,
            due_from=at_local(day, 9),
            due_by=at_local(day, 20),
            priority=3,
            detail=why,
        )


def candidates(
    session: Session, grid: PoliceGrid, day: date, rules: Rules, *, caught_up: bool
) -> list[Candidate]:
    grids = _lineage(session, grid)
    found = [*_follow_ups(session, grids, day), *_inspections(session, grids, day)]
    if not caught_up:  # a patrol or a gate duty of a day gone by cannot be done any more
        found += [
            *_school_gates(session, grids, day),
            *_hotspots(session, grids, day, rules.hotspots_per_grid),
            *_visits(session, grids, day, rules.visits_per_grid),
        ]
    return found


def run_grid_day(
    session: Session,
    grid: PoliceGrid,
    day: date,
    *,
    rules: Rules,
    runner: str,
    now: datetime | None = None,
) -> TaskRun | None:
    """Make one grid's tasks for ``day`` unless another run already did (returns None)."""
    now = now or utcnow()
    today = local_day(now)
    caught_up = day < today
    claimed = session.execute(
        insert_ignoring(session, TaskRun, conflict=["grid_id", "day"])
        .values(
            grid_id=grid.id,
            day=day,
            runner=runner,
            caught_up=caught_up,
            tasks_created=0,
            counts={},
            finished_at=now,
        )
        .returning(TaskRun.id)
    ).scalar_one_or_none()
    if claimed is None:
        return None
    station_id = grid.district.station_id
    work_day = today if caught_up else day
    counts: Counter[str] = Counter()
    for c in candidates(session, grid, day, rules, caught_up=caught_up):
        if caught_up:  # due today instead of on the day that was missed
            shift = timedelta(days=(work_day - day).days)
            c.due_from, c.due_by = c.due_from + shift, c.due_by + shift
        # The tasks inserted above are already in this transaction, so pick_assignee
        # counts them; adding them again as ``planned`` would count them twice.
        assignee = pick_assignee(session, grid_id=grid.id, kind=c.kind, day=work_day)
        inserted = session.execute(
            insert_ignoring(session, Task, conflict=["source_key"])
            .values(
                station_id=station_id,
                grid_id=grid.id,
                kind=c.kind.value,
                title=c.title[:200],
                detail=c.detail[:2000],
                target_type=c.target_type,
                target_id=c.target_id,
                target_label=c.target_label[:400],
                lon=c.lon,
                lat=c.lat,
                day=work_day,
                due_from=c.due_from,
                due_by=c.due_by,
                priority=c.priority,
                assignee_id=assignee,
                status=TaskStatus.OPEN.value,
                source=c.source.value,
                source_key=c.key,
                follow_up_id=c.follow_up_id,
                checklist=c.checklist,
                created_at=now,
                note="",
                households_visited=0,
                leads=0,
                hazards=0,
            )
            .returning(Task.id)
        ).scalar_one_or_none()
        if inserted is None:
            continue
        counts[c.source.value] += 1
        if c.follow_up_id is not None:
            follow_up = session.get_one(FollowUp, c.follow_up_id)
            follow_up.status = FollowUpStatus.SCHEDULED
    run = session.get_one(TaskRun, claimed)
    run.tasks_created = sum(counts.values())
    run.counts = dict(counts)
    run.finished_at = utcnow()
    return run


def due_runs(session: Session, *, today: date, catch_up_days: int) -> list[tuple[int, date]]:
    """(grid, day) pairs still to run: today, and days missed since the grid's last run
    (at most ``catch_up_days`` back)."""
    first = today - timedelta(days=catch_up_days)
    grids = list(
        session.execute(
            select(PoliceGrid.id, PoliceGrid.created_at)
            .where(PoliceGrid.active())
            .order_by(PoliceGrid.id)
        ).all()
    )
    done = set(
        session.execute(select(TaskRun.grid_id, TaskRun.day).where(TaskRun.day >= first)).all()
    )
    last = dict(
        session.execute(
            select(TaskRun.grid_id, func.max(TaskRun.day)).group_by(TaskRun.grid_id)
        ).all()
    )
    todo: list[tuple[int, date]] = []
    for grid_id, created_at in grids:
        start = today
        if grid_id in last:
            start = max(first, last[grid_id] + timedelta(days=1))
        if created_at is not None:
            start = max(start, min(today, local_day(created_at)))
        day = start
        while day <= today:
            if (grid_id, day) not in done:
                todo.append((grid_id, day))
            day += timedelta(days=1)
    return todo


@dataclass(frozen=True)
class RunSummary:
    runs: int
    tasks: int
    skipped: int  # (grid, day) pairs another scheduler did first
    failed: list[tuple[int, date, str]]


def run_due(
    factory: sessionmaker[Session],
    *,
    now: datetime | None = None,
    rules: Rules | None = None,
    runner: str | None = None,
) -> RunSummary:
    """Run every (grid, day) still to do, each grid in its own transaction so that one
    failure neither blocks the others nor leaves half a day behind."""
    now = now or utcnow()
    rules = rules or Rules()
    runner = runner or runner_name()
    with unit_of_work(factory) as session:
        todo = due_runs(session, today=local_day(now), catch_up_days=rules.catch_up_days)
    runs = tasks = skipped = 0
    failed: list[tuple[int, date, str]] = []
    for grid_id, day in todo:
        try:
            with unit_of_work(factory) as session:
                grid = session.get_one(PoliceGrid, grid_id)
                run = run_grid_day(session, grid, day, rules=rules, runner=runner, now=now)
        except Exception as exc:  # one grid's failure must not stop the others; reported
            failed.append((grid_id, day, f"{type(exc).__name__}: {exc}"[:300]))
            continue
        if run is None:
            skipped += 1
        else:
            runs += 1
            tasks += run.tasks_created
    return RunSummary(runs=runs, tasks=tasks, skipped=skipped, failed=failed)
