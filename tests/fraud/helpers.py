"""Building registry addresses and warnings for the anti-fraud tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from fengqiao.auth import Principal, system_principal
from fengqiao.config import Settings
from fengqiao.fraud import intake
from fengqiao.fraud.models import Channel, FraudOrder
from fengqiao.org.models import PersonKind, PoliceGrid
from fengqiao.registry import addresses, people
from fengqiao.registry.identity import check_character
from fengqiao.registry.models import Address, ResidentKind
from tests.incidents.helpers import grid_person, grids_of, inside, station
from tests.tasks.helpers import principal_of

SYSTEM = system_principal("test")


def id_number(serial: int, born: str = "19560312") -> str:
    """A valid identity-card number (GB 11643 check character)."""
    first = f"330100{born}{serial % 1000:03d}"
    return first + check_character(first)


@dataclass
class Place:
    grid: PoliceGrid
    officer_id: int
    address: Address
    lon: float
    lat: float


def place(session: Session, text: str, *, station_code: str = "QX-CG", offset: int = 0) -> Place:
    """A registry address inside a staffed grid of the station, with its position."""
    grids = grids_of(session, station(session, station_code).id)
    chosen = [g for g in grids if grid_person(session, g.id, PersonKind.OFFICER)][offset]
    lon, lat = inside(chosen)
    result = addresses.add_address(session, SYSTEM, text=text, lon=lon, lat=lat)
    officer = grid_person(session, chosen.id, PersonKind.OFFICER)
    assert officer is not None
    return Place(chosen, officer.id, result.address, lon, lat)


def resident(
    session: Session, where: Place, name: str, *, number: str | None, phone: str | None
) -> int:
    return people.add_resident(
        session,
        SYSTEM,
        name=name,
        kind=ResidentKind.REGISTERED,
        address_id=where.address.id,
        id_number=number,
        phone=phone,
    ).id


def send(
    session: Session,
    settings: Settings,
    *rows: dict[str, Any],
    principal: Principal = SYSTEM,
    channel: Channel = Channel.API,
) -> list[intake.Received]:
    items = [intake.clean(r, source=r.get("source", "centre")) for r in rows]
    results, _totals = intake.receive(session, principal, settings, items, channel=channel)
    return results


def order(session: Session, order_id: int) -> FraudOrder:
    found = session.get(FraudOrder, order_id)
    assert found is not None
    return found


__all__ = ["principal_of"]
