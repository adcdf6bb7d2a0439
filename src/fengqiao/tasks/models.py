"""Task tables: tasks with their evidence and results, follow-ups waiting to fall due,
and one run record per grid and day that makes the daily generation exactly-once."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow
from fengqiao.org.models import enum_column


class TaskKind(enum.StrEnum):
    PATROL = "patrol"  # 巡逻 of a hotspot
    HOUSEHOLD_VISIT = "household_visit"  # 入户走访
    INSPECTION = "inspection"  # 重点场所检查
    DISPUTE_FOLLOW_UP = "dispute_follow_up"  # 纠纷回访
    FRAUD_DISSUASION = "fraud_dissuasion"  # 反诈劝阻
    HAZARD_CHECK = "hazard_check"  # 隐患排查
    SCHOOL_GATE = "school_gate"  # 护校安园
    CUSTOM = "custom"


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    CHECKED_IN = "checked_in"
    DONE = "done"
    CANCELLED = "cancelled"


class TaskSource(enum.StrEnum):
    FOLLOW_UP = "follow_up"
    INSPECTION = "inspection"
    HOTSPOT = "hotspot"
    VISIT = "visit"
    SCHOOL_GATE = "school_gate"
    AD_HOC = "ad_hoc"
    FRAUD_ORDER = "fraud_order"


class FollowUpStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its day
    SCHEDULED = "scheduled"  # a task has been made for it
    DONE = "done"
    CANCELLED = "cancelled"


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_assignee_day", "assignee_id", "day"),
        Index("ix_task_grid_day", "grid_id", "day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("police_grid.id"))
    kind: Mapped[TaskKind] = mapped_column(enum_column(TaskKind))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    # What the task is about: grid / address / establishment / resident (+ id), and
    # its label as shown (names masked) so that lists need no joins.
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int | None] = mapped_column(Integer)
    target_label: Mapped[str] = mapped_column(String(400))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    day: Mapped[date] = mapped_column(Date, index=True)  # the working day (China time)
    due_from: Mapped[datetime] = mapped_column(UTCDateTime)
    due_by: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    priority: Mapped[int] = mapped_column(Integer)  # 1 urgent … 4 low
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    status: Mapped[TaskStatus] = mapped_column(enum_column(TaskStatus), index=True)
    source: Mapped[TaskSource] = mapped_column(enum_column(TaskSource))
    # Rule-made tasks carry a key naming what they were made from; a second run of a
    # rule cannot make the same task twice.
    source_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_up.id"))
    checklist: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Evidence: the check-in (browser geolocation) and the completion.
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_in_lon: Mapped[float | None] = mapped_column(Float)
    check_in_lat: Mapped[float | None] = mapped_column(Float)
    check_in_accuracy_m: Mapped[float | None] = mapped_column(Float)
    check_in_inside_grid: Mapped[bool | None] = mapped_column(Boolean)
    check_in_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    completion_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    households_visited: Mapped[int] = mapped_column(Integer, default=0)
    leads: Mapped[int] = mapped_column(Integer, default=0)
    hazards: Mapped[int] = mapped_column(Integer, default=0)


class FollowUp(Base):
    """A visit that falls due on a day (after a dispute, a visit, a fraud warning); the
    daily job turns it into a task on that day."""

    __tablename__ = "follow_up"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TaskKind] = mapped_column(enum_column(TaskKind))
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("police_grid.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int | None] = mapped_column(Integer)
    target_label: Mapped[str] = mapped_column(String(400))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[FollowUpStatus] = mapped_column(enum_column(FollowUpStatus), index=True)
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("dispute.id"), index=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TaskRun(Base):
    """The daily generation of one grid on one day. Written in the same transaction as
    the tasks it made; the unique key lets only one scheduler win."""

    __tablename__ = "task_run"
    __table_args__ = (UniqueConstraint("grid_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("police_grid.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    runner: Mapped[str] = mapped_column(String(80))
    caught_up: Mapped[bool] = mapped_column(Boolean, default=False)
    tasks_created: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
