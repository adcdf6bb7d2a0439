"""Registering disputes and reading them: who may see which, the parties (masked on
screen), the risk checklist, conversion from an incident, lists and the timeline.

Every change writes a dispute event and an audit row in the caller's transaction; a
retried registration (same client key, or the same incident) adds nothing.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.audit.service import Actor
from fengqiao.auth import Permission, Principal, require
from fengqiao.clock import local_day
from fengqiao.db import utcnow
from fengqiao.disputes import risk as risks
from fengqiao.disputes import types as kinds
from fengqiao.disputes.labels import LABELS
from fengqiao.disputes.models import (
    RISK_RANK,
    Dispute,
    DisputeEvent,
    DisputeMediator,
    DisputeParty,
    DisputeStatus,
    MediationLevel,
    Mediator,
    RiskLevel,
)
from fengqiao.disputes.schemas import DisputeIn, PartyIn, RiskIn
from fengqiao.errors import Conflict, Forbidden, InvalidInput, NotFound
from fengqiao.i18n import _, gettext
from fengqiao.live import service as live
from fengqiao.org import placement
from fengqiao.org.models import PoliceGrid
from fengqiao.org.service import grid_responsible
from fengqiao.registry.identity import normalise_id_number, normalise_phone
from fengqiao.registry.models import Address, Resident


def scope(principal: Principal) -> ColumnElement[bool]:
    """Disputes ``principal`` may see: the station's for station staff, the own grids'
    for auxiliaries and grid workers, and any dispute they mediate or answer for."""
    if principal.station_ids is None and principal.grid_ids is None:
        return Dispute.id.is_not(None)
    conditions: list[ColumnElement[bool]] = []
    if principal.grid_ids is not None:
        conditions.append(Dispute.grid_id.in_(sorted(principal.grid_ids)))
    elif principal.station_ids is not None:
        conditions.append(Dispute.station_id.in_(sorted(principal.station_ids)))
    if principal.person_id is not None:
        conditions.append(Dispute.responsible_person_id == principal.person_id)
        conditions.append(
            Dispute.id.in_(
                select(DisputeMediator.dispute_id)
                .join(Mediator, Mediator.id == DisputeMediator.mediator_id)
                .where(Mediator.person_id == principal.person_id)
            )
        )
    return or_(*conditions) if conditions else Dispute.id.is_(None)


def get_dispute(
    session: Session, principal: Principal, dispute_id: int, *, audited: bool = True
) -> Dispute:
    require(principal, Permission.VIEW_DISPUTES)
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound(_("Dispute {id} was not found.").format(id=dispute_id))
    if session.scalar(select(Dispute.id).where(Dispute.id == dispute_id, scope(principal))) is None:
        raise Forbidden(_("This dispute belongs to another grid or station."))
    if audited:
        audit.record(
            session,
            actor=principal.actor,
            action=AuditAction.READ,
            object_type="dispute",
            object_id=dispute.id,
        )
    return dispute


def for_change(session: Session, principal: Principal, dispute_id: int) -> Dispute:
    """A dispute the principal may work on (mediators, sessions, outcome …)."""
    require(principal, Permission.MEDIATE_DISPUTES)
    return get_dispute(session, principal, dispute_id, audited=False)


def event(
    session: Session,
    actor: Actor,
    dispute: Dispute,
    kind: str,
    *,
    person_id: int | None = None,
    level: MediationLevel | None = None,
    action: AuditAction = AuditAction.UPDATE,
    **detail: Any,
) -> None:
    """One line of the dispute's timeline, and its audit row."""
    clean = {k: v for k, v in detail.items() if v is not None}
    session.add(
        DisputeEvent(
            dispute_id=dispute.id,
            kind=kind,
            level=level or dispute.level,
            user_id=actor.user_id,
            person_id=person_id,
            detail=clean,
            at=utcnow(),
        )
    )
    dispute.updated_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type="dispute",
        object_id=dispute.id,
        detail={"change": kind, **clean},
    )


def label_of(table: str, value: object) -> str:
    """A state, level or risk as the reader's language says it."""
    return gettext(LABELS[table][value])


def alert_if_red(session: Session, dispute: Dispute, before: RiskLevel | None = None) -> None:
    """A dispute that turns red is reported at once: a live alert to the station's
    command room and chief, and to the officer who answers for it. The alert names the
    kind and place, never a party."""
    if dispute.risk_level is not RiskLevel.RED or before is RiskLevel.RED:
        return
    live.publish(
        session,
        kind="dispute_alert",
        station_id=dispute.station_id,
        person_id=dispute.responsible_person_id,
        payload={
            "dispute": dispute.id,
            "number": dispute.number,
            "title": dispute.title,
            "risk": dispute.risk_level.value,
            "url": f"/disputes/{dispute.id}",
        },
    )


