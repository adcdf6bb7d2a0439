"""Registry tables: one standard address (一标) and the actual people, houses and units
(三实) at it, with attachments, the provenance of every change and duplicate flags.

Search terms (``terms``) are character unigrams and bigrams of names and address texts,
kept only on PostgreSQL where a GIN index makes fragment search fast over millions of
rows; SQLite (one station) searches with LIKE and leaves the column empty.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, UTCDateTime, utcnow
from fengqiao.org.models import enum_column

SearchTerms = Text().with_variant(postgresql.ARRAY(Text()), "postgresql")


class AddressLevel(enum.StrEnum):
    """Levels of a standard address (GA/T 2000.32), coarse to fine."""

    DISTRICT = "district"  # 区、县
    STREET = "street"  # 街道、镇、乡
    COMMUNITY = "community"  # 社区、村
    ROAD = "road"  # 路、街、巷, or a compound (小区) / village group
    NUMBER = "number"  # 门牌号
    BUILDING = "building"  # 栋、幢、座
    UNIT = "unit"  # 单元
    ROOM = "room"  # 室


LEVEL_ORDER: tuple[AddressLevel, ...] = tuple(AddressLevel)


class RecordStatus(enum.StrEnum):
    ACTIVE = "active"
    MOVED_OUT = "moved_out"  # people only: no longer at the address
    MERGED = "merged"  # a duplicate merged into ``merged_into_id``


class ResidentKind(enum.StrEnum):
    REGISTERED = "registered"  # 户籍人口
    FLOATING = "floating"  # 流动人口
    TENANT = "tenant"  # 租住人员


class HouseUse(enum.StrEnum):
    OWNER_OCCUPIED = "owner_occupied"  # 自住
    RENTED = "rented"  # 出租
    EMPTY = "empty"  # 空置


class EstablishmentKind(enum.StrEnum):
    SCHOOL = "school"
    KINDERGARTEN = "kindergarten"
    HOTEL = "hotel"
    INTERNET_CAFE = "internet_cafe"
    CONSTRUCTION_SITE = "construction_site"
    HOSPITAL = "hospital"
    FINANCIAL = "financial"
    ENTERTAINMENT = "entertainment"
    HAZARDOUS_GOODS = "hazardous_goods"
    SHOP = "shop"
    RESTAURANT = "restaurant"
    FACTORY = "factory"
    OFFICE = "office"
    OTHER = "other"


class AttachmentKind(enum.StrEnum):
    PHOTO = "photo"  # 拍一拍
    VOICE = "voice"  # 说一说


class DuplicateStatus(enum.StrEnum):
    OPEN = "open"
    MERGED = "merged"
    DISMISSED = "dismissed"


class Address(Base):
    """One node of the standard-address tree; ``full_name`` spells the whole path."""

    __tablename__ = "address"
    __table_args__ = (
        Index("ix_address_parent_name", "parent_id", "name"),
        # Matching warnings: roads, compounds and communities by name.
        Index("ix_address_level_name", "level", "name"),
        # Fragment search inside a station: GIN over (station_id, terms) with btree_gin.
        Index("ix_address_terms", "station_id", "terms", postgresql_using="gin"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))
    level: Mapped[AddressLevel] = mapped_column(enum_column(AddressLevel))
    name: Mapped[str] = mapped_column(String(100))
    full_name: Mapped[str] = mapped_column(String(400), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("police_grid.id"), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    # The doorplate code printed in the QR (扫一扫): short, random, never reused.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    terms: Mapped[list[str] | None] = mapped_column(SearchTerms)
    status: Mapped[RecordStatus] = mapped_column(enum_column(RecordStatus))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("address.id"))
    last_visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Resident(Base):
    """A person at an address (实有人口). Numbers are shown masked everywhere."""

    __tablename__ = "resident"
    __table_args__ = (
        Index("ix_resident_terms", "station_id", "terms", postgresql_using="gin"),
        # Prefix searches inside a station: a surname by LIKE 'x%' (pattern ops work
        # whatever the collation) and pinyin initials by range.
        Index(
            "ix_resident_name", "station_id", "name", postgresql_ops={"name": "varchar_pattern_ops"}
        ),
        Index("ix_resident_initials", "station_id", "initials"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    initials: Mapped[str] = mapped_column(String(20))  # pinyin initials: 张伟 → zw
    id_number: Mapped[str | None] = mapped_column(String(18), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # warnings by phone
    phone_tail: Mapped[str | None] = mapped_column(String(4), index=True)
    kind: Mapped[ResidentKind] = mapped_column(enum_column(ResidentKind))
    address_id: Mapped[int] = mapped_column(ForeignKey("address.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("police_grid.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[list[str] | None] = mapped_column(SearchTerms)
    status: Mapped[RecordStatus] = mapped_column(enum_column(RecordStatus))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class House(Base):
    """The actual house (实有房屋) at a number or room address, and how it is used."""

    __tablename__ = "house"
    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("address.id"), unique=True)
    use: Mapped[HouseUse] = mapped_column(enum_column(HouseUse))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("police_grid.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Establishment(Base):
    """An actual unit (实有单位): a business or organisation; key places are inspected
    every ``inspection_every_days``."""

    __tablename__ = "establishment"
    __table_args__ = (
        Index("ix_establishment_terms", "station_id", "terms", postgresql_using="gin"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    initials: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[EstablishmentKind] = mapped_column(enum_column(EstablishmentKind))
    key_place: Mapped[bool] = mapped_column(Boolean, default=False)
    inspection_every_days: Mapped[int | None] = mapped_column(Integer)
    last_inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    address_id: Mapped[int] = mapped_column(ForeignKey("address.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("police_grid.id"), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    phone_tail: Mapped[str | None] = mapped_column(String(4), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    terms: Mapped[list[str] | None] = mapped_column(SearchTerms)
    status: Mapped[RecordStatus] = mapped_column(enum_column(RecordStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(Base):
    """A photo (resized on the server) or voice note attached to a record or a task."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_object", "object_type", "object_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[AttachmentKind] = mapped_column(enum_column(AttachmentKind))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary)
    caption: Mapped[str] = mapped_column(String(200), default="")
    # A phone's own id for the upload: the same upload sent twice is stored once.
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegistryChange(Base):
    """Provenance: who changed which record, when, and during which task (工作即采集).
    Personal numbers appear masked in ``changes``."""

    __tablename__ = "registry_change"
    __table_args__ = (Index("ix_registry_change_object", "object_type", "object_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(24))
    object_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # create / update / merge / attach
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DuplicateFlag(Base):
    """Two records that are probably the same person or address, waiting for a decision."""

    __tablename__ = "duplicate_flag"
    __table_args__ = (UniqueConstraint("object_type", "first_id", "second_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(24))  # resident / address
    first_id: Mapped[int] = mapped_column(Integer)
    second_id: Mapped[int] = mapped_column(Integer)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[DuplicateStatus] = mapped_column(enum_column(DuplicateStatus), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
