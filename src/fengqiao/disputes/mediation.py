"""Mediating a dispute: mediators at the current level, sessions with notes, escalation
to a higher level with its reason, the outcome, and re-opening.

States: registered → mediating (a mediator or a session) → resolved (an agreement, an
oral agreement, reconciled) or unresolved (failed: guided to a court or arbitration;
withdrawn); resolved or unresolved → mediating again when re-opened. Levels only go up:
grid → station → judicial.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.auth import Principal
from fengqiao.clock import local_day
from fengqiao.db import lock_for_update, utcnow
from fengqiao.disputes import mediators as roster
from fengqiao.disputes import revisits
from fengqiao.disputes.models import (
    LEVEL_ORDER,
    RESOLVED_OUTCOMES,
    Dispute,
    DisputeMediator,
    DisputeStatus,
    MediationAgreement,
    MediationLevel,
    MediationSession,
    Mediator,
    Outcome,
)
from fengqiao.disputes.schemas import EscalateIn, OutcomeIn, SessionIn
from fengqiao.disputes.service import event, for_change, label_of, require_open
from fengqiao.errors import Conflict, InvalidInput
from fengqiao.i18n import _


def _start(dispute: Dispute) -> None:
    if dispute.status is DisputeStatus.REGISTERED:
        dispute.status = DisputeStatus.MEDIATING


def mediators_of(session: Session, dispute_id: int) -> list[tuple[DisputeMediator, Mediator]]:
    return [
        (link, mediator)
        for link, mediator in session.execute(
            select(DisputeMediator, Mediator)
            .join(Mediator, Mediator.id == DisputeMediator.mediator_id)
            .where(DisputeMediator.dispute_id == dispute_id)
            .order_by(DisputeMediator.added_at, DisputeMediator.id)
        ).all()
    ]


def assign(
    session: Session, principal: Principal, dispute_id: int, mediator_id: int, *, lead: bool
) -> Dispute:
    """Add a mediator of the station's roster at the dispute's current level; the same
    mediator twice at one level changes nothing (a lead flag is updated)."""
    dispute = for_change(session, principal, dispute_id)
    lock_for_update(session, dispute)  # before the checks: they read the locked row
    require_open(dispute)
    mediator = session.get(Mediator, mediator_id)
    if mediator is None or mediator.station_id != dispute.station_id:
        raise InvalidInput(
            _("Mediator {id} is not on this station's roster.").format(id=mediator_id)
        )
    if not mediator.active:
        raise InvalidInput(
            _("{name} is no longer active on the roster.").format(name=mediator.name)
        )
    if not roster.serves_at(mediator, dispute.level):
        raise InvalidInput(
            _("{name} does not mediate at the {level} level.").format(
                name=mediator.name, level=label_of("level", dispute.level)
            )
        )
    link = session.scalar(
        select(DisputeMediator).where(
            DisputeMediator.dispute_id == dispute.id,
            DisputeMediator.mediator_id == mediator.id,
            DisputeMediator.level == dispute.level,
        )
    )
    if link is not None and link.lead == lead:
        return dispute
    if lead:
        for other, _m in mediators_of(session, dispute.id):
            if other.level is dispute.level:
                other.lead = False
    if link is None:
        link = DisputeMediator(
            dispute_id=dispute.id, mediator_id=mediator.id, level=dispute.level, added_at=utcnow()
        )
        session.add(link)
    link.lead = lead
    _start(dispute)
    session.flush()
    event(
        session,
        principal.actor,
        dispute,
        "mediator",
        person_id=principal.person_id,
        mediator=mediator.id,
        name=mediator.name,
        lead=lead,
    )
    return dispute


def record_session(
    session: Session, principal: Principal, dispute_id: int, data: SessionIn
) -> MediationSession:
    """One mediation sitting at the current level (a retried form with the same client
    key is stored once)."""
    dispute = for_change(session, principal, dispute_id)
    lock_for_update(session, dispute)  # before the checks: a double submit waits here
    if data.client_key:
        twin = session.scalar(
            select(MediationSession).where(MediationSession.client_key == data.client_key)
        )
        if twin is not None:
            if twin.dispute_id != dispute.id:
                raise Conflict(_("This form was already used for another dispute."))
            return twin
    require_open(dispute)
    if not data.notes.strip():
        raise InvalidInput(_("Write what was said and agreed in the session (the notes)."))
    held_at = data.held_at or utcnow()
    if held_at.tzinfo is None:
        raise InvalidInput(_("Give the time of the session with its time zone."))
    if held_at > utcnow() + timedelta(minutes=5):
        raise InvalidInput(_("A session cannot be recorded before it is held."))
    found = dispute.found_on or local_day(dispute.created_at)
    if local_day(max(held_at, utcnow() - timedelta(days=3650))) < found:
        raise InvalidInput(
            _("The session cannot be held before the dispute was found ({day}).").format(
                day=found.isoformat()
            )
        )
    known = {m.id for _l, m in mediators_of(session, dispute.id)}
    unknown = sorted(set(data.mediator_ids) - known)
    if unknown:
        raise InvalidInput(
            _("Add mediators {ids} to the dispute before naming them in a session.").format(
                ids=", ".join(map(str, unknown))
            )
        )
    row = MediationSession(
        dispute_id=dispute.id,
        level=dispute.level,
        held_at=held_at,
        place=data.place.strip(),
        mediator_ids=sorted(set(data.mediator_ids)),
        attendees=data.attendees.strip(),
        notes=data.notes.strip(),
        client_key=data.client_key or None,
        user_id=principal.actor.user_id,
        created_at=utcnow(),
    )
    session.add(row)
    _start(dispute)
    session.flush()
    event(
        session,
        principal.actor,
        dispute,
        "session",
        person_id=principal.person_id,
        sitting=row.id,
        held_at=held_at.isoformat(timespec="minutes"),
    )
    return row


def sessions_of(session: Session, dispute_id: int) -> list[MediationSession]:
    return list(
        session.scalars(
            select(MediationSession)
            .where(MediationSession.dispute_id == dispute_id)
            .order_by(MediationSession.held_at, MediationSession.id)
        )
    )


def escalate(session: Session, principal: Principal, dispute_id: int, data: EscalateIn) -> Dispute:
    """Take the dispute to a higher level, saying why (the lower level could not settle
    it, the sums are large, a lawyer is needed …). Asking again for the same level
    changes nothing."""
    dispute = for_change(session, principal, dispute_id)
    lock_for_update(session, dispute)
    if dispute.level is data.to:
        return dispute
    require_open(dispute)
    if LEVEL_ORDER.index(data.to) < LEVEL_ORDER.index(dispute.level):
        raise InvalidInput(
            _("A dispute goes up the levels, not down: it is at the {level} level.").format(
                level=label_of("level", dispute.level)
            )
        )
    reason = data.reason.strip()
    if not reason:
        raise InvalidInput(_("Say why the dispute goes to a higher level."))
    before = dispute.level
    dispute.level = data.to
    _start(dispute)
    event(
        session,
        principal.actor,
        dispute,
        "escalated",
        person_id=principal.person_id,
        level=data.to,
        before=before.value,
        after=data.to.value,
        reason=reason,
    )
    return dispute


def current_agreement(session: Session, dispute_id: int) -> MediationAgreement | None:
    return session.scalar(
        select(MediationAgreement)
        .where(
            MediationAgreement.dispute_id == dispute_id,
            MediationAgreement.superseded.is_(False),
        )
        .order_by(MediationAgreement.id.desc())
        .limit(1)
    )


def conclude(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    outcome: Outcome,
    *,
    note: str,
    revisit_days: dict[str, list[int]],
    at: datetime | None = None,
) -> Dispute:
    """Close the mediation with ``outcome``; a settled dispute (and a failed red or
    orange one) gets its revisits."""
    at = at or utcnow()
    dispute.outcome = outcome
    dispute.outcome_note = note.strip()
    if outcome in RESOLVED_OUTCOMES:
        dispute.status = DisputeStatus.RESOLVED
        dispute.resolved_at = at
        dispute.resolved_level = dispute.level
    else:
        dispute.status = DisputeStatus.UNRESOLVED
        dispute.resolved_at = None
        dispute.resolved_level = None
    event(
        session,
        principal.actor,
        dispute,
        "outcome",
        person_id=principal.person_id,
        outcome=outcome.value,
        note=dispute.outcome_note or None,
    )
    if dispute.status is DisputeStatus.RESOLVED or dispute.risk_level.value in ("red", "orange"):
        revisits.schedule(session, principal, dispute, revisit_days, start=at)
    return dispute


def record_outcome(
    session: Session,
    principal: Principal,
    dispute_id: int,
    data: OutcomeIn,
    *,
    revisit_days: dict[str, list[int]],
) -> Dispute:
    """The end of mediation without a written agreement (that one is recorded by drawing
    up the agreement). Recording the same outcome again changes nothing."""
    dispute = for_change(session, principal, dispute_id)
    lock_for_update(session, dispute)  # a double click waits here and then sees the outcome
    if dispute.outcome is data.outcome and dispute.status not in (
        DisputeStatus.REGISTERED,
        DisputeStatus.MEDIATING,
    ):
        return dispute
    require_open(dispute)
    if data.outcome is Outcome.AGREEMENT:
        raise InvalidInput(_("Draw up the mediation agreement to record a written agreement."))
    if data.outcome is Outcome.FAILED and not data.note.strip():
        raise InvalidInput(
            _("Say why mediation failed and where the parties were guided (court, arbitration).")
        )
    return conclude(
        session, principal, dispute, data.outcome, note=data.note, revisit_days=revisit_days
    )


def reopen_dispute(
    session: Session, principal: Principal, dispute: Dispute, *, reason: str
) -> Dispute:
    """The dispute flared up again: mediation resumes at the level it ended at; the
    pending revisits are cancelled (new ones follow the next resolution)."""
    if dispute.status in (DisputeStatus.REGISTERED, DisputeStatus.MEDIATING):
        raise Conflict(_("Dispute {number} is still open.").format(number=dispute.number))
    if not reason.strip():
        raise InvalidInput(_("Say why the dispute is re-opened."))
    before = dispute.outcome
    dispute.status = DisputeStatus.MEDIATING
    dispute.outcome = None
    dispute.outcome_note = ""
    dispute.resolved_at = None
    dispute.resolved_level = None
    dispute.reopen_count += 1
    dispute.reopened_at = utcnow()
    cancelled = revisits.cancel_pending(session, dispute)
    agreement = current_agreement(session, dispute.id)
    if agreement is not None:  # it did not hold: a new one will be needed
        agreement.superseded = True
    event(
        session,
        principal.actor,
        dispute,
        "reopened",
        person_id=principal.person_id,
        reason=reason.strip(),
        before=before.value if before else None,
        revisits_cancelled=cancelled,
    )
    return dispute


def reopen(session: Session, principal: Principal, dispute_id: int, *, reason: str) -> Dispute:
    dispute = for_change(session, principal, dispute_id)
    lock_for_update(session, dispute)
    return reopen_dispute(session, principal, dispute, reason=reason)


LEVELS = tuple(MediationLevel)
