"""The location engine: which grid a point is in. Pure: numpy, scipy and shapely only.

Coordinates are WGS-84 longitude/latitude in degrees. Border rule: a point on the
boundary of a grid counts as inside it (``covers``); a point on a border shared by
several grids belongs to the one with the smallest id. A point in no grid gives -1.

Two paths give the same answers:

* exact: an STRtree over the grids finds the candidates whose box holds a point; the
  grids (prepared once) tell which of them cover it.
* raster: a uniform cell raster over the grids' bounding box, built once per index
  (lazily for the first batch of at least ``ACCELERATE_MIN_POINTS`` points, or eagerly).
  Every cell that a grid edge comes near is a *boundary* cell. The other cells form
  4-connected components, each wholly inside one set of grids, so one exact query of
  one cell centre answers a whole component. A boundary cell crossed by a single long
  edge is split by that edge's line: each side takes the answer of a component next to
  it on that side. A point outside the grids' bounds is in no grid. Other boundary
  cells, points too close to an edge, points off the raster within the bounds (by
  rounding) and sides without a known answer take the exact path.

Why the raster is exact. Let ``A(x) = (x - x0) * sx`` in real arithmetic (``sx`` the
stored float scale) and ``T(x)`` the same expression in floats, the one formula used
for points, vertices and cell centres. ``|T - A|`` is a few ulps of the raster size,
more than a million times below ``margin``. A point falls in cell ``floor(T(p))``, so
``A(p)`` lies in that cell widened by those few ulps. Each edge marks every cell whose
rectangle, widened by ``margin``, meets the edge between ``T`` of its ends, and so every
cell whose slightly widened rectangle meets the true edge. The widened rectangles of a
component form a connected set that no boundary meets, on which the set of covering
grids cannot change. In a cell crossed by one edge only, the edge's ends lie outside
the widened cell (a ring's other edges meet at each end), so each side of its line
within the cell is a convex set that no boundary meets; it touches every unmarked
neighbour whose shared side lies on it, whose answer it therefore has. Sides are only
trusted when the computed distance to the line exceeds ``margin / 2``; the edge is at
least a cell long, so rounding moves that distance by far less.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy import ndimage
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

NO_GRID = -1

ACCELERATE_MIN_POINTS = 5_000
"""A batch at least this large builds the raster when it does not exist yet."""
CELLS_PER_GRID = 250
"""Raster cells per grid. Cells split by one edge keep the exact path rare at this size;
four times more cells cut query time by a tenth to a fifth, at two to three times the
build time and three times the memory."""
MAX_CELLS = 1 << 24
"""About 16 M cells, 64 MiB of int32."""
MARGIN_PER_CELL = 1e-9
"""Edge margin, in cells per cell of the raster's larger side."""

EXACT = -1
"""Raster code of a cell whose points take the exact path."""
_EDGE_CELL = -2  # codes -2, -3, ...: cells crossed by one edge, numbered 0, 1, ...
_CHUNK = 1 << 18  # cells marked per vectorised step, to bound the temporary arrays

Codes = npt.NDArray[np.int64]
Codes32 = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RasterStats:
    """What the raster of an index holds and cost to build."""

    nx: int
    ny: int
    boundary_cells: int
    edge_cells: int
    """Boundary cells crossed by one edge, answered by the side of its line."""
    components: int
    nbytes: int
    build_s: float

    @property
    def cells(self) -> int:
        return self.nx * self.ny

    @property
    def exact_cells(self) -> int:
        """Boundary cells whose points all take the exact path."""
        return self.boundary_cells - self.edge_cells


