"""The actual people, houses and units (三实) at standard addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from fengqiao.auth import Permission, Principal, require
from fengqiao.db import utcnow
from fengqiao.errors import InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.registry import addresses
from fengqiao.registry import service as registry
from fengqiao.registry.identity import normalise_id_number, normalise_phone
from fengqiao.registry.models import (
    Address,
    Establishment,
    EstablishmentKind,
    House,
    HouseUse,
    RecordStatus,
    Resident,
    ResidentKind,
)
from fengqiao.registry.parsing import initials

_NAME = re.compile(r"^[\u3400-\u9fff·A-Za-z][\u3400-\u9fff·A-Za-z .]{0,48}$")
# Key places and how often they are inspected by default (days).
DEFAULT_INSPECTION_DAYS: dict[EstablishmentKind, int] = {
    EstablishmentKind.SCHOOL: 7,
    EstablishmentKind.KINDERGARTEN: 7,
    EstablishmentKind.HOTEL: 14,
    EstablishmentKind.INTERNET_CAFE: 14,
    EstablishmentKind.ENTERTAINMENT: 14,
    EstablishmentKind.CONSTRUCTION_SITE: 14,
    EstablishmentKind.HAZARDOUS_GOODS: 7,
    EstablishmentKind.FINANCIAL: 30,
    EstablishmentKind.HOSPITAL: 30,
}


def _name(value: str) -> str:
    text = value.strip()
    if not _NAME.match(text):
        raise InvalidInput(
            _("“{name}” is not a name: use 1 to 50 Chinese characters or letters.").format(
                name=value
            )
        )
    return text


def _id_number(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return normalise_id_number(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def _phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return normalise_phone(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def _tail(phone: str | None) -> str | None:
    return phone[-4:] if phone else None


def add_resident(
    session: Session,
    principal: Principal,
    *,
    name: str,
    kind: ResidentKind,
    address_id: int,
    id_number: str | None = None,
    phone: str | None = None,
    note: str = "",
    task_id: int | None = None,
) -> Resident:
    """Register a person at an address (a room or number). Checks every field before
    writing; a likely duplicate is flagged, not refused (the officer may be right)."""
    registry.require_edit(principal)
    registry.check_task(session, principal, task_id)
    address = addresses.get_address(session, principal, address_id)
    clean_name, number, tel = _name(name), _id_number(id_number), _phone(phone)
    person = Resident(
        name=clean_name,
        initials=initials(clean_name, surname=True),
        id_number=number,
        phone=tel,
        phone_tail=_tail(tel),
        kind=kind,
        address_id=address.id,
        station_id=address.station_id,
        grid_id=address.grid_id,
        note=note.strip()[:2000],
        terms=registry.terms(session, clean_name),
        status=RecordStatus.ACTIVE,
    )
    session.add(person)
    session.flush()
    registry.record_change(
        session,
        principal,
        object_type="resident",
        object_id=person.id,
        action="create",
        changes={
            "name": (None, clean_name),
            "kind": (None, kind),
            "address": (None, address.full_name),
            "id_number": (None, number),
            "phone": (None, tel),
        },
        task_id=task_id,
    )
    from fengqiao.registry import duplicates

    duplicates.flag_resident(session, person)
    return person


def get_resident(session: Session, principal: Principal, resident_id: int) -> Resident:
    registry.require_view(principal)
    person = session.get(Resident, resident_id)
    if person is None:
        raise NotFound(_("Person {id} was not found in the registry.").format(id=resident_id))
    registry.access_record(principal, station_id=person.station_id, grid_id=person.grid_id)
    return person


def read_resident(session: Session, principal: Principal, resident_id: int) -> Resident:
    """A person's card (numbers masked when shown); the read is audited."""
    person = get_resident(session, principal, resident_id)
    registry.audit_read(session, principal, object_type="resident", object_id=person.id)
    return person


def reveal_resident(
    session: Session, principal: Principal, resident_id: int, *, reason: str
) -> Resident:
    """Show a person's full numbers: allowed to some roles, with a reason, audited."""
    require(principal, Permission.REVEAL_PERSONAL)
    if len(reason.strip()) < 4:
        raise InvalidInput(
            _("Give the reason for showing the full numbers (at least 4 characters).")
        )
    person = get_resident(session, principal, resident_id)
    registry.audit_read(
        session,
        principal,
        object_type="resident",
        object_id=person.id,
        detail={"unmasked": True, "reason": reason.strip()[:200]},
    )
    return person


