"""Location engine: the raster path against GeoPandas ``sjoin`` and the plain STRtree path.

A county-sized layout: 10 000 grids, the Voronoi partition of 10 000 seeded random points
clipped to a 2° x 1.5° box around 117°E 25°N (all valid polygons, ids not in order), and
1 000 000 seeded points: mostly uniform in the box, 1 % exactly on grid vertices or at
edge midpoints (as floats compute them: on or within an ulp of the edge), 1 % outside the
box. In the same run, each repeated ``--repeat`` times (the
median is shown):

* engine: ``LocationIndex`` built from the arrays (prepared polygons, STRtree) plus its
  raster, timed apart from ``locate_many`` over all points;
* exact path: ``locate_exact`` of the same index (the STRtree only, no raster);
* peer: GeoDataFrames built from the same arrays and the grids' spatial index (its
  "build"), then ``geopandas.sjoin(points, grids, predicate="intersects")`` and the
  smallest grid id per point, -1 where none (its "query"; the same border rule).

It prints throughput, the ratios to sjoin (query only, and build + query against the
peer's build + query), the tracemalloc peaks of one engine build and one query (numpy
and Python allocations; GEOS's own memory is not traced), the process's peak RSS, how
many answers differ between the three, and the verdict on the aim (query throughput at
least 5x sjoin's). Any difference exits non-zero.

Run from the repository root: ``make bench``, or
``.venv/bin/python benchmarks/bench_location.py [--grids 10000] [--points 1000000]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from fengqiao.geo.location import CELLS_PER_GRID, EXACT, LocationIndex

AIM_RATIO = 5.0  # times sjoin's query throughput
FRAME = (116.0, 24.25, 118.0, 25.75)  # lon/lat box around 117°E 25°N
OUTSIDE_MARGIN = 0.25  # degrees around the box for the outside points
SHARE_ON_EDGES = 0.01
SHARE_OUTSIDE = 0.01

Floats = npt.NDArray[np.float64]
Ids = npt.NDArray[np.int64]
T = TypeVar("T")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def make_grids(n: int, rng: np.random.Generator) -> tuple[Ids, npt.NDArray[np.object_]]:
    """Voronoi cells of ``n`` random points clipped to FRAME; ids shuffled."""
    x0, y0, x1, y1 = FRAME
    frame = shapely.box(*FRAME)
    seeds = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, ordered=True)
    polygons = np.asarray(shapely.intersection(shapely.get_parts(cells), frame), dtype=object)
    kinds = set(shapely.get_type_id(polygons).tolist())
    if len(polygons) != n or kinds != {int(shapely.GeometryType.POLYGON)}:
        raise SystemExit(f"expected {n} polygons, got {len(polygons)} of types {kinds}")
    if not shapely.is_valid(polygons).all():
        raise SystemExit("invalid grid polygons")
    ids = (rng.permutation(n) + 1001).astype(np.int64)
    return ids, polygons


def make_points(
    m: int, polygons: npt.NDArray[np.object_], rng: np.random.Generator
) -> tuple[Floats, Floats]:
    """Uniform points in FRAME, some exactly on vertices and edge midpoints, some outside."""
    x0, y0, x1, y1 = FRAME
    n_edges, n_out = round(m * SHARE_ON_EDGES), round(m * SHARE_OUTSIDE)
    n_in = m - n_edges - n_out
    inside = np.column_stack([rng.uniform(x0, x1, n_in), rng.uniform(y0, y1, n_in)])
    coords, owner = shapely.get_coordinates(shapely.get_rings(polygons), return_index=True)
    same = owner[1:] == owner[:-1]
    midpoints = ((coords[:-1] + coords[1:]) / 2)[same]
    half = n_edges // 2
    on_edges = np.concatenate(
        [
            coords[rng.integers(len(coords), size=half)],
            midpoints[rng.integers(len(midpoints), size=n_edges - half)],
        ]
    )
    m_ = OUTSIDE_MARGIN
    outside = np.empty((0, 2))
    while len(outside) < n_out:
        cand = np.column_stack(
            [rng.uniform(x0 - m_, x1 + m_, 4 * n_out), rng.uniform(y0 - m_, y1 + m_, 4 * n_out)]
        )
        off = (cand[:, 0] < x0) | (cand[:, 0] > x1) | (cand[:, 1] < y0) | (cand[:, 1] > y1)
        outside = np.concatenate([outside, cand[off]])
    points = np.concatenate([inside, on_edges, outside[:n_out]])[rng.permutation(m)]
    return np.ascontiguousarray(points[:, 0]), np.ascontiguousarray(points[:, 1])


def run_sjoin(
    ids: Ids, polygons: npt.NDArray[np.object_], xs: Floats, ys: Floats
) -> tuple[Ids, float, float]:
    """The peer: answers, build seconds (GeoDataFrames + sindex), query seconds."""
    t0 = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs="EPSG:4326")
    grids = gpd.GeoDataFrame({"grid_id": ids}, geometry=polygons, crs="EPSG:4326")
    _ = grids.sindex  # the STRtree sjoin queries; built here, as the engine's index is
    t1 = time.perf_counter()
    joined = gpd.sjoin(points, grids, predicate="intersects", how="inner")
    smallest = joined.groupby(level=0)["grid_id"].min()
    out = np.full(len(xs), -1, dtype=np.int64)
    out[smallest.index.to_numpy()] = smallest.to_numpy()
    t2 = time.perf_counter()
    return out, t1 - t0, t2 - t1


def run_engine(
    ids: Ids, polygons: npt.NDArray[np.object_], xs: Floats, ys: Floats, cells: int
) -> tuple[LocationIndex, Ids, float, float]:
    """Answers, build seconds (index + raster) and query seconds of the raster path."""
    t0 = time.perf_counter()
    index = LocationIndex(ids.tolist(), list(polygons), accelerate=True, cells_per_grid=cells)
    t1 = time.perf_counter()
    found = index.locate_many(xs, ys)
    t2 = time.perf_counter()
    return index, found, t1 - t0, t2 - t1


def traced_engine_peaks_mb(
    ids: Ids, polygons: npt.NDArray[np.object_], xs: Floats, ys: Floats, cells: int
) -> tuple[float, float]:
    """tracemalloc peaks of one engine build and of one query after it, in MiB."""
    tracemalloc.start()
    try:
        index = LocationIndex(ids.tolist(), list(polygons), accelerate=True, cells_per_grid=cells)
        build_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        index.locate_many(xs, ys)
        return build_peak / 2**20, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds / 1e6:,.2f} M points/s" if seconds > 0 else "inf"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Location engine against geopandas sjoin.")
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path (median shown)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--cells-per-grid", type=int, default=CELLS_PER_GRID, help="raster cells")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())

    (ids, polygons), grid_s = timed(lambda: make_grids(args.grids, rng))
    xs, ys = make_points(args.points, polygons, rng)
    n, n_vertices = len(xs), int(shapely.get_num_coordinates(polygons).sum())
    print(
        f"== location engine: {len(ids):,} grids (Voronoi of seeded points clipped to "
        f"{FRAME[0]}-{FRAME[2]}°E x {FRAME[1]}-{FRAME[3]}°N, all valid, {n_vertices:,} "
        f"vertices, made in {grid_s:.1f} s)"
    )
    print(
        f"   {n:,} points: {1 - SHARE_ON_EDGES - SHARE_OUTSIDE:.0%} uniform in the box, "
        f"{SHARE_ON_EDGES:.0%} on vertices / at edge midpoints, {SHARE_OUTSIDE:.0%} "
        f"outside; seed {args.seed}; median of {args.repeat} runs; "
        f"{os.cpu_count()} CPUs, load {load}",
        flush=True,
    )

    builds, rasters, queries = [], [], []
    index, found = None, None
    for _ in range(args.repeat):
        index, found, build_s, query_s = run_engine(ids, polygons, xs, ys, args.cells_per_grid)
        stats = index.raster_stats
        assert stats is not None
        builds.append(build_s)
        rasters.append(stats.build_s)
        queries.append(query_s)
    assert index is not None and found is not None and stats is not None
    rss_engine = peak_rss_mb()
    build_s, query_s = statistics.median(builds), statistics.median(queries)
    raster = index._raster  # to count the points the exact path answers
    assert raster is not None
    n_exact = int(np.count_nonzero(raster.lookup(xs, ys) == EXACT))
    print(
        f"   raster: {stats.nx} x {stats.ny} = {stats.cells:,} cells ({args.cells_per_grid:,}/grid), "
        f"boundary {stats.boundary_cells / stats.cells:.2%} of cells (split by one edge "
        f"{stats.edge_cells / stats.cells:.2%}, exact path {stats.exact_cells / stats.cells:.2%}), "
        f"{stats.components:,} components, {stats.nbytes / 2**20:.1f} MiB"
    )
    print(
        f"   engine build (index + raster): {build_s:.3f} s (raster alone {statistics.median(rasters):.3f} s; "
        f"runs {', '.join(f'{b:.3f}' for b in builds)})"
    )
    print(
        f"   engine query: {query_s:.3f} s = {rate(n, query_s)} (runs "
        f"{', '.join(f'{q:.3f}' for q in queries)}); {n_exact:,} points ({n_exact / n:.2%}) "
        f"went to the exact path"
    )
    print(f"   engine build + query: {build_s + query_s:.3f} s = {rate(n, build_s + query_s)}")

    exact_runs = [timed(lambda: index.locate_exact(xs, ys)) for _ in range(args.repeat)]
    exact = exact_runs[-1][0]
    exact_s = statistics.median(s for _, s in exact_runs)
    print(f"   exact STRtree path (same index, no raster): {exact_s:.3f} s = {rate(n, exact_s)}")

    peer_runs = [run_sjoin(ids, polygons, xs, ys) for _ in range(args.repeat)]
    peer = peer_runs[-1][0]
    peer_build = statistics.median(r[1] for r in peer_runs)
    peer_query = statistics.median(r[2] for r in peer_runs)
    print(
        f"   geopandas sjoin: build (GeoDataFrames from the arrays + grids' sindex) "
        f"{peer_build:.3f} s; query (sjoin intersects + smallest id per point) "
        f"{peer_query:.3f} s = {rate(n, peer_query)}; together {peer_build + peer_query:.3f} s "
        f"= {rate(n, peer_build + peer_query)}",
        flush=True,
    )

    query_ratio = peer_query / query_s
    total_ratio = (peer_build + peer_query) / (build_s + query_s)
    print(
        f"   ratio to sjoin: query only {query_ratio:.1f}x; build + query {total_ratio:.1f}x; "
        f"engine query vs sjoin build + query {(peer_build + peer_query) / query_s:.1f}x; "
        f"exact path query {peer_query / exact_s:.2f}x"
    )

    build_mb, query_mb = traced_engine_peaks_mb(ids, polygons, xs, ys, args.cells_per_grid)
    print(
        f"   memory: tracemalloc peak of an engine build {build_mb:.0f} MiB, of a query of all "
        f"points {query_mb:.0f} MiB (the raster keeps {stats.nbytes / 2**20:.0f} MiB); "
        f"peak RSS {rss_engine:.0f} MB after the engine runs, {peak_rss_mb():.0f} MB at the "
        f"end (sjoin included)"
    )

    vs_exact = int(np.count_nonzero(found != exact))
    vs_peer = int(np.count_nonzero(found != peer))
    print(
        f"   answers: engine vs exact path {vs_exact} differences, engine vs sjoin {vs_peer} "
        f"differences (of {n:,}; {int(np.count_nonzero(found == -1)):,} in no grid)"
    )
    verdict = "met" if query_ratio >= AIM_RATIO else "NOT met"
    with_build = "met" if total_ratio >= AIM_RATIO else "not met"
    print(
        f"   target >= {AIM_RATIO:g}x sjoin: {verdict} (query only {query_ratio:.1f}x; "
        f"including build {total_ratio:.1f}x, {with_build})",
        flush=True,
    )
    return 1 if vs_exact or vs_peer else 0


if __name__ == "__main__":
    sys.exit(main())
