"""Likely duplicates (疑似重复): people with the same identity number, or a similar name at
the same address or with the same phone; addresses with similar names under one parent.
Flags wait for a person to merge or dismiss them; nothing is merged automatically."""

from __future__ import annotations

import re

from rapidfuzz import fuzz
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from fengqiao.auth import Permission, Principal, require
from fengqiao.db import insert_ignoring, utcnow
from fengqiao.errors import Conflict, InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.registry import service as registry
from fengqiao.registry.models import (
    Address,
    Attachment,
    DuplicateFlag,
    DuplicateStatus,
    Establishment,
    House,
    RecordStatus,
    Resident,
)
from fengqiao.registry.parsing import AddressParseError, normalise_text, parse_address

NAME_SIMILARITY = 85.0  # rapidfuzz ratio, 0–100
# Words that say what kind of place a compound is, not which one: 幸福小区 = 幸福花园小区.
_GENERIC = re.compile(r"(花园|小区|家园|公寓|新村|苑|社区|村委会)+$")


def similarity(a: str, b: str) -> float:
    """How alike two names are (0–100), after normalising spaces, widths and numerals
    (三栋 = 3栋) and ignoring generic words of compound names."""
    x, y = _canonical(a), _canonical(b)
    score = fuzz.ratio(x, y)
    cx, cy = _GENERIC.sub("", x), _GENERIC.sub("", y)
    if cx and cy and len(cx) >= 2 and cx == cy:
        score = max(score, 95.0)
    return float(score)


def _canonical(text: str) -> str:
    plain = normalise_text(text)
    try:
        return parse_address(plain).standard() or plain
    except AddressParseError:
        return plain


def _flag(
    session: Session,
    *,
    object_type: str,
    a: int,
    b: int,
    station_id: int,
    score: float,
    reason: str,
) -> None:
    first, second = min(a, b), max(a, b)
    values = {
        "object_type": object_type,
        "first_id": first,
        "second_id": second,
        "station_id": station_id,
        "score": round(score, 1),
        "reason": reason,
        "status": DuplicateStatus.OPEN.value,
        "created_at": utcnow(),
    }
    session.execute(
        insert_ignoring(
            session, DuplicateFlag, conflict=["object_type", "first_id", "second_id"]
        ).values(**values)
    )


def flag_resident(session: Session, person: Resident) -> int:
    """Flag the records that are probably ``person``; returns how many were found."""
    clauses = [Resident.address_id == person.address_id]
    if person.id_number:
        clauses.append(Resident.id_number == person.id_number)
    if person.phone:
        clauses.append(Resident.phone == person.phone)
    others = session.scalars(
        select(Resident)
        .where(
            Resident.id != person.id,
            Resident.station_id == person.station_id,
            Resident.status == RecordStatus.ACTIVE,
            or_(*clauses),
        )
        .limit(200)
    )
    found = 0
    for other in others:
        if person.id_number and other.id_number == person.id_number:
            score, reason = 100.0, "same_id_number"
        else:
            score = fuzz.ratio(normalise_text(person.name), normalise_text(other.name))
            if score < NAME_SIMILARITY:
                continue
            reason = (
                "same_phone" if person.phone and other.phone == person.phone else "same_address"
            )
        _flag(
            session,
            object_type="resident",
            a=person.id,
            b=other.id,
            station_id=person.station_id,
            score=score,
            reason=reason,
        )
        found += 1
    return found


def flag_address(session: Session, address: Address) -> int:
    """Flag siblings whose names are nearly the same (幸福小区 / 幸福花园小区, 3栋 / 三栋)."""
    siblings = session.scalars(
        select(Address)
        .where(
            Address.id != address.id,
            Address.station_id == address.station_id,
            Address.parent_id.is_(None)
            if address.parent_id is None
            else Address.parent_id == address.parent_id,
            Address.level == address.level,
            Address.status == RecordStatus.ACTIVE,
        )
        .limit(2000)
    )
    found = 0
    for other in siblings:
        score = similarity(address.name, other.name)
        if score >= NAME_SIMILARITY:
            _flag(
                session,
                object_type="address",
                a=address.id,
                b=other.id,
                station_id=address.station_id,
                score=score,
                reason="similar_name",
            )
            found += 1
    return found


