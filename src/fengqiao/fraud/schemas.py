"""Shapes of the anti-fraud API. Personal numbers go out masked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from fengqiao.fraud.models import (
    CallResult,
    ContactMethod,
    FraudBatch,
    FraudOrder,
    MatchStep,
    OrderStatus,
    Outcome,
    WarningLevel,
    WarningType,
)
from fengqiao.privacy import mask_id_number, mask_name, mask_phone


class WarningIn(BaseModel):
    """One warning as an anti-fraud centre pushes it. ``external_id`` (the centre's own
    id) makes a retry harmless; without it a digest of the content does."""

    external_id: str | None = Field(default=None, max_length=90)
    source: str = Field(default="centre", min_length=1, max_length=40)
    type: WarningType
    level: WarningLevel = WarningLevel.NORMAL
    warned_at: datetime | None = None
    name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=30)
    id_number: str | None = Field(default=None, max_length=30)
    address: str | None = Field(default=None, max_length=300)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    detail: str | None = Field(default=None, max_length=1000)


class ReceivedOut(BaseModel):
    order_id: int
    duplicate: bool
    merged: bool
    queued: bool
    step: MatchStep | None
    confidence: float | None
    assignee_id: int | None


class AssignIn(BaseModel):
    person_id: int
    grid_id: int | None = None


class CallIn(BaseModel):
    called: str = Field(default="person", pattern="^(person|relative|other)$")
    result: CallResult
    duration_s: int = Field(default=0, ge=0, le=86400)
    note: str = Field(default="", max_length=2000)
    client_key: str | None = Field(default=None, min_length=8, max_length=64)


class ContactIn(BaseModel):
    method: ContactMethod


class OutcomeIn(BaseModel):
    outcome: Outcome
    method: ContactMethod | None = None
    money_saved: int = Field(default=0, ge=0, le=10_000_000_000)
    money_lost: int = Field(default=0, ge=0, le=10_000_000_000)
    note: str = Field(default="", max_length=2000)


class ReopenIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class OrderOut(BaseModel):
    id: int
    status: OrderStatus
    level: WarningLevel
    warning_type: WarningType
    warning_count: int
    name: str
    phone: str
    id_number: str
    address_text: str | None
    station_id: int | None
    grid_id: int | None
    assignee_id: int | None
    match_step: MatchStep
    match_confidence: float
    match_detail: dict[str, Any]
    first_warning_at: datetime
    last_warning_at: datetime
    created_at: datetime
    contact_due_at: datetime
    visit_due_at: datetime | None
    contacted_at: datetime | None
    contact_method: ContactMethod | None
    visited_at: datetime | None
    escalation: int
    outcome: Outcome | None
    money_saved: int
    money_lost: int
    incident_id: int | None
    follow_up_id: int | None

    @classmethod
    def of(cls, order: FraudOrder) -> OrderOut:
        return cls(
            id=order.id,
            status=order.status,
            level=order.level,
            warning_type=order.warning_type,
            warning_count=order.warning_count,
            name=mask_name(order.name),
            phone=mask_phone(order.phone),
            id_number=mask_id_number(order.id_number),
            address_text=order.address_text,
            station_id=order.station_id,
            grid_id=order.grid_id,
            assignee_id=order.assignee_id,
            match_step=order.match_step,
            match_confidence=order.match_confidence,
            match_detail=order.match_detail,
            first_warning_at=order.first_warning_at,
            last_warning_at=order.last_warning_at,
            created_at=order.created_at,
            contact_due_at=order.contact_due_at,
            visit_due_at=order.visit_due_at,
            contacted_at=order.contacted_at,
            contact_method=order.contact_method,
            visited_at=order.visited_at,
            escalation=order.escalation,
            outcome=order.outcome,
            money_saved=order.money_saved,
            money_lost=order.money_lost,
            incident_id=order.incident_id,
            follow_up_id=order.follow_up_id,
        )


class BatchOut(BaseModel):
    id: int
    status: str
    source: str
    filename: str
    rows: int
    accepted: int
    duplicates: int
    rejected: int
    skipped: int
    orders: int
    queued: int
    merged: int
    seconds: float
    timings: dict[str, float]
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, batch: FraudBatch) -> BatchOut:
        return cls(
            id=batch.id,
            status=batch.status.value,
            source=batch.source,
            filename=batch.filename,
            rows=batch.rows,
            accepted=batch.accepted,
            duplicates=batch.duplicates,
            rejected=batch.rejected,
            skipped=batch.skipped,
            orders=batch.orders,
            queued=batch.queued,
            merged=batch.merged,
            seconds=batch.seconds,
            timings=batch.timings or {},
            error=batch.error,
            created_at=batch.created_at,
            finished_at=batch.finished_at,
        )
