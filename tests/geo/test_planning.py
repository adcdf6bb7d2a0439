"""Grid planning: properties on random lattices, stable re-planning and specific cases."""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from fengqiao.geo.planning import Plan, Problem, evaluate, neighbours, plan, polsby_popper
from fengqiao.i18n import language

PROPERTY = settings(
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Lattice:
    """A jittered nx x ny lattice of quads (and maybe one far island), with known adjacency."""

    problem: Problem
    cells: list[tuple[int, int]]  # (column, row) per lattice unit; the island is last
    expected: list[list[int]]  # rook adjacency worked out from the lattice indices
    barrier_row: int | None  # units with row < barrier_row are south of the barrier
    island: bool


def make_lattice(
    nx: int,
    ny: int,
    *,
    seed: int,
    population: list[int],
    cap: list[int],
    zone_split: int | None = None,
    barrier_row: int | None = None,
    island: bool = False,
) -> Lattice:
    rng = random.Random(seed)
    points: dict[tuple[int, int], tuple[float, float]] = {}
    for i in range(nx + 1):
        for j in range(ny + 1):
            x, y = float(i), float(j)
            if 0 < i < nx:
                x += rng.uniform(-0.25, 0.25)
            if 0 < j < ny and j != barrier_row:  # the barrier row line stays straight
                y += rng.uniform(-0.25, 0.25)
            points[i, j] = (x, y)
    cells = [(i, j) for j in range(ny) for i in range(nx)]
    polygons: list[Polygon] = [
        Polygon([points[i, j], points[i + 1, j], points[i + 1, j + 1], points[i, j + 1]])
        for i, j in cells
    ]
    index = {c: u for u, c in enumerate(cells)}
    zone = [0 if zone_split is None or i < zone_split else 1 for i, _j in cells]
    expected: list[list[int]] = [[] for _ in cells]
    for u, (i, j) in enumerate(cells):
        for c in ((i + 1, j), (i, j + 1)):
            v = index.get(c)
            if v is None or zone[u] != zone[v]:
                continue
            if c == (i, j + 1) and barrier_row is not None and j + 1 == barrier_row:
                continue
            expected[u].append(v)
            expected[v].append(u)
    if island:
        polygons.append(box(nx + 3, 0, nx + 4, 1))
        expected.append([])
        zone.append(0)
    barriers = (LineString([(-1, barrier_row), (nx + 1, barrier_row)]),) if barrier_row else ()
    problem = Problem(
        polygons=polygons,
        population=population[: len(polygons)],
        cap=cap[: len(polygons)],
        zone=zone if zone_split is not None else None,
        barriers=barriers,
    )
    return Lattice(problem, cells, [sorted(row) for row in expected], barrier_row, island)


@st.composite
def lattices(draw: st.DrawFn, feasible: bool = False) -> Lattice:
    nx, ny = draw(st.integers(2, 9)), draw(st.integers(2, 9))
    island = draw(st.booleans())
    n = nx * ny + int(island)
    high = 20 if feasible else 26
    population = draw(st.lists(st.integers(0, high), min_size=n, max_size=n))
    caps = draw(st.sampled_from([(20,), (25,), (20, 30), (40,)]))
    cap = [caps[k % len(caps)] for k in draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))]
    zone_split = draw(st.one_of(st.none(), st.integers(1, nx - 1)))
    barrier_row = draw(st.one_of(st.none(), st.integers(1, ny - 1)))
    return make_lattice(
        nx,
        ny,
        seed=draw(st.integers(0, 2**16)),
        population=population,
        cap=cap,
        zone_split=zone_split,
        barrier_row=barrier_row,
        island=island,
    )


def connected(units: tuple[int, ...] | list[int], adjacency: list[list[int]]) -> bool:
    members = set(units)
    start = next(iter(members))
    seen = {start}
    queue = deque([start])
    while queue:
        for v in adjacency[queue.popleft()]:
            if v in members and v not in seen:
                seen.add(v)
                queue.append(v)
    return seen == members


