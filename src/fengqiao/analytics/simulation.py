"""Discrete-event simulation of incident response: independent stations vs a joint station.

Pure: standard library, numpy and simpy only.

Units: positions are projected metres (``x_m``, ``y_m``, east and north) in one local plane
(see :func:`project_lonlat`), times are minutes, speeds are km/h.

The model
---------
* Calls arrive as a Poisson stream per grid with a rate proportional to its population,
  uniformly over ``days``. The whole stream (time, place, need for reinforcement, time on
  scene) is drawn first from ``numpy.random.default_rng(seed)``, so both modes see the
  same calls. A call sits at its grid centroid plus a small normal offset.
* First response (首接责任制): a free officer of the grid's own station. Free officers wait
  at their station, so the nearest free one leaves from the station.
* A call that needs reinforcement needs more people than its station has free, so its
  ``reinforcement_size`` extra people come from outside the station, requested together
  with the first responder:
  ``independent``: from the county bureau's reserve at the county seat;
  ``joint``: from the other member stations of the same joint station (nearest to the
  call first), then from the county reserve. A station with no ``joint_code`` stays
  independent.
* Each person is busy from the order until back at base: turnout, travel, time on scene
  (the call's exponential draw), travel back. Arrival = wait for a free person + turnout +
  straight-line distance x ``road_factor`` / speed, where the speed is that of the kind
  ("urban"/"rural") of the station whose area the call is in. When nobody is free the
  request waits in first-come order; calls whose first responder is still waiting at the
  end are ``unanswered``.

No response time is written in: every minute comes out of distances, speeds, road factor,
staffing, call rates, times on scene and turnout times.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

# simpy 4.1 ships its own type hints (py.typed), so no stubs or ignore are needed here.
import simpy
from simpy.resources.resource import Request

Mode = Literal["independent", "joint"]
MODES: tuple[Mode, ...] = ("independent", "joint")
FloatArray = npt.NDArray[np.float64]

# Standard deviation (metres) of a call's offset from its grid centroid: grids are a few
# hundred metres to a few kilometres across.
CALL_OFFSET_SD_M = 300.0
# Used by the summary and the report only, never by the model.
REPORT_WITHIN_MIN = 20.0
HISTOGRAM_EDGES_MIN = (0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, math.inf)
EARTH_RADIUS_M = 6_371_000.0
_MINUTES_PER_DAY = 1440.0
_ProcessGen = Generator[simpy.Event, Any, Any]


@dataclass(frozen=True)
class StationSpec:
    """A police station: position in projected metres, number of community officers."""

    code: str
    x_m: float
    y_m: float
    officers: int
    joint_code: str | None  # code of the joint station it belongs to, if any
    kind: str  # "urban" or "rural": selects the travel speed in its area


@dataclass(frozen=True)
class GridSpec:
    """A grid: centroid in projected metres, the station responsible for it, residents."""

    code: str
    station_code: str
    x_m: float
    y_m: float
    population: int


@dataclass(frozen=True)
class SimParams:
    """Parameters of one run; times in minutes, speeds in km/h, positions in metres."""

    days: float = 30.0
    calls_per_1000_residents_per_day: float = 0.12
    reinforcement_share: float = 0.08  # share of calls that need extra people
    reinforcement_size: int = 3  # extra people such a call needs
    handling_minutes: float = 45.0  # mean time on scene (exponential)
    turnout_minutes: float = 3.0  # station officers, from order to departure
    speed_kmh: dict[str, float] = field(default_factory=lambda: {"urban": 30.0, "rural": 45.0})
    road_factor: float = 1.3  # road distance / straight-line distance
    county_x_m: float = 0.0  # county bureau reserve location
    county_y_m: float = 0.0
    county_reserve: int = 6
    county_turnout_minutes: float = 10.0
    seed: int = 1


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays with == is ambiguous
class ResponseStats:
    """Arrival times in minutes after the call: first responder, and each reinforcement."""

    mode: str
    calls: int
    first_arrival_min: FloatArray
    reinforcement_arrival_min: FloatArray
    unanswered: int  # calls whose first responder was still waiting at the end

    def summary(self) -> dict[str, float]:
        """Median, p90 and mean (minutes) of both arrays; NaN for an empty array."""
        out = {"calls": float(self.calls), "unanswered": float(self.unanswered)}
        for name, values in (
            ("first", self.first_arrival_min),
            ("reinforcement", self.reinforcement_arrival_min),
        ):
            empty = values.size == 0
            out[f"{name}_count"] = float(values.size)
            out[f"{name}_median_min"] = math.nan if empty else float(np.median(values))
            out[f"{name}_p90_min"] = math.nan if empty else float(np.percentile(values, 90))
            out[f"{name}_mean_min"] = math.nan if empty else float(values.mean())
        r = self.reinforcement_arrival_min
        out["reinforcement_share_within_20_min"] = (
            math.nan if r.size == 0 else float(np.mean(r <= REPORT_WITHIN_MIN))
        )
        return out


@dataclass(frozen=True, eq=False)
class _Calls:
    """The call stream, sorted by time (minutes from the start)."""

    time_min: FloatArray
    x_m: FloatArray
    y_m: FloatArray
    grid: npt.NDArray[np.int64]
    needs_reinforcement: npt.NDArray[np.bool_]
    handling_min: FloatArray


class _Pool:
    """People waiting at one base (a station or the county seat) for orders."""

    def __init__(
        self, env: simpy.Environment, x_m: float, y_m: float, people: int, turnout_min: float
    ) -> None:
        self.resource = simpy.Resource(env, capacity=people)
        self.x_m, self.y_m, self.turnout_min = x_m, y_m, turnout_min

    def has_free(self) -> bool:
        return self.resource.count < self.resource.capacity and not self.resource.queue


def _check(stations: Sequence[StationSpec], grids: Sequence[GridSpec], params: SimParams) -> None:
    codes = {s.code for s in stations}
    if len(codes) != len(stations):
        raise ValueError("station codes must be unique")
    if missing := sorted({g.station_code for g in grids} - codes):
        raise ValueError(f"grids refer to unknown stations: {missing}")
    if bad := sorted({s.kind for s in stations} - set(params.speed_kmh)):
        raise ValueError(f"no speed_kmh for station kinds: {bad}")
    if any(s.officers < 1 for s in stations) or params.county_reserve < 1:
        raise ValueError("every station and the county reserve need at least one person")
    if min(params.speed_kmh.values()) <= 0 or params.road_factor <= 0 or params.days <= 0:
        raise ValueError("speeds, road_factor and days must be positive")


def _draw_calls(grids: Sequence[GridSpec], params: SimParams) -> _Calls:
    """The whole call stream; every array is drawn whatever the parameters, in fixed order."""
    rng = np.random.default_rng(params.seed)
    population = np.array([g.population for g in grids], dtype=np.float64)
    expected = population * params.calls_per_1000_residents_per_day / 1000.0 * params.days
    grid = np.repeat(np.arange(len(grids), dtype=np.int64), rng.poisson(expected))
    n = grid.size
    time = rng.uniform(0.0, params.days * _MINUTES_PER_DAY, n)
    dx, dy = rng.normal(0.0, CALL_OFFSET_SD_M, (2, n))
    x = np.array([g.x_m for g in grids], dtype=np.float64)[grid] + dx
    y = np.array([g.y_m for g in grids], dtype=np.float64)[grid] + dy
    needs = rng.random(n) < params.reinforcement_share
    handling = rng.exponential(params.handling_minutes, n)
    order = np.argsort(time, kind="stable")
    return _Calls(time[order], x[order], y[order], grid[order], needs[order], handling[order])


def _travel_min(pool: _Pool, x_m: float, y_m: float, speed_kmh: float, road_factor: float) -> float:
    """Driving time in minutes from a base to a point: straight line x road factor / speed."""
    return math.hypot(pool.x_m - x_m, pool.y_m - y_m) / 1000.0 * road_factor / speed_kmh * 60.0


def _acquire(
    env: simpy.Environment, sources: list[_Pool]
) -> Generator[simpy.Event, Any, tuple[_Pool, Request]]:
    """One person from the first source (in priority order) with someone free, else the first
    source to free someone."""
    for pool in sources:
        if pool.has_free():
            request = pool.resource.request()
            yield request
            return pool, request
    requests = [pool.resource.request() for pool in sources]
    yield env.any_of(requests)
    chosen = next(i for i, r in enumerate(requests) if r.triggered)
    for i, (pool, request) in enumerate(zip(sources, requests, strict=True)):
        if i == chosen:
            continue
        if request.triggered:
            pool.resource.release(request)
        else:
            request.cancel()
    return sources[chosen], requests[chosen]


def _run(
    stations: Sequence[StationSpec],
    grids: Sequence[GridSpec],
    params: SimParams,
    calls: _Calls,
    mode: Mode,
) -> ResponseStats:
    env = simpy.Environment()
    by_code = {s.code: s for s in stations}
    pools = {s.code: _Pool(env, s.x_m, s.y_m, s.officers, params.turnout_minutes) for s in stations}
    p = params
    county = _Pool(env, p.county_x_m, p.county_y_m, p.county_reserve, p.county_turnout_minutes)
    first: list[float] = []
    reinforcement: list[float] = []

    def reinforcement_sources(station: StationSpec, x_m: float, y_m: float) -> list[_Pool]:
        if mode == "independent" or station.joint_code is None:
            return [county]
        members = [
            pools[s.code]
            for s in stations
            if s.joint_code == station.joint_code and s.code != station.code
        ]
        members.sort(key=lambda pool: math.hypot(pool.x_m - x_m, pool.y_m - y_m))
        return [*members, county]

    def send(sources: list[_Pool], i: int, speed_kmh: float, record: list[float]) -> _ProcessGen:
        x, y = float(calls.x_m[i]), float(calls.y_m[i])
        pool, request = yield from _acquire(env, sources)
        travel = _travel_min(pool, x, y, speed_kmh, params.road_factor)
        record.append(env.now - float(calls.time_min[i]) + pool.turnout_min + travel)
        yield env.timeout(pool.turnout_min + travel + float(calls.handling_min[i]) + travel)
        pool.resource.release(request)

    def feed() -> _ProcessGen:
        for i in range(calls.time_min.size):
            yield env.timeout(float(calls.time_min[i]) - env.now)
            station = by_code[grids[int(calls.grid[i])].station_code]
            speed = params.speed_kmh[station.kind]
            env.process(send([pools[station.code]], i, speed, first))
            if calls.needs_reinforcement[i]:
                sources = reinforcement_sources(station, float(calls.x_m[i]), float(calls.y_m[i]))
                for _ in range(params.reinforcement_size):
                    env.process(send(sources, i, speed, reinforcement))

    env.process(feed())
    env.run(until=params.days * _MINUTES_PER_DAY)
    n = int(calls.time_min.size)
    return ResponseStats(
        mode=mode,
        calls=n,
        first_arrival_min=np.array(first, dtype=np.float64),
        reinforcement_arrival_min=np.array(reinforcement, dtype=np.float64),
        unanswered=n - len(first),
    )


def simulate(
    stations: Sequence[StationSpec],
    grids: Sequence[GridSpec],
    params: SimParams,
    *,
    mode: Literal["independent", "joint"],
) -> ResponseStats:
    """Simulate ``params.days`` of calls under one organisation; deterministic for a seed."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    _check(stations, grids, params)
    return _run(stations, grids, params, _draw_calls(grids, params), mode)


