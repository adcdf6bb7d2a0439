"""The roster of mediators (调解员库): officers, grid workers, village cadres, lawyers,
Fengqiao mediators, volunteers and people's mediators, with the kinds of dispute they
are good at, the levels they serve at and when they are available; and who to suggest
for a dispute."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Permission, Principal, require
from fengqiao.disputes import types as kinds
from fengqiao.disputes.models import (
    OPEN_STATUSES,
    Dispute,
    DisputeMediator,
    MediationLevel,
    Mediator,
    MediatorKind,
)
from fengqiao.disputes.schemas import MediatorIn
from fengqiao.errors import Forbidden, InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.org.models import Person, PersonKind
from fengqiao.registry.identity import normalise_phone

# Who usually serves at which level when the roster entry does not say.
DEFAULT_LEVELS: dict[MediatorKind, tuple[MediationLevel, ...]] = {
    MediatorKind.GRID_WORKER: (MediationLevel.GRID,),
    MediatorKind.VILLAGE_CADRE: (MediationLevel.GRID, MediationLevel.STATION),
    MediatorKind.OFFICER: (MediationLevel.GRID, MediationLevel.STATION),
    MediatorKind.VOLUNTEER: (MediationLevel.GRID, MediationLevel.STATION),
    MediatorKind.LAWYER: (MediationLevel.STATION, MediationLevel.JUDICIAL),
    MediatorKind.FENGQIAO_MEDIATOR: (MediationLevel.STATION,),
    MediatorKind.PEOPLES_MEDIATOR: (MediationLevel.JUDICIAL,),
}
PERSON_KINDS: dict[PersonKind, MediatorKind] = {
    PersonKind.OFFICER: MediatorKind.OFFICER,
    PersonKind.AUXILIARY: MediatorKind.OFFICER,
    PersonKind.GRID_WORKER: MediatorKind.GRID_WORKER,
    PersonKind.VOLUNTEER: MediatorKind.VOLUNTEER,
}


def is_available(mediator: Mediator, day: date) -> bool:
    """Active, working on that weekday, and not away."""
    if not mediator.active:
        return False
    if mediator.away_until is not None and day <= mediator.away_until:
        return False
    return day.weekday() in (mediator.weekdays or [])


def serves_at(mediator: Mediator, level: MediationLevel) -> bool:
    return level.value in (mediator.levels or [])


def _station(principal: Principal, wanted: int | None) -> int:
    if wanted is not None:
        if not principal.sees_station(wanted):
            raise Forbidden(_("This record belongs to another station."))
        return wanted
    stations = principal.station_ids
    if stations is None or len(stations) != 1:
        raise InvalidInput(_("Say which station the mediator serves."))
    return next(iter(stations))


def save_mediator(
    session: Session, principal: Principal, data: MediatorIn, *, mediator_id: int | None = None
) -> Mediator:
    """Add a mediator to the roster, or change one (``mediator_id``)."""
    require(principal, Permission.MANAGE_MEDIATORS)
    if not data.name.strip():
        raise InvalidInput(_("Give the mediator's name."))
    known = kinds.type_names(session)
    unknown = sorted(set(data.skills) - set(known))
    if unknown:
        raise InvalidInput(
            _("Unknown kinds of dispute: {codes}. Use: {known}.").format(
                codes=", ".join(unknown), known=", ".join(sorted(known))
            )
        )
    if any(not 0 <= d <= 6 for d in data.weekdays):
        raise InvalidInput(_("Weekdays run from 0 (Monday) to 6 (Sunday)."))
    phone = None
    if data.phone and data.phone.strip():
        try:
            phone = normalise_phone(data.phone)
        except ValueError as err:
            raise InvalidInput(str(err)) from None
    if mediator_id is None:
        row = Mediator(station_id=_station(principal, data.station_id))
    else:
        row = get_mediator(session, principal, mediator_id)
    if data.person_id is not None:
        person = session.get(Person, data.person_id)
        if person is None or person.station_id != row.station_id:
            raise InvalidInput(_("The person must work at the mediator's station."))
        twin = session.scalar(
            select(Mediator.id).where(Mediator.person_id == person.id, Mediator.id != (row.id or 0))
        )
        if twin is not None:
            raise InvalidInput(
                _("{name} is already on the roster (mediator {id}).").format(
                    name=person.name, id=twin
                )
            )
    levels = [lv.value for lv in data.levels] or [lv.value for lv in DEFAULT_LEVELS[data.kind]]
    row.person_id, row.name, row.kind = data.person_id, data.name.strip(), data.kind
    row.organisation, row.phone = data.organisation.strip(), phone
    row.skills, row.levels = sorted(set(data.skills)), levels
    row.weekdays, row.away_until = sorted(set(data.weekdays)), data.away_until
    row.active, row.note = data.active, data.note.strip()
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.CREATE if mediator_id is None else AuditAction.UPDATE,
        object_type="mediator",
        object_id=row.id,
        detail={"kind": row.kind.value, "levels": levels, "active": row.active},
    )
    return row


def get_mediator(session: Session, principal: Principal, mediator_id: int) -> Mediator:
    require(principal, Permission.VIEW_DISPUTES)
    row = session.get(Mediator, mediator_id)
    if row is None:
        raise NotFound(_("Mediator {id} was not found.").format(id=mediator_id))
    if not principal.sees_station(row.station_id):
        raise Forbidden(_("This mediator belongs to another station."))
    return row


def roster(
    session: Session, principal: Principal, *, include_inactive: bool = False
) -> list[Mediator]:
    require(principal, Permission.VIEW_DISPUTES)
    query = select(Mediator).order_by(Mediator.kind, Mediator.name, Mediator.id)
    if principal.station_ids is not None:
        query = query.where(Mediator.station_id.in_(sorted(principal.station_ids)))
    if not include_inactive:
        query = query.where(Mediator.active.is_(True))
    return list(session.scalars(query))


def open_load(session: Session, mediator_ids: list[int]) -> dict[int, int]:
    """Open disputes each mediator takes part in."""
    if not mediator_ids:
        return {}
    rows = session.execute(
        select(DisputeMediator.mediator_id, func.count(func.distinct(DisputeMediator.dispute_id)))
        .join(Dispute, Dispute.id == DisputeMediator.dispute_id)
        .where(
            DisputeMediator.mediator_id.in_(mediator_ids),
            Dispute.status.in_(sorted(OPEN_STATUSES)),
        )
        .group_by(DisputeMediator.mediator_id)
    ).all()
    return {mid: int(n) for mid, n in rows}


def suggest(session: Session, dispute: Dispute, day: date, *, limit: int = 5) -> list[Mediator]:
    """Mediators of the dispute's station for its current level, available that day:
    those skilled in its kind first, then the least busy."""
    if dispute.station_id is None:
        return []
    rows = [
        m
        for m in session.scalars(
            select(Mediator).where(
                Mediator.station_id == dispute.station_id, Mediator.active.is_(True)
            )
        )
        if serves_at(m, dispute.level) and is_available(m, day)
    ]
    taken = set(
        session.scalars(
            select(DisputeMediator.mediator_id).where(
                DisputeMediator.dispute_id == dispute.id, DisputeMediator.level == dispute.level
            )
        )
    )
    rows = [m for m in rows if m.id not in taken]
    load = open_load(session, [m.id for m in rows])
    rows.sort(key=lambda m: (dispute.type_code not in (m.skills or []), load.get(m.id, 0), m.id))
    return rows[:limit]
