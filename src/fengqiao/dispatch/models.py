"""Dispatch: who was sent to which incident, and joint-station reinforcement orders."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fengqiao.db import Base, UTCDateTime, utcnow
from fengqiao.org.models import Person, enum_column


class AssignmentStatus(enum.StrEnum):
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    ARRIVED = "arrived"
    RELEASED = "released"  # done, or withdrawn by a re-dispatch


ACTIVE_ASSIGNMENT = ("dispatched", "accepted", "arrived")


class Assignment(Base):
    """One person sent to one incident. A person has at most one active assignment:
    the database refuses a second, so two concurrent dispatches cannot both succeed."""

    __tablename__ = "assignment"
    __table_args__ = (
        Index(
            "uq_assignment_active_person",
            "person_id",
            unique=True,
            sqlite_where=text("status IN ('dispatched', 'accepted', 'arrived')"),
            postgresql_where=text("status IN ('dispatched', 'accepted', 'arrived')"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    status: Mapped[AssignmentStatus] = mapped_column(enum_column(AssignmentStatus))
    reinforcement_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("reinforcement_request.id"), index=True
    )
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    person: Mapped[Person] = relationship()


class ReinforcementOrder(Base):
    """A joint-station order: "each other community team sends N people"."""

    __tablename__ = "reinforcement_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    joint_station_id: Mapped[int] = mapped_column(ForeignKey("joint_station.id"))
    per_team: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    requests: Mapped[list[ReinforcementRequest]] = relationship(
        back_populates="order", order_by="ReinforcementRequest.id"
    )


class ReinforcementRequest(Base):
    """The order's ask of one station's community team, and that team's answer."""

    __tablename__ = "reinforcement_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("reinforcement_order.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    requested: Mapped[int] = mapped_column(Integer)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    answer: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|declined
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_arrival_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[ReinforcementOrder] = relationship(back_populates="requests")
