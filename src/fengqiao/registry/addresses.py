"""Standard addresses (一标): a tree from district down to room, entered as text and
parsed, placed in a grid by position (or by the parent's grid), with doorplate codes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from fengqiao.auth import Principal
from fengqiao.db import utcnow
from fengqiao.errors import InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.org import placement
from fengqiao.registry import service as registry
from fengqiao.registry.models import Address, AddressLevel, RecordStatus
from fengqiao.registry.parsing import AddressParseError, ParsedAddress, parse_address

# Parsed elements kept in the tree (province and city are implied by the station; a
# floor is implied by the room).
_TREE_LEVELS = {level.value: level for level in AddressLevel}
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))


@dataclass(frozen=True)
class AddressResult:
    address: Address
    created: list[Address]


def parse_or_explain(text: str) -> ParsedAddress:
    try:
        return parse_address(text)
    except AddressParseError as exc:
        raise InvalidInput(str(exc)) from exc


def _elements(parsed: ParsedAddress) -> list[tuple[AddressLevel, str]]:
    return [
        (_TREE_LEVELS[level], name) for level, name in parsed.elements() if level in _TREE_LEVELS
    ]


def _anchor(
    session: Session, station_id: int, elements: list[tuple[AddressLevel, str]]
) -> tuple[Address | None, list[tuple[AddressLevel, str]]]:
    """Where a partial address (without district/street/community) hangs in the tree:
    the one existing node of the station named like its first element."""
    level, name = elements[0]
    if level is AddressLevel.DISTRICT:
        return None, elements
    found = list(
        session.scalars(
            select(Address)
            .where(
                Address.station_id == station_id,
                Address.level == level,
                Address.name == name,
                Address.status == RecordStatus.ACTIVE,
            )
            .limit(6)
        )
    )
    if len(found) == 1:
        return found[0], elements[1:]
    if len(found) > 1:
        where = "、".join(a.full_name for a in found[:5])
        raise InvalidInput(
            _(
                "“{name}” exists more than once ({where}): add the street or community "
                "in front of it."
            ).format(name=name, where=where)
        )
    return None, elements


def add_address(
    session: Session,
    principal: Principal,
    *,
    text: str,
    station_id: int | None = None,
    lon: float | None = None,
    lat: float | None = None,
    task_id: int | None = None,
) -> AddressResult:
    """Find or create the nodes of ``text``; return the finest one. Existing nodes are
    reused, so entering the same address twice creates nothing the second time."""
    registry.require_edit(principal)
    registry.check_task(session, principal, task_id)
    parsed = parse_or_explain(text)
    elements = _elements(parsed)
    if not elements:
        raise InvalidInput(
            _("“{text}” names no road, compound or number inside the station.").format(text=text)
        )
    place = None
    if lon is not None and lat is not None:
        place = placement.place_point(session, lon, lat)
        if place is None:
            raise InvalidInput(_("The position is outside every police grid."))
        station_id = place.station_id
    station = registry.single_station(principal, station_id)
    if session.get_bind().dialect.name == "postgresql":
        # Two phones entering the same address at once must not create it twice: address
        # creation queues per station (SQLite's BEGIN IMMEDIATE already serialises).
        session.execute(sql("SELECT pg_advisory_xact_lock(4242, :station)"), {"station": station})
    parent, rest = _anchor(session, station, elements)
    created: list[Address] = []
    node = parent
    for level, name in rest:
        child = session.scalars(
            select(Address).where(
                Address.station_id == station,
                Address.parent_id.is_(None) if node is None else Address.parent_id == node.id,
                Address.name == name,
                Address.status == RecordStatus.ACTIVE,
            )
        ).first()
        if child is None:
            full = (node.full_name if node is not None else "") + name
            child = Address(
                parent_id=None if node is None else node.id,
                level=level,
                name=name,
                full_name=full,
                station_id=station,
                grid_id=place.grid_id if place else (node.grid_id if node else None),
                lon=lon if place else (node.lon if node else None),
                lat=lat if place else (node.lat if node else None),
                code=new_code(),
                terms=registry.terms(session, full),
                status=RecordStatus.ACTIVE,
            )
            session.add(child)
            session.flush()
            created.append(child)
        node = child
    assert node is not None  # elements is not empty
    if place is not None and node.lon is None:
        node.lon, node.lat, node.grid_id = lon, lat, place.grid_id
    if node.grid_id is None and principal.grid_ids is not None:
        raise InvalidInput(
            _(
                "This address is not in any grid yet: add it with your position (stand at "
                "the door and use “my position”) so that it lands in your grid."
            )
        )
    registry.access_record(principal, station_id=station, grid_id=node.grid_id)
    for row in created:
        registry.record_change(
            session,
            principal,
            object_type="address",
            object_id=row.id,
            action="create",
            changes={"full_name": (None, row.full_name)},
            task_id=task_id,
        )
    if created:
        from fengqiao.registry import duplicates

        duplicates.flag_address(session, created[0])
    return AddressResult(address=node, created=created)


def get_address(session: Session, principal: Principal, address_id: int) -> Address:
    registry.require_view(principal)
    address = session.get(Address, address_id)
    if address is None:
        raise NotFound(_("Address {id} was not found.").format(id=address_id))
    registry.access_record(principal, station_id=address.station_id, grid_id=address.grid_id)
    return address


def address_by_code(session: Session, principal: Principal, code: str) -> Address:
    """The address of a scanned doorplate (扫一扫)."""
    registry.require_view(principal)
    address = session.scalars(select(Address).where(Address.code == code.strip().upper())).first()
    if address is None:
        raise NotFound(
            _("No address has the doorplate code {code}: scan the code again.").format(code=code)
        )
    while address.status is RecordStatus.MERGED and address.merged_into_id is not None:
        address = session.get_one(Address, address.merged_into_id)
    registry.access_record(principal, station_id=address.station_id, grid_id=address.grid_id)
    return address


def ancestors(session: Session, address: Address) -> list[Address]:
    chain: list[Address] = []
    node = address
    while node.parent_id is not None and len(chain) < 12:
        node = session.get_one(Address, node.parent_id)
        chain.append(node)
    return chain[::-1]


def children(session: Session, address: Address, *, limit: int = 200) -> list[Address]:
    return list(
        session.scalars(
            select(Address)
            .where(Address.parent_id == address.id, Address.status == RecordStatus.ACTIVE)
            .order_by(func.length(Address.name), Address.name)
            .limit(limit)
        )
    )


def descendants(session: Session, address: Address, *, limit: int = 2000) -> list[Address]:
    """Every active node below ``address`` (breadth first), for a doorplate sheet."""
    found: list[Address] = []
    frontier = [address.id]
    while frontier and len(found) < limit:
        rows = list(
            session.scalars(
                select(Address)
                .where(Address.parent_id.in_(frontier), Address.status == RecordStatus.ACTIVE)
                .order_by(Address.full_name)
            )
        )
        found.extend(rows)
        frontier = [r.id for r in rows]
    return found[:limit]


def doorplates(session: Session, principal: Principal, address_id: int) -> list[Address]:
    """The doorplates to print for a building (or number): itself, its units and rooms."""
    address = get_address(session, principal, address_id)
    if address.level not in (AddressLevel.NUMBER, AddressLevel.BUILDING, AddressLevel.UNIT):
        raise InvalidInput(
            _(
                "Doorplate sheets are printed per number, building or unit; {name} is a {level}."
            ).format(name=address.full_name, level=address.level.value)
        )
    return [address, *descendants(session, address)]


def follow_grid(session: Session, address_ids: list[int], grid_id: int | None) -> None:
    """People, houses and units at these addresses belong to the address's grid: whoever
    serves that grid sees them, and only they (grid-scoped roles)."""
    from fengqiao.registry.models import Establishment, House, Resident

    for table in (Resident, House, Establishment):
        session.execute(
            update(table).where(table.address_id.in_(address_ids)).values(grid_id=grid_id)
        )


def set_position(
    session: Session,
    principal: Principal,
    address_id: int,
    *,
    lon: float,
    lat: float,
    task_id: int | None = None,
) -> Address:
    """Place an address on the map (e.g. standing at the door during a visit)."""
    registry.require_edit(principal)
    registry.check_task(session, principal, task_id)
    address = get_address(session, principal, address_id)
    place = placement.place_point(session, lon, lat)
    if place is None or place.station_id != address.station_id:
        raise InvalidInput(_("The position is outside this station's grids."))
    old = (address.lon, address.lat, address.grid_id)
    address.lon, address.lat, address.grid_id = lon, lat, place.grid_id
    address.updated_at = utcnow()
    follow_grid(session, [address.id], place.grid_id)
    registry.record_change(
        session,
        principal,
        object_type="address",
        object_id=address.id,
        action="update",
        changes={"position": (old[:2], (lon, lat)), "grid_id": (old[2], place.grid_id)},
        task_id=task_id,
    )
    return address
