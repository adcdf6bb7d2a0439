"""Rook adjacency of planning units and a partition of them into regions.

Pure: numpy and shapely only. Coordinates are PLANAR (for example metres in a projected
system such as UTM or a local transverse Mercator); the caller projects longitude/latitude
degrees first. Lengths and areas are in the units of those coordinates.

Two units are rook neighbours when their boundaries share a line of length greater than a
tolerance; touching at a corner does not count. Units of different zones are never
neighbours, and a barrier line (a river, a railway) cuts an adjacency when it runs through
the interior of the shared edge or crosses the segment between the two centroids.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

FloatArray = npt.NDArray[np.float64]
_LINEAR = (1, 2)  # shapely type ids of LineString and LinearRing


def neighbours(
    polygons: Sequence[BaseGeometry],
    *,
    zone: Sequence[int] | None = None,
    barriers: Sequence[BaseGeometry] = (),
    tolerance: float = 1e-9,
) -> list[list[int]]:
    """Sorted rook neighbours of every unit, with zone boundaries and barriers cut.

    ``polygons`` are Polygons or MultiPolygons in planar coordinates; ``tolerance`` is the
    shortest shared boundary length (in those units) that makes two units neighbours.
    """
    return rook(polygons, zone=zone, barriers=barriers, tolerance=tolerance)[0]


def rook(
    polygons: Sequence[BaseGeometry],
    *,
    zone: Sequence[int] | None = None,
    barriers: Sequence[BaseGeometry] = (),
    tolerance: float = 1e-9,
) -> tuple[list[list[int]], list[list[float]]]:
    """:func:`neighbours`, and beside each neighbour the length of the shared boundary."""
    n = len(polygons)
    result: list[list[int]] = [[] for _ in range(n)]
    if n < 2:
        return result, [[] for _ in range(n)]
    geoms = np.asarray(list(polygons), dtype=object)
    left, right = STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if zone is not None:
        zones = np.asarray(list(zone))
        keep = zones[left] == zones[right]
        left, right = left[keep], right[keep]
    boundaries = shapely.boundary(geoms)
    shared = shapely.intersection(boundaries[left], boundaries[right])
    length = shapely.length(shared)
    keep = length > tolerance
    left, right, shared, length = left[keep], right[keep], shared[keep], length[keep]
    if len(barriers) and len(left):
        keep = ~_cut_by_barriers(geoms, left, right, shared, barriers)
        left, right, length = left[keep], right[keep], length[keep]
    found: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for i, j, d in zip(left.tolist(), right.tolist(), length.tolist(), strict=True):
        found[i].append((j, d))
        found[j].append((i, d))
    for row in found:
        row.sort()
    return [[j for j, _d in row] for row in found], [[d for _j, d in row] for row in found]


def _crosses_interior(lines: npt.NDArray[np.object_], wall: BaseGeometry) -> npt.NDArray[np.bool_]:
    """Whether the interior of each line meets ``wall`` (meeting only at an end does not)."""
    return np.asarray(shapely.intersects(lines, wall) & ~shapely.touches(lines, wall))


def _cut_by_barriers(
    geoms: npt.NDArray[np.object_],
    left: npt.NDArray[np.intp],
    right: npt.NDArray[np.intp],
    shared: npt.NDArray[np.object_],
    barriers: Sequence[BaseGeometry],
) -> npt.NDArray[np.bool_]:
    wall = shapely.union_all(list(barriers))
    shapely.prepare(wall)
    cut = np.zeros(len(left), dtype=bool)
    # The shared boundary may hold points as well as lines; test its linear parts only.
    parts, index = shapely.get_parts(shared, return_index=True)
    linear = np.isin(shapely.get_type_id(parts), _LINEAR)
    hit = _crosses_interior(parts[linear], wall)
    cut[np.unique(index[linear][hit])] = True
    centres = shapely.get_coordinates(shapely.centroid(geoms))
    segments = np.asarray(
        shapely.linestrings(np.stack([centres[left], centres[right]], axis=1)), dtype=object
    )
    return cut | _crosses_interior(segments, wall)


def components(nbrs: Sequence[Sequence[int]], nodes: Iterable[int]) -> list[list[int]]:
    """Connected components of the subgraph on ``nodes``, each sorted, by smallest node."""
    todo = set(nodes)
    found: list[list[int]] = []
    for start in sorted(todo):
        if start not in todo:
            continue
        todo.discard(start)
        comp = [start]
        queue = deque([start])
        while queue:
            for v in nbrs[queue.popleft()]:
                if v in todo:
                    todo.discard(v)
                    comp.append(v)
                    queue.append(v)
        comp.sort()
        found.append(comp)
    return found


def moments(polygons: Sequence[BaseGeometry]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Area, centroid (n x 2) and polar moment of area about the centroid of each unit."""
    n = len(polygons)
    geoms = np.asarray(list(polygons), dtype=object)
    area = np.asarray(shapely.area(geoms), dtype=np.float64)
    centre = np.zeros((n, 2))
    polar = np.zeros(n)
    if n == 0:
        return area, centre, polar
    centre = np.asarray(shapely.get_coordinates(shapely.centroid(geoms)), dtype=np.float64)
    if len(centre) != n:  # empty geometries have no centroid
        centre = np.array(
            [(g.centroid.x, g.centroid.y) if not g.is_empty else (0.0, 0.0) for g in geoms]
        )
    parts, part_of = shapely.get_parts(shapely.orient_polygons(geoms), return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, point_of = shapely.get_coordinates(rings, return_index=True)
    unit = part_of[ring_of[point_of]]
    xy = xy - centre[unit]
    same = point_of[:-1] == point_of[1:]
    x0, y0 = xy[:-1][same, 0], xy[:-1][same, 1]
    x1, y1 = xy[1:][same, 0], xy[1:][same, 1]
    cross = x0 * y1 - x1 * y0
    term = cross * (x0 * x0 + x0 * x1 + x1 * x1 + y0 * y0 + y0 * y1 + y1 * y1) / 12.0
    np.add.at(polar, unit[:-1][same], term)
    return area, centre, np.abs(polar)


class Partition:
    """Units assigned to regions, with each region's totals kept up to date.

    Regions are numbered from 0 and may become empty; ``label`` is -1 for a unit in no
    region. ``spread`` is a region's polar moment of area about its own centroid divided by
    its area squared: 1/(2*pi) for a disc, 1/6 for a square, larger for worse shapes;
    ``roundness`` is its Polsby-Popper score from the totals.
    ``rper`` is a region's perimeter: its units' perimeters less twice the boundary they
    share (``lengths`` beside ``nbrs``).
    """

    def __init__(
        self,
        nbrs: Sequence[Sequence[int]],
        lengths: Sequence[Sequence[float]],
        pop: Sequence[int],
        cap: Sequence[int],
        area: Sequence[float],
        centre: Sequence[tuple[float, float]],
        polar: Sequence[float],
        perimeter: Sequence[float],
    ) -> None:
        self.nbrs = nbrs
        self.lengths = lengths
        self.perimeter = perimeter
        self.pop = pop
        self.cap = cap
        self.area = [max(a, 1e-12) for a in area]
        self.x = [c[0] for c in centre]
        self.y = [c[1] for c in centre]
        self.q = [
            p + a * (x * x + y * y)
            for p, a, x, y in zip(polar, self.area, self.x, self.y, strict=True)
        ]
        self.label = [-1] * len(pop)
        self.members: list[set[int]] = []
        self.rpop: list[int] = []
        self.rcaps: list[dict[int, int]] = []
        self.ra: list[float] = []
        self.rx: list[float] = []
        self.ry: list[float] = []
        self.rq: list[float] = []
        self.rper: list[float] = []
        self.journal: list[tuple[int, int]] = []  # (unit, its region before) per move

    def open(self) -> int:
        """A new empty region."""
        self.members.append(set())
        self.rpop.append(0)
        self.rcaps.append({})
        for totals in (self.ra, self.rx, self.ry, self.rq, self.rper):
            totals.append(0.0)
        return len(self.members) - 1

    def add(self, u: int, r: int) -> None:
        self.label[u] = r
        self.members[r].add(u)
        self.rpop[r] += self.pop[u]
        caps = self.rcaps[r]
        caps[self.cap[u]] = caps.get(self.cap[u], 0) + 1
        a = self.area[u]
        self.ra[r] += a
        self.rx[r] += a * self.x[u]
        self.ry[r] += a * self.y[u]
        self.rq[r] += self.q[u]
        self.rper[r] += self.perimeter[u] - 2.0 * self.shared(u, r)

    def shared(self, u: int, r: int) -> float:
        """Length of ``u``'s boundary shared with region ``r`` (other than ``u`` itself)."""
        label = self.label
        return sum(
            d
            for v, d in zip(self.nbrs[u], self.lengths[u], strict=True)
            if label[v] == r and v != u
        )

    def remove(self, u: int) -> None:
        r = self.label[u]
        self.label[u] = -1
        self.rper[r] -= self.perimeter[u] - 2.0 * self.shared(u, r)
        self.members[r].discard(u)
        self.rpop[r] -= self.pop[u]
        caps = self.rcaps[r]
        caps[self.cap[u]] -= 1
        if caps[self.cap[u]] == 0:
            del caps[self.cap[u]]
        a = self.area[u]
        if self.members[r]:
            self.ra[r] -= a
            self.rx[r] -= a * self.x[u]
            self.ry[r] -= a * self.y[u]
            self.rq[r] -= self.q[u]
        else:
            self.ra[r] = self.rx[r] = self.ry[r] = self.rq[r] = self.rper[r] = 0.0

    def move(self, u: int, r: int) -> None:
        """Move ``u`` to region ``r`` (-1: to none), logged in ``journal``."""
        self.journal.append((u, self.label[u]))
        if self.label[u] >= 0:
            self.remove(u)
        if r >= 0:
            self.add(u, r)

    def undo(self, mark: int) -> None:
        """Revert the moves logged after the journal had length ``mark``."""
        while len(self.journal) > mark:
            u, r = self.journal.pop()
            if self.label[u] >= 0:
                self.remove(u)
            if r >= 0:
                self.add(u, r)

    def moved_since(self, mark: int) -> int:
        """How many distinct units moved since the journal had length ``mark``."""
        return len({u for u, _r in self.journal[mark:]})

    def region_cap(self, r: int) -> int:
        caps = self.rcaps[r]
        return min(caps) if caps else 1 << 62

    def cap_without(self, r: int, u: int) -> int:
        caps = self.rcaps[r]
        cu = self.cap[u]
        if caps.get(cu) != 1:
            return min(caps)
        return min((c for c in caps if c != cu), default=1 << 62)

    def fits(self, r: int, u: int) -> bool:
        """Whether ``u`` can join ``r`` without ``r`` going over its cap."""
        return self.rpop[r] + self.pop[u] <= min(self.region_cap(r), self.cap[u])

    def over(self, r: int) -> int:
        return max(0, self.rpop[r] - self.region_cap(r))

    def spread(self, r: int) -> float:
        return self._spread(self.ra[r], self.rx[r], self.ry[r], self.rq[r])

    def spread_with(self, r: int, u: int, sign: int) -> float:
        """``spread`` of ``r`` after adding (``sign`` = 1) or removing (-1) ``u``."""
        a = self.area[u] * sign
        return self._spread(
            self.ra[r] + a,
            self.rx[r] + a * self.x[u],
            self.ry[r] + a * self.y[u],
            self.rq[r] + self.q[u] * sign,
        )

    @staticmethod
    def _spread(a: float, sx: float, sy: float, q: float) -> float:
        if a <= 1e-12:
            return 0.0
        return max(0.0, q - (sx * sx + sy * sy) / a) / (a * a)

    def roundness(self, r: int, u: int = -1, sign: int = 0, shared: float = 0.0) -> float:
        """Polsby-Popper of ``r`` from its totals; after adding (``sign`` = 1) or removing
        (-1) unit ``u`` that shares ``shared`` boundary with ``r`` when ``u`` >= 0."""
        a, p = self.ra[r], self.rper[r]
        if u >= 0:
            a += sign * self.area[u]
            p += sign * (self.perimeter[u] - 2.0 * shared)
        return 4.0 * math.pi * a / (p * p) if p > 1e-12 and a > 1e-12 else 0.0

    def shape(self, r: int) -> float:
        """What compactness moves minimise: ``spread`` less Polsby-Popper."""
        return self.spread(r) - self.roundness(r)

    def shape_with(self, r: int, u: int, sign: int) -> float:
        """``shape`` of ``r`` after adding (``sign`` = 1) or removing (-1) ``u``."""
        return self.spread_with(r, u, sign) - self.roundness(r, u, sign, self.shared(u, r))

    def centre(self, r: int) -> tuple[float, float]:
        a = self.ra[r]
        return (self.rx[r] / a, self.ry[r] / a) if a > 0 else (0.0, 0.0)

    def touching(self, u: int) -> list[int]:
        """Regions other than its own that ``u`` borders, ascending."""
        own = self.label[u]
        return sorted({self.label[v] for v in self.nbrs[u] if self.label[v] not in (own, -1)})

    def region_neighbours(self, r: int) -> set[int]:
        return {
            self.label[v]
            for u in self.members[r]
            for v in self.nbrs[u]
            if self.label[v] not in (r, -1)
        }

    def removable(self, u: int) -> bool:
        """Whether ``u``'s region stays connected (and non-empty) without ``u``."""
        r = self.label[u]
        if len(self.members[r]) <= 1:
            return False
        label = self.label
        inside = [v for v in self.nbrs[u] if label[v] == r]
        if len(inside) <= 1:
            return bool(inside)
        wanted = set(inside[1:])
        seen = {u, inside[0]}
        queue = deque([inside[0]])
        while queue:
            for v in self.nbrs[queue.popleft()]:
                if v not in seen and label[v] == r:
                    seen.add(v)
                    wanted.discard(v)
                    if not wanted:
                        return True
                    queue.append(v)
        return False

    def regions(self) -> list[int]:
        return [r for r, m in enumerate(self.members) if m]


# Region operations used by the planner. All are deterministic for a given ``rng`` state.


def grow(part: Partition, nodes: Iterable[int], rng: random.Random, noise: float) -> None:
    """Cover the unassigned ``nodes`` with new regions grown up to their caps.

    Each region starts from the free unit farthest from the free units' centroid (a
    peripheral one) and repeatedly takes the fitting free neighbour nearest its own
    centroid; ``noise`` > 0 perturbs both choices multiplicatively.
    """
    free = {u for u in nodes if part.label[u] < 0}
    x, y, area, pop, cap = part.x, part.y, part.area, part.pop, part.cap
    while free:
        order = sorted(free)
        weight = sum(area[u] for u in order)
        mx = sum(area[u] * x[u] for u in order) / weight
        my = sum(area[u] * y[u] for u in order) / weight
        seed, far = -1, -1.0
        for u in order:
            d = (x[u] - mx) ** 2 + (y[u] - my) ** 2
            if noise:
                d *= 1.0 + noise * rng.random()
            if d > far:
                seed, far = u, d
        r = part.open()
        part.add(seed, r)
        free.discard(seed)
        frontier = {v for v in part.nbrs[seed] if v in free}
        while frontier:
            cx, cy = part.centre(r)
            room = part.region_cap(r) - part.rpop[r]
            best, near = -1, math.inf
            for v in sorted(frontier):
                if pop[v] > min(room, cap[v] - part.rpop[r]):
                    frontier.discard(v)
                    continue
                d = (x[v] - cx) ** 2 + (y[v] - cy) ** 2
                if noise:
                    d *= 1.0 + noise * rng.random()
                if d < near:
                    best, near = v, d
            if best < 0:
                break
            part.add(best, r)
            free.discard(best)
            frontier.discard(best)
            frontier.update(v for v in part.nbrs[best] if v in free)


def merge(part: Partition, only: set[int] | None = None) -> None:
    """Merge neighbouring regions whose union fits the cap, smallest first.

    With ``only``, just those regions are dissolved (into any neighbour).
    """
    changed = True
    while changed:
        changed = False
        for r in sorted(part.regions(), key=lambda r: (part.rpop[r], r)):
            if not part.members[r] or (only is not None and r not in only):
                continue
            cap_r = part.region_cap(r)
            options = [
                s
                for s in sorted(part.region_neighbours(r))
                if part.rpop[r] + part.rpop[s] <= min(cap_r, part.region_cap(s))
            ]
            if options:
                s = min(options, key=lambda s: (part.rpop[s], s))
                for u in sorted(part.members[r]):
                    part.move(u, s)
                changed = True


def dissolve(
    part: Partition, r: int, rng: random.Random, sweeps: int, depth: int = 2, heat: float = 0.0
) -> bool:
    """Hand ``r``'s units to neighbouring regions, then relieve any overflow nearby.

    Returns whether every region is within its cap afterwards; the caller undoes the moves
    (through the journal) when not.
    """
    pending = sorted(part.members[r])
    receivers: set[int] = set()
    while pending:
        left: list[int] = []
        for u in pending:
            options = part.touching(u)
            if not options:
                left.append(u)
                continue
            s = min(options, key=lambda s: (part.rpop[s] / max(1, part.region_cap(s)), s))
            part.move(u, s)
            receivers.add(s)
        if len(left) == len(pending):
            return False
        pending = left
    active = set(receivers)
    ring = set(receivers)
    for _ in range(depth):
        ring = {t for s in ring for t in part.region_neighbours(s)} - active
        active |= ring
    return relieve(part, active, rng, sweeps, heat)


def _score(p: int, c: int) -> float:
    c = max(c, 1)
    return 1000.0 * max(0, p - c) / c + (p / c) ** 2


def relieve(
    part: Partition, active: set[int], rng: random.Random, sweeps: int, heat: float = 0.0
) -> bool:
    """Local search over ``active`` regions that removes overflow, balancing populations.

    Moves a boundary unit to a neighbouring active region when that lowers the total of
    1000 * overflow/cap + (population/cap)**2 and its own region stays connected.
    """
    excess = sum(part.over(s) for s in active)
    pop, cap = part.pop, part.cap
    for sweep in range(sweeps):
        if excess == 0:
            return True
        temperature = heat * (1.0 - sweep / sweeps)
        order = sorted(u for s in active for u in part.members[s])
        rng.shuffle(order)
        moved = False
        for u in order:
            a = part.label[u]
            options = [s for s in part.touching(u) if s in active]
            if not options or len(part.members[a]) == 1:
                continue
            pu, pa = pop[u], part.rpop[a]
            base = _score(pa - pu, part.cap_without(a, u)) - _score(pa, part.region_cap(a))
            best, gain = -1, math.inf
            for s in options:
                cs = part.region_cap(s)
                d = base + _score(part.rpop[s] + pu, min(cs, cap[u])) - _score(part.rpop[s], cs)
                if d < gain:
                    best, gain = s, d
            accept = gain < -1e-12 or (
                temperature > 0 and rng.random() < math.exp(-gain / temperature)
            )
            if accept and part.removable(u):
                before = part.over(a) + part.over(best)
                part.move(u, best)
                excess += part.over(a) + part.over(best) - before
                moved = True
                if excess == 0:
                    return True
        if not moved and temperature <= 0:
            break
    return excess == 0


def compact(part: Partition, home: Sequence[int] | None = None) -> int:
    """One pass of compactness moves within the caps; returns the number of moves.

    A boundary unit moves to the neighbouring region that most lowers the summed ``shape``
    when it fits there and its own region stays connected; failing that (without
    ``home``) it may swap with a unit across the border. With ``home``, a unit in its home
    region never moves, and a unit outside it goes home whenever it fits there.
    """
    moved = 0
    for u in range(len(part.label)):
        a = part.label[u]
        if a < 0 or (home is not None and home[u] == a):
            continue
        options = [s for s in part.touching(u) if part.fits(s, u)]
        best, gain = -1, -1e-9
        if options and len(part.members[a]) > 1:
            base = part.shape_with(a, u, -1) - part.shape(a)
            for s in options:
                d = base + part.shape_with(s, u, 1) - part.shape(s)
                if home is not None and home[u] == s:
                    d -= 1e9
                if d < gain:
                    best, gain = s, d
        if best >= 0 and part.removable(u):
            part.move(u, best)
            moved += 1
        elif home is None and _swap(part, u):
            moved += 1
    return moved


def _swap(part: Partition, u: int) -> bool:
    """Exchange ``u`` with a unit across its region's border when that improves ``shape``."""
    a = part.label[u]
    if len(part.members[a]) == 1 or not part.removable(u):
        return False
    pop = part.pop
    for v in sorted({v for v in part.nbrs[u] if part.label[v] not in (a, -1)}):
        s = part.label[v]
        if len(part.members[s]) == 1:
            continue
        if part.rpop[a] - pop[u] + pop[v] > min(part.cap_without(a, u), part.cap[v]):
            continue
        if part.rpop[s] - pop[v] + pop[u] > min(part.cap_without(s, v), part.cap[u]):
            continue
        before = part.shape(a) + part.shape(s)
        part.move(u, s)
        if part.removable(v) and any(part.label[w] == a for w in part.nbrs[v]):
            part.move(v, a)
            if part.shape(a) + part.shape(s) < before - 1e-9:
                return True
            part.move(v, s)
        part.move(u, a)
    return False
