"""Organisation: bureau → joint station → station → police district → police grid; personnel."""

from __future__ import annotations

import enum
from datetime import datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    ColumnElement,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fengqiao.db import Base, Geometry, UTCDateTime, utcnow


def enum_column(kind: type[enum.Enum]) -> Enum:
    """Store an enum by its value in a plain string column (portable, readable)."""
    return Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=lambda members: [m.value for m in members],
    )


class AreaKind(enum.StrEnum):
    URBAN = "urban"
    RURAL = "rural"


class PersonKind(enum.StrEnum):
    OFFICER = "officer"
    AUXILIARY = "auxiliary"
    GRID_WORKER = "grid_worker"
    VOLUNTEER = "volunteer"


class Team(enum.StrEnum):
    COMMUNITY = "community"
    CASE = "case"
    COMMAND_ROOM = "command_room"


class DutyStatus(enum.StrEnum):
    AVAILABLE = "available"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    BUSY = "busy"
    OFF_DUTY = "off_duty"


class Bureau(Base):
    __tablename__ = "bureau"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class JointStation(Base):
    __tablename__ = "joint_station"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureau.id"), index=True)


class Station(Base):
    __tablename__ = "station"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[AreaKind] = mapped_column(enum_column(AreaKind))
    bureau_id: Mapped[int] = mapped_column(ForeignKey("bureau.id"), index=True)
    joint_station_id: Mapped[int | None] = mapped_column(ForeignKey("joint_station.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    geometry: Mapped[BaseGeometry | None] = mapped_column(Geometry)

    bureau: Mapped[Bureau] = relationship()
    joint_station: Mapped[JointStation | None] = relationship()


class PoliceDistrict(Base):
    __tablename__ = "police_district"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    geometry: Mapped[BaseGeometry | None] = mapped_column(Geometry)

    station: Mapped[Station] = relationship()


class PoliceGrid(Base):
    """A police grid. Publishing a new layout retires changed rows (``retired_at``) instead
    of editing them, so past incidents keep the grid they had; codes are unique among
    active grids."""

    __tablename__ = "police_grid"
    __table_args__ = (
        Index(
            "uq_police_grid_active_code",
            "code",
            unique=True,
            sqlite_where=text("retired_at IS NULL"),
            postgresql_where=text("retired_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(100))
    district_id: Mapped[int] = mapped_column(ForeignKey("police_district.id"), index=True)
    kind: Mapped[AreaKind] = mapped_column(enum_column(AreaKind))
    population: Mapped[int] = mapped_column(Integer)
    places: Mapped[str | None] = mapped_column(String(500))
    geometry: Mapped[BaseGeometry] = mapped_column(Geometry)
    # Bounding box (WGS-84 degrees) for coarse filtering without decoding the polygon.
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("grid_plan.id"))
    # The retired row this one carries on (same code, new shape): a grid's lineage.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("police_grid.id"))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    district: Mapped[PoliceDistrict] = relationship()

    @classmethod
    def active(cls) -> ColumnElement[bool]:
        """The condition for grids of the current layout."""
        return cls.retired_at.is_(None)


class CivilGrid(Base):
    """The local government's grid (网格), fused with one police grid (警网融合)."""

    __tablename__ = "civil_grid"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    community: Mapped[str] = mapped_column(String(100))
    police_grid_id: Mapped[int] = mapped_column(ForeignKey("police_grid.id"), index=True)
    geometry: Mapped[BaseGeometry | None] = mapped_column(Geometry)


class Person(Base):
    """Anyone who works for the station: officer, auxiliary, grid worker, volunteer."""

    __tablename__ = "person"
    id: Mapped[int] = mapped_column(primary_key=True)
    personnel_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    kind: Mapped[PersonKind] = mapped_column(enum_column(PersonKind))
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    team: Mapped[Team | None] = mapped_column(enum_column(Team))
    position: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    duty_status: Mapped[DutyStatus] = mapped_column(enum_column(DutyStatus))
    last_lon: Mapped[float | None] = mapped_column(Float)
    last_lat: Mapped[float | None] = mapped_column(Float)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    station: Mapped[Station] = relationship()
    assignments: Mapped[list[GridAssignment]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )


class GridAssignment(Base):
    """One person serving one grid (the 1+1+N grid team); ``role`` follows the person's kind."""

    __tablename__ = "grid_assignment"
    __table_args__ = (
        UniqueConstraint("person_id", "grid_id"),
        # One fixed officer and one fixed auxiliary per grid; grid workers and volunteers are N.
        Index(
            "uq_grid_assignment_fixed_role",
            "grid_id",
            "role",
            unique=True,
            sqlite_where=text("role IN ('officer', 'auxiliary')"),
            postgresql_where=text("role IN ('officer', 'auxiliary')"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("police_grid.id"), index=True)
    role: Mapped[PersonKind] = mapped_column(enum_column(PersonKind))

    person: Mapped[Person] = relationship(back_populates="assignments")
    grid: Mapped[PoliceGrid] = relationship()
