"""The station's local time: China Standard Time (UTC+8, no daylight saving)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "CST")


def local_day(at: datetime) -> date:
    """The station's calendar day of a UTC instant."""
    return at.astimezone(CHINA_TZ).date()


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of a local (China) wall-clock time on ``day``."""
    return datetime.combine(day, time(hour, minute), tzinfo=CHINA_TZ).astimezone(UTC)
