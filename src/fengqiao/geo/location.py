"""The location engine: which grid a point is in. Pure: shapely and numpy only.

Coordinates are WGS-84 longitude/latitude in degrees. Border rule: a point on the
boundary of a grid counts as inside it (``covers``); a point on a border shared by
several grids belongs to the one with the smallest id. A point in no grid gives -1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

NO_GRID = -1


class LocationIndex:
    """An R-tree over grid polygons with vectorised point queries."""

    def __init__(self, ids: Sequence[int], polygons: Sequence[BaseGeometry]) -> None:
        if len(ids) != len(polygons):
            raise ValueError("ids and polygons differ in length")
        self.ids = np.asarray(ids, dtype=np.int64)
        self._polygons = np.asarray(polygons, dtype=object)
        shapely.prepare(self._polygons)
        self._tree = STRtree(self._polygons)

    def __len__(self) -> int:
        return len(self.ids)

    def locate_many(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Grid id for each point (``NO_GRID`` where none)."""
        xs = np.atleast_1d(np.asarray(lon, dtype=float))
        ys = np.atleast_1d(np.asarray(lat, dtype=float))
        points: npt.NDArray[np.object_] = shapely.points(xs, ys)  # type: ignore[assignment]  # arrays in, array out
        result = np.full(len(points), np.iinfo(np.int64).max, dtype=np.int64)
        if len(self.ids) and len(points):
            point_idx, poly_idx = self._tree.query(points, predicate="covered_by")
            np.minimum.at(result, point_idx, self.ids[poly_idx])
        result[result == np.iinfo(np.int64).max] = NO_GRID
        return result

    def locate(self, lon: float, lat: float) -> int | None:
        """The grid id of one point, or None outside every grid."""
        found = int(self.locate_many([lon], [lat])[0])
        return None if found == NO_GRID else found


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (haversine)."""
    return float(distances_m(lon1, lat1, [lon2], [lat2])[0])


def distances_m(
    lon: float, lat: float, lons: npt.ArrayLike, lats: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle distances in metres from one point to many (haversine)."""
    r = 6_371_008.8
    la, lo = np.radians(np.asarray(lats, dtype=float)), np.radians(np.asarray(lons, dtype=float))
    p1, l1 = np.radians(lat), np.radians(lon)
    a = np.sin((la - p1) / 2) ** 2 + np.cos(p1) * np.cos(la) * np.sin((lo - l1) / 2) ** 2
    return np.asarray(2 * r * np.arcsin(np.sqrt(a)), dtype=np.float64)
