"""Disputes (矛盾纠纷). Registered from incidents now; mediation builds on this table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow


class Dispute(Base):
    __tablename__ = "dispute"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), unique=True)
    category_code: Mapped[str | None] = mapped_column(String(8))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("police_grid.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="registered")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
