"""The location engine: the raster path answers exactly as the STRtree path and as a
brute-force check of every grid, on random partitions and on the hard points (vertices,
shared edges, raster cell lines, just beside edges, outside)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiPolygon,
    Point,
    Polygon,
    box,
)
from shapely.geometry.base import BaseGeometry

from fengqiao.geo.location import ACCELERATE_MIN_POINTS, NO_GRID, LocationIndex

Floats = npt.NDArray[np.float64]
Ids = npt.NDArray[np.int64]
Grids = tuple[list[int], list[Polygon]]

PROPERTY = settings(derandomize=True, deadline=None, max_examples=30)


# --- reference answers -------------------------------------------------------------------


def brute_force(ids: list[int], polygons: Sequence[BaseGeometry], xs: Floats, ys: Floats) -> Ids:
    """Smallest id of the grids that cover each point, testing every grid."""
    points = shapely.points(xs, ys)
    out = np.full(len(xs), NO_GRID, dtype=np.int64)
    for grid_id, polygon in sorted(zip(ids, polygons, strict=True), key=lambda p: p[0]):
        hit = shapely.covers(polygon, points) & (out == NO_GRID)
        out[hit] = grid_id
    return out


def tree_covered_by(
    ids: list[int], polygons: Sequence[BaseGeometry], xs: Floats, ys: Floats
) -> Ids:
    """An STRtree queried with ``covered_by``, smallest id per point."""
    out = np.full(len(xs), np.iinfo(np.int64).max, dtype=np.int64)
    if ids:
        tree = shapely.STRtree(polygons)
        point_idx, poly_idx = tree.query(shapely.points(xs, ys), predicate="covered_by")
        np.minimum.at(out, point_idx, np.asarray(ids, dtype=np.int64)[poly_idx])
    out[out == np.iinfo(np.int64).max] = NO_GRID
    return out


def assert_all_agree(
    ids: list[int], polygons: Sequence[BaseGeometry], xs: Floats, ys: Floats, cells_per_grid: int
) -> LocationIndex:
    index = LocationIndex(ids, polygons, accelerate=True, cells_per_grid=cells_per_grid)
    fast = index.locate_many(xs, ys)
    exact = index.locate_exact(xs, ys)
    expected = brute_force(ids, polygons, xs, ys)
    np.testing.assert_array_equal(exact, expected)
    np.testing.assert_array_equal(tree_covered_by(ids, polygons, xs, ys), expected)
    np.testing.assert_array_equal(fast, expected)
    return index


# --- random grid layouts ------------------------------------------------------------------


def voronoi_grids(rng: np.random.Generator, n: int, x0: float, y0: float, w: float) -> Grids:
    """A Voronoi partition of ``n`` random points clipped to a box (all valid polygons)."""
    frame = box(x0, y0, x0 + w, y0 + 0.75 * w)
    seeds = np.column_stack([rng.uniform(x0, x0 + w, n), rng.uniform(y0, y0 + 0.75 * w, n)])
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame)
    polygons = [p for p in shapely.intersection(shapely.get_parts(cells), frame) if not p.is_empty]
    ids = [int(i) for i in rng.permutation(len(polygons)) * 3 + 11]
    return ids, polygons


def lattice_grids(
    rng: np.random.Generator, nx: int, ny: int, jitter: float, holes: int, x0: float, y0: float
) -> Grids:
    """A jittered rectangular lattice (spacing 0.01); some cells have a hole that another
    grid fills; two neighbours merged into one make T-junctions."""
    step = 0.01
    gx = x0 + step * np.arange(nx + 1)[None, :] + np.zeros((ny + 1, 1))
    gy = y0 + step * np.arange(ny + 1)[:, None] + np.zeros((1, nx + 1))
    inner = (slice(1, ny), slice(1, nx))
    gx[inner] += rng.uniform(-jitter, jitter, (ny - 1, nx - 1)) * step
    gy[inner] += rng.uniform(-jitter, jitter, (ny - 1, nx - 1)) * step
    polygons: list[Polygon] = []
    for j in range(ny):
        for i in range(nx):
            corners = [(j, i), (j, i + 1), (j + 1, i + 1), (j + 1, i)]
            polygons.append(Polygon([(gx[c], gy[c]) for c in corners]))
    if nx >= 2:  # merge the first two cells of the bottom row: a T-junction above
        a, b = polygons[0], polygons[1]
        ring = [a.exterior.coords[0], b.exterior.coords[1], b.exterior.coords[2]]
        ring += [a.exterior.coords[2], a.exterior.coords[3]]
        polygons[0:2] = [Polygon(ring)]
    for k in rng.choice(len(polygons), size=min(holes, len(polygons)), replace=False):
        outer = polygons[k]
        hole = affinity.scale(outer, 0.4, 0.4, origin=outer.centroid)
        if rng.random() < 0.5:  # a triangular hole, with edges at any angle
            c = hole.exterior.coords
            hole = Polygon([c[0], c[1], c[2]])
        polygons[k] = Polygon(outer.exterior.coords, [hole.exterior.coords])
        polygons.append(hole)
    ids = [int(i) for i in rng.permutation(len(polygons)) + 1]
    return ids, polygons


def overlapping_grids(rng: np.random.Generator, n: int, x0: float, y0: float) -> Grids:
    """Random boxes, triangles and discs that overlap: the smallest id must win."""
    polygons: list[Polygon] = []
    for _ in range(n):
        cx, cy = x0 + rng.uniform(0, 0.1), y0 + rng.uniform(0, 0.1)
        r = rng.uniform(0.003, 0.03)
        kind = rng.integers(3)
        if kind == 0:
            polygons.append(box(cx - r, cy - r / 2, cx + r, cy + r / 2))
        elif kind == 1:
            angles = rng.uniform(0, 2 * math.pi, 3)
            polygons.append(
                Polygon(np.column_stack([cx + r * np.cos(angles), cy + r * np.sin(angles)]))
            )
        else:
            polygons.append(shapely.Point(cx, cy).buffer(r, quad_segs=4))
    polygons = [p if p.is_valid else p.buffer(0) for p in polygons]
    ids = [int(i) for i in rng.choice(10 * n, size=n, replace=False)]
    return ids, polygons


# --- test points --------------------------------------------------------------------------


def hard_points(
    rng: np.random.Generator, polygons: Sequence[BaseGeometry], n_random: int
) -> tuple[Floats, Floats]:
    """Random points over and around the grids, every vertex, every edge's midpoint,
    points a few ulps beside vertices, and points far outside."""
    x0, y0, x1, y1 = shapely.total_bounds(polygons)
    w, h = x1 - x0, y1 - y0
    parts = [
        np.column_stack(
            [
                rng.uniform(x0 - 0.1 * w, x1 + 0.1 * w, n_random),
                rng.uniform(y0 - 0.1 * h, y1 + 0.1 * h, n_random),
            ]
        )
    ]
    rings = shapely.get_rings(np.asarray(polygons, dtype=object))
    coords, owner = shapely.get_coordinates(rings, return_index=True)
    parts.append(coords)
    same = owner[1:] == owner[:-1]
    parts.append(((coords[:-1] + coords[1:]) / 2)[same])
    pick = coords[rng.integers(len(coords), size=min(200, len(coords)))]
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1)):
        parts.append(
            np.column_stack(
                [
                    np.nextafter(pick[:, 0], pick[:, 0] + dx * np.inf) if dx else pick[:, 0],
                    np.nextafter(pick[:, 1], pick[:, 1] + dy * np.inf) if dy else pick[:, 1],
                ]
            )
        )
    parts.append(np.array([[x0 - 5 * w, y0], [x1 + 5 * w, y1], [x0, y1 + 3 * h], [np.nan, y0]]))
    points = np.concatenate(parts)
    return points[:, 0], points[:, 1]


def cell_line_points(
    index: LocationIndex, rng: np.random.Generator, n: int
) -> tuple[Floats, Floats]:
    """Points on the raster's cell lines and corners, as the raster computes them."""
    raster = index._raster
    assert raster is not None
    i = rng.integers(0, raster.nx + 1, n)
    j = rng.integers(0, raster.ny + 1, n)
    xs = raster.x0 + i / raster.sx
    ys = raster.y0 + j / raster.sy
    half = rng.random(n) < 0.5  # half of them on a line only, not at a corner
    ys[half] += rng.random(int(half.sum())) / raster.sy
    return xs, ys


