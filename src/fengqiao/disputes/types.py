"""Kinds of dispute, kept as data: the defaults follow the people's-mediation statistics
and the incident categories a converted call carries (06xx)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fengqiao.disputes.models import DisputeType

# code, Chinese name, English name, incident category of a converted call
DEFAULT_TYPES: tuple[tuple[str, str, str, str | None], ...] = (
    ("neighbour", "邻里纠纷", "Neighbours", "0601"),
    ("family", "家庭纠纷", "Family", "0602"),
    ("marriage", "婚恋纠纷", "Marriage and relationships", None),
    ("land", "山林土地纠纷", "Land boundary", "0603"),
    ("wages", "劳资纠纷", "Wages", "0604"),
    ("contract", "合同经济纠纷", "Contract", "0605"),
    ("property", "物业纠纷", "Property management", "0606"),
    ("other", "其他纠纷", "Other", "0699"),
)


def ensure_types(session: Session) -> int:
    """Add the default kinds that are missing; returns how many were added."""
    existing = set(session.scalars(select(DisputeType.code)))
    added = 0
    for sort, (code, zh, en, category) in enumerate(DEFAULT_TYPES):
        if code in existing:
            continue
        session.add(
            DisputeType(
                code=code,
                name_zh=zh,
                name_en=en,
                incident_category_code=category,
                sort=sort,
                active=True,
            )
        )
        added += 1
    session.flush()
    return added


def list_types(session: Session, *, active_only: bool = True) -> list[DisputeType]:
    query = select(DisputeType).order_by(DisputeType.sort, DisputeType.code)
    if active_only:
        query = query.where(DisputeType.active.is_(True))
    return list(session.scalars(query))


def type_names(session: Session) -> dict[str, tuple[str, str]]:
    """``code → (Chinese, English)`` of every kind, retired ones too (old records)."""
    return {t.code: (t.name_zh, t.name_en) for t in session.scalars(select(DisputeType))}


def type_for_category(session: Session, category_code: str | None) -> str:
    """The kind of dispute for an incident category (``other`` when none fits)."""
    if category_code:
        code = session.scalar(
            select(DisputeType.code).where(
                DisputeType.incident_category_code == category_code,
                DisputeType.active.is_(True),
            )
        )
        if code:
            return code
    return "other"
