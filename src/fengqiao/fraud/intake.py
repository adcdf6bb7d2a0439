"""Taking warnings in: checking each one, merging repeats, matching, making orders.

``clean`` checks one warning as sent (API, form, file row) and raises
:class:`FieldProblem` naming the field; ``receive`` stores a list of clean warnings
set-based, in the caller's transaction: a warning already received (same source and
key) adds nothing; a warning for a person with an order still taking repeats merges
into it (count, highest level, tighter deadlines); the others are matched and become
orders, each with its task for the responsible person and a live event.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Principal
from fengqiao.clock import local_day
from fengqiao.config import Settings
from fengqiao.db import utcnow
from fengqiao.errors import InvalidInput
from fengqiao.fraud import matching
from fengqiao.fraud.announce import label, push, title_of
from fengqiao.fraud.checking import FieldProblem, Incoming, clean
from fengqiao.fraud.models import (
    LEVEL_RANK,
    Channel,
    FraudOrder,
    FraudOrderEvent,
    FraudWarning,
    MatchStep,
    OrderStatus,
    WarningLevel,
)
from fengqiao.live import service as live
from fengqiao.tasks.models import Task, TaskKind, TaskSource, TaskStatus

__all__ = ["FieldProblem", "Incoming", "Received", "Totals", "clean", "receive"]

PRIORITY = {WarningLevel.URGENT: 1, WarningLevel.HIGH: 2, WarningLevel.NORMAL: 3}
DEFAULT_CONTACT = {"urgent": 5, "high": 30, "normal": 1440}


@dataclass
class Received:
    """What became of one warning."""

    order_id: int
    duplicate: bool = False  # received before: nothing added
    merged: bool = False  # added to an order that was already open
    step: MatchStep | None = None  # new orders: the step that placed it
    confidence: float | None = None
    assignee_id: int | None = None
    queued: bool = False


@dataclass
class Totals:
    accepted: int = 0
    duplicates: int = 0
    merged: int = 0
    orders: int = 0
    queued: int = 0
    by_step: dict[str, int] = field(default_factory=lambda: defaultdict(int))


# --- storing -------------------------------------------------------------------------------


def deadlines(
    settings: Settings, level: WarningLevel, start: datetime
) -> tuple[datetime, datetime | None]:
    contact = settings.fraud_contact_minutes.get(level.value, DEFAULT_CONTACT[level.value])
    visit = settings.fraud_visit_minutes.get(level.value)
    return (
        start + timedelta(minutes=contact),
        start + timedelta(minutes=visit) if visit else None,
    )


def _existing(session: Session, items: Sequence[Incoming]) -> dict[tuple[str, str], int]:
    keys: dict[str, set[str]] = defaultdict(set)
    for item in items:
        keys[item.source].add(item.external_key)
    found: dict[tuple[str, str], int] = {}
    for source, wanted in keys.items():
        rows = session.execute(
            select(FraudWarning.external_key, FraudWarning.order_id).where(
                FraudWarning.source == source, FraudWarning.external_key.in_(sorted(wanted))
            )
        )
        found.update({(source, k): o for k, o in rows})
    return found


def _takers(session: Session, person_keys: set[str]) -> dict[str, FraudOrder]:
    if not person_keys:
        return {}
    query = select(FraudOrder).where(FraudOrder.merge_key.in_(sorted(person_keys)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return {o.merge_key: o for o in session.scalars(query) if o.merge_key}


def receive(
    session: Session,
    principal: Principal,
    settings: Settings,
    items: Sequence[Incoming],
    *,
    channel: Channel,
    now: datetime | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[list[Received], Totals]:
    """Store ``items`` (see the module text). Retries a few times when a concurrent
    intake of the same warning or person wins a unique key. ``timings`` (seconds) gets
    the time spent matching added to its ``match`` entry."""
    for attempt in range(4):
        try:
            with session.begin_nested():
                return _receive(
                    session, principal, settings, items, channel, now or utcnow(), timings
                )
        except IntegrityError:
            if attempt == 3:
                raise
    raise AssertionError("unreachable")


def _receive(
    session: Session,
    principal: Principal,
    settings: Settings,
    items: Sequence[Incoming],
    channel: Channel,
    now: datetime,
    timings: dict[str, float] | None,
) -> tuple[list[Received], Totals]:
    totals = Totals()
    results: list[Received | None] = [None] * len(items)
    known = _existing(session, items)
    fresh: list[int] = []
    seen: dict[tuple[str, str], int] = {}
    for i, item in enumerate(items):
        key = (item.source, item.external_key)
        if key in known:
            results[i] = Received(order_id=known[key], duplicate=True)
        elif key in seen:
            results[i] = Received(order_id=-1, duplicate=True)  # filled in below
        else:
            seen[key] = i
            fresh.append(i)
    totals.duplicates = len(items) - len(fresh)
    window = timedelta(hours=settings.fraud_merge_hours)
    takers = _takers(session, {items[i].person_key for i in fresh})
    # Group the fresh warnings by person, oldest first: the first of a person without an
    # open order makes one; the rest merge into it.
    by_person: dict[str, list[int]] = defaultdict(list)
    for i in sorted(fresh, key=lambda j: items[j].warned_at):
        by_person[items[i].person_key].append(i)
    new_orders: list[tuple[str, list[int]]] = []
    merges: dict[int, list[int]] = defaultdict(list)  # order id → item indexes
    expired: list[int] = []
    for person, idx in by_person.items():
        # A gap longer than the window starts a new order (a file may cover days).
        runs = [idx[:1]]
        for before, i in pairwise(idx):
            if items[i].warned_at - items[before].warned_at > window:
                runs.append([])
            runs[-1].append(i)
        order = takers.get(person)
        if order is not None and items[idx[0]].warned_at - order.last_warning_at > window:
            expired.append(order.id)
            order = None
        if order is not None:
            merges[order.id].extend(runs.pop(0))
            if runs:
                expired.append(order.id)
        new_orders.extend((person, run) for run in runs)
    if expired:
        session.execute(update(FraudOrder).where(FraudOrder.id.in_(expired)).values(merge_key=None))
        session.flush()
    by_id = {o.id: o for o in takers.values()}
    for order_id, idx in merges.items():
        _merge(session, principal, settings, by_id[order_id], [items[i] for i in idx], now)
        for i in idx:
            results[i] = Received(order_id=order_id, merged=True)
    totals.merged = sum(len(v) for v in merges.values())
    if new_orders:
        firsts = [items[idx[0]] for _p, idx in new_orders]
        started = time.perf_counter()
        matches = matching.match_many(
            session,
            [matching.Wanted(f.parsed, f.id_number, f.phone, f.lon, f.lat) for f in firsts],
        )
        if timings is not None:
            timings["match"] = timings.get("match", 0.0) + time.perf_counter() - started
        ids = _insert_orders(session, settings, new_orders, items, matches, now)
        for (_person, idx), order_id, match in zip(new_orders, ids, matches, strict=True):
            queued = match.assignee_id is None
            results[idx[0]] = Received(
                order_id=order_id,
                step=match.step,
                confidence=match.confidence,
                assignee_id=match.assignee_id,
                queued=queued,
            )
            for i in idx[1:]:
                results[i] = Received(order_id=order_id, merged=True)
            totals.orders += 1
            totals.queued += int(queued)
            totals.merged += len(idx) - 1
            totals.by_step[match.step.value] += 1
        _insert_tasks(session, principal, new_orders, ids, items, matches, settings, now)
        _announce(session, channel, new_orders, ids, items, matches)
    order_of = {key: r.order_id for key, i in seen.items() if (r := results[i]) is not None}
    for i, r in enumerate(results):
        if r is not None and r.order_id == -1:
            r.order_id = order_of[(items[i].source, items[i].external_key)]
    rows = [_warning_row(items[i], channel, results[i], principal, now) for i in fresh]
    if rows:
        session.execute(insert(FraudWarning).execution_options(render_nulls=True), rows)
    totals.accepted = len(fresh)
    return [r for r in results if r is not None], totals


def _warning_row(
    item: Incoming, channel: Channel, result: Received | None, principal: Principal, now: datetime
) -> dict[str, Any]:
    assert result is not None
    return {
        "source": item.source,
        "external_key": item.external_key,
        "channel": channel,
        "batch_id": item.batch_id,
        "row_no": item.row_no,
        "warning_type": item.warning_type,
        "level": item.level,
        "warned_at": item.warned_at,
        "received_at": now,
        "name": item.name,
        "phone": item.phone,
        "id_number": item.id_number,
        "address_text": item.address_text,
        "lon": item.lon,
        "lat": item.lat,
        "detail": item.detail,
        "order_id": result.order_id,
        "created_by_user_id": principal.actor.user_id,
    }


def _insert_orders(
    session: Session,
    settings: Settings,
    new_orders: list[tuple[str, list[int]]],
    items: Sequence[Incoming],
    matches: list[matching.Match],
    now: datetime,
) -> list[int]:
    rows = []
    newest = {person: k for k, (person, _idx) in enumerate(new_orders)}
    for k, ((person, idx), match) in enumerate(zip(new_orders, matches, strict=True)):
        group = [items[i] for i in idx]
        first, last = group[0], group[-1]
        level = max((g.level for g in group), key=lambda lv: LEVEL_RANK[lv])
        contact_due, visit_due = deadlines(settings, level, now)
        rows.append(
            {
                "merge_key": person if newest[person] == k else None,  # its last spell
                "person_key": person,
                "name": last.name or first.name,
                "phone": last.phone or first.phone,
                "id_number": last.id_number or first.id_number,
                "address_text": last.address_text or first.address_text,
                "lon": match.lon if match.lon is not None else first.lon,
                "lat": match.lat if match.lat is not None else first.lat,
                "warning_type": first.warning_type,
                "level": level,
                "warning_count": len(group),
                "first_warning_at": first.warned_at,
                "last_warning_at": last.warned_at,
                "station_id": match.station_id,
                "grid_id": match.grid_id,
                "address_id": match.address_id,
                "resident_id": match.resident_id,
                "assignee_id": match.assignee_id,
                "match_step": match.step,
                "match_confidence": match.confidence,
                "match_detail": match.detail,
                "status": OrderStatus.OPEN if match.assignee_id else OrderStatus.QUEUED,
                "contact_due_at": contact_due,
                "visit_due_at": visit_due,
                "escalation": 0,
                "outcome_note": "",
                "money_saved": 0,
                "money_lost": 0,
                "created_at": now,
            }
        )
    # render_nulls: without it the ORM leaves out the None values of each row and cuts the
    # rows into runs of equal keys, so a chunk went out as almost one INSERT per order.
    if session.get_bind().dialect.name == "postgresql":
        # Ids from the sequence first, then a plain executemany (pipelined by psycopg):
        # INSERT … RETURNING of a chunk is one statement with tens of thousands of
        # parameters, several times slower for the server to parse and plan.
        ids = [
            int(i)
            for i in session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('fraud_order', 'id')) AS id "
                    "FROM generate_series(1, :n) ORDER BY id"
                ),
                {"n": len(rows)},
            )
        ]
        for row, order_id in zip(rows, ids, strict=True):
            row["id"] = order_id
        session.execute(insert(FraudOrder).execution_options(render_nulls=True), rows)
        return ids
    result = session.execute(
        insert(FraudOrder)
        .returning(FraudOrder.id, sort_by_parameter_order=True)
        .execution_options(render_nulls=True),
        rows,
    )
    return [int(r[0]) for r in result]


def task_source_key(order_id: int) -> str:
    return f"fraud:{order_id}"


def task_row(
    order_id: int,
    *,
    station_id: int,
    grid_id: int,
    assignee_id: int,
    level: WarningLevel,
    title: str,
    target: str,
    lon: float | None,
    lat: float | None,
    contact_due: datetime,
    visit_due: datetime | None,
    user_id: int | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "station_id": station_id,
        "grid_id": grid_id,
        "kind": TaskKind.FRAUD_DISSUASION,
        "title": title,
        "detail": "",
        "target_type": "fraud_order",
        "target_id": order_id,
        "target_label": target,
        "lon": lon,
        "lat": lat,
        "day": local_day(now),
        "due_from": now,
        "due_by": visit_due or contact_due,
        "priority": PRIORITY[level],
        "assignee_id": assignee_id,
        "status": TaskStatus.OPEN,
        "source": TaskSource.FRAUD_ORDER,
        "source_key": task_source_key(order_id),
        "created_by_user_id": user_id,
        "created_at": now,
        "note": "",
        "households_visited": 0,
        "leads": 0,
        "hazards": 0,
    }


def _insert_tasks(
    session: Session,
    principal: Principal,
    new_orders: list[tuple[str, list[int]]],
    ids: list[int],
    items: Sequence[Incoming],
    matches: list[matching.Match],
    settings: Settings,
    now: datetime,
) -> None:
    rows = []
    for (_person, idx), order_id, match in zip(new_orders, ids, matches, strict=True):
        if match.assignee_id is None or match.grid_id is None or match.station_id is None:
            continue
        group = [items[i] for i in idx]
        level = max((g.level for g in group), key=lambda lv: LEVEL_RANK[lv])
        contact_due, visit_due = deadlines(settings, level, now)
        first = group[0]
        rows.append(
            task_row(
                order_id,
                station_id=match.station_id,
                grid_id=match.grid_id,
                assignee_id=match.assignee_id,
                level=level,
                title=title_of(first.warning_type),
                target=label(first.name, first.phone, first.address_text),
                lon=match.lon if match.lon is not None else first.lon,
                lat=match.lat if match.lat is not None else first.lat,
                contact_due=contact_due,
                visit_due=visit_due,
                user_id=principal.actor.user_id,
                now=now,
            )
        )
    if rows:
        session.execute(insert(Task).execution_options(render_nulls=True), rows)


def _announce(
    session: Session,
    channel: Channel,
    new_orders: list[tuple[str, list[int]]],
    ids: list[int],
    items: Sequence[Incoming],
    matches: list[matching.Match],
) -> None:
    """Orders from the API and the desk go out one by one; a file's as one count per
    person and chunk (how many, how many urgent), so that a million rows do not flood
    the live feed."""
    counts: dict[tuple[int | None, int | None], list[int]] = defaultdict(lambda: [0, 0])
    for (_person, idx), order_id, match in zip(new_orders, ids, matches, strict=True):
        first = items[idx[0]]
        level = max((items[i].level for i in idx), key=lambda lv: LEVEL_RANK[lv])
        if channel is Channel.BATCH:
            count = counts[(match.station_id, match.assignee_id)]
            count[0] += 1
            count[1] += int(level is WarningLevel.URGENT)
            continue
        live.publish(
            session,
            kind="fraud_order",
            station_id=match.station_id,
            person_id=match.assignee_id,
            payload={
                "order": order_id,
                "level": level.value,
                "type": first.warning_type.value,
                "title": title_of(first.warning_type),
                "label": label(first.name, first.phone, None),
                "person": match.assignee_id,
                "queued": match.assignee_id is None,
            },
        )
    for (station_id, person_id), (n, urgent) in counts.items():
        live.publish(
            session,
            kind="fraud_orders",
            station_id=station_id,
            person_id=person_id,
            payload={
                "count": n,
                "urgent": urgent,
                "person": person_id,
                "queued": person_id is None,
            },
        )


def _merge(
    session: Session,
    principal: Principal,
    settings: Settings,
    order: FraudOrder,
    group: list[Incoming],
    now: datetime,
) -> None:
    """Repeats of an open order: count them, raise the level and tighten the deadlines
    when a repeat is more urgent, keep the newest contact details. An urgent or high
    repeat after the person was reached starts a new round of contact (the first
    contact stays in the timeline)."""
    order.warning_count += len(group)
    order.last_warning_at = max(order.last_warning_at, *(g.warned_at for g in group))
    top = max(group, key=lambda g: LEVEL_RANK[g.level])
    old = order.level
    raised = LEVEL_RANK[top.level] > LEVEL_RANK[old]
    reached = order.contacted_at
    renewed = reached is not None and any(
        g.level is not WarningLevel.NORMAL and g.warned_at > reached for g in group
    )
    newest = group[-1]
    order.phone = newest.phone or order.phone
    order.name = newest.name or order.name
    if raised or renewed:
        if raised:
            order.level, order.warning_type = top.level, top.warning_type
        contact_due, visit_due = deadlines(settings, order.level, now)
        if renewed:
            order.contacted_at = order.contact_method = None
            order.status = OrderStatus.OPEN if order.assignee_id else OrderStatus.QUEUED
            order.contact_due_at = contact_due
        else:
            order.contact_due_at = min(order.contact_due_at, contact_due)
        if visit_due and order.visited_at is None:
            order.visit_due_at = min(order.visit_due_at or visit_due, visit_due)
        order.escalation = 0
        task = session.scalar(select(Task).where(Task.source_key == task_source_key(order.id)))
        if task is not None and task.status not in (TaskStatus.DONE, TaskStatus.CANCELLED):
            task.priority = PRIORITY[order.level]
            task.title = title_of(order.warning_type)
            task.due_by = order.visit_due_at or order.contact_due_at
    session.add(
        FraudOrderEvent(
            order_id=order.id,
            at=now,
            kind="merged",
            user_id=principal.actor.user_id,
            detail={
                "warnings": len(group),
                "count": order.warning_count,
                **({"level": [old.value, order.level.value]} if raised else {}),
                **({"renewed": True} if renewed else {}),
            },
        )
    )
    if raised or renewed or top.level is not WarningLevel.NORMAL:
        push(session, order, repeat=order.warning_count)


def audit_intake(
    session: Session, principal: Principal, totals: Totals, *, channel: Channel, ref: str | int
) -> None:
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.CREATE if channel is not Channel.BATCH else AuditAction.IMPORT,
        object_type="fraud_warning" if channel is not Channel.BATCH else "fraud_batch",
        object_id=ref,
        detail={
            "channel": channel.value,
            "accepted": totals.accepted,
            "duplicates": totals.duplicates,
            "merged": totals.merged,
            "orders": totals.orders,
            "queued": totals.queued,
        },
    )


def take_one(
    session: Session,
    principal: Principal,
    settings: Settings,
    raw: dict[str, Any],
    *,
    channel: Channel,
    source: str = "centre",
) -> Received:
    """Check and store one warning (API, desk); a wrong field is refused naming it."""
    try:
        item = clean(raw, source=source)
    except FieldProblem as exc:
        raise InvalidInput(f"{exc.field}: {exc.message}") from None
    results, totals = receive(session, principal, settings, [item], channel=channel)
    if not results[0].duplicate:
        audit_intake(session, principal, totals, channel=channel, ref=results[0].order_id)
    return results[0]
