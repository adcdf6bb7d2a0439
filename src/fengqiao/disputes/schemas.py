"""What the dispute API and forms take and give."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from fengqiao.disputes.models import (
    DisputeSource,
    MediationLevel,
    MediatorKind,
    Outcome,
    PartySide,
)


class PartyIn(BaseModel):
    side: PartySide
    name: str = Field(min_length=1, max_length=100)
    is_organisation: bool = False
    gender: str | None = None  # male / female
    id_number: str | None = None
    phone: str | None = None
    address: str = Field(default="", max_length=200)
    vulnerable: bool = False


class DisputeIn(BaseModel):
    type_code: str = "other"
    title: str = Field(default="", max_length=200)
    summary: str = Field(default="", max_length=5000)
    source: DisputeSource = DisputeSource.OTHER
    place: str = Field(default="", max_length=200)
    address_id: int | None = None
    lon: float | None = None
    lat: float | None = None
    grid_id: int | None = None
    found_on: date | None = None
    parties: list[PartyIn] = Field(default_factory=list, max_length=30)
    risk: dict[str, Any] = Field(default_factory=dict)
    client_key: str | None = Field(default=None, max_length=64)


class RiskIn(BaseModel):
    risk: dict[str, Any]
    raise_to: str | None = None  # a level above the checklist's, with a reason
    reason: str = Field(default="", max_length=500)


class SessionIn(BaseModel):
    held_at: datetime | None = None
    place: str = Field(default="", max_length=200)
    mediator_ids: list[int] = Field(default_factory=list, max_length=20)
    attendees: str = Field(default="", max_length=400)
    notes: str = Field(default="", max_length=10000)
    client_key: str | None = Field(default=None, max_length=64)


class EscalateIn(BaseModel):
    to: MediationLevel
    reason: str = Field(default="", max_length=1000)


class OutcomeIn(BaseModel):
    outcome: Outcome
    note: str = Field(default="", max_length=2000)


class ReopenIn(BaseModel):
    reason: str = Field(default="", max_length=1000)


class AgreementIn(BaseModel):
    facts: str = Field(min_length=1, max_length=10000)
    terms: list[str] = Field(min_length=1, max_length=30)
    performance: str = Field(default="", max_length=2000)
    signed_on: date | None = None


class MediatorIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    kind: MediatorKind
    person_id: int | None = None
    organisation: str = Field(default="", max_length=100)
    phone: str | None = None
    skills: list[str] = Field(default_factory=list, max_length=20)
    levels: list[MediationLevel] = Field(default_factory=list, max_length=3)
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], max_length=7)
    away_until: date | None = None
    active: bool = True
    note: str = Field(default="", max_length=200)
    station_id: int | None = None


class AssignIn(BaseModel):
    mediator_id: int
    lead: bool = False


class DisputeOut(BaseModel):
    id: int
    number: str
    type_code: str
    title: str
    status: str
    level: str
    risk_level: str
    outcome: str | None
    grid_id: int | None
    station_id: int | None
    found_on: date | None
    reopen_count: int
    incident_id: int | None
    parties: list[dict[str, Any]]