def require_open(dispute: Dispute) -> None:
    if dispute.status not in (DisputeStatus.REGISTERED, DisputeStatus.MEDIATING):
        raise Conflict(
            _("Dispute {number} is closed ({status}); reopen it to change it.").format(
                number=dispute.number, status=label_of("status", dispute.status)
            )
        )


def grid_officer(session: Session, grid_id: int | None) -> int | None:
    """The person who answers for a grid's disputes: its officer, else its auxiliary."""
    return None if grid_id is None else grid_responsible(session, {grid_id}).get(grid_id)


@dataclass
class Place:
    grid_id: int
    station_id: int
    address_id: int | None
    lon: float | None
    lat: float | None
    text: str


def _in_reach(principal: Principal, address: Address) -> bool:
    if address.grid_id is not None:
        return principal.sees_grid(address.grid_id, address.station_id)
    return principal.grid_ids is None and principal.sees_station(address.station_id)


def _place(session: Session, principal: Principal, data: DisputeIn) -> Place:
    """Where the dispute is: a registry address, a point on the map, or a chosen grid."""
    lon, lat, text = data.lon, data.lat, data.place.strip()
    address_id, grid_id = data.address_id, data.grid_id
    if (lon is None) != (lat is None):
        raise InvalidInput(_("Give both longitude and latitude, or neither."))
    if (
        lon is not None
        and lat is not None
        and not (
            math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
        )
    ):
        raise InvalidInput(_("Longitude is −180 to 180 and latitude −90 to 90 (degrees)."))
    if address_id is not None:
        address = session.get(Address, address_id)
        if address is None or not _in_reach(principal, address):
            raise InvalidInput(
                _("Address {id} is not in the registry of your grids.").format(id=address_id)
            )
        if grid_id is not None and address.grid_id is not None and address.grid_id != grid_id:
            raise InvalidInput(_("The address lies in another grid than the one chosen."))
        grid_id = grid_id or address.grid_id
        lon, lat = (lon, lat) if lon is not None else (address.lon, address.lat)
        text = text or address.full_name
    if grid_id is None and lon is not None and lat is not None:
        found = placement.place_point(session, lon, lat)
        if found is None:
            raise InvalidInput(
                _("The point ({lon:.5f}, {lat:.5f}) lies in no grid: choose the grid.").format(
                    lon=lon, lat=lat
                )
            )
        grid_id = found.grid_id
    if grid_id is None and principal.grid_ids is not None and len(principal.grid_ids) == 1:
        grid_id = next(iter(principal.grid_ids))
    if grid_id is None:
        raise InvalidInput(
            _("Say where the dispute is: an address of the registry, a point, or the grid.")
        )
    grid = session.get(PoliceGrid, grid_id)
    if grid is None:
        raise InvalidInput(_("Grid {id} was not found.").format(id=grid_id))
    station_id = grid.district.station_id
    if not principal.sees_grid(grid.id, station_id):
        raise Forbidden(_("This grid belongs to another station or team."))
    if not text:
        raise InvalidInput(_("Describe the place of the dispute (address or landmark)."))
    return Place(grid.id, station_id, address_id, lon, lat, text[:200])


def clean_party(position: int, party: PartyIn) -> dict[str, Any]:
    """One party's fields, checked; errors name the party by its place in the list."""
    who = _("Party {n}").format(n=position + 1)
    name = party.name.strip()
    if not name:
        raise InvalidInput(_("{who}: give the name.").format(who=who))
    id_number = phone = None
    if party.id_number and party.id_number.strip():
        try:
            id_number = normalise_id_number(party.id_number)
        except ValueError as err:
            raise InvalidInput(f"{who}: {err}") from None
    if party.phone and party.phone.strip():
        try:
            phone = normalise_phone(party.phone)
        except ValueError as err:
            raise InvalidInput(f"{who}: {err}") from None
    gender = (party.gender or "").strip().lower() or None
    if gender not in (None, "male", "female"):
        raise InvalidInput(_("{who}: gender is male or female.").format(who=who))
    return {
        "side": party.side,
        "name": name,
        "is_organisation": party.is_organisation,
        "gender": None if party.is_organisation else gender,
        "id_number": None if party.is_organisation else id_number,
        "phone": phone,
        "address": party.address.strip(),
        "vulnerable": party.vulnerable,
        "position": position,
    }