class _Raster:
    """Cell codes over a box: a rank into the index's sorted ids, ``EXACT`` or an edge cell."""

    def __init__(
        self, bounds: tuple[float, float, float, float], nx: int, ny: int, none: int
    ) -> None:
        self.bounds = bounds  # of all grids: no grid covers a point outside them
        self.x0, self.y0, x1, y1 = bounds
        self.sx, self.sy = nx / (x1 - self.x0), ny / (y1 - self.y0)
        self.nx, self.ny, self.none = nx, ny, none
        self.margin = MARGIN_PER_CELL * max(nx, ny)
        self.codes: Codes32 = np.empty(0, dtype=np.int32)
        # Edges in cell units: start and direction.
        self.eu: Floats = np.empty(0)
        self.ev: Floats = np.empty(0)
        self.edu: Floats = np.empty(0)
        self.edv: Floats = np.empty(0)
        # Per edge cell: its edge, and the code left (column 0) and right (1) of it.
        self.cell_edge: Codes32 = np.empty(0, dtype=np.int32)
        self.sides: Codes32 = np.empty((0, 2), dtype=np.int32)

    @property
    def nbytes(self) -> int:
        arrays = (self.codes, self.eu, self.ev, self.edu, self.edv, self.cell_edge, self.sides)
        return sum(a.nbytes for a in arrays)

    def scale(self, xs: Floats, ys: Floats) -> tuple[Floats, Floats]:
        """Coordinates in cells; the one float formula for points, vertices and centres."""
        return (xs - self.x0) * self.sx, (ys - self.y0) * self.sy

    def side(self, edge: Codes32, u: Floats, v: Floats) -> npt.NDArray[np.intp]:
        """0 left of the edge's line, 1 right, -1 too close to tell."""
        du, dv = self.edu[edge], self.edv[edge]
        cross = du * (v - self.ev[edge]) - dv * (u - self.eu[edge])
        clear = np.abs(cross) > 0.5 * self.margin * (np.abs(du) + np.abs(dv))
        return np.where(clear, (cross < 0).astype(np.intp), -1)

    def lookup(self, xs: Floats, ys: Floats) -> Codes32:
        """The answer code of each point; ``EXACT`` where only the exact path can tell."""
        u, v = self.scale(xs, ys)
        inside = (u >= 0) & (u < self.nx) & (v >= 0) & (v < self.ny)
        if inside.all():
            codes = self.codes[v.astype(np.intp) * self.nx + u.astype(np.intp)]
        else:
            codes = np.full(len(xs), EXACT, dtype=np.int32)
            flat = v[inside].astype(np.intp) * self.nx + u[inside].astype(np.intp)
            codes[inside] = self.codes[flat]
            x0, y0, x1, y1 = self.bounds
            codes[(xs < x0) | (xs > x1) | (ys < y0) | (ys > y1)] = self.none
        at = np.flatnonzero(codes <= _EDGE_CELL)
        if len(at):
            cell = _EDGE_CELL - codes[at]
            side = self.side(self.cell_edge[cell], u[at], v[at])
            codes[at] = np.where(side >= 0, self.sides[cell, np.maximum(side, 0)], EXACT)
        return codes


