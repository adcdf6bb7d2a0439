"""Checking one warning as sent (API, form, file row): each field normalised, the
first wrong one named (:class:`FieldProblem`); the result (:class:`Incoming`) carries
the keys that make a retry harmless and that group one person's repeats."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fengqiao.clock import CHINA_TZ
from fengqiao.db import utcnow
from fengqiao.fraud.models import WarningLevel, WarningType
from fengqiao.i18n import _
from fengqiao.registry.identity import normalise_id_number, normalise_phone
from fengqiao.registry.parsing import AddressParseError, ParsedAddress, parse_address

MAX_TEXT = {"name": 50, "address": 300, "detail": 1000, "source": 40, "external_id": 90}


class FieldProblem(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Incoming:
    """One checked warning."""

    source: str
    external_key: str
    warning_type: WarningType
    level: WarningLevel
    warned_at: datetime
    name: str | None
    phone: str | None
    id_number: str | None
    address_text: str | None
    parsed: ParsedAddress | None
    lon: float | None
    lat: float | None
    detail: str
    person_key: str
    batch_id: int | None = None
    row_no: int | None = None


def _digest(*parts: object) -> str:
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _text(raw: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    text = " ".join(str(value).split())
    if len(text) > limit:
        raise FieldProblem(
            name, _("Too long: at most {n} characters are kept; shorten it.").format(n=limit)
        )
    return text or None


def _choice(raw: Mapping[str, Any], name: str, kind: type[Any], default: Any = None) -> Any:
    value = raw.get(name)
    if value is None or str(value).strip() == "":
        if default is not None:
            return default
        raise FieldProblem(name, _("Missing: give one of {choices}.").format(choices=_values(kind)))
    text = str(value).strip()
    found = _ALIASES.get(kind, {}).get(text) or _ALIASES.get(kind, {}).get(text.lower())
    if found is None:
        found = next((m for m in kind if text.lower() in (m.value, m.name.lower())), None)
    if found is None:
        raise FieldProblem(
            name,
            _("“{value}” is not a known value: use one of {choices}.").format(
                value=value, choices=_values(kind)
            ),
        )
    return found


def _values(kind: type[Any]) -> str:
    """The values and the Chinese words accepted for them."""
    words = [w for w in _ALIASES.get(kind, {}) if not w.isascii()]
    return ", ".join([*(m.value for m in kind), *words])


# Chinese words the centres use in their files.
_ALIASES: dict[type[Any], dict[str, Any]] = {
    WarningType: {
        "正在通话": WarningType.SCAM_CALL,
        "涉诈电话": WarningType.SCAM_CALL,
        "疑似诈骗来电": WarningType.SCAM_CALL,
        "涉诈APP": WarningType.SCAM_APP,
        "涉诈app": WarningType.SCAM_APP,
        "安装涉诈APP": WarningType.SCAM_APP,
        "可疑转账": WarningType.SUSPICIOUS_TRANSFER,
        "可疑交易": WarningType.SUSPICIOUS_TRANSFER,
        "易受骗群体": WarningType.AT_RISK,
        "高危人群": WarningType.AT_RISK,
    },
    WarningLevel: {
        "紧急": WarningLevel.URGENT,
        "高": WarningLevel.HIGH,
        "高风险": WarningLevel.HIGH,
        "中": WarningLevel.NORMAL,
        "中风险": WarningLevel.NORMAL,
        "低": WarningLevel.NORMAL,
        "低风险": WarningLevel.NORMAL,
        "一般": WarningLevel.NORMAL,
    },
}


def _when(raw: Mapping[str, Any], now: datetime) -> datetime:
    value = raw.get("warned_at")
    if value is None or value == "":
        return now
    if isinstance(value, datetime):
        at = value
    else:
        text = str(value).strip().replace("/", "-")
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise FieldProblem(
                "warned_at",
                _("“{value}” is not a time: write it like 2026-11-22 14:05:00.").format(
                    value=value
                ),
            ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=CHINA_TZ)
    if at > now + timedelta(minutes=10):
        raise FieldProblem(
            "warned_at", _("The time lies in the future: check the clock or the date.")
        )
    return at


def _coordinate(raw: Mapping[str, Any], name: str, lo: float, hi: float) -> float | None:
    value = raw.get(name)
    if value is None or str(value).strip() == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FieldProblem(name, _("“{value}” is not a number.").format(value=value)) from None
    if not lo <= number <= hi:
        raise FieldProblem(
            name,
            _("{value} lies outside {lo}…{hi} (WGS-84 degrees).").format(value=value, lo=lo, hi=hi),
        )
    return number


def clean(
    raw: Mapping[str, Any], *, source: str, now: datetime | None = None, from_file: bool = False
) -> Incoming:
    """Check one warning; raises :class:`FieldProblem` naming the first wrong field."""
    now = now or utcnow()
    src = _text(raw, "source", MAX_TEXT["source"]) or source
    warning_type = _choice(raw, "type", WarningType)
    level = _choice(raw, "level", WarningLevel, default=WarningLevel.NORMAL)
    name = _text(raw, "name", MAX_TEXT["name"])
    id_number = _text(raw, "id_number", 30)
    if id_number:
        try:
            id_number = normalise_id_number(id_number)
        except ValueError as exc:
            raise FieldProblem("id_number", str(exc)) from None
    phone = _text(raw, "phone", 30)
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValueError as exc:
            raise FieldProblem("phone", str(exc)) from None
    if not id_number and not phone:
        raise FieldProblem(
            "phone", _("Give the person's phone or identity-card number: one of them is needed.")
        )
    address_text = _text(raw, "address", MAX_TEXT["address"])
    parsed: ParsedAddress | None = None
    if address_text:
        try:
            parsed = parse_address(address_text)
        except AddressParseError:
            parsed = None  # kept as text; matching falls back on the other steps
    lon = _coordinate(raw, "lon", -180, 180)
    lat = _coordinate(raw, "lat", -90, 90)
    if (lon is None) != (lat is None):
        raise FieldProblem("lat" if lat is None else "lon", _("Give both lon and lat, or neither."))
    warned_at = _when(raw, now)
    detail = _text(raw, "detail", MAX_TEXT["detail"]) or ""
    external = _text(raw, "external_id", MAX_TEXT["external_id"])
    # Without the centre's id, the content is the key; without its time either, the hour
    # it arrived stands in (a retry within the hour adds nothing) — for a file row the
    # content alone, so that the same file sent again any day adds nothing.
    undated = "undated" if from_file else now.strftime("hour:%Y%m%d%H")
    when = warned_at.isoformat() if raw.get("warned_at") else undated
    key = (
        f"id:{external}"
        if external
        else "sha:" + _digest(warning_type, level, when, id_number, phone, name, address_text)
    )
    # One person's repeats: by ID number, else by phone (a warning with the phone only
    # and a later one with the ID number as well do not merge).
    person = "id:" + _digest(id_number) if id_number else "ph:" + _digest(phone)
    return Incoming(
        source=src,
        external_key=key,
        warning_type=warning_type,
        level=level,
        warned_at=warned_at,
        name=name,
        phone=phone,
        id_number=id_number,
        address_text=address_text,
        parsed=parsed,
        lon=lon,
        lat=lat,
        detail=detail,
        person_key=person,
    )
