"""Placing points in grids for every module, through one shared location index.

The index of each database is built once per process and rebuilt when the grid
layout changes (checked at most every few seconds, and at once after an import
in this process).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fengqiao.geo.location import NO_GRID, LocationIndex
from fengqiao.org.models import PoliceDistrict, PoliceGrid

RECHECK_SECONDS = 5.0


@dataclass(frozen=True)
class Placement:
    grid_id: int
    district_id: int
    station_id: int


@dataclass
class _Entry:
    token: tuple[object, ...]
    checked_at: float
    index: LocationIndex
    parents: dict[int, tuple[int, int]]


_cache: dict[str, _Entry] = {}
_lock = threading.Lock()


def _token(session: Session) -> tuple[object, ...]:
    row = session.execute(
        select(
            func.count(PoliceGrid.id),
            func.max(PoliceGrid.id),
            func.sum(
                PoliceGrid.min_lon + PoliceGrid.min_lat + PoliceGrid.max_lon + PoliceGrid.max_lat
            ),
            func.sum(PoliceGrid.district_id),
        ).where(PoliceGrid.active())
    ).one()
    return tuple(round(v, 9) if isinstance(v, float) else v for v in row)


def _build(session: Session, token: tuple[object, ...]) -> _Entry:
    rows = session.execute(
        select(
            PoliceGrid.id, PoliceGrid.geometry, PoliceGrid.district_id, PoliceDistrict.station_id
        )
        .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
        .where(PoliceGrid.active())
        .order_by(PoliceGrid.id)
    ).all()
    index = LocationIndex([r[0] for r in rows], [r[1] for r in rows])
    return _Entry(token, time.monotonic(), index, {r[0]: (r[2], r[3]) for r in rows})


def _entry(session: Session) -> _Entry:
    bind = session.get_bind()
    key = str(bind.engine.url)
    with _lock:
        entry = _cache.get(key)
        now = time.monotonic()
        if entry is not None and now - entry.checked_at < RECHECK_SECONDS:
            return entry
        token = _token(session)
        if entry is None or entry.token != token:
            entry = _build(session, token)
            _cache[key] = entry
        entry.checked_at = now
        return entry


def invalidate() -> None:
    """Forget every index (after grids change in this process)."""
    with _lock:
        _cache.clear()


def place_point(session: Session, lon: float, lat: float) -> Placement | None:
    entry = _entry(session)
    grid_id = entry.index.locate(lon, lat)
    if grid_id is None:
        return None
    district_id, station_id = entry.parents[grid_id]
    return Placement(grid_id, district_id, station_id)


def grid_ids(session: Session, lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Grid id per point (``NO_GRID`` outside every grid), vectorised for large batches."""
    return _entry(session).index.locate_many(lon, lat)


def place_points(
    session: Session, lon: npt.ArrayLike, lat: npt.ArrayLike
) -> list[Placement | None]:
    entry = _entry(session)
    ids: npt.NDArray[np.int64] = entry.index.locate_many(lon, lat)
    out: list[Placement | None] = []
    for grid_id in ids.tolist():
        if grid_id == NO_GRID:
            out.append(None)
        else:
            district_id, station_id = entry.parents[grid_id]
            out.append(Placement(grid_id, district_id, station_id))
    return out