# --- property tests -----------------------------------------------------------------------


resolutions = st.sampled_from([2, 30, 250, 1_000, 5_000])


@PROPERTY
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 60),
    lon=st.integers(-179_000, 170_000).map(lambda v: v / 1000),
    lat=st.integers(-80_000, 70_000).map(lambda v: v / 1000),
    width=st.sampled_from([0.01, 0.3, 2.0]),
    cells_per_grid=resolutions,
)
def test_voronoi_partitions(
    seed: int, n: int, lon: float, lat: float, width: float, cells_per_grid: int
) -> None:
    rng = np.random.default_rng(seed)
    ids, polygons = voronoi_grids(rng, n, lon, lat, width)
    xs, ys = hard_points(rng, polygons, 800)
    index = assert_all_agree(ids, polygons, xs, ys, cells_per_grid)
    lx, ly = cell_line_points(index, rng, 400)
    np.testing.assert_array_equal(index.locate_many(lx, ly), brute_force(ids, polygons, lx, ly))


@PROPERTY
@given(
    seed=st.integers(0, 2**32 - 1),
    nx=st.integers(1, 8),
    ny=st.integers(1, 8),
    jitter=st.sampled_from([0.0, 0.2, 0.45]),
    holes=st.integers(0, 3),
    cells_per_grid=resolutions,
)
def test_lattices_with_holes(
    seed: int, nx: int, ny: int, jitter: float, holes: int, cells_per_grid: int
) -> None:
    rng = np.random.default_rng(seed)
    ids, polygons = lattice_grids(rng, nx, ny, jitter, holes, 117.0, 25.0)
    assert all(p.is_valid for p in polygons)
    xs, ys = hard_points(rng, polygons, 800)
    index = assert_all_agree(ids, polygons, xs, ys, cells_per_grid)
    lx, ly = cell_line_points(index, rng, 400)
    np.testing.assert_array_equal(index.locate_many(lx, ly), brute_force(ids, polygons, lx, ly))


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 25), cells_per_grid=resolutions)
def test_overlapping_grids_smallest_id_wins(seed: int, n: int, cells_per_grid: int) -> None:
    rng = np.random.default_rng(seed)
    ids, polygons = overlapping_grids(rng, n, 116.5, 24.8)
    xs, ys = hard_points(rng, polygons, 800)
    assert_all_agree(ids, polygons, xs, ys, cells_per_grid)