def check_plan(lattice: Lattice, result: Plan) -> None:
    problem = lattice.problem
    n = len(problem.polygons)
    pop, cap = problem.population, problem.cap
    assert len(result.labels) == n
    assert sorted(u for g in result.grids for u in g.units) == list(range(n))
    assert len(result.continues) == len(result.grids)
    for g, grid in enumerate(result.grids):
        assert grid.units
        assert all(result.labels[u] == g for u in grid.units)
        assert connected(grid.units, lattice.expected), grid.units
        assert grid.contiguous
        assert grid.population == sum(pop[u] for u in grid.units)
        assert grid.cap == min(cap[u] for u in grid.units)
        over_units = [u for u in grid.units if pop[u] > cap[u]]
        if over_units:
            assert list(grid.units) == over_units  # an over-cap unit is a grid alone
        else:
            assert grid.population <= grid.cap
            assert not grid.over_cap
        if problem.zone is not None:
            assert len({problem.zone[u] for u in grid.units}) == 1
        if lattice.barrier_row is not None:
            sides = {
                lattice.cells[u][1] < lattice.barrier_row
                for u in grid.units
                if u < len(lattice.cells)
            }
            assert len(sides) <= 1  # (empty for the island)
        assert 0.0 < grid.polsby_popper <= 1.0
    assert result.over_cap_units == tuple(u for u in range(n) if pop[u] > cap[u])
    assert len(result.grids) >= result.lower_bound
    assert result.islands == expected_islands(lattice)


def expected_islands(lattice: Lattice) -> tuple[tuple[int, ...], ...]:
    """Per zone, every component of the lattice adjacency but the largest (by units, then
    population, then smallest unit)."""
    problem = lattice.problem
    zone = problem.zone or [0] * len(problem.polygons)
    seen: set[int] = set()
    by_zone: dict[int, list[tuple[int, ...]]] = {}
    for start in range(len(problem.polygons)):
        if start in seen:
            continue
        comp, queue = {start}, deque([start])
        while queue:
            for v in lattice.expected[queue.popleft()]:
                if v not in comp:
                    comp.add(v)
                    queue.append(v)
        seen |= comp
        by_zone.setdefault(zone[start], []).append(tuple(sorted(comp)))
    islands = []
    for comps in by_zone.values():
        main = max(comps, key=lambda c: (len(c), sum(problem.population[u] for u in c), -c[0]))
        islands += [c for c in comps if c != main]
    return tuple(sorted(islands))


@PROPERTY
@given(lattices())
def test_plans_on_random_lattices_keep_every_rule(lattice: Lattice) -> None:
    problem = lattice.problem
    assert neighbours(problem.polygons, zone=problem.zone, barriers=problem.barriers) == (
        lattice.expected
    )
    first = plan(problem, seed=3)
    check_plan(lattice, first)
    again = plan(problem, seed=3)
    assert replace(again, seconds=0.0) == replace(first, seconds=0.0)
    assert first.moved_units == 0 and first.continues == (None,) * len(first.grids)


@PROPERTY
@given(lattices(feasible=True), st.data())
def test_replanning_after_a_small_change_moves_few_units(
    lattice: Lattice, data: st.DataObject
) -> None:
    problem = lattice.problem
    before = plan(problem, seed=1)
    n = len(problem.polygons)
    pop = list(problem.population)
    room = sorted(
        (g.cap - g.population, v)
        for g in before.grids
        for v in g.units
        if len(g.units) > 1 and pop[v] < problem.cap[v]
    )
    if room and data.draw(st.booleans()):  # grow a unit of a nearly full grid
        u = data.draw(st.sampled_from([v for _slack, v in room[:3]]))
        change = data.draw(st.floats(0.0, 0.1))
    else:
        u = data.draw(st.integers(0, n - 1))
        change = data.draw(st.floats(-0.1, 0.1))
    # At least one person more or less, never over the unit's own cap.
    step = round(pop[u] * change) or (1 if change > 0 else -1)
    pop[u] = min(problem.cap[u], max(0, pop[u] + step))
    changed = replace(problem, population=pop, current=before.labels)
    after = plan(changed, seed=2)
    check_plan(replace(lattice, problem=changed), after)
    burst = [g for g in before.grids if sum(pop[v] for v in g.units) > g.cap and len(g.units) > 1]
    moved = [v for v in range(n) if after.continues[after.labels[v]] != before.labels[v]]
    event(f"grids over cap after the change: {len(burst)}; moved: {bool(moved)}")

    assert after.moved_units == len(moved)
    assert after.moved_population == sum(pop[v] for v in moved)
    if not burst:
        assert after.moved_units == 0
        assert after.labels == before.labels
    else:
        # Burst grids shed units to neighbours (which may pass units on: chains of up to
        # three moves, at most three moved units per unit of the burst grid) or split off
        # a new grid; at most one new grid per burst grid.
        assert len(moved) <= 3 * sum(len(g.units) for g in burst)
        assert len(before.grids) <= len(after.grids) <= len(before.grids) + len(burst)