def _check_type(session: Session, code: str) -> str:
    names = kinds.type_names(session)
    if code not in names:
        raise InvalidInput(
            _("Unknown kind of dispute “{code}”. Use one of: {known}.").format(
                code=code, known=", ".join(sorted(names))
            )
        )
    return code


def number_for(dispute: Dispute) -> str:
    return f"JF{local_day(dispute.created_at):%Y%m%d}{dispute.id:06d}"


def register(session: Session, principal: Principal, data: DisputeIn) -> tuple[Dispute, bool]:
    """A new dispute with its parties and risk. Returns ``(dispute, created)``."""
    require(principal, Permission.MEDIATE_DISPUTES)
    if data.client_key:
        twin = session.scalar(select(Dispute).where(Dispute.client_key == data.client_key))
        if twin is not None:
            get_dispute(session, principal, twin.id, audited=False)
            return twin, False
    type_code = _check_type(session, data.type_code)
    place = _place(session, principal, data)
    parties = [clean_party(i, p) for i, p in enumerate(data.parties)]
    if not parties:
        raise InvalidInput(_("Name at least one party of the dispute."))
    assessment = risks.assess(data.risk)
    # A default title names the kind and the place, never a party (lists are not masked).
    title = data.title.strip() or f"{kinds.type_names(session)[type_code][0]} · {place.text}"
    today = local_day(utcnow())
    found_on = data.found_on or today
    if found_on > today:
        raise InvalidInput(_("The day found cannot be in the future."))
    if found_on < today - timedelta(days=3650):
        raise InvalidInput(_("The day found is more than ten years ago."))
    dispute = Dispute(
        number=f"tmp-{uuid.uuid4().hex[:24]}",
        client_key=data.client_key or None,
        source=data.source,
        type_code=type_code,
        title=title[:200],
        summary=data.summary.strip(),
        place=place.text,
        address_id=place.address_id,
        lon=place.lon,
        lat=place.lat,
        grid_id=place.grid_id,
        station_id=place.station_id,
        found_on=found_on,
        risk_answers=assessment.answers,
        risk_level=assessment.level,
        level=MediationLevel.GRID,
        status=DisputeStatus.REGISTERED,
        responsible_person_id=grid_officer(session, place.grid_id),
        registered_by=principal.actor.user_id,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    try:
        with session.begin_nested():  # the same form sent twice at once
            session.add(dispute)
            session.flush()
    except IntegrityError:
        twin = session.scalar(select(Dispute).where(Dispute.client_key == data.client_key))
        if twin is None or not data.client_key:
            raise
        return twin, False
    dispute.number = number_for(dispute)
    rows = [DisputeParty(dispute_id=dispute.id, **values) for values in parties]
    session.add_all(rows)
    link_residents(session, dispute, rows)
    session.flush()
    event(
        session,
        principal.actor,
        dispute,
        "registered",
        person_id=principal.person_id,
        action=AuditAction.CREATE,
        source=dispute.source.value,
        risk=dispute.risk_level.value,
        score=assessment.score,
    )
    alert_if_red(session, dispute)
    return dispute, True


def add_party(session: Session, principal: Principal, dispute_id: int, party: PartyIn) -> Dispute:
    dispute = for_change(session, principal, dispute_id)
    require_open(dispute)
    count = len(parties_of(session, dispute.id))
    if count >= 30:
        raise InvalidInput(_("A dispute holds at most 30 parties."))
    values = clean_party(count, party)
    row = DisputeParty(dispute_id=dispute.id, **values)
    session.add(row)
    link_residents(session, dispute, [row])
    if row.phone:  # earlier calls from this number are looked at again
        dispute.links_checked_id = 0
    session.flush()
    event(
        session,
        principal.actor,
        dispute,
        "party_added",
        person_id=principal.person_id,
        side=values["side"].value,
    )
    return dispute


def reveal_party(
    session: Session, principal: Principal, dispute_id: int, party_id: int, *, reason: str
) -> DisputeParty:
    """A party's full name and phone for the mediators (to call them), and the
    identity-card number for those who may see personal numbers (REVEAL_PERSONAL): with
    a reason, audited as an unmasked read naming what was shown."""
    dispute = for_change(session, principal, dispute_id)
    if len(reason.strip()) < 4:
        raise InvalidInput(
            _("Give the reason for showing the full numbers (at least 4 characters).")
        )
    party = session.get(DisputeParty, party_id)
    if party is None or party.dispute_id != dispute.id:
        raise NotFound(_("Party {id} is not a party of this dispute.").format(id=party_id))
    shown = ["name", "phone"]
    if principal.can(Permission.REVEAL_PERSONAL):
        shown.append("id_number")
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.READ,
        object_type="dispute_party",
        object_id=party.id,
        detail={
            "dispute": dispute.id,
            "unmasked": shown,
            "reason": reason.strip()[:200],
        },
    )
    return party


