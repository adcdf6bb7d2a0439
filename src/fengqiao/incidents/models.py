"""Incidents (警情): categories, the incident with its timeline, routing rules and decisions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fengqiao.db import Base, UTCDateTime, utcnow
from fengqiao.org.models import enum_column


class Channel(enum.StrEnum):
    TRANSFER_110 = "transfer_110"
    PHONE = "phone"
    WALK_IN = "walk_in"
    ONLINE = "online"
    DOORPLATE_QR = "doorplate_qr"
    ENTERPRISE_LINE = "enterprise_line"


class Priority(enum.StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"


class IncidentStatus(enum.StrEnum):
    RECEIVED = "received"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    ARRIVED = "arrived"
    HANDLED = "handled"
    CLOSED = "closed"


class Disposition(enum.StrEnum):
    SETTLED = "settled"
    CASE = "case"
    DISPUTE = "dispute"
    REFERRED = "referred"
    NO_ACTION = "no_action"


class RouteAction(enum.StrEnum):
    GRID_OFFICER = "grid_officer"
    CASE_TEAM = "case_team"
    NEAREST_AVAILABLE = "nearest_available"
    COMMAND_ROOM = "command_room"


class IncidentCategory(Base):
    """Two-level classification; a second-level code starts with its parent's code."""

    __tablename__ = "incident_category"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("incident_category.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(80))
    is_case: Mapped[bool] = mapped_column(Boolean, default=False)
    is_emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    default_priority: Mapped[Priority] = mapped_column(enum_column(Priority))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Incident(Base):
    """A call or report. Its display number (JQ + date + id) is derived, not stored."""

    __tablename__ = "incident"
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    category_id: Mapped[int] = mapped_column(ForeignKey("incident_category.id"), index=True)
    priority: Mapped[Priority] = mapped_column(enum_column(Priority))
    status: Mapped[IncidentStatus] = mapped_column(enum_column(IncidentStatus), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(String(200))
    reporter_name: Mapped[str | None] = mapped_column(String(50))
    reporter_phone: Mapped[str | None] = mapped_column(String(20))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    # Placement at the time of the incident; kept when grids are redrawn later.
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("police_grid.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("police_district.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"), index=True)
    responsible_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False)
    disposition: Mapped[Disposition | None] = mapped_column(enum_column(Disposition))
    disposition_note: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    category: Mapped[IncidentCategory] = relationship()


class IncidentEvent(Base):
    """One step of an incident's timeline."""

    __tablename__ = "incident_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))  # status | routed | dispatch | note | alert
    status: Mapped[IncidentStatus | None] = mapped_column(enum_column(IncidentStatus))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(Text, default="")


class RoutingRule(Base):
    """First-responder routing, evaluated by ``position``; the first matching rule wins.
    Empty match fields match anything."""

    __tablename__ = "routing_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category_prefix: Mapped[str | None] = mapped_column(String(8))
    match_case: Mapped[bool | None] = mapped_column(Boolean)
    match_emergency: Mapped[bool | None] = mapped_column(Boolean)
    match_priority: Mapped[Priority | None] = mapped_column(enum_column(Priority))
    action: Mapped[RouteAction] = mapped_column(enum_column(RouteAction))
    units: Mapped[int] = mapped_column(Integer, default=1)
    alert_command_room: Mapped[bool] = mapped_column(Boolean, default=False)
    # Off: the rule only proposes people and the command room confirms the dispatch.
    auto_dispatch: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RoutingDecision(Base):
    """Why an incident went to whom: the rule, the fall-back step, the reason in words."""

    __tablename__ = "routing_decision"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    # grid | district | station | joint_station | nearest | none
    step: Mapped[str] = mapped_column(String(24))
    # A proposal waits for the command room to confirm the dispatch.
    proposed_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # An English message id and its parameters, translated when shown.
    reason: Mapped[str] = mapped_column(Text)
    params: Mapped[str] = mapped_column(Text, default="{}")


class CaseRecord(Base):
    """A case opened from an incident (转案件); the case-handling module builds on it."""

    __tablename__ = "case_record"
    __table_args__ = (UniqueConstraint("incident_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
