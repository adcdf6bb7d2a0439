"""A call becomes a dispute (警情转纠纷): from the incident's disposition, or converted
later from the incident page. Once per incident, also when two people convert at once."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fengqiao.audit.models import AuditAction
from fengqiao.audit.service import Actor
from fengqiao.auth import Permission, Principal, require
from fengqiao.clock import local_day
from fengqiao.db import utcnow
from fengqiao.disputes import risk as risks
from fengqiao.disputes import types as kinds
from fengqiao.disputes.models import (
    Dispute,
    DisputeParty,
    DisputeSource,
    DisputeStatus,
    MediationLevel,
    PartySide,
)
from fengqiao.disputes.service import alert_if_red, event, grid_officer, number_for
from fengqiao.errors import Forbidden, InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.incidents.models import Incident
from fengqiao.registry.identity import normalise_phone


def _phone_or_none(value: str | None) -> str | None:
    """A caller's number as parties keep it (normalised), or None if it is no phone."""
    if not value:
        return None
    try:
        return normalise_phone(value)
    except ValueError:
        return None


def from_incident(session: Session, actor: Actor, incident: Incident) -> Dispute:
    """The dispute a call becomes (警情转纠纷): its kind from the incident category, the
    caller as applicant, the place and grid of the call, and the repeated calls from the
    same number in the last 30 days in the risk checklist. Once per incident."""
    existing = session.scalar(select(Dispute).where(Dispute.incident_id == incident.id))
    if existing is not None:
        return existing
    calls = 0
    phone = _phone_or_none(incident.reporter_phone)
    if phone:
        from fengqiao.disputes.revisits import plain_phone

        calls = (
            session.scalar(
                select(func.count(Incident.id)).where(
                    plain_phone(Incident.reporter_phone) == phone,
                    Incident.received_at >= incident.received_at - timedelta(days=30),
                    Incident.received_at <= incident.received_at,
                )
            )
            or 0
        )
    assessment = risks.assess({"repeated_calls": calls})
    code = incident.category.code
    type_code = kinds.type_for_category(session, code)
    dispute = Dispute(
        number=f"tmp-{uuid.uuid4().hex[:24]}",
        incident_id=incident.id,
        category_code=code,
        source=DisputeSource.INCIDENT,
        type_code=type_code,
        # The kind and the place: a call's description may name the parties.
        title=f"{kinds.type_names(session).get(type_code, (type_code, ''))[0]} · "
        f"{incident.address or ''}".rstrip(" ·")[:200],
        summary=incident.description or "",
        place=(incident.address or "")[:200],
        lon=incident.lon,
        lat=incident.lat,
        grid_id=incident.grid_id,
        station_id=incident.station_id,
        found_on=local_day(incident.received_at),
        risk_answers=assessment.answers,
        risk_level=assessment.level,
        level=MediationLevel.GRID,
        status=DisputeStatus.REGISTERED,
        responsible_person_id=incident.responsible_person_id
        or grid_officer(session, incident.grid_id),
        registered_by=actor.user_id,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    try:
        with session.begin_nested():  # converted twice at once (two clicks, or handle)
            session.add(dispute)
            session.flush()
    except IntegrityError:
        twin = session.scalar(select(Dispute).where(Dispute.incident_id == incident.id))
        if twin is None:
            raise
        return twin
    dispute.number = number_for(dispute)
    if incident.reporter_name:
        session.add(
            DisputeParty(
                dispute_id=dispute.id,
                side=PartySide.APPLICANT,
                name=incident.reporter_name[:100],
                phone=phone,
                address=(incident.address or "")[:200],
                position=0,
            )
        )
    session.flush()
    event(
        session,
        actor,
        dispute,
        "registered",
        action=AuditAction.CREATE,
        source="incident",
        incident=incident.id,
        risk=dispute.risk_level.value,
    )
    alert_if_red(session, dispute)
    return dispute


def convert_incident(
    session: Session, principal: Principal, incident_id: int
) -> tuple[Dispute, bool]:
    """Make a dispute of an incident in reach; converting again answers the same one."""
    require(principal, Permission.MEDIATE_DISPUTES)
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(_("Incident {id} was not found.").format(id=incident_id))
    if incident.station_id is None:
        raise InvalidInput(
            _("Place the incident in a grid (on the map) before converting it to a dispute.")
        )
    if not principal.sees_station(incident.station_id):
        raise Forbidden(_("This incident belongs to another station."))
    if incident.grid_id is not None and not principal.sees_grid(
        incident.grid_id, incident.station_id
    ):
        raise Forbidden(_("This incident belongs to another grid."))
    existing = session.scalar(select(Dispute).where(Dispute.incident_id == incident.id))
    if existing is not None:
        return existing, False
    return from_incident(session, principal.actor, incident), True