def compare(
    stations: Sequence[StationSpec], grids: Sequence[GridSpec], params: SimParams
) -> dict[str, ResponseStats]:
    """Both organisations on the same area and the same call stream, keyed by mode."""
    _check(stations, grids, params)
    calls = _draw_calls(grids, params)
    return {mode: _run(stations, grids, params, calls, mode) for mode in MODES}


def _fmt(value: float, spec: str = ".1f") -> str:
    return "-" if math.isnan(value) else format(value, spec)


def format_report(results: dict[str, ResponseStats]) -> str:
    """A plain-text table of arrival times (minutes) per mode, and a 10-minute histogram of
    reinforcement arrivals."""
    header = (
        f"{'mode':<12}{'calls':>7}{'1st med':>9}{'1st p90':>9}{'reinf n':>9}"
        f"{'reinf med':>11}{'reinf p90':>11}{'reinf mean':>12}{'<=20 min':>10}"
        f"{'unanswered':>12}"
    )
    lines = ["Arrival after the call, minutes", header, "-" * len(header)]
    for mode, stats in results.items():
        s = stats.summary()
        lines.append(
            f"{mode:<12}{stats.calls:>7}{_fmt(s['first_median_min']):>9}"
            f"{_fmt(s['first_p90_min']):>9}{stats.reinforcement_arrival_min.size:>9}"
            f"{_fmt(s['reinforcement_median_min']):>11}{_fmt(s['reinforcement_p90_min']):>11}"
            f"{_fmt(s['reinforcement_mean_min']):>12}"
            f"{_fmt(100 * s['reinforcement_share_within_20_min'], '.0f') + ' %':>10}"
            f"{stats.unanswered:>12}"
        )
    edges = HISTOGRAM_EDGES_MIN
    labels = [f"{a:.0f}-{b:.0f}" for a, b in itertools.pairwise(edges[:-1])]
    labels.append(f">{edges[-2]:.0f}")
    lines += [
        "",
        "Reinforcement arrivals per 10-minute bin",
        f"{'minutes':<12}" + " ".join(f"{label:>6}" for label in labels),
    ]
    for mode, stats in results.items():
        counts, _ = np.histogram(stats.reinforcement_arrival_min, bins=np.array(edges))
        lines.append(f"{mode:<12}" + " ".join(f"{int(c):>6}" for c in counts))
    return "\n".join(lines)


def project_lonlat(
    lon: npt.ArrayLike, lat: npt.ArrayLike, lon0: float, lat0: float
) -> tuple[FloatArray, FloatArray]:
    """WGS-84 longitude/latitude in degrees to metres east (x_m) and north (y_m) of
    (lon0, lat0), by the equirectangular projection on a sphere.

    An approximation: the east-west scale is exact only at ``lat0`` and drifts by about
    tan(lat0) x the latitude difference in radians (under 1 % within 50 km at mid
    latitudes). Fine for distances at county scale; not for surveying or large areas.
    """
    k = math.radians(1.0) * EARTH_RADIUS_M
    x = (np.asarray(lon, dtype=np.float64) - lon0) * k * math.cos(math.radians(lat0))
    y = (np.asarray(lat, dtype=np.float64) - lat0) * k
    return x, y