def link_residents(session: Session, dispute: Dispute, parties: list[DisputeParty]) -> None:
    """Parties with an identity-card number known to the station's registry are linked to
    that resident (their later visits and incidents can then be found)."""
    numbers = {p.id_number for p in parties if p.id_number and p.resident_id is None}
    if not numbers or dispute.station_id is None:
        return
    found = dict(
        session.execute(
            select(Resident.id_number, Resident.id).where(
                Resident.id_number.in_(sorted(numbers)),
                Resident.station_id == dispute.station_id,
            )
        ).all()
    )
    for party in parties:
        if party.id_number in found:
            party.resident_id = found[party.id_number]


def parties_of(session: Session, dispute_id: int) -> list[DisputeParty]:
    return list(
        session.scalars(
            select(DisputeParty)
            .where(DisputeParty.dispute_id == dispute_id)
            .order_by(DisputeParty.position, DisputeParty.id)
        )
    )


def assess_risk(session: Session, principal: Principal, dispute_id: int, data: RiskIn) -> Dispute:
    """Answer the checklist again; a level may be raised above it (with a reason) but
    never set below what the answers give."""
    dispute = for_change(session, principal, dispute_id)
    assessment = risks.assess(data.risk)
    level = assessment.level
    if data.raise_to:
        try:
            wanted = RiskLevel(data.raise_to)
        except ValueError:
            raise InvalidInput(_("Risk level is red, orange or yellow.")) from None
        if risks.higher(wanted, level) is not wanted:
            raise InvalidInput(
                _("The answers make this dispute {level}; it cannot be set lower.").format(
                    level=_(level.value)
                )
            )
        if wanted is not level and not data.reason.strip():
            raise InvalidInput(_("Say why the risk is raised above the checklist."))
        level = wanted
    before = dispute.risk_level
    if RISK_RANK[level] < RISK_RANK[before] and not data.reason.strip():
        raise InvalidInput(
            _("The risk goes down from {before} to {after}: say why.").format(
                before=label_of("risk", before), after=label_of("risk", level)
            )
        )
    dispute.risk_answers, dispute.risk_level = assessment.answers, level
    event(
        session,
        principal.actor,
        dispute,
        "risk",
        person_id=principal.person_id,
        before=before.value,
        after=level.value,
        score=assessment.score,
        reason=data.reason.strip() or None,
    )
    alert_if_red(session, dispute, before)
    return dispute


def list_disputes(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    level: str | None = None,
    risk: str | None = None,
    type_code: str | None = None,
    grid_id: int | None = None,
    found_from: date | None = None,
    limit: int = 200,
) -> list[Dispute]:
    require(principal, Permission.VIEW_DISPUTES)
    query = select(Dispute).where(scope(principal))
    filters: list[tuple[str | None, Any, type[Any]]] = [
        (status, Dispute.status, DisputeStatus),
        (level, Dispute.level, MediationLevel),
        (risk, Dispute.risk_level, RiskLevel),
    ]
    for value, column, kind in filters:
        if value:
            try:
                query = query.where(column == kind(value))
            except ValueError:
                raise InvalidInput(
                    _("“{value}” is not one of: {known}.").format(
                        value=value, known=", ".join(m.value for m in kind)
                    )
                ) from None
    if type_code:
        query = query.where(Dispute.type_code == type_code)
    if grid_id is not None:
        query = query.where(Dispute.grid_id == grid_id)
    if found_from is not None:
        query = query.where(Dispute.found_on >= found_from)
    query = query.order_by(Dispute.updated_at.desc(), Dispute.id.desc()).limit(
        max(1, min(limit, 1000))
    )
    return list(session.scalars(query))


def timeline(session: Session, dispute_id: int) -> list[DisputeEvent]:
    return list(
        session.scalars(
            select(DisputeEvent)
            .where(DisputeEvent.dispute_id == dispute_id)
            .order_by(DisputeEvent.at, DisputeEvent.id)
        )
    )


def today() -> date:
    return local_day(utcnow())