UPDATABLE = ("name", "kind", "id_number", "phone", "note", "address_id", "status")


def update_resident(
    session: Session,
    principal: Principal,
    resident_id: int,
    *,
    values: dict[str, Any],
    task_id: int | None = None,
) -> Resident:
    """Change some fields of a person (moved to another address, new phone, moved out)."""
    registry.require_edit(principal)
    registry.check_task(session, principal, task_id)
    person = get_resident(session, principal, resident_id)
    unknown = set(values) - set(UPDATABLE)
    if unknown:
        raise InvalidInput(_("Unknown fields: {names}.").format(names=", ".join(sorted(unknown))))
    clean: dict[str, Any] = {}
    if "name" in values:
        clean["name"] = _name(str(values["name"]))
    if "kind" in values:
        clean["kind"] = ResidentKind(values["kind"])
    if "id_number" in values:
        clean["id_number"] = _id_number(values["id_number"])
    if "phone" in values:
        clean["phone"] = _phone(values["phone"])
    if "note" in values:
        clean["note"] = str(values["note"]).strip()[:2000]
    if "status" in values:
        status = RecordStatus(values["status"])
        if status is RecordStatus.MERGED:
            raise InvalidInput(_("Records are merged from the duplicates list."))
        clean["status"] = status
    if "address_id" in values:
        target = addresses.get_address(session, principal, int(values["address_id"]))
        clean["address_id"] = target.id
    changes = {
        field: (getattr(person, field), value)
        for field, value in clean.items()
        if getattr(person, field) != value
    }
    if not changes:
        return person
    for field, (_old, new) in changes.items():
        setattr(person, field, new)
    if "name" in changes:
        person.initials = initials(person.name, surname=True)
    if "phone" in changes:
        person.phone_tail = _tail(person.phone)
    if "address_id" in changes:
        target = session.get_one(Address, person.address_id)
        person.station_id, person.grid_id = target.station_id, target.grid_id
    person.terms = registry.terms(session, person.name)
    person.updated_at = utcnow()
    registry.record_change(
        session,
        principal,
        object_type="resident",
        object_id=person.id,
        action="update",
        changes=changes,
        task_id=task_id,
    )
    if {"name", "id_number", "phone", "address_id"} & set(changes):
        from fengqiao.registry import duplicates

        duplicates.flag_resident(session, person)
    return person


def _at_or_below(address: Address) -> ColumnElement[bool]:
    """The address itself and every node under it (their full names start with its own)."""
    return (Address.id == address.id) | Address.full_name.startswith(
        address.full_name, autoescape=True
    )


def residents_at(
    session: Session, principal: Principal, address: Address, *, limit: int = 200
) -> list[Resident]:
    """People at the address and below it (a building's rooms) whom the principal may
    see: a grid-scoped role sees only those of its own grids."""
    query = (
        select(Resident)
        .join(Address, Address.id == Resident.address_id)
        .where(
            Resident.station_id == address.station_id,
            Resident.status == RecordStatus.ACTIVE,
            _at_or_below(address),
        )
    )
    if principal.grid_ids is not None:
        query = query.where(Resident.grid_id.in_(principal.grid_ids))
    return list(session.scalars(query.order_by(Address.full_name, Resident.id).limit(limit)))


