"""Grid planning beside PySAL spopt's max-p heuristic, on public data shipped with libpysal.

Data (no download; both ship inside the libpysal package):

* ``georgia``: libpysal/examples/georgia/G_utm.shp, 159 Georgia counties in UTM metres,
  population ``TotPop90``;
* ``stl``: libpysal/examples/stl/stl_hom.shp, 78 counties around St. Louis, population
  ``PO8893``; the file is in longitude/latitude, so it is projected to its UTM zone first.

Ours: ``fengqiao.geo.planning.plan`` minimises the number of grids under a population CAP.
Peer: ``spopt.region.MaxPHeuristic`` maximises the number of regions under a population
FLOOR, so it is run with floors of 0.5, 0.6 and 0.7 times the cap, with the same rook
adjacency (a libpysal ``Rook`` weights object, checked equal to ours) and the centroid
coordinates as the attributes it makes homogeneous (so its regions are compact).

Every method runs once, in a forked child process: the time is the call's wall time and
the memory is the child's peak resident set growth during the call (VmHWM after the call
minus VmRSS before it, from /proc), so both are measured in the same single run. Where
fork or /proc is missing, the run is in-process and memory is the tracemalloc peak.

Run from the repository root: ``make bench``, or ``.venv/bin/python benchmarks/bench_planning.py``.
"""

from __future__ import annotations

import os
import pickle
import random
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import libpysal.examples
import numpy as np
from libpysal.weights import Rook
from spopt.region import MaxPHeuristic

from fengqiao.geo.planning import Problem, evaluate, neighbours, plan

SEED = 0
FLOORS = (0.5, 0.6, 0.7)
EXAMPLES = Path(os.path.dirname(libpysal.examples.__file__))


@dataclass(frozen=True)
class Dataset:
    name: str
    path: Path
    population: str
    cap: int
    label: str  # column naming a unit in the report


DATASETS = (
    Dataset("georgia", EXAMPLES / "georgia" / "G_utm.shp", "TotPop90", 250_000, "AreaKey"),
    Dataset("stl", EXAMPLES / "stl" / "stl_hom.shp", "PO8893", 750_000, "NAME"),
)


@dataclass(frozen=True)
class Run:
    labels: list[int]
    lower_bound: int | None
    seconds: float
    peak_mib: float


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def measured(call: Callable[[], tuple[list[int], int | None]]) -> Run:
    """Run ``call`` once in a forked child; its labels, wall time and peak memory growth."""
    if not hasattr(os, "fork") or not os.path.exists("/proc/self/status"):
        tracemalloc.start()
        started = time.perf_counter()
        labels, lower = call()
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        return Run(labels, lower, seconds, peak)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        try:
            before = _status_kib("VmRSS")
            started = time.perf_counter()
            labels, lower = call()
            seconds = time.perf_counter() - started
            peak = (_status_kib("VmHWM") - before) / 1024
            payload: Any = Run(labels, lower, seconds, peak)
        except BaseException as exc:  # reported by the parent
            payload = exc
        with os.fdopen(write_end, "wb") as out:
            pickle.dump(payload, out)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as inp:
        payload = pickle.load(inp)
    os.waitpid(pid, 0)
    if isinstance(payload, BaseException):
        raise payload
    assert isinstance(payload, Run)
    return payload


def dense(labels: Any) -> list[int]:
    """Labels renumbered 0..k-1."""
    _values, inverse = np.unique(np.asarray(labels), return_inverse=True)
    return [int(v) for v in inverse.ravel()]


def load(data: Dataset) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(data.path)
    if gdf.crs is None and gdf.total_bounds[2] <= 180:  # longitude/latitude degrees
        gdf = gdf.set_crs(4326)
    if gdf.crs is not None and gdf.crs.is_geographic:
        gdf = gdf.to_crs(gdf.estimate_utm_crs())
    centres = gdf.geometry.centroid
    gdf["cx"], gdf["cy"] = centres.x, centres.y
    return gdf


