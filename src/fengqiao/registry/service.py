"""Rules shared by every registry record: data scope, provenance of changes, search
terms and masking. Records are scoped like incidents: station, and the own grids for
grid-scoped roles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.auth import Permission, Principal, require
from fengqiao.errors import Forbidden, InvalidInput, NotFound
from fengqiao.i18n import _
from fengqiao.org.models import Person
from fengqiao.privacy import mask_id_number, mask_phone
from fengqiao.registry.models import RegistryChange
from fengqiao.registry.parsing import search_terms
from fengqiao.tasks.models import Task, TaskStatus

_MASKED_FIELDS = {"phone": mask_phone, "contact_phone": mask_phone, "id_number": mask_id_number}


def access_record(principal: Principal, *, station_id: int, grid_id: int | None) -> None:
    """Refuse a record outside the principal's station, or outside the own grids of a
    grid-scoped role (a record without a grid is then out of reach too)."""
    if not principal.sees_station(station_id):
        raise Forbidden(_("This record belongs to another station."))
    if principal.grid_ids is not None and (grid_id is None or grid_id not in principal.grid_ids):
        raise Forbidden(_("This record is outside your grid."))


def require_view(principal: Principal) -> None:
    require(principal, Permission.VIEW_REGISTRY)


def require_edit(principal: Principal) -> None:
    require(principal, Permission.EDIT_REGISTRY)


def single_station(principal: Principal, station_id: int | None) -> int:
    """The station a new record goes to: the given one (checked) or the principal's own."""
    if station_id is not None:
        if not principal.sees_station(station_id):
            raise Forbidden(_("This record belongs to another station."))
        return station_id
    if principal.station_ids is not None and len(principal.station_ids) == 1:
        return next(iter(principal.station_ids))
    raise InvalidInput(_("Choose the station the record belongs to."))


def terms(session: Session, *texts: str | None) -> list[str] | None:
    """Search terms, kept on PostgreSQL only (SQLite searches with LIKE)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return search_terms(*(t for t in texts if t))


def masked_changes(changes: dict[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` with personal numbers masked, for provenance and audit."""
    out: dict[str, list[Any]] = {}
    for field, (old, new) in changes.items():
        mask = _MASKED_FIELDS.get(field)
        if mask is not None:
            old, new = mask(old), mask(new)
        out[field] = [_plain(old), _plain(new)]
    return out


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def check_task(session: Session, principal: Principal, task_id: int | None) -> Task | None:
    """The task a change is made during (工作即采集): it must be the principal's own (or the
    chief's station's) and still open."""
    if task_id is None:
        return None
    task = session.get(Task, task_id)
    if task is None or not principal.sees_station(task.station_id):
        raise NotFound(_("Task {id} was not found.").format(id=task_id))
    if not principal.can(Permission.MANAGE_TASKS) and task.assignee_id != principal.person_id:
        raise Forbidden(_("Task {id} is not yours.").format(id=task_id))
    if task.status is TaskStatus.CANCELLED:
        raise InvalidInput(_("Task {id} was cancelled.").format(id=task_id))
    return task


def record_change(
    session: Session,
    principal: Principal,
    *,
    object_type: str,
    object_id: int,
    action: str,
    changes: dict[str, tuple[Any, Any]],
    task_id: int | None = None,
) -> RegistryChange:
    """Provenance row (task, person, time) and audit row for one change of a record."""
    masked = masked_changes(changes)
    row = RegistryChange(
        object_type=object_type,
        object_id=object_id,
        action=action,
        changes=masked,
        task_id=task_id,
        person_id=principal.person_id,
        user_id=principal.actor.user_id,
    )
    session.add(row)
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.CREATE if action == "create" else AuditAction.UPDATE,
        object_type=object_type,
        object_id=object_id,
        detail={"action": action, "changes": masked, "task_id": task_id},
    )
    return row


def person_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Names of the station's people (who made a change), in one query."""
    if not ids:
        return {}
    return {
        i: n for i, n in session.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))
    }


def history(session: Session, object_type: str, object_id: int) -> list[RegistryChange]:
    return list(
        session.scalars(
            select(RegistryChange)
            .where(RegistryChange.object_type == object_type, RegistryChange.object_id == object_id)
            .order_by(RegistryChange.at.desc(), RegistryChange.id.desc())
            .limit(50)
        )
    )


def audit_read(
    session: Session,
    principal: Principal,
    *,
    object_type: str,
    object_id: int,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor=principal.actor,
        action=AuditAction.READ,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )
