"""Checks on area polygons. Pure: shapely and numpy only.

Input geometries are WGS-84 longitude/latitude in degrees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from fengqiao.i18n import _

# Overlaps smaller than this (in square metres) are digitising noise, not overlaps.
OVERLAP_TOLERANCE_M2 = 1.0
_M_PER_DEG_LAT = 111_320.0


def square_metres(area_deg2: float, lat_deg: float) -> float:
    """Approximate area in m² of ``area_deg2`` square degrees near latitude ``lat_deg``."""
    return area_deg2 * _M_PER_DEG_LAT * _M_PER_DEG_LAT * math.cos(math.radians(lat_deg))


def _extent_problem(geom: BaseGeometry) -> str | None:
    if geom.is_empty:
        return _("is empty.")
    min_x, min_y, max_x, max_y = geom.bounds
    if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        return _(
            "coordinates are not WGS-84 degrees (longitude, latitude); reproject the file "
            "to EPSG:4326."
        )
    return None


def line_problem(geom: BaseGeometry) -> str | None:
    """Why ``geom`` cannot be a barrier line, or None when it can."""
    if geom.geom_type not in ("LineString", "MultiLineString"):
        return _("is a {kind}; a barrier must be a LineString or MultiLineString.").format(
            kind=geom.geom_type
        )
    return _extent_problem(geom)


def polygon_problem(geom: BaseGeometry) -> str | None:
    """Why ``geom`` cannot be an area polygon, or None when it can."""
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return _("is a {kind}; an area must be a Polygon or MultiPolygon.").format(
            kind=geom.geom_type
        )
    extent = _extent_problem(geom)
    if extent:
        return extent
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        return _(
            "is not a valid polygon ({reason}); fix self-intersections or unclosed rings, "
            "for example with QGIS 'Fix geometries'."
        ).format(reason=reason)
    return None


def find_overlaps(geoms: Sequence[BaseGeometry]) -> list[tuple[int, int, float]]:
    """Pairs (i, j, area_m2) with i < j whose interiors overlap by more than the tolerance."""
    if len(geoms) < 2:
        return []
    tree = STRtree(list(geoms))
    left, right = tree.query(list(geoms), predicate="intersects")
    pairs = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        inter = geoms[i].intersection(geoms[j])
        lat = float(np.mean([geoms[i].centroid.y, geoms[j].centroid.y]))
        area = square_metres(inter.area, lat)
        if area > OVERLAP_TOLERANCE_M2:
            pairs.append((i, j, area))
    return pairs
