"""Anti-fraud early warning (反诈预警): warnings as received, the dissuasion orders they
become, the calls of warning officers, the timeline of each order, and batch files.

A warning is what the anti-fraud centre sent, kept as received (one row per warning,
unique by its source and key, so a retry or a second upload adds nothing). Warnings for
one person within the merge window share one order; the order carries the match (which
rule found the grid, with what confidence), the deadlines, escalation and the outcome.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow
from fengqiao.org.models import enum_column


class WarningType(enum.StrEnum):
    SCAM_CALL = "scam_call"  # receiving a suspected scam call now (正在通话)
    SCAM_APP = "scam_app"  # a scam app installed (涉诈APP)
    SUSPICIOUS_TRANSFER = "suspicious_transfer"  # about to transfer, or transferring
    AT_RISK = "at_risk"  # belongs to a group at risk (易受骗群体)


class WarningLevel(enum.StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"


LEVEL_RANK: dict[WarningLevel, int] = {
    WarningLevel.URGENT: 3,
    WarningLevel.HIGH: 2,
    WarningLevel.NORMAL: 1,
}


class Channel(enum.StrEnum):
    API = "api"
    BATCH = "batch"
    MANUAL = "manual"


class MatchStep(enum.StrEnum):
    """The fall-back chain, best first; the step that placed an order is kept with it."""

    ADDRESS = "address"  # the standard address in the registry
    RESIDENT = "resident"  # the person in the registry (ID number or phone)
    POINT = "point"  # the position sent with the warning
    FUZZY = "fuzzy"  # a road or compound named alike
    COMMUNITY = "community"  # the community's centre
    STATION = "station"  # the station of the street or town
    NONE = "none"  # nothing: the command room places it


class OrderStatus(enum.StrEnum):
    QUEUED = "queued"  # no responsible person yet: waits in the command room
    OPEN = "open"  # sent to the grid's responsible person
    CONTACTED = "contacted"  # the person was reached; outcome to follow
    CLOSED = "closed"


class Outcome(enum.StrEnum):
    DISSUADED = "dissuaded"
    MONEY_LOST = "money_lost"  # already defrauded: becomes an incident
    UNREACHABLE = "unreachable"
    FALSE_ALARM = "false_alarm"
    NOT_IN_AREA = "not_in_area"


class ContactMethod(enum.StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    VIDEO = "video"
    SMS = "sms"


class CallResult(enum.StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REFUSED = "refused"
    WRONG_NUMBER = "wrong_number"


class BatchStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class FraudBatch(Base):
    """One uploaded file of warnings and what became of its rows."""

    __tablename__ = "fraud_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[BatchStatus] = mapped_column(enum_column(BatchStatus))
    rows: Mapped[int] = mapped_column(Integer, default=0)  # data rows read so far
    accepted: Mapped[int] = mapped_column(Integer, default=0)  # new warnings stored
    duplicates: Mapped[int] = mapped_column(Integer, default=0)  # already received
    rejected: Mapped[int] = mapped_column(Integer, default=0)  # rows with errors
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # empty lines
    queued: Mapped[int] = mapped_column(Integer, default=0)  # new orders without a person
    orders: Mapped[int] = mapped_column(Integer, default=0)  # new orders
    merged: Mapped[int] = mapped_column(Integer, default=0)  # warnings added to an order
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    timings: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FraudBatchProblem(Base):
    """A row of a batch that was not taken (error) or was taken but needs a person
    (notice), with the row as it was read so that nothing is lost."""

    __tablename__ = "fraud_batch_problem"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    batch_id: Mapped[int] = mapped_column(ForeignKey("fraud_batch.id"), index=True)
    row_no: Mapped[int] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(8))  # error | notice
    field: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)


CONTACT_WATCH = "contacted_at IS NULL AND escalation < 1 AND status <> 'closed'"
VISIT_WATCH = (
    "visited_at IS NULL AND visit_due_at IS NOT NULL AND escalation < 2 AND status <> 'closed'"
)


class FraudOrder(Base):
    """A point-to-point dissuasion order (劝阻指令) for one person."""

    __tablename__ = "fraud_order"
    __table_args__ = (
        Index("ix_fraud_order_status_contact_due", "status", "contact_due_at"),
        Index("ix_fraud_order_station_created", "station_id", "created_at"),
        Index("ix_fraud_order_assignee_status", "assignee_id", "status"),
        # The deadline watch reads only the orders still waiting for a contact or visit.
        Index(
            "ix_fraud_order_contact_watch",
            "contact_due_at",
            sqlite_where=text(CONTACT_WATCH),
            postgresql_where=text(CONTACT_WATCH),
        ),
        Index(
            "ix_fraud_order_visit_watch",
            "visit_due_at",
            sqlite_where=text(VISIT_WATCH),
            postgresql_where=text(VISIT_WATCH),
        ),
    )
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    # The person while the order takes repeats; cleared when it closes or its window
    # has passed. Unique: one order per person takes repeats at a time.
    merge_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    person_key: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(18))
    address_text: Mapped[str | None] = mapped_column(String(300))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    warning_type: Mapped[WarningType] = mapped_column(enum_column(WarningType))
    level: Mapped[WarningLevel] = mapped_column(enum_column(WarningLevel))
    warning_count: Mapped[int] = mapped_column(Integer, default=1)
    first_warning_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_warning_at: Mapped[datetime] = mapped_column(UTCDateTime)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("police_grid.id"), index=True)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    match_step: Mapped[MatchStep] = mapped_column(enum_column(MatchStep))
    match_confidence: Mapped[float] = mapped_column(Float)
    # The rule that matched, in data (PIPL art. 24): step, normalised address, node,
    # score; shown translated on the order page.
    match_detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus), index=True)
    contact_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    visit_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_method: Mapped[ContactMethod | None] = mapped_column(enum_column(ContactMethod))
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 0 none; 1 the contact deadline passed; 2 the visit deadline passed.
    escalation: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    money_saved: Mapped[int] = mapped_column(BigInteger, default=0)  # yuan
    money_lost: Mapped[int] = mapped_column(BigInteger, default=0)  # yuan
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_up.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FraudWarning(Base):
    """One warning as the centre sent it."""

    __tablename__ = "fraud_warning"
    __table_args__ = (UniqueConstraint("source", "external_key"),)
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(40))
    # The centre's own id of the warning, or a digest of its content when it has none.
    external_key: Mapped[str] = mapped_column(String(100))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("fraud_batch.id"), index=True)
    row_no: Mapped[int | None] = mapped_column(Integer)
    warning_type: Mapped[WarningType] = mapped_column(enum_column(WarningType))
    level: Mapped[WarningLevel] = mapped_column(enum_column(WarningLevel))
    warned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    name: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(18))
    address_text: Mapped[str | None] = mapped_column(String(300))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, default="")  # e.g. the scam number, the app
    order_id: Mapped[int] = mapped_column(ForeignKey("fraud_order.id"), index=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class FraudOrderEvent(Base):
    """One step of an order after it was made: merged, assigned, called, contacted,
    visited, escalated, outcome, reopened."""

    __tablename__ = "fraud_order_event"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    order_id: Mapped[int] = mapped_column(ForeignKey("fraud_order.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FraudCall(Base):
    """A call made about an order (warning officer or grid officer)."""

    __tablename__ = "fraud_call"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("fraud_order.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    called: Mapped[str] = mapped_column(String(20))  # person | relative | other
    result: Mapped[CallResult] = mapped_column(enum_column(CallResult))
    duration_s: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    # Sent by the phone (offline retries): stored once.
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)
