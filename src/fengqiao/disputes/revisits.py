"""After mediation: revisits scheduled by risk level (follow-ups that become tasks on
their day), what a revisit found (a flare re-opens the dispute), and later incidents at
the same place or between the same parties."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from fengqiao.auth import Principal
from fengqiao.clock import at_local, local_day
from fengqiao.db import insert_ignoring, lock_for_update, utcnow
from fengqiao.disputes.models import Dispute, DisputeIncident, DisputeParty, DisputeStatus
from fengqiao.disputes.service import event, for_change
from fengqiao.errors import Conflict, InvalidInput
from fengqiao.geo.location import distance_m
from fengqiao.i18n import _
from fengqiao.incidents.models import Incident
from fengqiao.tasks.follow_ups import schedule_follow_up, task_today
from fengqiao.tasks.models import FollowUp, FollowUpStatus, Task, TaskKind

NEAR_METRES = 50.0
RELOOK_IDS = 200
LINK_WINDOW_DAYS = 730


def label(dispute: Dispute) -> str:
    return f"{dispute.number} {dispute.title}"[:400]


def schedule(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    days_by_level: dict[str, list[int]],
    *,
    start: datetime | None = None,
) -> list[FollowUp]:
    """Revisits for the dispute's risk level, counted from ``start`` (the resolution)."""
    if dispute.grid_id is None:
        return []
    base, today = local_day(start or utcnow()), local_day(utcnow())
    dues = sorted(
        {base + timedelta(days=d) for d in days_by_level.get(dispute.risk_level.value, [])}
    )
    # A settlement recorded late: the revisits already past become one visit today.
    if any(due < today for due in dues):
        dues = sorted({today, *(due for due in dues if due >= today)})
    made = []
    for due_on in dues:
        days = (due_on - base).days
        made.append(
            schedule_follow_up(
                session,
                principal,
                kind=TaskKind.DISPUTE_FOLLOW_UP,
                grid_id=dispute.grid_id,
                due_on=due_on,
                target_type="dispute",
                target_id=dispute.id,
                target_label=label(dispute),
                lon=dispute.lon,
                lat=dispute.lat,
                note=_(
                    "Revisit {days} days after the dispute was settled: are the terms kept?"
                ).format(days=days),
                dispute_id=dispute.id,
            )
        )
    if made:
        event(
            session,
            principal.actor,
            dispute,
            "revisits",
            person_id=principal.person_id,
            due=[f.due_on.isoformat() for f in made],
        )
    return made


def cancel_pending(session: Session, dispute: Dispute) -> int:
    """Pending revisits of a dispute (it was re-opened): they no longer apply."""
    rows = list(
        session.scalars(
            select(FollowUp).where(
                FollowUp.dispute_id == dispute.id, FollowUp.status == FollowUpStatus.PENDING
            )
        )
    )
    for row in rows:
        row.status = FollowUpStatus.CANCELLED
    return len(rows)


def follow_ups_of(session: Session, dispute_id: int) -> list[FollowUp]:
    return list(
        session.scalars(
            select(FollowUp)
            .where(FollowUp.dispute_id == dispute_id)
            .order_by(FollowUp.due_on, FollowUp.id)
        )
    )


def tasks_of(session: Session, follow_up_ids: list[int]) -> dict[int, Task]:
    """The latest task made from each follow-up."""
    if not follow_up_ids:
        return {}
    out: dict[int, Task] = {}
    for task in session.scalars(
        select(Task).where(Task.follow_up_id.in_(follow_up_ids)).order_by(Task.id)
    ):
        if task.follow_up_id is not None:
            out[task.follow_up_id] = task
    return out


def visit_now(session: Session, principal: Principal, dispute_id: int, follow_up_id: int) -> Task:
    """Make today's task for a pending revisit of this dispute."""
    dispute = for_change(session, principal, dispute_id)
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.dispute_id != dispute.id:
        raise InvalidInput(
            _("Follow-up {id} is not a revisit of this dispute.").format(id=follow_up_id)
        )
    was_pending = follow_up.status is FollowUpStatus.PENDING
    task = task_today(session, principal, follow_up)
    if not was_pending:  # asked again: the task made the first time, nothing new
        return task
    event(
        session,
        principal.actor,
        dispute,
        "revisit_today",
        person_id=principal.person_id,
        task=task.id,
        due_on=follow_up.due_on.isoformat(),
    )
    return task


def visited(session: Session, principal: Principal, follow_up: FollowUp, task: Task) -> bool:
    """A revisit was done (its task completed): put it on the dispute's timeline; a
    flare re-opens a settled dispute (returns True then)."""
    dispute = session.get(Dispute, follow_up.dispute_id) if follow_up.dispute_id else None
    if dispute is None:
        return False
    lock_for_update(session, dispute)
    situation = str((task.result or {}).get("situation", "")) or None
    event(
        session,
        principal.actor,
        dispute,
        "revisited",
        person_id=principal.person_id,
        task=task.id,
        situation=situation,
        note=str((task.result or {}).get("note", "")) or None,
    )
    if situation == "flared" and dispute.status in (
        DisputeStatus.RESOLVED,
        DisputeStatus.UNRESOLVED,
    ):
        from fengqiao.disputes.mediation import reopen_dispute

        # Kept in Chinese, the language of the records, whoever's screen it came from.
        reopen_dispute(session, principal, dispute, reason=f"回访发现矛盾反复（任务 {task.id}）")
        return True
    return False