def list_flags(
    session: Session,
    principal: Principal,
    *,
    status: DuplicateStatus = DuplicateStatus.OPEN,
    limit: int = 200,
) -> list[DuplicateFlag]:
    registry.require_view(principal)
    query = select(DuplicateFlag).where(DuplicateFlag.status == status)
    if principal.station_ids is not None:
        query = query.where(DuplicateFlag.station_id.in_(principal.station_ids))
    return list(
        session.scalars(query.order_by(DuplicateFlag.score.desc(), DuplicateFlag.id).limit(limit))
    )


def _open_flag(session: Session, principal: Principal, flag_id: int) -> DuplicateFlag:
    require(principal, Permission.MERGE_RECORDS)
    flag = session.get(DuplicateFlag, flag_id)
    if flag is None or not principal.sees_station(flag.station_id):
        raise NotFound(_("Duplicate flag {id} was not found.").format(id=flag_id))
    if flag.status is not DuplicateStatus.OPEN:
        raise Conflict(
            _("This pair was already decided ({status}).").format(status=flag.status.value)
        )
    return flag


def dismiss(session: Session, principal: Principal, flag_id: int) -> DuplicateFlag:
    """Not the same: keep both records; the pair is not flagged again."""
    flag = _open_flag(session, principal, flag_id)
    flag.status, flag.resolved_at, flag.resolved_by_user_id = (
        DuplicateStatus.DISMISSED,
        utcnow(),
        principal.actor.user_id,
    )
    registry.record_change(
        session,
        principal,
        object_type=flag.object_type,
        object_id=flag.first_id,
        action="update",
        changes={"duplicate_of": (flag.second_id, None)},
    )
    return flag


def merge(session: Session, principal: Principal, flag_id: int, *, keep_id: int) -> DuplicateFlag:
    """Merge the pair into ``keep_id``: the other record points at it and everything
    attached to it moves over. Nothing is deleted."""
    flag = _open_flag(session, principal, flag_id)
    if keep_id not in (flag.first_id, flag.second_id):
        raise InvalidInput(
            _("Keep one of the two records of the pair ({a} or {b}).").format(
                a=flag.first_id, b=flag.second_id
            )
        )
    gone_id = flag.second_id if keep_id == flag.first_id else flag.first_id
    if flag.object_type == "resident":
        keep, gone = session.get_one(Resident, keep_id), session.get_one(Resident, gone_id)
        for field in ("id_number", "phone", "phone_tail"):
            if getattr(keep, field) is None and getattr(gone, field) is not None:
                setattr(keep, field, getattr(gone, field))
        gone.status, gone.merged_into_id = RecordStatus.MERGED, keep.id
        session.execute(update(House).where(House.owner_id == gone.id).values(owner_id=keep.id))
    else:
        keep_a, gone_a = session.get_one(Address, keep_id), session.get_one(Address, gone_id)
        for table in (Resident, Establishment):
            session.execute(
                update(table).where(table.address_id == gone_a.id).values(address_id=keep_a.id)
            )
        session.execute(
            update(Address).where(Address.parent_id == gone_a.id).values(parent_id=keep_a.id)
        )
        if session.scalars(select(House.id).where(House.address_id == keep_a.id)).first() is None:
            session.execute(
                update(House).where(House.address_id == gone_a.id).values(address_id=keep_a.id)
            )
        _rename_below(session, keep_a)
        from fengqiao.registry.addresses import follow_grid

        follow_grid(session, [keep_a.id], keep_a.grid_id)
        gone_a.status, gone_a.merged_into_id = RecordStatus.MERGED, keep_a.id
    session.execute(
        update(Attachment)
        .where(Attachment.object_type == flag.object_type, Attachment.object_id == gone_id)
        .values(object_id=keep_id)
    )
    flag.status, flag.resolved_at, flag.resolved_by_user_id = (
        DuplicateStatus.MERGED,
        utcnow(),
        principal.actor.user_id,
    )
    registry.record_change(
        session,
        principal,
        object_type=flag.object_type,
        object_id=keep_id,
        action="merge",
        changes={"merged": (gone_id, keep_id)},
    )
    return flag


def _rename_below(session: Session, root: Address) -> None:
    """Children moved under ``root`` take its spelling in their full names."""
    frontier = [root]
    while frontier:
        nxt: list[Address] = []
        for parent in frontier:
            for child in session.scalars(select(Address).where(Address.parent_id == parent.id)):
                child.full_name = parent.full_name + child.name
                child.terms = registry.terms(session, child.full_name)
                nxt.append(child)
        frontier = nxt