# --- hand-made cases ----------------------------------------------------------------------


def two_squares() -> LocationIndex:
    # Grid 7 on the left, grid 3 on the right, sharing the edge x = 1.
    return LocationIndex([7, 3], [box(0, 0, 1, 1), box(1, 0, 2, 1)], accelerate=True)


def test_shared_border_goes_to_the_smallest_id() -> None:
    index = two_squares()
    xs = np.array([1.0, 1.0, 1.0, 0.5, 1.5, 0.0, 2.0, 0.5])
    ys = np.array([0.5, 0.0, 1.0, 0.5, 0.5, 0.5, 0.5, 1.0])
    expected = [3, 3, 3, 7, 3, 7, 3, 7]
    assert index.locate_many(xs, ys).tolist() == expected
    assert index.locate_exact(xs, ys).tolist() == expected
    assert index.locate(1.0, 0.5) == 3
    assert index.locate(0.25, 0.75) == 7


def test_outside_every_grid_is_none() -> None:
    index = two_squares()
    assert index.locate(5.0, 5.0) is None
    assert index.locate(-1e-12, 0.5) is None
    assert index.locate_many([5.0, np.nan, 2.0 + 1e-12], [5.0, 0.5, 0.5]).tolist() == [-1, -1, -1]


def test_empty_index() -> None:
    index = LocationIndex([], [], accelerate=True)
    assert len(index) == 0
    assert index.raster_stats is None
    assert index.locate(117.0, 25.0) is None
    assert index.locate_many(np.zeros(10_000), np.zeros(10_000)).tolist() == [NO_GRID] * 10_000
    assert index.locate_many([], []).tolist() == []