def plain_phone(column: Any) -> ColumnElement[str]:
    """A phone column without the dashes and spaces a call-taker may have typed (party
    phones are stored normalised)."""
    return func.replace(func.replace(column, "-", ""), " ", "")


def _plain(phone: str) -> str:
    return phone.replace("-", "").replace(" ", "")


def find_links(session: Session, dispute: Dispute, *, actor: Principal | None = None) -> int:
    """Record incidents received after the dispute at its place (the same address text,
    or within 50 m) or from a party's phone. Returns how many links are new."""
    phones = [
        p
        for p in session.scalars(
            select(DisputeParty.phone).where(
                DisputeParty.dispute_id == dispute.id, DisputeParty.phone.is_not(None)
            )
        )
        if p
    ]
    conditions: list[ColumnElement[bool]] = []
    if phones:
        conditions.append(plain_phone(Incident.reporter_phone).in_(phones))
    if dispute.place:
        conditions.append(Incident.address == dispute.place)
    if dispute.lon is not None and dispute.lat is not None:
        dlat = NEAR_METRES / 111_000.0
        dlon = dlat / max(0.1, math.cos(math.radians(dispute.lat)))
        conditions.append(
            Incident.lon.between(dispute.lon - dlon, dispute.lon + dlon)
            & Incident.lat.between(dispute.lat - dlat, dispute.lat + dlat)
        )
    if not conditions:
        return 0
    # From the day found (calls before the conversion count too), in the dispute's station.
    start = at_local(dispute.found_on, 0) if dispute.found_on else dispute.created_at
    newest = session.scalar(select(func.max(Incident.id))) or 0
    seen, dispute.links_checked_id = dispute.links_checked_id or 0, newest
    rows = session.scalars(
        select(Incident).where(
            or_(*conditions),
            # Only incidents entered since the last look (by primary key), less a margin
            # for transactions that took their id earlier but committed later.
            Incident.id > seen - RELOOK_IDS,
            Incident.id <= newest,
            # The dispute's station, or calls no grid took (an address-only call).
            or_(Incident.station_id == dispute.station_id, Incident.station_id.is_(None)),
            Incident.received_at > start,
            Incident.received_at <= start + timedelta(days=LINK_WINDOW_DAYS),
            Incident.id != (dispute.incident_id or 0),
        )
    ).all()
    known = set(
        session.scalars(
            select(DisputeIncident.incident_id).where(DisputeIncident.dispute_id == dispute.id)
        )
    )
    added = 0
    for incident in rows:
        reasons = []
        if incident.reporter_phone and _plain(incident.reporter_phone) in phones:
            reasons.append("same_party")
        near = (
            dispute.lon is not None
            and dispute.lat is not None
            and incident.lon is not None
            and incident.lat is not None
            and distance_m(dispute.lon, dispute.lat, incident.lon, incident.lat) <= NEAR_METRES
        )
        if near or (dispute.place and incident.address == dispute.place):
            reasons.append("same_place")
        if not reasons or incident.id in known:
            continue
        inserted = session.execute(
            insert_ignoring(session, DisputeIncident, conflict=["dispute_id", "incident_id"])
            .values(
                dispute_id=dispute.id, incident_id=incident.id, reasons=reasons, found_at=utcnow()
            )
            .returning(DisputeIncident.id)
        ).scalar_one_or_none()
        if inserted is None:
            continue
        added += 1
        if actor is not None:
            event(
                session,
                actor.actor,
                dispute,
                "incident_linked",
                incident=incident.id,
                reasons=reasons,
            )
    return added


def linked_incidents(session: Session, dispute_id: int) -> list[tuple[DisputeIncident, Incident]]:
    return [
        (link, incident)
        for link, incident in session.execute(
            select(DisputeIncident, Incident)
            .join(Incident, Incident.id == DisputeIncident.incident_id)
            .where(DisputeIncident.dispute_id == dispute_id)
            .order_by(Incident.received_at.desc())
        ).all()
    ]


def link_recent(session: Session, principal: Principal, *, days: int = 365) -> int:
    """Look for later incidents of every dispute found in the last ``days`` (the CLI and
    a nightly run)."""
    if days < 1:
        raise Conflict(_("Give a number of days of at least 1."))
    since = local_day(utcnow()) - timedelta(days=days)
    total = 0
    for dispute in session.scalars(select(Dispute).where(Dispute.found_on >= since)):
        total += find_links(session, dispute, actor=principal)
    return total
