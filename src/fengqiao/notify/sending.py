"""Sending pending notice deliveries, safely from any number of processes.

A round: (1) deliveries left in ``sending`` past their lease (a sender died half-way)
go back to ``pending``; (2) due deliveries are claimed by a conditional UPDATE
``pending → sending`` (with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that two
senders do not even wait for each other), which only one sender can win per row, and
committed; (3) each is sent outside any transaction; (4) its outcome is recorded in a
short transaction of its own, so that a crash loses at most the delivery under way
(sent again once its lease has run out).

A failure is tried again after 30 s, 2 min, 10 min and 1 h; the fifth failed attempt
is final (``failed``, with the last error).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import system_principal
from fengqiao.config import Settings
from fengqiao.db import unit_of_work, utcnow
from fengqiao.i18n import _
from fengqiao.live import service as live
from fengqiao.notify.channels import Channel, DeliveryError, Outgoing, channels_for
from fengqiao.notify.models import (
    ChannelKind,
    DeliveryStatus,
    Notice,
    NoticeDelivery,
    ResidentGroup,
)

log = logging.getLogger(__name__)

BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(minutes=10)  # a delivery in "sending" longer than this is stuck
BATCH = 50
SENDER = "notify-sender"


@dataclass
class SendSummary:
    released: int = 0  # stuck in sending, given back
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    lost: int = 0  # recorded by another sender meanwhile (this one's lease ran out)

    def __bool__(self) -> bool:
        return bool(self.released or self.claimed)


def release_stuck(session: Session, now: datetime) -> int:
    """Deliveries whose sender did not come back within the lease: pending again, or
    failed when that was their last attempt."""
    stuck = (
        NoticeDelivery.status == DeliveryStatus.SENDING,
        NoticeDelivery.next_attempt_at <= now,
    )
    given_up = session.execute(
        update(NoticeDelivery)
        .where(*stuck, NoticeDelivery.attempts >= MAX_ATTEMPTS)
        .values(
            status=DeliveryStatus.FAILED,
            next_attempt_at=None,
            error=_("Sending was interrupted and no attempt is left."),
        )
        .execution_options(synchronize_session=False)
    )
    released = session.execute(
        update(NoticeDelivery)
        .where(*stuck)
        .values(status=DeliveryStatus.PENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(given_up, "rowcount", 0) or 0) + int(getattr(released, "rowcount", 0) or 0)


def claim_due(session: Session, now: datetime, *, limit: int = BATCH) -> list[Outgoing]:
    """Take up to ``limit`` due deliveries for this sender: ``sending``, one more
    attempt, leased until ``now`` + 10 min. Rows another sender took are left out."""
    due = (
        NoticeDelivery.status == DeliveryStatus.PENDING,
        or_(NoticeDelivery.next_attempt_at.is_(None), NoticeDelivery.next_attempt_at <= now),
    )
    candidates = list(
        session.scalars(
            select(NoticeDelivery.id)
            .where(*due)
            .order_by(NoticeDelivery.next_attempt_at, NoticeDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite writers are serial
        )
    )
    if not candidates:
        return []
    claimed = list(
        session.scalars(
            update(NoticeDelivery)
            .where(NoticeDelivery.id.in_(candidates), *due)
            .values(
                status=DeliveryStatus.SENDING,
                attempts=NoticeDelivery.attempts + 1,
                next_attempt_at=now + LEASE,
            )
            .returning(NoticeDelivery.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not claimed:
        return []
    rows = session.execute(
        select(NoticeDelivery, ResidentGroup, Notice)
        .join(ResidentGroup, ResidentGroup.id == NoticeDelivery.group_id)
        .join(Notice, Notice.id == NoticeDelivery.notice_id)
        .where(NoticeDelivery.id.in_(claimed))
        .order_by(NoticeDelivery.id)
        .execution_options(populate_existing=True)
    )
    return [
        Outgoing(
            delivery_id=d.id,
            attempt=d.attempts,
            notice_id=n.id,
            title=n.title,
            body=n.body,
            group_id=g.id,
            group_name=g.name,
            grid_id=d.grid_id,
            station_id=g.station_id,
            channel=d.channel,
            style=g.style,
            webhook_url=g.webhook_url,
            secret=g.secret,
            group_active=g.active,
        )
        for d, g, n in rows
    ]


def record_outcome(
    session: Session, item: Outgoing, *, error: str | None, now: datetime, final: bool = False
) -> str:
    """Record how the attempt went: ``sent`` (reach = the group's members now),
    ``retrying`` (pending again after the backoff), ``failed`` (no attempt left), or
    ``lost`` when the delivery is no longer this sender's."""
    values: dict[str, Any]
    if error is None:
        members = session.scalar(
            select(ResidentGroup.members).where(ResidentGroup.id == item.group_id)
        )
        values = {
            "status": DeliveryStatus.SENT,
            "reach": int(members or 0),
            "sent_at": now,
            "error": None,
            "next_attempt_at": None,
        }
        outcome = "sent"
    elif final or item.attempt >= MAX_ATTEMPTS:
        values = {"status": DeliveryStatus.FAILED, "error": error[:1000], "next_attempt_at": None}
        outcome = "failed"
    else:
        values = {
            "status": DeliveryStatus.PENDING,
            "error": error[:1000],
            "next_attempt_at": now + BACKOFF[item.attempt - 1],
        }
        outcome = "retrying"
    result = session.execute(
        update(NoticeDelivery)
        .where(
            NoticeDelivery.id == item.delivery_id,
            NoticeDelivery.status == DeliveryStatus.SENDING,
            NoticeDelivery.attempts == item.attempt,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return "lost"
    if outcome != "retrying":
        detail = {"status": outcome, "group_id": item.group_id, "attempts": item.attempt}
        if error is not None:
            detail["error"] = error[:300]
        audit.record(
            session,
            actor=system_principal(SENDER).actor,
            action=AuditAction.UPDATE,
            object_type="notice_delivery",
            object_id=item.delivery_id,
            detail=detail,
        )
        live.publish(
            session,
            kind="notice",
            station_id=item.station_id,
            payload={
                "action": outcome,
                "notice_id": item.notice_id,
                "delivery_id": item.delivery_id,
            },
        )
    return outcome


def _attempt(channel: Channel | None, item: Outgoing, now: datetime) -> str | None:
    """Send one delivery; the error message, or None when it went out."""
    if channel is None:
        return _("No channel is configured for {channel}.").format(channel=item.channel.value)
    try:
        channel.send(item, now=now)
    except DeliveryError as exc:
        return exc.message
    except Exception as exc:  # a fault in one channel must not stop the round
        log.exception("notice delivery %s failed unexpectedly", item.delivery_id)
        # Only the kind of fault: its text may hold the webhook address and its token.
        return _("Sending failed unexpectedly ({error}).").format(error=type(exc).__name__)
    return None


def send_pending(
    session_factory: sessionmaker[Session],
    settings: Settings,
    now: datetime | None = None,
    *,
    channels: dict[ChannelKind, Channel] | None = None,
    limit: int = BATCH,
) -> SendSummary:
    """One round of the sender (see the module's docstring). ``now`` fixes the clock
    (tests); by default each step reads the time when it happens."""

    def clock() -> datetime:
        return now if now is not None else utcnow()

    chosen = channels if channels is not None else channels_for(settings)
    summary = SendSummary()
    with unit_of_work(session_factory) as session:
        summary.released = release_stuck(session, clock())
        items = claim_due(session, clock(), limit=limit)
    summary.claimed = len(items)
    for item in items:
        if item.group_active:
            error, final = _attempt(chosen.get(item.channel), item, clock()), False
        else:  # nothing to retry for a group that was switched off
            error, final = _("The group was deactivated before the notice was sent."), True
        with unit_of_work(session_factory) as session:
            outcome = record_outcome(session, item, error=error, now=clock(), final=final)
        setattr(summary, outcome, getattr(summary, outcome) + 1)
    return summary