def report(data: Dataset) -> str:
    gdf = load(data)
    pop = [int(p) for p in gdf[data.population]]
    problem = Problem(polygons=list(gdf.geometry), population=pop, cap=[data.cap] * len(gdf))
    nbrs = neighbours(problem.polygons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Rook.from_dataframe(gdf, use_index=False)
    same = {(i, j) for i, row in enumerate(nbrs) for j in row} == {
        (int(i), int(j)) for i, row in w.neighbors.items() for j in row
    }
    print(f"\n## {data.name}: {data.path.relative_to(EXAMPLES.parent.parent)}")
    print(
        f"{len(gdf)} units, population {data.population} total {sum(pop):,}, cap {data.cap:,}; "
        f"{sum(len(r) for r in nbrs) // 2} rook adjacencies, libpysal Rook "
        f"{'identical' if same else 'DIFFERENT'}"
    )
    over = [u for u in range(len(pop)) if pop[u] > data.cap]
    names = ", ".join(f"{gdf[data.label].iloc[u]} ({pop[u]:,})" for u in over) or "none"
    print(f"units over the cap (each a grid alone): {len(over)}: {names}")

    def ours() -> tuple[list[int], int | None]:
        result = plan(problem, seed=SEED)
        return list(result.labels), result.lower_bound

    mine = measured(ours)
    assert mine.lower_bound is not None
    lower = mine.lower_bound
    rows = [("fengqiao plan (cap)", mine)]
    for floor in FLOORS:

        def maxp(floor: float = floor) -> tuple[list[int], int | None]:
            np.random.seed(SEED)
            random.seed(SEED)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = MaxPHeuristic(
                    gdf, w, ["cx", "cy"], data.population, floor * data.cap, top_n=2
                )
                model.solve()
            return dense(model.labels_), None

        rows.append((f"spopt max-p floor {floor:.1f}x", measured(maxp)))

    header = (
        f"{'method':<26}{'grids':>6}{'bound':>6}{'ratio':>7}{'largest':>11}{'largest*':>10}"
        f"{'over cap*':>10}{'mean PP':>8}{'split':>6}{'seconds':>9}{'peak MiB':>9}"
    )
    print(header)
    print("-" * len(header))
    summary: dict[str, tuple[int, float, float, float]] = {}
    for name, run in rows:
        grids = evaluate(problem, run.labels, nbrs)
        counted = [g for g in grids if not (len(g.units) == 1 and g.over_cap)]
        over_share = sum(g.over_cap for g in counted) / max(1, len(counted))
        mean_pp = float(np.mean([g.polsby_popper for g in grids]))
        print(
            f"{name:<26}{len(grids):>6}{lower:>6}{len(grids) / lower:>7.2f}"
            f"{max(g.population for g in grids):>11,}"
            f"{max((g.population for g in counted), default=0):>10,}{over_share:>9.0%} "
            f"{mean_pp:>8.3f}{sum(not g.contiguous for g in grids):>6}"
            f"{run.seconds:>9.2f}{run.peak_mib:>9.1f}"
        )
        summary[name] = (len(grids), over_share, mean_pp, run.seconds)
    print(
        "* without grids that are a single unit already over the cap. over cap: share of "
        "grids above the cap; split: non-contiguous grids; PP: Polsby-Popper; peak MiB: "
        "resident memory growth during the call."
    )
    print(replanning(problem, list(mine.labels)))
    k, share, pp, secs = summary["fengqiao plan (cap)"]
    peers = [(n.removeprefix("spopt "), s) for n, s in summary.items() if n.startswith("spopt")]
    safest = min(peers, key=lambda item: (item[1][1], item[1][0]))
    closest = min(peers, key=lambda item: (abs(item[1][0] - k), item[1][1]))
    return (
        f"{data.name}: fengqiao {k} grids ({k / lower:.2f}x bound), {share:.0%} over cap, "
        f"PP {pp:.3f}, {secs:.2f}s | max-p: {safest[1][0]} grids {safest[1][1]:.0%} over "
        f"cap ({safest[0]}), {closest[1][0]} grids {closest[1][1]:.0%} over cap "
        f"({closest[0]}, PP {closest[1][2]:.3f}, {closest[1][3]:.2f}s)"
    )


def replanning(problem: Problem, labels: list[int]) -> str:
    """Re-plan with ``current`` after every unit's population grows by 0-10 % (seeded)."""
    rng = random.Random(SEED)
    grown = [round(p * (1 + 0.1 * rng.random())) for p in problem.population]
    changed = replace(problem, population=grown, current=labels)
    burst = sum(g.over_cap and len(g.units) > 1 for g in evaluate(changed, labels))
    again = plan(changed, seed=SEED)
    fresh = plan(replace(changed, current=None), seed=SEED)
    return (
        f"re-planning (current = this plan) after 0-10 % growth per unit: {burst} grids went "
        f"over the cap; "
        f"{len(set(labels))} -> {len(again.grids)} grids (a fresh plan: "
        f"{len(fresh.grids)}, bound {again.lower_bound}), {again.moved_units} units "
        f"({again.moved_population:,} people) moved, {again.seconds:.2f}s"
    )


def main() -> None:
    print(f"grid planning benchmark, seed {SEED}, Python {sys.version.split()[0]}")
    verdicts = [report(data) for data in DATASETS]
    print("\nVERDICT")
    for line in verdicts:
        print("  " + line)


if __name__ == "__main__":
    main()