def address_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Full names of addresses by id, in one query."""
    if not ids:
        return {}
    return {
        i: n
        for i, n in session.execute(
            select(Address.id, Address.full_name).where(Address.id.in_(ids))
        )
    }


def set_house(
    session: Session,
    principal: Principal,
    *,
    address_id: int,
    use: HouseUse,
    owner_id: int | None = None,
    note: str = "",
    task_id: int | None = None,
) -> House:
    """Record how the house at an address is used (自住/出租/空置); one house per address."""
    registry.require_edit(principal)
    registry.check_task(session, principal, task_id)
    address = addresses.get_address(session, principal, address_id)
    if owner_id is not None:
        get_resident(session, principal, owner_id)
    house = session.scalars(select(House).where(House.address_id == address.id)).first()
    if house is None:
        house = House(
            address_id=address.id,
            use=use,
            owner_id=owner_id,
            note=note.strip()[:2000],
            station_id=address.station_id,
            grid_id=address.grid_id,
        )
        session.add(house)
        session.flush()
        changes: dict[str, tuple[Any, Any]] = {"use": (None, use), "owner_id": (None, owner_id)}
        action = "create"
    else:
        changes = {
            k: (getattr(house, k), v)
            for k, v in (("use", use), ("owner_id", owner_id), ("note", note.strip()[:2000]))
            if getattr(house, k) != v
        }
        house.use, house.owner_id, house.note = use, owner_id, note.strip()[:2000]
        house.updated_at = utcnow()
        action = "update"
    if changes:
        registry.record_change(
            session,
            principal,
            object_type="house",
            object_id=house.id,
            action=action,
            changes=changes,
            task_id=task_id,
        )
    return house


def house_at(session: Session, address: Address) -> House | None:
    return session.scalars(select(House).where(House.address_id == address.id)).first()


@dataclass(frozen=True)
class EstablishmentInput:
    name: str
    kind: EstablishmentKind
    address_id: int
    key_place: bool | None = None
    inspection_every_days: int | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    credit_code: str | None = None


def add_establishment(
    session: Session,
    principal: Principal,
    data: EstablishmentInput,
    *,
    task_id: int | None = None,
) -> Establishment:
    """Register a business or organisation; schools, hotels, internet cafés and the like
    are key places inspected on a default rhythm unless told otherwise."""
    registry.require_edit(principal)
    registry.check_task(session, principal, task_id)
    address = addresses.get_address(session, principal, data.address_id)
    name = data.name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput(_("The unit's name must have 1 to 100 characters."))
    every = data.inspection_every_days
    key_place = (
        data.key_place if data.key_place is not None else data.kind in DEFAULT_INSPECTION_DAYS
    )
    if key_place and every is None:
        every = DEFAULT_INSPECTION_DAYS.get(data.kind, 30)
    if every is not None and not 1 <= every <= 366:
        raise InvalidInput(_("Inspect a key place every 1 to 366 days."))
    tel = _phone(data.contact_phone)
    unit = Establishment(
        name=name,
        initials=initials(name),
        kind=data.kind,
        key_place=key_place,
        inspection_every_days=every if key_place else None,
        address_id=address.id,
        station_id=address.station_id,
        grid_id=address.grid_id,
        lon=address.lon,
        lat=address.lat,
        contact_name=(data.contact_name or "").strip() or None,
        contact_phone=tel,
        phone_tail=_tail(tel),
        credit_code=(data.credit_code or "").strip().upper() or None,
        terms=registry.terms(session, name),
        status=RecordStatus.ACTIVE,
    )
    session.add(unit)
    session.flush()
    registry.record_change(
        session,
        principal,
        object_type="establishment",
        object_id=unit.id,
        action="create",
        changes={"name": (None, name), "kind": (None, data.kind), "key_place": (None, key_place)},
        task_id=task_id,
    )
    return unit


def get_establishment(session: Session, principal: Principal, unit_id: int) -> Establishment:
    registry.require_view(principal)
    unit = session.get(Establishment, unit_id)
    if unit is None:
        raise NotFound(_("Unit {id} was not found in the registry.").format(id=unit_id))
    registry.access_record(principal, station_id=unit.station_id, grid_id=unit.grid_id)
    return unit


def establishments_at(
    session: Session, principal: Principal, address: Address
) -> list[Establishment]:
    """Units at the address and below it, within the principal's grids."""
    query = (
        select(Establishment)
        .join(Address, Address.id == Establishment.address_id)
        .where(
            Establishment.station_id == address.station_id,
            Establishment.status == RecordStatus.ACTIVE,
            _at_or_below(address),
        )
    )
    if principal.grid_ids is not None:
        query = query.where(Establishment.grid_id.in_(principal.grid_ids))
    return list(session.scalars(query.order_by(Establishment.name).limit(100)))