def unit_squares(cells: list[tuple[int, int]]) -> list[Polygon]:
    return [box(i, j, i + 1, j + 1) for i, j in cells]


def test_blocks_touching_at_a_corner_are_not_contiguous() -> None:
    cells = [(0, 0), (1, 0), (0, 1), (1, 1), (2, 2), (3, 2), (2, 3), (3, 3)]
    problem = Problem(unit_squares(cells), [1] * 8, [100] * 8)
    assert neighbours(problem.polygons)[3] == [1, 2]  # not 4, which it meets at a corner
    result = plan(problem)
    assert [g.units for g in result.grids] == [(4, 5, 6, 7), (0, 1, 2, 3)]  # north first
    assert result.lower_bound == 2
    assert result.islands == ((4, 5, 6, 7),)
    (together,) = evaluate(problem, [0] * 8)
    assert not together.contiguous and together.population == 8


def test_an_over_cap_unit_is_a_grid_alone_and_reported() -> None:
    problem = Problem(unit_squares([(0, 0), (1, 0), (2, 0), (3, 0)]), [5, 50, 5, 5], [20] * 4)
    result = plan(problem)
    assert result.over_cap_units == (1,)
    alone = result.grids[result.labels[1]]
    assert alone.units == (1,) and alone.over_cap and alone.population == 50
    # Without unit 1 the rest falls into {0} and {2, 3}: one grid each, plus the unit itself.
    assert sorted(g.units for g in result.grids) == [(0,), (1,), (2, 3)]
    assert result.lower_bound == 3 == len(result.grids)


def test_an_island_is_reported_and_planned_on_its_own() -> None:
    cells = [(i, j) for j in range(3) for i in range(3)]
    polygons = [*unit_squares(cells), box(10, 10, 11, 11)]
    result = plan(Problem(polygons, [3] * 10, [100] * 10))
    assert result.islands == ((9,),)
    assert sorted(g.units for g in result.grids) == [tuple(range(9)), (9,)]


def test_a_barrier_keeps_the_two_halves_apart() -> None:
    cells = [(i, j) for j in range(2) for i in range(4)]
    river = LineString([(-1, 1), (5, 1)])
    problem = Problem(unit_squares(cells), [1] * 8, [100] * 8, barriers=[river])
    assert neighbours(problem.polygons, barriers=[river])[0] == [1]  # 4 is across the river
    result = plan(problem)
    assert [g.units for g in result.grids] == [(4, 5, 6, 7), (0, 1, 2, 3)]
    assert result.islands == ((4, 5, 6, 7),)  # the river cuts the zone in two
    # Without the barrier everything fits in one grid.
    assert len(plan(replace(problem, barriers=())).grids) == 1


def test_a_barrier_across_the_centroid_segment_cuts_the_adjacency() -> None:
    polygons = unit_squares([(0, 0), (1, 0)])
    stub = LineString([(0.8, 0.3), (0.8, 0.7)])  # inside unit 0, away from the shared edge
    assert neighbours(polygons, barriers=[stub]) == [[], []]
    assert neighbours(polygons, barriers=[LineString([(0.2, 0.1), (0.2, 0.4)])]) == [[1], [0]]


def test_zones_never_share_a_grid() -> None:
    cells = [(i, 0) for i in range(4)]
    problem = Problem(unit_squares(cells), [1] * 4, [100] * 4, zone=[7, 7, 3, 3])
    result = plan(problem)
    assert [g.units for g in result.grids] == [(2, 3), (0, 1)]  # ordered by zone


def test_polsby_popper_of_a_square_and_a_circle() -> None:
    assert polsby_popper(box(0, 0, 2, 2)) == pytest.approx(math.pi / 4)
    assert polsby_popper(Point(0, 0).buffer(1.0, quad_segs=256)) == pytest.approx(1.0, abs=1e-4)
    assert polsby_popper(Polygon()) == 0.0


