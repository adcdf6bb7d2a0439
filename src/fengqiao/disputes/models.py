"""Disputes (矛盾纠纷多元化解): the dispute and its parties, the risk of escalation, the
roster of mediators, mediation at three levels with sessions and escalations, the
written agreement (调解协议书) with its signed scan, and the timeline.

A dispute is settled at the lowest level that works: the grid worker and the village
(grid level), then the station with village cadres, a lawyer or a Fengqiao mediator
(station level), then the judicial office or the people's mediation committee (judicial
level). Revisits are follow-ups (tasks.models.FollowUp with ``dispute_id``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow
from fengqiao.org.models import enum_column


class DisputeSource(enum.StrEnum):
    INCIDENT = "incident"  # converted from a call (警情转纠纷)
    VISIT = "visit"  # found on a household visit
    GRID_WORKER = "grid_worker"  # reported by a grid worker
    RESIDENT = "resident"  # a resident came or wrote
    OTHER = "other"


class DisputeStatus(enum.StrEnum):
    REGISTERED = "registered"  # 已登记: not yet taken up
    MEDIATING = "mediating"  # 调解中
    RESOLVED = "resolved"  # 已化解
    UNRESOLVED = "unresolved"  # 调解不成 (guided to a court or arbitration)


OPEN_STATUSES = frozenset({DisputeStatus.REGISTERED, DisputeStatus.MEDIATING})


class MediationLevel(enum.StrEnum):
    GRID = "grid"  # 网格（村）调解: grid worker, village
    STATION = "station"  # 派出所联调: station with cadres, a lawyer, a mediator
    JUDICIAL = "judicial"  # 司法所 / 人民调解委员会


LEVEL_ORDER = (MediationLevel.GRID, MediationLevel.STATION, MediationLevel.JUDICIAL)


class RiskLevel(enum.StrEnum):
    YELLOW = "yellow"  # the grid worker settles it on the spot
    ORANGE = "orange"  # handle the same day
    RED = "red"  # report at once


RISK_RANK = {RiskLevel.YELLOW: 1, RiskLevel.ORANGE: 2, RiskLevel.RED: 3}


class Outcome(enum.StrEnum):
    AGREEMENT = "agreement"  # 达成书面调解协议
    ORAL = "oral"  # 达成口头协议
    RECONCILED = "reconciled"  # 当事人自行和解
    FAILED = "failed"  # 调解不成，引导诉讼或仲裁
    WITHDRAWN = "withdrawn"  # 申请人撤回


RESOLVED_OUTCOMES = frozenset({Outcome.AGREEMENT, Outcome.ORAL, Outcome.RECONCILED})


class PartySide(enum.StrEnum):
    APPLICANT = "applicant"  # 申请人
    RESPONDENT = "respondent"  # 被申请人
    THIRD = "third"  # 第三人


class MediatorKind(enum.StrEnum):
    OFFICER = "officer"  # 民警
    GRID_WORKER = "grid_worker"  # 网格员
    VILLAGE_CADRE = "village_cadre"  # 村（社区）干部
    LAWYER = "lawyer"  # 律师
    FENGQIAO_MEDIATOR = "fengqiao_mediator"  # “枫桥式”调解员
    VOLUNTEER = "volunteer"  # 平安志愿者 / 乡贤
    PEOPLES_MEDIATOR = "peoples_mediator"  # 人民调解员 / 司法所


class DisputeType(Base):
    """A kind of dispute (kept as data: a station may add its own)."""

    __tablename__ = "dispute_type"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    # The incident category a converted call of this kind carries (06xx).
    incident_category_code: Mapped[str | None] = mapped_column(String(8))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Dispute(Base):
    __tablename__ = "dispute"
    __table_args__ = (Index("ix_dispute_station_status", "station_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    # A client's key for the registration: a retried form adds nothing.
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), unique=True)
    category_code: Mapped[str | None] = mapped_column(String(8))
    source: Mapped[DisputeSource] = mapped_column(
        enum_column(DisputeSource), default=DisputeSource.INCIDENT
    )
    type_code: Mapped[str] = mapped_column(String(16), default="other", index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text, default="")  # the facts as found
    place: Mapped[str] = mapped_column(String(200), default="")
    address_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("police_grid.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"), index=True)
    found_on: Mapped[date | None] = mapped_column(Date, index=True)
    # The risk checklist as answered, and the level it gives (or a raised one).
    risk_answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    risk_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel), default=RiskLevel.YELLOW)
    level: Mapped[MediationLevel] = mapped_column(
        enum_column(MediationLevel), default=MediationLevel.GRID
    )
    status: Mapped[DisputeStatus] = mapped_column(
        enum_column(DisputeStatus), default=DisputeStatus.REGISTERED
    )
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_level: Mapped[MediationLevel | None] = mapped_column(enum_column(MediationLevel))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # The last incident id looked at for later incidents (each look reads only newer ones).
    links_checked_id: Mapped[int] = mapped_column(Integer, default=0)
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responsible_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DisputeParty(Base):
    """One party: a person or an organisation (an employer in a wage dispute)."""

    __tablename__ = "dispute_party"
    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("dispute.id", ondelete="CASCADE"), index=True
    )
    side: Mapped[PartySide] = mapped_column(enum_column(PartySide))
    name: Mapped[str] = mapped_column(String(100))
    is_organisation: Mapped[bool] = mapped_column(Boolean, default=False)
    gender: Mapped[str | None] = mapped_column(String(8))  # male / female
    id_number: Mapped[str | None] = mapped_column(String(18))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"))
    # Elderly, minor, disabled, pregnant, mental illness: shown to the mediator.
    vulnerable: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Mediator(Base):
    """The roster: who can mediate, at which levels, for which kinds of dispute, when."""

    __tablename__ = "mediator"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    kind: Mapped[MediatorKind] = mapped_column(enum_column(MediatorKind))
    organisation: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    # Dispute type codes the mediator is good at; levels they serve at.
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    levels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Weekdays available (0 = Monday) and away until a day (leave, court days).
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    away_until: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DisputeMediator(Base):
    """A mediator taking part in a dispute at a level (lead or member)."""

    __tablename__ = "dispute_mediator"
    __table_args__ = (UniqueConstraint("dispute_id", "mediator_id", "level"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("dispute.id", ondelete="CASCADE"), index=True
    )
    mediator_id: Mapped[int] = mapped_column(ForeignKey("mediator.id"), index=True)
    level: Mapped[MediationLevel] = mapped_column(enum_column(MediationLevel))
    lead: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MediationSession(Base):
    """One sitting: when, where, who, what was said and where it stands."""

    __tablename__ = "mediation_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("dispute.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[MediationLevel] = mapped_column(enum_column(MediationLevel))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200), default="")
    mediator_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    attendees: Mapped[str] = mapped_column(String(400), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MediationAgreement(Base):
    """The written agreement (调解协议书). The parties and mediators are copied as they
    stood when it was drawn up; the signed scan is attached to it."""

    __tablename__ = "mediation_agreement"
    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("dispute.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(40), unique=True)
    level: Mapped[MediationLevel] = mapped_column(enum_column(MediationLevel))
    facts: Mapped[str] = mapped_column(Text)
    terms: Mapped[list[str]] = mapped_column(JSON)
    performance: Mapped[str] = mapped_column(Text, default="")  # how and by when
    parties: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    mediators: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    organisation: Mapped[str] = mapped_column(String(100))  # who mediated (the station …)
    signed_on: Mapped[date] = mapped_column(Date)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    scan_data: Mapped[bytes | None] = mapped_column(LargeBinary)
    scan_content_type: Mapped[str | None] = mapped_column(String(40))
    scan_sha256: Mapped[str | None] = mapped_column(String(64))
    scan_bytes: Mapped[int | None] = mapped_column(BigInteger)
    scan_uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DisputeEvent(Base):
    """The timeline: registration, risk, mediators, sessions, escalations, outcome,
    agreement, revisits, re-opening, linked incidents."""

    __tablename__ = "dispute_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("dispute.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    level: Mapped[MediationLevel | None] = mapped_column(enum_column(MediationLevel))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DisputeIncident(Base):
    """A later incident at the same place or between the same parties."""

    __tablename__ = "dispute_incident"
    __table_args__ = (UniqueConstraint("dispute_id", "incident_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(
        ForeignKey("dispute.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    reasons: Mapped[list[str]] = mapped_column(JSON)  # same_place / same_party
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
