"""Publicity to residents: each grid's resident groups (警民群) and the notices pushed
to them, one delivery per group with its channel, status and reach."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow
from fengqiao.org.models import enum_column


class ChannelKind(enum.StrEnum):
    IN_APP = "in_app"  # the grid's notice board in the app
    WEBHOOK = "webhook"  # a group-chat bot (WeCom / DingTalk style)
    LOCAL = "local"  # a file on this server (development)


class WebhookStyle(enum.StrEnum):
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    PLAIN = "plain"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt


class ResidentGroup(Base):
    """A group of residents of one grid reached through one channel."""

    __tablename__ = "resident_group"
    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("police_grid.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[ChannelKind] = mapped_column(enum_column(ChannelKind))
    style: Mapped[WebhookStyle | None] = mapped_column(enum_column(WebhookStyle))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    secret: Mapped[str | None] = mapped_column(String(200))  # DingTalk signing secret
    members: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notice(Base):
    """A warning message for residents (no personal data)."""

    __tablename__ = "notice"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    # Sent by the client: a retried post makes no second notice.
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class NoticeDelivery(Base):
    __tablename__ = "notice_delivery"
    __table_args__ = (UniqueConstraint("notice_id", "group_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("resident_group.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("police_grid.id"), index=True)
    channel: Mapped[ChannelKind] = mapped_column(enum_column(ChannelKind))
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reach: Mapped[int] = mapped_column(Integer, default=0)  # members when sent
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # In-app notices read on the board (page views, counted without who read them).
    views: Mapped[int] = mapped_column(Integer, default=0)