def test_ids_not_in_order() -> None:
    polygons = [box(0, 0, 3, 3), box(1, 1, 2, 2), box(0, 0, 2, 2)]
    index = LocationIndex([30, 10, 20], polygons, accelerate=True)
    xs = np.array([1.5, 0.5, 2.5, 2.0, 1.0, 3.0, 4.0])
    ys = np.array([1.5, 0.5, 2.5, 2.0, 1.0, 3.0, 4.0])
    assert index.locate_many(xs, ys).tolist() == [10, 20, 30, 10, 10, 30, -1]
    assert index.locate_exact(xs, ys).tolist() == [10, 20, 30, 10, 10, 30, -1]


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError):
        LocationIndex([1, 2], [box(0, 0, 1, 1)])


def test_raster_is_built_for_a_large_batch_only() -> None:
    rng = np.random.default_rng(7)
    ids, polygons = voronoi_grids(rng, 40, 117.0, 25.0, 0.2)
    lazy = LocationIndex(ids, polygons)
    lazy.locate_many(rng.uniform(117.0, 117.2, 100), rng.uniform(25.0, 25.15, 100))
    assert lazy.raster_stats is None
    xs, ys = (
        rng.uniform(117.0, 117.2, ACCELERATE_MIN_POINTS),
        rng.uniform(25.0, 25.15, ACCELERATE_MIN_POINTS),
    )
    found = lazy.locate_many(xs, ys)
    stats = lazy.raster_stats
    assert stats is not None
    assert stats.boundary_cells < stats.cells
    assert stats.nbytes >= 4 * stats.cells
    np.testing.assert_array_equal(found, brute_force(ids, polygons, xs, ys))
    never = LocationIndex(ids, polygons, accelerate=False)
    np.testing.assert_array_equal(never.locate_many(xs, ys), found)
    assert never.raster_stats is None


def test_degenerate_grids_take_the_exact_path() -> None:
    # All grids on one line: no area, no raster; answers still exact.
    flat = [Polygon([(0, 0), (1, 0), (2, 0)]), Polygon([(2, 0), (3, 0), (4, 0)])]
    index = LocationIndex([2, 1], flat, accelerate=True)
    assert index.raster_stats is None
    xs, ys = np.array([0.5, 2.0, 5.0]), np.array([0.0, 0.0, 0.0])
    np.testing.assert_array_equal(index.locate_many(xs, ys), brute_force([2, 1], flat, xs, ys))
    # A zero-area grid beside a real one.
    grids = [box(0, 0, 1, 1), Polygon([(0.5, 0.5), (0.5, 0.5), (0.5, 0.5), (0.5, 0.5)])]
    index = LocationIndex([5, 4], grids, accelerate=True)
    xs, ys = np.array([0.5, 0.25, 0.5 + 1e-9]), np.array([0.5, 0.25, 0.5])
    np.testing.assert_array_equal(index.locate_many(xs, ys), brute_force([5, 4], grids, xs, ys))
    # Only a line and a point: a raster with no ring edge at all.
    lines = [LineString([(0, 0), (1, 1)]), Point(1, 0)]
    index = LocationIndex([1, 2], lines, accelerate=True)
    assert index.raster_stats is not None
    xs, ys = np.array([0.5, 1.0, 0.5, 0.75]), np.array([0.5, 0.0, 0.25, 0.75])
    assert index.locate_many(xs, ys).tolist() == [1, 2, -1, 1]
    np.testing.assert_array_equal(index.locate_many(xs, ys), brute_force([1, 2], lines, xs, ys))


def test_multipolygons_collections_and_empty_grids() -> None:
    grids = [
        MultiPolygon([box(0, 0, 1, 1), box(2, 0, 3, 1)]),
        box(0.5, 0.5, 2.5, 0.8),
        Polygon(),
        GeometryCollection([box(3, 0, 4, 1), LineString([(4, 0), (5, 1)]), Point(5, 0)]),
    ]
    ids = [5, 9, 1, 2]
    rng = np.random.default_rng(3)
    xs = np.concatenate([rng.uniform(-0.5, 5.5, 5_000), [4.5, 5.0, 4.0, 0.5, 2.5, 4.25]])
    ys = np.concatenate([rng.uniform(-0.5, 1.5, 5_000), [0.5, 0.0, 0.0, 0.8, 0.5, 0.25]])
    index = assert_all_agree(ids, grids, xs, ys, 1_000)
    assert index.locate_many(xs[-6:], ys[-6:]).tolist() == [2, 2, 2, 5, 5, 2]
