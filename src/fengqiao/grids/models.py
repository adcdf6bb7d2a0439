"""Grid planning: building-block units, barrier lines, and versioned plans of police grids.

A plan assigns every unit of its scope (one station, or one police district) to one of
its plan grids. Drafts are edited freely; publishing a plan makes its grids the active
layout: changed grids get new ``police_grid`` rows and the rows they replace are retired,
so incidents keep the grid they had when they happened.
"""

from __future__ import annotations

import enum
from datetime import datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fengqiao.db import Base, Geometry, UTCDateTime, utcnow
from fengqiao.org.models import AreaKind, enum_column


class UnitKind(enum.StrEnum):
    COMPOUND = "compound"  # residential compound (小区)
    VILLAGE = "village"  # village or village group (村、组)
    BLOCK = "block"  # census or street block (普查小区、街区)
    OTHER = "other"


class PlanStatus(enum.StrEnum):
    PLANNING = "planning"  # the planner is still running
    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    DISCARDED = "discarded"


class PlanningUnit(Base):
    """A small area with its residents, the building block of police grids."""

    __tablename__ = "planning_unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind))
    area_kind: Mapped[AreaKind] = mapped_column(enum_column(AreaKind))
    population: Mapped[int] = mapped_column(Integer)
    district_id: Mapped[int] = mapped_column(ForeignKey("police_district.id"), index=True)
    # The active police grid the unit lies in (None until a layout covers it).
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("police_grid.id"), index=True)
    geometry: Mapped[BaseGeometry] = mapped_column(Geometry)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BarrierLine(Base):
    """A line grids must not cross: a river, a railway, an expressway."""

    __tablename__ = "barrier_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    geometry: Mapped[BaseGeometry] = mapped_column(Geometry)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)


class GridPlan(Base):
    """One version of the grid layout of a station or of one of its districts."""

    __tablename__ = "grid_plan"
    __table_args__ = (UniqueConstraint("station_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("police_district.id"))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[PlanStatus] = mapped_column(enum_column(PlanStatus))
    cap_urban: Mapped[int] = mapped_column(Integer)
    cap_rural: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    fresh: Mapped[bool] = mapped_column(Boolean, default=False)  # ignore the active grids
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # while planning, 0..1
    progress_note: Mapped[str | None] = mapped_column(String(200))
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("grid_plan.id"))
    # Planner report: lower bound, over-cap units, islands, units and residents moved.
    report: Mapped[str] = mapped_column(Text, default="{}")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlanGrid(Base):
    """A grid of a plan; ``continues_grid_id`` is the active grid it carries on, if any."""

    __tablename__ = "plan_grid"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("grid_plan.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    district_id: Mapped[int] = mapped_column(ForeignKey("police_district.id"))
    continues_grid_id: Mapped[int | None] = mapped_column(ForeignKey("police_grid.id"))
    published_grid_id: Mapped[int | None] = mapped_column(ForeignKey("police_grid.id"))


class PlanUnit(Base):
    """Which plan grid a unit belongs to in one plan."""

    __tablename__ = "plan_unit"
    __table_args__ = (UniqueConstraint("plan_id", "unit_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("grid_plan.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("planning_unit.id"), index=True)
    plan_grid_id: Mapped[int] = mapped_column(
        ForeignKey("plan_grid.id", ondelete="CASCADE"), index=True
    )
