"""Builders shared by the dispute service tests: a registered dispute, roster entries,
timeline and audit look-ups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.audit.models import AuditEvent
from fengqiao.auth import Principal
from fengqiao.disputes import mediators, service
from fengqiao.disputes.models import (
    Dispute,
    DisputeEvent,
    MediationLevel,
    Mediator,
    MediatorKind,
    PartySide,
)
from fengqiao.disputes.schemas import DisputeIn, MediatorIn, PartyIn
from tests.fraud.helpers import SYSTEM, Place, place

ALL_WEEK = list(range(7))


def parties(applicant: str = "张三", respondent: str = "李四") -> list[PartyIn]:
    return [
        PartyIn(side=PartySide.APPLICANT, name=applicant, phone="13812345678"),
        PartyIn(side=PartySide.RESPONDENT, name=respondent, phone="13987654321"),
    ]


def new_dispute(
    s: Session,
    *,
    at: Place | None = None,
    text: str = "城关镇建设路12号",
    principal: Principal = SYSTEM,
    risk: dict[str, Any] | None = None,
    **extra: Any,
) -> Dispute:
    """A dispute registered at a registry address (a new one unless ``at`` is given)."""
    where = at or place(s, text)
    fields: dict[str, Any] = {
        "type_code": "neighbour",
        "summary": "楼上漏水",
        "address_id": where.address.id,
        "parties": parties(),
        "risk": risk or {},
    }
    fields.update(extra)
    dispute, created = service.register(s, principal, DisputeIn(**fields))
    assert created
    return dispute


def add_mediator(
    s: Session,
    station_id: int,
    name: str,
    kind: MediatorKind = MediatorKind.GRID_WORKER,
    *,
    principal: Principal = SYSTEM,
    **extra: Any,
) -> Mediator:
    data: dict[str, Any] = {"name": name, "kind": kind, "station_id": station_id}
    data.setdefault("weekdays", ALL_WEEK)
    data.update(extra)
    return mediators.save_mediator(s, principal, MediatorIn(**data))


def staffed(s: Session, dispute: Dispute, level: MediationLevel | None = None) -> Mediator:
    """A mediator assigned as lead at the dispute's current level."""
    from fengqiao.disputes import mediation

    kind = {
        MediationLevel.GRID: MediatorKind.GRID_WORKER,
        MediationLevel.STATION: MediatorKind.FENGQIAO_MEDIATOR,
        MediationLevel.JUDICIAL: MediatorKind.PEOPLES_MEDIATOR,
    }[level or dispute.level]
    assert dispute.station_id is not None
    m = add_mediator(s, dispute.station_id, f"调解员{dispute.id}{kind.value[:3]}", kind)
    mediation.assign(s, SYSTEM, dispute.id, m.id, lead=True)
    return m


def kinds_of(s: Session, dispute_id: int) -> list[str]:
    return [e.kind for e in service.timeline(s, dispute_id)]


def events_of(s: Session, dispute_id: int, kind: str) -> list[DisputeEvent]:
    return [e for e in service.timeline(s, dispute_id) if e.kind == kind]


def audits(s: Session, object_type: str, object_id: int) -> list[AuditEvent]:
    return list(
        s.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
            .order_by(AuditEvent.id)
        )
    )
