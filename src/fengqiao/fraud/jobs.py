"""The watch over fraud-order deadlines, run inside each app process (and by
``fengqiao fraud escalate`` from cron). Any number may run: each order is escalated
once per stage by a conditional update (see escalate_due)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from sqlalchemy import and_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.accounts.models import Role, UserAccount
from fengqiao.auth import Principal, system_principal
from fengqiao.config import Settings
from fengqiao.db import unit_of_work, utcnow
from fengqiao.fraud.announce import label, title_of
from fengqiao.fraud.models import CONTACT_WATCH, VISIT_WATCH, FraudOrder, FraudOrderEvent
from fengqiao.live import service as live

log = logging.getLogger(__name__)


def escalate_due(session: Session, principal: Principal, *, now: datetime | None = None) -> int:
    """Escalate every order whose contact (stage 1) or visit (stage 2) deadline has
    passed, once per stage: the conditional update lets one process win each order."""
    now = now or utcnow()
    # The watch conditions as written in the partial indexes, so that the planner uses them.
    stages = (
        (1, and_(text(CONTACT_WATCH), FraudOrder.contact_due_at < now)),
        (2, and_(text(VISIT_WATCH), FraudOrder.visit_due_at < now)),
    )
    count = 0
    chiefs: dict[int, list[int]] = {}  # station → its chiefs' people, read once per round
    for stage, condition in stages:
        rows = session.execute(
            update(FraudOrder)
            .where(condition)
            .values(escalation=stage, escalated_at=now)
            .returning(FraudOrder.id)
        ).all()
        ids = [r[0] for r in rows]
        escalated = session.scalars(
            select(FraudOrder)
            .where(FraudOrder.id.in_(ids))
            .order_by(FraudOrder.id)
            .execution_options(populate_existing=True)  # the UPDATE bypassed the session
        ).all()
        for order in escalated:
            _escalated(session, principal, order, stage, now, chiefs)
        count += len(escalated)
    return count


def _escalated(
    session: Session,
    principal: Principal,
    order: FraudOrder,
    stage: int,
    now: datetime,
    chiefs: dict[int, list[int]],
) -> None:
    due = order.contact_due_at if stage == 1 else order.visit_due_at
    late = int((now - due).total_seconds() // 60) if due else 0
    session.add(
        FraudOrderEvent(
            order_id=order.id,
            at=now,
            kind="escalated",
            user_id=principal.actor.user_id,
            detail={"stage": "contact" if stage == 1 else "visit", "late_minutes": late},
        )
    )
    payload = {
        "order": order.id,
        "level": order.level.value,
        "stage": "contact" if stage == 1 else "visit",
        "title": title_of(order.warning_type),
        "label": label(order.name, order.phone, None),
        "person": order.assignee_id,
        "late_minutes": late,
    }
    # The command room (station events) and each chief of the station by name.
    live.publish(session, kind="fraud_escalated", station_id=order.station_id, payload=payload)
    if order.station_id is not None:
        if order.station_id not in chiefs:
            chiefs[order.station_id] = _chiefs(session, order.station_id)
        for chief in chiefs[order.station_id]:
            live.publish(
                session,
                kind="fraud_escalated",
                station_id=order.station_id,
                person_id=chief,
                payload={**payload, "to": "chief"},
            )


def _chiefs(session: Session, station_id: int) -> list[int]:
    return [
        p
        for p in session.scalars(
            select(UserAccount.person_id).where(
                UserAccount.role == Role.STATION_CHIEF,
                UserAccount.station_id == station_id,
                UserAccount.person_id.is_not(None),
            )
        )
        if p is not None
    ]


def escalate_once(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        return escalate_due(session, system_principal("fraud-deadlines"))


async def run_watch(
    factory: sessionmaker[Session], settings: Settings, stop: asyncio.Event
) -> None:
    """Check every ``fraud_check_seconds`` until ``stop`` is set; a round under way is
    finished before returning."""
    while not stop.is_set():
        try:
            count = await asyncio.to_thread(escalate_once, factory)
            if count:
                log.info("fraud orders escalated: %d", count)
        except Exception:  # keep watching; the next round tries again
            log.exception("fraud deadline watch failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.fraud_check_seconds)
