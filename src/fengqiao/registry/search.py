"""搜一搜: one box finds people, addresses and units by name or address fragment, pinyin
initials, phone tail or identity-card number, inside the principal's scope.

On PostgreSQL fragments are found through the GIN index of search terms (character
unigrams and bigrams), then checked with LIKE; on SQLite (one station) LIKE alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, select, type_coerce
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import InstrumentedAttribute, Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Principal
from fengqiao.errors import InvalidInput
from fengqiao.i18n import _
from fengqiao.registry import service as registry
from fengqiao.registry.models import Address, Establishment, RecordStatus, Resident
from fengqiao.registry.parsing import normalise_text, query_terms

_INITIALS = re.compile(r"^[a-z]{2,12}$")
_ID = re.compile(r"^(\d{15}|\d{17}[\dX])$")


@dataclass
class SearchResults:
    query: str
    mode: str  # name / initials / phone_tail / phone / id_number
    residents: list[Resident] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    establishments: list[Establishment] = field(default_factory=list)
    # full_name of each resident's address, for display
    resident_addresses: dict[int, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.residents) + len(self.addresses) + len(self.establishments)


def _scope(principal: Principal, station: Any, grid: Any) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if principal.station_ids is not None:
        where.append(station.in_(principal.station_ids))
    if principal.grid_ids is not None:
        where.append(grid.in_(principal.grid_ids))
    return where


def _fragment(
    session: Session, column: InstrumentedAttribute[str], terms: Any, text: str
) -> ColumnElement[bool]:
    like = column.icontains(text, autoescape=True)
    if session.get_bind().dialect.name == "postgresql":
        # ``terms`` is Text with a PostgreSQL ARRAY variant, and a variant keeps the base
        # type's operators: coerce it so that contains() is the GIN-indexed ``@>``, not LIKE.
        array = type_coerce(terms, postgresql.ARRAY(Text()))
        return and_(array.contains(query_terms(text)), like)
    return like


def classify(query: str) -> tuple[str, str]:
    """The kind of a query and the text to look for. Numbers may come with spaces,
    dashes, brackets or +86 (138-1234-5678); a name keeps its own characters (·)."""
    raw = re.sub(r"\s", "", query or "")
    text = normalise_text(raw).upper()
    if not text:
        raise InvalidInput(_("Type a name, part of an address, pinyin initials or a phone tail."))
    number = re.sub(r"[\-()（）]", "", text)
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    if _ID.match(number):
        return "id_number", number
    if number.isdigit() and len(number) == 4:
        return "phone_tail", number
    if number.isdigit() and 7 <= len(number) <= 12:
        return "phone", number
    if _INITIALS.match(text.lower()):
        return "initials", text.lower()
    if len(raw) > 60:
        raise InvalidInput(_("The search text is too long (at most 60 characters)."))
    return "name", raw


def search(session: Session, principal: Principal, query: str, *, limit: int = 20) -> SearchResults:
    """Search within scope; the query and the number of hits are audited."""
    registry.require_view(principal)
    mode, text = classify(query)
    found = SearchResults(query=query.strip(), mode=mode)
    live_people = [
        Resident.status == RecordStatus.ACTIVE,
        *_scope(principal, Resident.station_id, Resident.grid_id),
    ]
    live_units = [
        Establishment.status == RecordStatus.ACTIVE,
        *_scope(principal, Establishment.station_id, Establishment.grid_id),
    ]
    people: Select[Resident]
    units: Select[Establishment] | None = None
    if mode == "id_number":
        people = select(Resident).where(Resident.id_number == text, *live_people)
    elif mode == "phone_tail":
        people = select(Resident).where(Resident.phone_tail == text, *live_people)
        units = select(Establishment).where(Establishment.phone_tail == text, *live_units)
    elif mode == "phone":
        people = select(Resident).where(Resident.phone == text, *live_people)
        units = select(Establishment).where(Establishment.contact_phone == text, *live_units)
    elif mode == "initials":
        upper = text[:-1] + chr(ord(text[-1]) + 1)
        people = select(Resident).where(
            Resident.initials >= text, Resident.initials < upper, *live_people
        )
        units = select(Establishment).where(
            Establishment.initials >= text, Establishment.initials < upper, *live_units
        )
    elif len(text) == 1:
        # One character is a surname: a prefix, answered by the name index.
        people = select(Resident).where(
            Resident.name.startswith(text, autoescape=True), *live_people
        )
        units = select(Establishment).where(
            Establishment.name.startswith(text, autoescape=True), *live_units
        )
    else:
        people = select(Resident).where(
            _fragment(session, Resident.name, Resident.terms, text), *live_people
        )
        units = select(Establishment).where(
            _fragment(session, Establishment.name, Establishment.terms, text), *live_units
        )
        found.addresses = list(
            session.scalars(
                select(Address)
                .where(
                    # Addresses are stored in their standard (normalised) spelling.
                    _fragment(session, Address.full_name, Address.terms, normalise_text(text)),
                    Address.status == RecordStatus.ACTIVE,
                    *_scope(principal, Address.station_id, Address.grid_id),
                )
                .order_by(Address.full_name)
                .limit(limit)
            )
        )
    if len(text) > 1:  # a single character matches too many rows to sort them all
        people = people.order_by(Resident.name, Resident.id)
        units = None if units is None else units.order_by(Establishment.name, Establishment.id)
    found.residents = list(session.scalars(people.limit(limit)))
    if units is not None:
        found.establishments = list(session.scalars(units.limit(limit)))
    if found.residents:
        ids = {p.address_id for p in found.residents}
        found.resident_addresses = dict(
            session.execute(select(Address.id, Address.full_name).where(Address.id.in_(ids))).all()
        )
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.SEARCH,
        object_type="registry",
        detail={
            "mode": mode,
            # Personal numbers never reach the log: anything with 7 digits or more is masked.
            "query": query.strip()[:60]
            if mode in ("name", "initials") and len(re.sub(r"\D", "", query)) < 7
            else "*" * len(text),
            "residents": [p.id for p in found.residents],
            "addresses": len(found.addresses),
            "establishments": len(found.establishments),
        },
    )
    return found
