"""Follow-ups: visits that fall due on a day (after a dispute, a household visit, a fraud
warning); the daily job turns each into a task on its day."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Principal
from fengqiao.errors import Forbidden, NotFound
from fengqiao.i18n import _
from fengqiao.org.models import PoliceGrid
from fengqiao.tasks.models import FollowUp, FollowUpStatus, TaskKind


def schedule_follow_up(
    session: Session,
    principal: Principal,
    *,
    kind: TaskKind,
    grid_id: int,
    due_on: date,
    target_type: str,
    target_id: int | None,
    target_label: str,
    lon: float | None = None,
    lat: float | None = None,
    note: str = "",
    dispute_id: int | None = None,
) -> FollowUp:
    """A visit that becomes a task on ``due_on`` (the daily job makes it)."""
    grid = session.get(PoliceGrid, grid_id)
    if grid is None:
        raise NotFound(_("Grid {id} was not found.").format(id=grid_id))
    station_id = grid.district.station_id
    if not principal.sees_station(station_id):
        raise Forbidden(_("This record belongs to another station."))
    row = FollowUp(
        kind=kind,
        station_id=station_id,
        grid_id=grid_id,
        due_on=due_on,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:400],
        lon=lon,
        lat=lat,
        note=note[:2000],
        status=FollowUpStatus.PENDING,
        dispute_id=dispute_id,
        created_by_user_id=principal.actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.CREATE,
        object_type="follow_up",
        object_id=row.id,
        detail={"kind": kind.value, "due_on": due_on.isoformat(), "grid_id": grid_id},
    )
    return row


def schedule_visit(
    session: Session,
    principal: Principal,
    *,
    kind: TaskKind,
    grid_id: int,
    due_on: date,
    address_id: int | None = None,
    note: str = "",
) -> FollowUp:
    """A follow-up at an address of the registry, or in the grid as a whole."""
    if address_id is None:
        return schedule_follow_up(
            session,
            principal,
            kind=kind,
            grid_id=grid_id,
            due_on=due_on,
            target_type="grid",
            target_id=grid_id,
            target_label=_("Grid {id}").format(id=grid_id),
            note=note,
        )
    from fengqiao.registry import addresses

    address = addresses.get_address(session, principal, address_id)
    return schedule_follow_up(
        session,
        principal,
        kind=kind,
        grid_id=grid_id,
        due_on=due_on,
        target_type="address",
        target_id=address.id,
        target_label=address.full_name,
        lon=address.lon,
        lat=address.lat,
        note=note,
    )