def test_evaluate_flags_split_and_over_cap_grids() -> None:
    problem = Problem(unit_squares([(0, 0), (1, 0), (0, 1), (1, 1)]), [4, 4, 4, 4], [10] * 4)
    diagonal = evaluate(problem, [0, 1, 1, 0])
    assert [g.contiguous for g in diagonal] == [False, False]
    crowded = evaluate(problem, [0, 0, 0, 1])
    assert crowded[0].over_cap and crowded[0].population == 12 and crowded[0].cap == 10
    assert not crowded[1].over_cap and crowded[1].contiguous
    gap = evaluate(problem, [0, 0, 2, 2])
    assert gap[1].units == () and gap[2].units == (2, 3)
    with pytest.raises(ValueError):
        evaluate(problem, [0, 0, -1, 0])


def test_an_empty_problem_gives_an_empty_plan() -> None:
    result = plan(Problem([], [], []))
    assert result.labels == () and result.grids == () and result.lower_bound == 0


def test_replanning_repairs_a_split_grid_and_places_new_units() -> None:
    cells = [(i, 0) for i in range(5)]
    current = [0, 9, 0, -1, 9]
    problem = Problem(unit_squares(cells), [2] * 5, [100] * 5, current=current)
    result = plan(problem)
    check_plan(Lattice(problem, cells, neighbours(problem.polygons), None, False), result)
    # Keys 0 and 9 are each split in two pieces of equal population: each keeps the piece
    # with the smallest unit (0 and 1). Units 2 and 4 are re-homed and unit 3, which had no
    # grid, joins a neighbour; existing grids are not merged. Unit 4 ends up in key 9's
    # grid again, so only unit 2 moved (unit 3 had no grid to move from).
    assert [(g.units, k) for g, k in zip(result.grids, result.continues, strict=True)] == [
        ((0,), 0),
        ((1, 2, 3, 4), 9),
    ]
    assert result.moved_units == 1 and result.moved_population == 2


def test_progress_is_reported_and_ends_at_one() -> None:
    cells = [(i, j) for j in range(6) for i in range(6)]
    polygons = [*unit_squares(cells), box(20, 0, 21, 1)]
    seen: list[tuple[float, str]] = []
    with language("en"):
        plan(Problem(polygons, [5] * 37, [20] * 37), progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _m in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [m for _f, m in seen if m.endswith("units)")] == [
        "area 1/2 (36 units)",
        "area 2/2 (1 units)",
    ]
    assert any("compactness pass" in m for _f, m in seen)


def test_mixed_caps_use_the_smallest_cap_of_a_grid() -> None:
    cells = [(i, 0) for i in range(4)]
    problem = Problem(unit_squares(cells), [10, 10, 10, 10], [40, 40, 15, 40])
    result = plan(problem)
    for grid in result.grids:
        assert grid.population <= grid.cap
    # Unit 2 (cap 15) can only be alone, which cuts the row in three grids; the bound
    # ceil(3 * 10/40 + 10/15) = 2 does not see that.
    assert len(result.grids) == 3
    assert result.lower_bound == math.ceil(10 / 40 * 3 + 10 / 15) == 2


def test_a_zone_change_splits_a_current_grid() -> None:
    cells = [(i, 0) for i in range(4)]
    problem = Problem(
        unit_squares(cells), [1, 1, 1, 2], [100] * 4, zone=[0, 0, 1, 1], current=[5, 5, 5, 5]
    )
    result = plan(problem)
    # Key 5 keeps its larger piece by population, {2, 3}; units 0 and 1 form a new grid.
    assert [(g.units, k) for g, k in zip(result.grids, result.continues, strict=True)] == [
        ((2, 3), 5),
        ((0, 1), None),
    ]
    assert result.moved_units == 2 and result.moved_population == 2


def test_multipolygon_units_are_planned_like_polygons() -> None:
    split = MultiPolygon([box(0, 0, 1, 1), box(2, 0, 3, 1)])  # one unit in two parts
    problem = Problem([split, box(1, 0, 2, 1), box(3, 0, 4, 1)], [5, 5, 5], [10, 10, 10])
    assert neighbours(problem.polygons) == [[1, 2], [0], [0]]
    result = plan(problem)
    assert sorted(g.units for g in result.grids) == [(0, 1), (2,)] or sorted(
        g.units for g in result.grids
    ) == [(0, 2), (1,)]
    assert all(g.contiguous and not g.over_cap for g in result.grids)