class LocationIndex:
    """Grid polygons with vectorised point queries: an STRtree plus a lazy raster.

    ``accelerate``: None builds the raster for the first large batch, True builds it
    now, False never builds it (every query takes the exact path). ``cells_per_grid``
    sets the raster's resolution (at most ``MAX_CELLS`` cells in all).
    """

    def __init__(
        self,
        ids: Sequence[int],
        polygons: Sequence[BaseGeometry],
        *,
        accelerate: bool | None = None,
        cells_per_grid: int = CELLS_PER_GRID,
    ) -> None:
        if len(ids) != len(polygons):
            raise ValueError("ids and polygons differ in length")
        self.ids = np.asarray(ids, dtype=np.int64)
        self._polygons = np.asarray(polygons, dtype=object)
        shapely.prepare(self._polygons)
        self._tree = STRtree(self._polygons)
        # Codes are ranks into the sorted ids; rank len(ids) means no grid.
        order = np.argsort(self.ids, kind="stable")
        self._rank = np.empty(len(order), dtype=np.int64)
        self._rank[order] = np.arange(len(order))
        self._table = np.append(self.ids[order], NO_GRID)
        self._accelerate = accelerate
        self._cells_per_grid = cells_per_grid
        self._raster: _Raster | None = None
        self._raster_tried = False
        self._stats: RasterStats | None = None
        self._lock = threading.Lock()
        if accelerate:
            self.build_raster()

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def raster_stats(self) -> RasterStats | None:
        """Figures of the raster, None while it is not built (or cannot be)."""
        return self._stats

    def build_raster(self) -> RasterStats | None:
        """Build the raster now (once); None when the grids span no area."""
        with self._lock:
            if not self._raster_tried:
                started = time.perf_counter()
                built = self._make_raster()
                if built is not None:
                    raster, components, boundary = built
                    self._stats = RasterStats(
                        nx=raster.nx,
                        ny=raster.ny,
                        boundary_cells=boundary,
                        edge_cells=len(raster.cell_edge),
                        components=components,
                        nbytes=raster.nbytes,
                        build_s=time.perf_counter() - started,
                    )
                    self._raster = raster
                self._raster_tried = True
        return self._stats

    def locate_many(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Grid id for each point (``NO_GRID`` where none)."""
        xs, ys = _coordinates(lon, lat)
        raster = self._raster_for(len(xs))
        if raster is None:
            return self._table[self._exact_codes(xs, ys)]
        codes = raster.lookup(xs, ys)
        todo = np.flatnonzero(codes == EXACT)
        if len(todo):
            codes[todo] = self._exact_codes(xs[todo], ys[todo])
        return self._table[codes]

    def locate_exact(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """``locate_many`` through the STRtree only, never the raster."""
        xs, ys = _coordinates(lon, lat)
        return self._table[self._exact_codes(xs, ys)]

    def locate(self, lon: float, lat: float) -> int | None:
        """The grid id of one point, or None outside every grid."""
        found = int(self.locate_exact([lon], [lat])[0])
        return None if found == NO_GRID else found

    def _raster_for(self, n_points: int) -> _Raster | None:
        if self._raster is None and not self._raster_tried:
            wanted = self._accelerate or (
                self._accelerate is None and n_points >= ACCELERATE_MIN_POINTS
            )
            if wanted:
                self.build_raster()
        return self._raster

    def _exact_codes(self, xs: Floats, ys: Floats) -> Codes:
        """Rank of the smallest covering grid id per point; ``len(ids)`` for none."""
        n = len(self.ids)
        best = np.full(len(xs), n, dtype=np.int64)
        if n and len(xs):
            points = np.asarray(shapely.points(xs, ys), dtype=object)
            point_idx, poly_idx = self._tree.query(points)
            hit = shapely.covers(self._polygons[poly_idx], points[point_idx])
            np.minimum.at(best, point_idx[hit], self._rank[poly_idx[hit]])
        return best

    def _make_raster(self) -> tuple[_Raster, int, int] | None:
        """The raster, its number of components and of boundary cells."""
        if not len(self.ids):
            return None
        raster = _empty_raster(self._polygons, self._cells_per_grid, len(self.ids))
        if raster is None:
            return None
        ax, ay, bx, by, ring = _edges(self._polygons)
        ua, va = raster.scale(ax, ay)
        ub, vb = raster.scale(bx, by)
        du, dv = ub - ua, vb - va
        raster.eu, raster.ev, raster.edu, raster.edv = ua, va, du, dv
        # Only a ring edge at least a cell long may split a cell in two.
        splits = ring & (np.abs(du) + np.abs(dv) >= 1.0)
        # Per cell: -1 no edge, -2 several edges (or one that cannot split it), else the edge.
        owner = np.full(raster.nx * raster.ny, -1, dtype=np.int32)
        for cells, edge in _edge_cells(raster, ua, va, ub, vb):
            before = owner[cells]
            clash = ((before != -1) & (before != edge)) | ~splits[edge]
            owner[cells] = edge
            clash |= owner[cells] != edge
            owner[cells[clash]] = -2
        free = (owner == -1).reshape(raster.ny, raster.nx)
        labels, count = ndimage.label(free)
        n_boundary = free.size - int(np.count_nonzero(free))
        del free
        flat = labels.reshape(-1).astype(np.int32, copy=False)
        answers = np.full(count + 1, EXACT, dtype=np.int32)
        if count:
            answers[1:] = self._component_codes(raster, flat, count)
        single = np.flatnonzero(owner >= 0)
        raster.cell_edge = owner[single]
        del owner
        codes = answers[flat]
        del flat, labels
        codes[single] = _EDGE_CELL - np.arange(len(single), dtype=np.int32)
        raster.codes = codes
        raster.sides = _edge_sides(raster, single)
        return raster, count, n_boundary

    def _component_codes(self, raster: _Raster, flat: Codes32, count: int) -> Codes32:
        """The exact code of one cell centre for each component ``1..count``."""
        # A component's first cell in raster order starts a run of equal labels.
        starts = np.flatnonzero(flat[1:] != flat[:-1]) + 1
        starts = np.concatenate([np.zeros(1, dtype=starts.dtype), starts])
        starts = starts[flat[starts] > 0]
        member = np.empty(count + 1, dtype=np.int64)
        member[flat[starts]] = starts
        iy, ix = np.divmod(member[1:], raster.nx)
        cx = raster.x0 + (ix + 0.5) / raster.sx
        cy = raster.y0 + (iy + 0.5) / raster.sy
        u, v = raster.scale(cx, cy)
        ok = (np.floor(u) == ix) & (np.floor(v) == iy)
        codes = np.full(count, EXACT, dtype=np.int64)
        codes[ok] = self._exact_codes(cx[ok], cy[ok])
        return codes.astype(np.int32)


def _coordinates(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    xs = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    ys = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    bx, by = np.broadcast_arrays(xs, ys)
    return np.ravel(bx), np.ravel(by)


def _empty_raster(
    polygons: npt.NDArray[np.object_], cells_per_grid: int, none: int
) -> _Raster | None:
    """A raster over the polygons' bounding box, about ``cells_per_grid`` cells each."""
    x0, y0, x1, y1 = (float(b) for b in shapely.total_bounds(polygons))
    width, height = x1 - x0, y1 - y0
    if not (math.isfinite(width) and math.isfinite(height) and width > 0 and height > 0):
        return None
    target = max(min(MAX_CELLS, cells_per_grid * len(polygons)), 1)
    side = math.sqrt(width * height / target)
    nx = min(max(math.ceil(width / side), 1), MAX_CELLS)
    ny = min(max(math.ceil(height / side), 1), MAX_CELLS // nx)
    return _Raster((x0, y0, x1, y1), nx, ny, none)


def _edges(
    polygons: npt.NDArray[np.object_],
) -> tuple[Floats, Floats, Floats, Floats, npt.NDArray[np.bool_]]:
    """Both ends of every distinct edge, and whether it is a ring edge of non-zero length.

    Edges of rings shared by several polygons count once. Lines and points among the
    geometries give edges too (a lone point a zero-length one), never ring edges.
    """
    parts = shapely.get_parts(polygons)
    is_polygon = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
    pairs = _pairs(shapely.get_rings(parts[is_polygon]))
    long = (pairs[:, 0] != pairs[:, 2]) | (pairs[:, 1] != pairs[:, 3])
    rings = pairs[long]
    swap = (rings[:, 0] > rings[:, 2]) | (
        (rings[:, 0] == rings[:, 2]) & (rings[:, 1] > rings[:, 3])
    )
    rings[swap] = rings[swap][:, [2, 3, 0, 1]]
    rings = rings[np.lexsort(rings.T[::-1])]
    first = np.ones(len(rings), dtype=bool)
    first[1:] = (rings[1:] != rings[:-1]).any(axis=1)
    rings = rings[first]
    others = np.concatenate([pairs[~long], _pairs(parts[~is_polygon])])
    both = np.concatenate([rings, others])
    ring = np.arange(len(both)) < len(rings)
    return both[:, 0], both[:, 1], both[:, 2], both[:, 3], ring


def _pairs(lines: npt.NDArray[np.object_]) -> Floats:
    """Rows ``ax, ay, bx, by`` of consecutive vertices; a lone vertex pairs with itself."""
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    finite = np.isfinite(coords).all(axis=1)
    coords, owner = coords[finite], owner[finite]
    same = owner[1:] == owner[:-1]
    lone = (np.bincount(owner, minlength=len(lines)) == 1)[owner]
    a = np.concatenate([coords[:-1][same], coords[lone]])
    b = np.concatenate([coords[1:][same], coords[lone]])
    return np.concatenate([a, b], axis=1)


def _spans(lo: Floats, hi: Floats, margin: float, n: int) -> tuple[Codes, Codes]:
    """First and last cell (clipped to ``0..n-1``) that ``[lo - m, hi + m]`` meets."""
    first = np.clip(np.floor(lo - margin), 0, n - 1).astype(np.int64)
    last = np.clip(np.floor(hi + margin), 0, n - 1).astype(np.int64)
    return first, last


def _expand(first: Codes, last: Codes) -> tuple[Codes, Codes]:
    """For ranges ``first[k]..last[k]``: the owner ``k`` and the value of each element."""
    counts = last - first + 1
    owner = np.repeat(np.arange(len(first)), counts)
    offset = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, first[owner] + offset


def _edge_cells(
    raster: _Raster, ua: Floats, va: Floats, ub: Floats, vb: Floats
) -> Iterator[tuple[Codes, Codes32]]:
    """Every cell whose rectangle, widened by the margin, meets an edge; with the edge.

    Per edge and per column it meets, the edge's part within the widened column has a
    v range; every row that range meets (widened too) is yielded. Vectorised in chunks of
    about ``_CHUNK`` cells, as flat cell indices and edge numbers.
    """
    nx, ny, margin = raster.nx, raster.ny, raster.margin
    umin, umax = np.minimum(ua, ub), np.maximum(ua, ub)
    col0, col1 = _spans(umin, umax, margin, nx)
    row0, row1 = _spans(np.minimum(va, vb), np.maximum(va, vb), margin, ny)
    cost = np.cumsum(2 * (col1 - col0 + 1) + (row1 - row0 + 1))
    bounds = np.searchsorted(cost, np.arange(_CHUNK, cost[-1] if len(cost) else 0, _CHUNK))
    for sel in np.split(np.arange(len(ua)), bounds):
        if not len(sel):
            continue
        at, col = _expand(col0[sel], col1[sel])
        edge = sel[at]
        lo = np.maximum(col - margin, umin[edge])
        hi = np.minimum(col + 1 + margin, umax[edge])
        du, dv = ub[edge] - ua[edge], vb[edge] - va[edge]
        upright = du == 0
        step = np.where(upright, 1.0, du)
        t_lo = np.clip(np.where(upright, 0.0, (lo - ua[edge]) / step), 0.0, 1.0)
        t_hi = np.clip(np.where(upright, 1.0, (hi - ua[edge]) / step), 0.0, 1.0)
        v_lo, v_hi = va[edge] + t_lo * dv, va[edge] + t_hi * dv
        r0, r1 = _spans(np.minimum(v_lo, v_hi), np.maximum(v_lo, v_hi), margin, ny)
        pair, row = _expand(r0, r1)
        yield row * nx + col[pair], edge[pair].astype(np.int32)


def _edge_sides(raster: _Raster, single: Codes) -> Codes32:
    """Codes left and right of the edge in each edge cell (``single``: their cells).

    A side takes the answer of an unmarked neighbour whose shared side's middle lies on
    it. Next to an edge cell of the same edge, a side reaches across every corner of the
    shared side that lies on it, so the two cells' sides there have one answer; known
    answers spread along such links until nothing changes.
    """
    nx, ny = raster.nx, raster.ny
    iy, ix = np.divmod(single, nx)
    edge = raster.cell_edge
    du, dv = raster.edu[edge], raster.edv[edge]
    base = du * (iy - raster.ev[edge]) - dv * (ix - raster.eu[edge])
    bound = 0.5 * raster.margin * (np.abs(du) + np.abs(dv))

    def side(at: Codes, a: float, b: float) -> npt.NDArray[np.intp]:
        """``raster.side`` at point ``(ix + a, iy + b)`` of edge cells ``at``."""
        cross = base[at] + (b * du[at] - a * dv[at])
        return np.where(np.abs(cross) > bound[at], (cross < 0).astype(np.intp), -1)

    # Sides as a flat array: 2 * cell + side.
    sides = np.full(2 * len(single), EXACT, dtype=np.int32)
    clash = np.zeros(2 * len(single), dtype=bool)
    directions = ((1, 0, ix < nx - 1), (-1, 0, ix > 0), (0, 1, iy < ny - 1), (0, -1, iy > 0))
    neighbours: list[tuple[Codes, Codes32]] = []
    for dx, dy, has in directions:
        at = np.flatnonzero(has)
        code = raster.codes[single[at] + (dy * nx + dx)]
        neighbours.append((at, code))
        k, c = at[code >= 0], code[code >= 0]
        middle = side(k, 0.5 + 0.5 * dx, 0.5 + 0.5 * dy)  # the middle of the shared side
        slot, c = 2 * k[middle >= 0] + middle[middle >= 0], c[middle >= 0]
        known = sides[slot]
        clash[slot] |= (known >= 0) & (known != c)
        sides[slot] = c
    sides[clash] = EXACT
    unknown = (sides[0::2] < 0) | (sides[1::2] < 0)
    targets, sources = [], []
    for (dx, dy, _), (at, code) in zip(directions, neighbours, strict=True):
        pick = (code <= _EDGE_CELL) & unknown[at]
        k, other = at[pick], _EDGE_CELL - code[pick]
        same = edge[other] == edge[k]
        k, other = k[same], other[same]
        a, b = 0.5 + 0.5 * dx, 0.5 + 0.5 * dy
        for sign in (-0.5, 0.5):
            corner = side(k, a + sign * dy, b + sign * dx)
            on = corner >= 0
            targets.append(2 * k[on] + corner[on])
            sources.append(2 * other[on] + corner[on])
    del neighbours, ix, iy
    target, source = np.concatenate(targets), np.concatenate(sources)
    del targets, sources
    live = ~clash[target] & (sides[target] < 0)
    target, source = target[live], source[live]
    while len(target):
        found = sides[source]
        fill = found >= 0
        if not fill.any():
            break
        sides[target[fill]] = found[fill]
        target, source = target[~fill], source[~fill]
    return sides.reshape(-1, 2)


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
