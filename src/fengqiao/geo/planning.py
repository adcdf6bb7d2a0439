"""Planning police grids from small units ("one grid, one officer").

Pure: numpy and shapely (through :mod:`fengqiao.geo.adjacency`) and the standard library.
Coordinates are PLANAR (metres in a projected system such as UTM or a local transverse
Mercator); the caller projects longitude/latitude degrees before planning. Polsby-Popper
values are scale-free, so only the projection's shape distortion matters.

Rules: every grid is contiguous over rook adjacency (a shared edge; a corner does not
count), stays within one zone and never spans an adjacency cut by a barrier line; its
population is at most its cap (the smallest cap of its units); there are as few grids as
the search finds, and they are compact. A unit whose own population exceeds its cap is a
grid alone and is reported. Every unit is in exactly one grid.

Fresh planning (no ``current``) works per connected component: ``effort`` randomised
region-growing constructions (the best one kept), merging of neighbouring grids that fit
together, elimination of grids (a grid's units go to its neighbours, then a local search
over nearby grids removes the overflow; undone when it fails), and finally local search
passes that move or swap boundary units to improve compactness within the caps.

Re-planning (``current`` given) keeps each current grid's largest connected piece (units
of other zones or cut off go elsewhere), sheds units from grids that went over cap (to
neighbours with room, else through short chains of moves, else into a new grid), puts
units without a grid into neighbouring grids with room or new grids, folds new grids
into their neighbours where short chains allow, and never moves a unit that is still in
its own grid for compactness alone. Existing grids are never merged.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from fengqiao.geo.adjacency import (
    Partition,
    compact,
    components,
    dissolve,
    grow,
    merge,
    moments,
    neighbours,
    rook,
)
from fengqiao.geo.grid_figures import (
    GridFigures,
    Plan,
    Problem,
    evaluate,
    figures_of,
    polsby_popper,
)
from fengqiao.i18n import _

__all__ = ["GridFigures", "Plan", "Problem", "evaluate", "neighbours", "plan", "polsby_popper"]

Progress = Callable[[float, str], None]
HEAT = 0.05
HEATED_ATTEMPTS = 3
SWEEPS = 6
CHAIN = 3  # longest chain of moves when shedding population in re-planning
BRANCH = 3


def plan(
    problem: Problem,
    *,
    seed: int = 0,
    effort: int = 8,
    progress: Progress | None = None,
) -> Plan:
    """Group the units into grids; deterministic for a given ``seed``.

    ``effort`` scales the number of constructions and search passes. ``progress`` is
    called as ``progress(fraction, message)`` per component and per improvement pass.
    """
    started = time.perf_counter()
    n = len(problem.polygons)
    _check(problem, n)
    if n == 0:
        return Plan((), (), (), 0, (), (), 0, 0, time.perf_counter() - started)
    report: Progress = progress if progress is not None else (lambda _f, _m: None)
    rng = random.Random(seed)
    pop = [int(p) for p in problem.population]
    cap = [int(c) for c in problem.cap]
    nbrs, lengths = rook(problem.polygons, zone=problem.zone, barriers=problem.barriers)
    over = [u for u in range(n) if pop[u] > cap[u]]
    keys = [int(k) for k in problem.current] if problem.current is not None else [-1] * n
    area, centre, polar = moments(problem.polygons)
    centre = centre - centre.mean(axis=0)
    xy = [(float(x), float(y)) for x, y in centre.tolist()]
    perimeter = [float(g.length) for g in problem.polygons]
    units = _Units(nbrs, lengths, pop, cap, area.tolist(), xy, polar.tolist(), perimeter)
    comps = components(nbrs, [u for u in range(n) if pop[u] <= cap[u]])  # over-cap units apart
    lower = len(over) + sum(_bound(pop, cap, comp) for comp in comps)

    found: list[tuple[list[int], int | None]]
    if any(k >= 0 for k in keys):
        found = _plan_stable(units, comps, keys, rng, effort, report)
    else:
        found = [(g, None) for g in _plan_fresh(units, comps, rng, effort, report)]
    found = _continue_keys(found + [([u], None) for u in over], keys, pop)

    zone = [int(z) for z in problem.zone] if problem.zone is not None else [0] * n

    def order(item: tuple[list[int], int | None]) -> tuple[int, int, int, float, float, int]:
        """Continued grids by key, then the others by zone, north to south, west to east."""
        members, key = item
        if key is not None:
            return (0, key, 0, 0.0, 0.0, 0)
        weight = sum(units.area[u] for u in members) or 1.0
        cx = sum(units.area[u] * xy[u][0] for u in members) / weight
        cy = sum(units.area[u] * xy[u][1] for u in members) / weight
        return (1, 0, zone[members[0]], -cy, cx, members[0])

    found.sort(key=order)
    labels = [0] * n
    for g, (members, _key) in enumerate(found):
        for u in members:
            labels[u] = g
    continues = tuple(key for _members, key in found)
    moved = [u for u in range(n) if keys[u] >= 0 and continues[labels[u]] != keys[u]]
    report(1.0, _("done"))
    return Plan(
        labels=tuple(labels),
        grids=tuple(figures_of(problem, sorted(members), nbrs) for members, _key in found),
        continues=continues,
        lower_bound=lower,
        over_cap_units=tuple(over),
        islands=_islands(nbrs, problem.zone, pop),
        moved_units=len(moved),
        moved_population=sum(pop[u] for u in moved),
        seconds=time.perf_counter() - started,
    )


def _check(problem: Problem, n: int) -> None:
    if len(problem.population) != n or len(problem.cap) != n:
        raise ValueError("population and cap must have one entry per polygon")
    for name, values in (("zone", problem.zone), ("current", problem.current)):
        if values is not None and len(values) != n:
            raise ValueError(f"{name} must have one entry per polygon")
    if any(int(p) < 0 for p in problem.population) or any(int(c) < 0 for c in problem.cap):
        raise ValueError("population and cap must be >= 0")


@dataclass(frozen=True)
class _Units:
    """Per-unit data; ``partition`` takes a subset (over-cap units are never in one)."""

    nbrs: list[list[int]]
    lengths: list[list[float]]
    pop: list[int]
    cap: list[int]
    area: list[float]
    xy: list[tuple[float, float]]
    polar: list[float]
    perimeter: list[float]

    def partition(self, nodes: Sequence[int]) -> Partition:
        """A partition over ``nodes`` only, indexed 0..len(nodes)-1 in that order."""
        index = {u: i for i, u in enumerate(nodes)}
        pairs = [
            [
                (index[v], d)
                for v, d in zip(self.nbrs[u], self.lengths[u], strict=True)
                if v in index
            ]
            for u in nodes
        ]
        return Partition(
            [[v for v, _d in row] for row in pairs],
            [[d for _v, d in row] for row in pairs],
            [self.pop[u] for u in nodes],
            [self.cap[u] for u in nodes],
            [self.area[u] for u in nodes],
            [self.xy[u] for u in nodes],
            [self.polar[u] for u in nodes],
            [self.perimeter[u] for u in nodes],
        )


def _bound(pop: Sequence[int], cap: Sequence[int], comp: Sequence[int]) -> int:
    """ceil(sum(pop/cap)) over a component, exactly; at least 1."""
    by_cap: dict[int, int] = {}
    for u in comp:
        by_cap[cap[u]] = by_cap.get(cap[u], 0) + pop[u]
    total = sum((Fraction(p, c) for c, p in by_cap.items() if c > 0), Fraction(0))
    return max(1, math.ceil(total))


def _islands(
    nbrs: list[list[int]], zone: Sequence[int] | None, pop: Sequence[int]
) -> tuple[tuple[int, ...], ...]:
    """Components other than the largest (by units, then population) of each zone."""
    by_zone: dict[int, list[list[int]]] = {}
    for comp in components(nbrs, range(len(nbrs))):
        by_zone.setdefault(int(zone[comp[0]]) if zone is not None else 0, []).append(comp)
    found: list[tuple[int, ...]] = []
    for comps in by_zone.values():
        main = max(comps, key=lambda c: (len(c), sum(pop[u] for u in c), -c[0]))
        found += [tuple(c) for c in comps if c is not main]
    return tuple(sorted(found))


def _plan_fresh(
    units: _Units,
    comps: list[list[int]],
    rng: random.Random,
    effort: int,
    report: Progress,
) -> list[list[int]]:
    total = sum(len(c) for c in comps) or 1
    done = 0
    grids: list[list[int]] = []
    for i, comp in enumerate(comps):
        base, share = done / total, len(comp) / total
        label = _("area {i}/{n} ({units} units)").format(i=i + 1, n=len(comps), units=len(comp))

        def say(fraction: float, message: str, base: float = base, share: float = share) -> None:
            report(base + share * fraction, message)

        say(0.0, label)
        for local in _plan_component(units, comp, rng, effort, say, label):
            grids.append(sorted(comp[u] for u in local))
        done += len(comp)
    return grids


def _plan_component(
    units: _Units,
    comp: list[int],
    rng: random.Random,
    effort: int,
    say: Progress,
    label: str,
) -> list[list[int]]:
    lower = _bound(units.pop, units.cap, comp)
    if sum(units.pop[u] for u in comp) <= min(units.cap[u] for u in comp):
        return [list(range(len(comp)))]
    best: list[list[int]] = []
    best_key = (math.inf, math.inf)
    for attempt in range(max(1, effort)):
        part = units.partition(comp)
        grow(part, range(len(comp)), rng, noise=0.0 if attempt == 0 else 0.6)
        merge(part)
        regions = part.regions()
        key = (float(len(regions)), sum(part.shape(r) for r in regions))
        if key < best_key:
            best_key = key
            best = [sorted(part.members[r]) for r in regions]
    say(
        0.3,
        _("{label}: {n} grids built, lower bound {lower}").format(
            label=label, n=len(best), lower=lower
        ),
    )
    part = units.partition(comp)
    for members in best:
        r = part.open()
        for u in members:
            part.add(u, r)
    _reduce(part, lower, rng, effort, lambda message: say(0.45, f"{label}: {message}"))
    passes = 4 + 2 * effort
    for p in range(passes):
        moved = compact(part)
        say(
            0.6 + 0.4 * (p + 1) / passes,
            _("{label}: compactness pass {p}, {moved} moves").format(
                label=label, p=p + 1, moved=moved
            ),
        )
        if not moved:
            break
    return [sorted(part.members[r]) for r in part.regions()]


def _reduce(
    part: Partition, lower: int, rng: random.Random, effort: int, say: Callable[[str], None]
) -> None:
    """Eliminate grids one at a time while the search manages to re-home their units.

    A quick round (plain descent) tries every grid, least full first; a second round with
    a little annealing gets ``HEATED_ATTEMPTS * effort`` more attempts.
    """
    part.journal.clear()
    rounds = ((0.0, 2 * len(part.regions()) + 8), (HEAT, HEATED_ATTEMPTS * effort))
    for number, (heat, budget) in enumerate(rounds, start=1):
        failed: set[int] = set()
        while len(part.regions()) > lower and budget > 0:
            candidates = [r for r in part.regions() if r not in failed]
            if not candidates:
                break
            budget -= 1
            r = min(candidates, key=lambda r: (part.rpop[r] / max(1, part.region_cap(r)), r))
            mark = len(part.journal)
            if dissolve(part, r, rng, sweeps=SWEEPS + effort, heat=heat):
                failed.clear()
                part.journal.clear()
                say(
                    _("removing grids, round {n}: {grids} grids").format(
                        n=number, grids=len(part.regions())
                    )
                )
            else:
                part.undo(mark)
                failed.add(r)
        say(
            _("removing grids, round {n} done: {grids} grids").format(
                n=number, grids=len(part.regions())
            )
        )
    part.journal.clear()


def _plan_stable(
    units: _Units,
    comps: list[list[int]],
    current: list[int],
    rng: random.Random,
    effort: int,
    report: Progress,
) -> list[tuple[list[int], int | None]]:
    nodes = sorted(u for comp in comps for u in comp)
    part = units.partition(nodes)
    keyed: dict[int, int] = {}  # region -> current key
    loose: set[int] = set()
    by_key: dict[int, list[int]] = {}
    for i, u in enumerate(nodes):
        if current[u] >= 0:
            by_key.setdefault(current[u], []).append(i)
        else:
            loose.add(i)
    report(0.1, _("re-planning {n} current grids").format(n=len(by_key)))
    for key in sorted(by_key):
        pieces = components(part.nbrs, by_key[key])
        main = max(pieces, key=lambda c: (sum(part.pop[u] for u in c), len(c), -c[0]))
        r = part.open()
        keyed[r] = key
        for u in main:
            part.add(u, r)
        loose.update(u for c in pieces if c is not main for u in c)
    home = [-1] * len(nodes)
    for r in keyed:
        for u in part.members[r]:
            home[u] = r
    report(0.3, _("relieving grids over their cap"))
    for r in sorted(keyed, key=keyed.__getitem__):
        loose.update(_shed(part, r))
    report(0.5, _("re-homing {n} units").format(n=len(loose)))
    _attach(part, loose, home)
    fresh_start = len(part.members)
    grow(part, sorted(loose), rng, noise=0.0)
    merge(part, set(range(fresh_start, len(part.members))))
    _fold(part, [r for r in part.regions() if r >= fresh_start])
    passes = 2 + effort
    for p in range(passes):
        moved = compact(part, home)
        report(
            0.6 + 0.4 * (p + 1) / passes,
            _("compactness pass {p}, {moved} moves").format(p=p + 1, moved=moved),
        )
        if not moved:
            break
    return [([nodes[u] for u in sorted(part.members[r])], keyed.get(r)) for r in part.regions()]


def _attach(part: Partition, loose: set[int], home: list[int]) -> None:
    """Put loose units into neighbouring grids with room (their own grid first)."""
    changed = True
    while changed and loose:
        changed = False
        for u in sorted(loose):
            options = [s for s in part.touching(u) if part.fits(s, u)]
            if options:
                s = min(
                    options,
                    key=lambda s: (s != home[u], part.shape_with(s, u, 1) - part.shape(s), s),
                )
                part.add(u, s)
                loose.discard(u)
                changed = True


def _continue_keys(
    found: list[tuple[list[int], int | None]], current: list[int], pop: list[int]
) -> list[tuple[list[int], int | None]]:
    """Give grids without a key the unused current key they share most population with."""
    used = {key for _members, key in found if key is not None}
    pairs: list[tuple[int, int, int, int]] = []
    for g, (members, key) in enumerate(found):
        if key is not None:
            continue
        shared: dict[int, list[int]] = {}
        for u in members:
            if current[u] >= 0 and current[u] not in used:
                totals = shared.setdefault(current[u], [0, 0])
                totals[0] += pop[u]
                totals[1] += 1
        pairs += [(-p, -c, g, k) for k, (p, c) in shared.items()]
    result = list(found)
    for _p, _c, g, k in sorted(pairs):
        if k not in used and result[g][1] is None:
            result[g] = (result[g][0], k)
            used.add(k)
    return result


def _shed(part: Partition, r: int) -> list[int]:
    """Bring region ``r`` within its cap with few moves; returns the units left loose.

    Units go to neighbouring regions with room where possible: the smallest unit that
    clears the overflow on its own, else the largest that fits somewhere. Failing that, a
    unit may go to a full neighbour that passes a unit of its own on (chains of up to
    ``CHAIN`` moves, at most ``CHAIN`` moved units per unit of ``r``), which keeps the
    number of grids down. Failing that too, a unit on the region's edge is left loose
    (unassigned) for the caller to re-home.
    """
    loose: list[int] = []
    budget = CHAIN * len(part.members[r])
    while part.over(r) > 0:
        mark = len(part.journal)
        if _push(part, r, CHAIN, {r}) and part.moved_since(mark) <= budget:
            break
        part.undo(mark)
        ranked = _ranked(part, r)
        if not ranked:
            break
        part.move(ranked[0][-1], -1)
        loose.append(ranked[0][-1])
    return loose


def _fold(part: Partition, new: list[int]) -> None:
    """Hand each new region's units to neighbours that pass units on (see :func:`_push`)
    when that leaves every region within its cap and moves at most ``CHAIN`` units per
    unit handed over; smallest regions first."""
    for r in sorted(new, key=lambda r: (part.rpop[r], r)):
        mark = len(part.journal)
        receivers: set[int] = set()
        progress = True
        while part.members[r] and progress:
            progress = False
            for u in sorted(part.members[r]):
                options = part.touching(u)
                if options:
                    s = min(options, key=lambda s: (part.over(s), part.rpop[s], s))
                    part.move(u, s)
                    receivers.add(s)
                    progress = True
        size = len(part.journal) - mark
        if (
            part.members[r]
            or not all(_push(part, s, CHAIN, {s}) for s in sorted(receivers))
            or any(part.over(s) for s in part.regions())
            or part.moved_since(mark) > CHAIN * size
        ):
            part.undo(mark)


def _ranked(part: Partition, r: int) -> list[tuple[int, int, int, int, float, int]]:
    """Removable units of ``r``, best to shed first (see :func:`_shed`)."""
    cx, cy = part.centre(r)
    ranked: list[tuple[int, int, int, int, float, int]] = []
    for u in sorted(part.members[r]):
        if not part.removable(u):
            continue
        clears = part.rpop[r] - part.pop[u] <= part.cap_without(r, u)
        fits = any(part.fits(s, u) for s in part.touching(u))
        edge = any(part.label[v] != r for v in part.nbrs[u])
        far = (part.x[u] - cx) ** 2 + (part.y[u] - cy) ** 2
        size = part.pop[u] if clears else -part.pop[u]
        ranked.append((0 if fits else 1, 0 if edge else 1, 0 if clears else 1, size, -far, u))
    ranked.sort()
    return ranked


def _push(part: Partition, r: int, depth: int, visited: set[int]) -> bool:
    """Move units out of ``r`` until it is within its cap, through chains of at most
    ``depth`` moves into regions not in ``visited``; all or nothing."""
    mark = len(part.journal)
    while part.over(r) > 0:
        ranked = _ranked(part, r)
        if ranked and ranked[0][0] == 0:  # a unit fits a neighbour directly
            u = ranked[0][-1]
            options = [s for s in part.touching(u) if part.fits(s, u)]
            part.move(u, min(options, key=lambda s: (part.shape_with(s, u, 1) - part.shape(s), s)))
            continue
        if depth <= 1 or not _pass_on(part, ranked[:BRANCH], depth, visited):
            part.undo(mark)
            return False
    return True


def _pass_on(
    part: Partition,
    ranked: list[tuple[int, int, int, int, float, int]],
    depth: int,
    visited: set[int],
) -> bool:
    for *_key, u in ranked:
        for s in part.touching(u):
            if s in visited:
                continue
            mark = len(part.journal)
            part.move(u, s)
            if _push(part, s, depth - 1, visited | {s}):
                return True
            part.undo(mark)
    return False
