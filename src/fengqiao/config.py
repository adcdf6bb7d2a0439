"""Settings read from environment variables prefixed ``FENGQIAO_``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Language = Literal["zh_CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh_CN", "en")


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``FENGQIAO_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="FENGQIAO_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///fengqiao.db",
        description="SQLAlchemy URL: sqlite:///path.db (embedded) or postgresql+psycopg://...",
    )
    secret_key: str = Field(default="", description="Key for signing cookies; random when empty")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    language: Language = "zh_CN"
    session_idle_minutes: int = Field(default=30, ge=1, le=30)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    secure_cookies: bool = False
    demo_password: str = ""
    demo_stream: bool = Field(default=False, description="Keep synthetic calls flowing (demo)")
    speed_urban_kmh: float = Field(default=30.0, gt=0, le=200)
    speed_rural_kmh: float = Field(default=45.0, gt=0, le=200)
    road_factor: float = Field(default=1.3, ge=1.0, le=3.0)
    live_keepalive_seconds: float = Field(default=15.0, gt=0, le=60)
    overdue_dispatch_minutes: int = Field(default=5, ge=1)
    overdue_arrival_minutes: int = Field(default=30, ge=1)
    sql_echo: bool = False
    public_url: str = Field(
        default="",
        description="Address the phones reach the app at (for QR doorplates); the request's own when empty",
    )
    task_scheduler: bool = Field(default=True, description="Run the daily task job in this process")
    task_generation_hour: int = Field(
        default=6, ge=0, le=23, description="Local hour of the daily job"
    )
    task_catch_up_days: int = Field(default=3, ge=0, le=31)
    task_visits_per_grid: int = Field(default=6, ge=0, le=50)
    task_check_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Anti-fraud orders: minutes to the first contact and to the home visit by level
    # (JSON in the environment, e.g. FENGQIAO_FRAUD_CONTACT_MINUTES='{"urgent": 5}').
    fraud_contact_minutes: dict[str, int] = Field(
        default={"urgent": 5, "high": 30, "normal": 1440},
        description="Minutes to the first contact, by level (urgent, high, normal)",
    )
    fraud_visit_minutes: dict[str, int] = Field(
        default={"urgent": 30, "high": 240},
        description="Minutes to the home visit, by level; a level left out needs no visit",
    )
    fraud_merge_hours: float = Field(
        default=72.0, gt=0, le=24 * 31, description="Repeats for one person within this merge"
    )
    fraud_follow_up_days: int = Field(
        default=7, ge=1, le=90, description="Days to the follow-up visit of a high-risk person"
    )
    fraud_escalation: bool = Field(
        default=True, description="Watch fraud deadlines and escalate in this process"
    )
    fraud_check_seconds: float = Field(default=15.0, gt=0, le=600)
    notify_sink_dir: str = Field(
        default="notices-outbox", description="Folder of the local notice channel (development)"
    )
    notify_webhook_hosts: str = Field(
        default="qyapi.weixin.qq.com,oapi.dingtalk.com",
        description="Hosts group-chat webhooks may point at (comma-separated)",
    )
    notify_sender: bool = Field(default=True, description="Send pending notices in this process")
    notify_check_seconds: float = Field(default=5.0, gt=0, le=600)

    dispute_follow_up_days: dict[str, list[int]] = Field(
        default={"red": [3, 7, 15, 30], "orange": [7, 30], "yellow": [15]},
        description="Days after resolution of each revisit, by risk level (red, orange, yellow)",
    )
    pdf_font: str = Field(
        default="",
        description="A TrueType/OpenType font with Chinese glyphs for PDFs (found when empty)",
    )

    @field_validator("dispute_follow_up_days")
    @classmethod
    def _check_revisits(cls, value: dict[str, list[int]]) -> dict[str, list[int]]:
        wrong = sorted(set(value) - {"red", "orange", "yellow"})
        if wrong:
            raise ValueError(
                f"unknown risk level(s) {wrong}: use red, orange, yellow "
                "(未知风险等级，可用 red/orange/yellow)"
            )
        if any(not 1 <= d <= 365 for days in value.values() for d in days):
            raise ValueError("days must be between 1 and 365 (天数须在 1 到 365 之间)")
        return {level: sorted(set(days)) for level, days in value.items()}

    @field_validator("fraud_contact_minutes", "fraud_visit_minutes")
    @classmethod
    def _check_deadlines(cls, value: dict[str, int]) -> dict[str, int]:
        levels = {"urgent", "high", "normal"}
        wrong = sorted(set(value) - levels)
        if wrong:
            raise ValueError(
                f"unknown level(s) {wrong}: use urgent, high, normal (未知等级，可用 urgent/high/normal)"
            )
        if any(not 1 <= minutes <= 60 * 24 * 30 for minutes in value.values()):
            raise ValueError("minutes must be between 1 and 43200 (分钟数须在 1 到 43200 之间)")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError(
                "must start with sqlite:/// or postgresql+psycopg:// "
                "(例如 sqlite:///fengqiao.db 或 postgresql+psycopg://user:pw@host/db)"
            )
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        raw = self.database_url.split("///", 1)[1] if "///" in self.database_url else ""
        return Path(raw) if raw and raw != ":memory:" else None


class SettingsError(Exception):
    """A configuration value is wrong; the message names the variable and the fix."""


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's errors into one message per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # overrides are validated here
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "FENGQIAO_" + str(err["loc"][0]).upper() if err["loc"] else "FENGQIAO_?"
            lines.append(f"配置错误 Invalid setting {name}={err.get('input')!r}: {err['msg']}")
        raise SettingsError("\n".join(lines)) from None
