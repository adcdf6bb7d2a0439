"""The inputs and figures of grid planning: a problem, a plan, and the figures of any
labelling of units into grids (population, cap, contiguity, Polsby–Popper compactness).
Pure: shapely and the standard library. Coordinates are planar (metres).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from fengqiao.geo.adjacency import components, neighbours


@dataclass(frozen=True)
class Problem:
    """Units to group into grids. Geometries are in planar coordinates (see module doc).

    ``polygons``: Polygons or MultiPolygons; ``population`` >= 0 per unit; ``cap`` per
    unit (a grid's cap is the smallest cap of its units); ``zone``: units of different
    zones never share a grid; ``barriers``: lines that cut adjacencies (see
    :func:`neighbours`); ``current``: the existing grid key per unit (any int >= 0, -1 for
    none) for stable re-planning.
    """

    polygons: Sequence[BaseGeometry]
    population: Sequence[int]
    cap: Sequence[int]
    zone: Sequence[int] | None = None
    barriers: Sequence[BaseGeometry] = ()
    current: Sequence[int] | None = None


@dataclass(frozen=True)
class GridFigures:
    """One grid: its units (sorted), population, cap (smallest unit cap), whether it is
    over that cap, whether it is contiguous, and the Polsby-Popper score of its union."""

    units: tuple[int, ...]
    population: int
    cap: int
    over_cap: bool
    contiguous: bool
    polsby_popper: float


@dataclass(frozen=True)
class Plan:
    """A planned set of grids.

    ``labels``: grid index per unit. ``continues``: per grid, the ``current`` key it carries
    on, else None. ``lower_bound``: over connected components (after taking out over-cap
    units) the sum of ceil(sum(population/cap)), plus one per over-cap unit.
    ``over_cap_units``: units over their own cap, each a grid alone. ``islands``: groups of
    units cut off from the rest of their zone (every component but the zone's largest).
    ``moved_units``/``moved_population``: units whose grid's continued key differs from
    their ``current`` key; units with ``current`` -1 are placed, not moved, and not counted.
    """

    labels: tuple[int, ...]
    grids: tuple[GridFigures, ...]
    continues: tuple[int | None, ...]
    lower_bound: int
    over_cap_units: tuple[int, ...]
    islands: tuple[tuple[int, ...], ...]
    moved_units: int
    moved_population: int
    seconds: float


def polsby_popper(geom: BaseGeometry) -> float:
    """4*pi*area/perimeter**2, in [0, 1]: 1 for a disc, pi/4 for a square, 0 when empty."""
    if geom.is_empty:
        return 0.0
    perimeter = float(geom.length)
    if perimeter <= 0.0:
        return 0.0
    return min(1.0, max(0.0, 4.0 * math.pi * float(geom.area) / perimeter**2))


def evaluate(
    problem: Problem, labels: Sequence[int], nbrs: list[list[int]] | None = None
) -> tuple[GridFigures, ...]:
    """Figures of grid ``g`` at index ``g`` for every ``g`` in 0..max(labels).

    A label with no units gives empty figures. ``contiguous`` is connectivity over
    ``nbrs`` (by default :func:`neighbours` with the problem's zones and barriers, so a
    grid mixing zones or spanning a cut adjacency is not contiguous).
    """
    n = len(problem.polygons)
    if len(labels) != n:
        raise ValueError("labels must have one entry per unit")
    if any(g < 0 for g in labels):
        raise ValueError("labels must be >= 0")
    if nbrs is None:
        nbrs = neighbours(problem.polygons, zone=problem.zone, barriers=problem.barriers)
    groups: list[list[int]] = [[] for _i in range(max(labels, default=-1) + 1)]
    for u, g in enumerate(labels):
        groups[g].append(u)
    return tuple(figures_of(problem, units, nbrs) for units in groups)


def figures_of(problem: Problem, units: list[int], nbrs: list[list[int]]) -> GridFigures:
    if not units:
        return GridFigures((), 0, 0, False, True, 0.0)
    population = sum(int(problem.population[u]) for u in units)
    cap = min(int(problem.cap[u]) for u in units)
    union = shapely.union_all([problem.polygons[u] for u in units])
    return GridFigures(
        units=tuple(units),
        population=population,
        cap=cap,
        over_cap=population > cap,
        contiguous=len(components(nbrs, units)) == 1,
        polsby_popper=polsby_popper(union),
    )
