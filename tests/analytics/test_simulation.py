"""Incident-response simulation on a small synthetic rural county."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from fengqiao.analytics.simulation import (
    GridSpec,
    ResponseStats,
    SimParams,
    StationSpec,
    compare,
    format_report,
    project_lonlat,
    simulate,
)

# Four rural stations 9-15 km apart (metres, local plane), pooled in joint station "J".
STATION_XY_M = {
    "A": (0.0, 0.0),
    "B": (10_000.0, 0.0),
    "C": (0.0, 9_000.0),
    "D": (11_000.0, 10_000.0),
}
CENTRE_X_M, CENTRE_Y_M = 5_250.0, 4_750.0
# Four grids per station, centroids 2.5 km east/west and north/south of it.
GRID_OFFSETS_M = [
    (-2_500.0, -2_500.0),
    (2_500.0, -2_500.0),
    (-2_500.0, 2_500.0),
    (2_500.0, 2_500.0),
]


def build_county(
    *, officers: int = 4, population: int = 5_000, joint_code: str | None = "J"
) -> tuple[list[StationSpec], list[GridSpec]]:
    stations = [
        StationSpec(code, x, y, officers, joint_code, "rural")
        for code, (x, y) in STATION_XY_M.items()
    ]
    grids = [
        GridSpec(f"{s.code}{k}", s.code, s.x_m + dx, s.y_m + dy, population)
        for s in stations
        for k, (dx, dy) in enumerate(GRID_OFFSETS_M)
    ]
    return stations, grids


def build_params(*, county_distance_m: float = 40_000.0, **overrides: Any) -> SimParams:
    """County seat ``county_distance_m`` south of the middle of the four stations."""
    base = SimParams(county_x_m=CENTRE_X_M, county_y_m=CENTRE_Y_M - county_distance_m)
    return replace(base, **overrides)


def reinforcement_median(stats: ResponseStats) -> float:
    return float(np.median(stats.reinforcement_arrival_min))


def test_distances_in_the_synthetic_county_are_as_described() -> None:
    xy = np.array(list(STATION_XY_M.values()))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    pairs = d[np.triu_indices(len(xy), k=1)]
    assert pairs.min() >= 8_000 and pairs.max() <= 15_000


def test_same_seed_gives_identical_results_and_another_seed_does_not() -> None:
    stations, grids = build_county()
    one = simulate(stations, grids, build_params(seed=7), mode="joint")
    two = simulate(stations, grids, build_params(seed=7), mode="joint")
    other = simulate(stations, grids, build_params(seed=8), mode="joint")
    assert one.calls == two.calls and one.unanswered == two.unanswered
    assert np.array_equal(one.first_arrival_min, two.first_arrival_min)
    assert np.array_equal(one.reinforcement_arrival_min, two.reinforcement_arrival_min)
    assert not np.array_equal(one.first_arrival_min, other.first_arrival_min)


def test_compare_runs_both_modes_on_the_same_call_stream() -> None:
    stations, grids = build_county()
    results = compare(stations, grids, build_params())
    assert set(results) == {"independent", "joint"}
    ind, joint = results["independent"], results["joint"]
    assert ind.calls == joint.calls > 0
    # Same calls needing reinforcement, and every reinforcement person arrives in both.
    assert ind.reinforcement_arrival_min.size == joint.reinforcement_arrival_min.size > 0
    single = simulate(stations, grids, build_params(), mode="joint")
    assert np.array_equal(single.reinforcement_arrival_min, joint.reinforcement_arrival_min)


def test_joint_station_reinforcement_arrives_sooner() -> None:
    stations, grids = build_county()
    results = compare(stations, grids, build_params())
    assert reinforcement_median(results["joint"]) < reinforcement_median(results["independent"])
    ind, joint = results["independent"].summary(), results["joint"].summary()
    assert joint["reinforcement_share_within_20_min"] > ind["reinforcement_share_within_20_min"]


def test_without_a_joint_station_both_modes_are_the_same() -> None:
    stations, grids = build_county(joint_code=None)
    results = compare(stations, grids, build_params())
    assert np.array_equal(
        results["independent"].reinforcement_arrival_min, results["joint"].reinforcement_arrival_min
    )


def test_county_seat_next_to_the_stations_removes_most_of_the_advantage() -> None:
    stations, grids = build_county()
    far = compare(stations, grids, build_params(county_distance_m=40_000.0))
    near = compare(stations, grids, build_params(county_distance_m=0.0))
    gap_far = reinforcement_median(far["independent"]) - reinforcement_median(far["joint"])
    gap_near = reinforcement_median(near["independent"]) - reinforcement_median(near["joint"])
    assert gap_far > 20.0
    assert abs(gap_near) < 0.25 * gap_far


def test_doubling_speeds_halves_travel_dominated_arrival_times() -> None:
    stations, grids = build_county()
    no_turnout = {"turnout_minutes": 0.0, "county_turnout_minutes": 0.0}
    slow = compare(stations, grids, build_params(**no_turnout))
    fast = compare(
        stations, grids, build_params(speed_kmh={"urban": 60.0, "rural": 90.0}, **no_turnout)
    )
    for mode in ("independent", "joint"):
        for attr in ("first_arrival_min", "reinforcement_arrival_min"):
            ratio = np.median(getattr(fast[mode], attr)) / np.median(getattr(slow[mode], attr))
            assert 0.45 < ratio < 0.55, (mode, attr, ratio)


def test_zero_reinforcement_share_gives_no_reinforcement_arrivals() -> None:
    stations, grids = build_county()
    results = compare(stations, grids, build_params(reinforcement_share=0.0))
    for stats in results.values():
        assert stats.calls > 0 and stats.first_arrival_min.size == stats.calls
        assert stats.reinforcement_arrival_min.size == 0
        assert math.isnan(stats.summary()["reinforcement_median_min"])
    assert "independent" in format_report(results)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_number_of_calls_is_close_to_its_expectation(seed: int) -> None:
    stations, grids = build_county()
    params = build_params(seed=seed, days=60.0)
    expected = (
        sum(g.population for g in grids)
        * params.calls_per_1000_residents_per_day
        * params.days
        / 1000.0
    )
    stats = simulate(stations, grids, params, mode="independent")
    assert abs(stats.calls - expected) <= 4 * math.sqrt(expected)


def test_busy_station_makes_calls_wait_and_leaves_some_unanswered() -> None:
    stations, grids = build_county(officers=1, population=60_000)
    params = build_params(days=2.0, handling_minutes=120.0)
    stats = simulate(stations, grids, params, mode="independent")
    quiet = simulate(
        *build_county(officers=1, population=500), build_params(days=2.0), mode="independent"
    )
    assert stats.unanswered > 0
    assert stats.first_arrival_min.size + stats.unanswered == stats.calls
    assert np.median(stats.first_arrival_min) > 3 * np.median(quiet.first_arrival_min)


def test_report_has_a_row_and_a_histogram_line_per_mode() -> None:
    stations, grids = build_county()
    results = compare(stations, grids, build_params())
    lines = format_report(results).splitlines()
    assert sum(line.startswith("independent") for line in lines) == 2
    assert sum(line.startswith("joint") for line in lines) == 2
    histogram = [line for line in lines if line.startswith("joint")][-1].split()[1:]
    assert sum(map(int, histogram)) == results["joint"].reinforcement_arrival_min.size


def test_project_lonlat_gives_metres_around_the_origin() -> None:
    x, y = project_lonlat(np.array([120.0, 120.1]), np.array([30.0, 30.1]), 120.0, 30.0)
    assert x[0] == pytest.approx(0.0) and y[0] == pytest.approx(0.0)
    assert y[1] == pytest.approx(11_119.5, rel=1e-3)  # 0.1 degree of latitude
    assert x[1] == pytest.approx(11_119.5 * math.cos(math.radians(30.0)), rel=1e-3)


def test_bad_input_is_refused() -> None:
    stations, grids = build_county()
    with pytest.raises(ValueError, match="unknown stations"):
        simulate(stations[1:], grids, build_params(), mode="joint")
    with pytest.raises(ValueError, match="mode"):
        simulate(stations, grids, build_params(), mode="pooled")  # type: ignore[arg-type]
