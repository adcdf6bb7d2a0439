"""The station's local time: China Standard Time (UTC+8, no daylight saving)."""

from __future__ import annotations

from datetime import timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "CST")
