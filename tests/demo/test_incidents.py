"""Tests for the seeded incident history of the demo county (fengqiao.demo.incidents)."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import shapely
from shapely.geometry import shape

from fengqiao.demo.county import CountyFiles, generate_county
from fengqiao.demo.incidents import generate_incident_history
from fengqiao.incidents.defaults import SECOND_LEVEL

START = date(2025, 11, 22)
DAYS = 365
COLUMNS = [
    "key",
    "received_at",
    "channel",
    "category_code",
    "priority",
    "lon",
    "lat",
    "address",
    "description",
    "reporter_name",
    "reporter_phone",
    "dispatched_at",
    "accepted_at",
    "arrived_at",
    "handled_at",
    "closed_at",
    "responder_no",
    "disposition",
]
STEPS = ["received_at", "dispatched_at", "accepted_at", "arrived_at", "handled_at", "closed_at"]
CHANNELS = {"transfer_110", "phone", "walk_in", "online", "doorplate_qr", "enterprise_line"}
DISPOSITIONS = {"settled", "case", "dispute", "referred", "no_action"}
M_PER_DEG_LON, M_PER_DEG_LAT = 100_800.0, 110_700.0  # at 25° N


@dataclass
class History:
    county: CountyFiles
    path: Path
    count: int
    rows: list[dict[str, str]]
    grids: list[dict[str, Any]]  # properties of the grid holding each row's point


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    tmp = tmp_path_factory.mktemp("incidents")
    county = generate_county(tmp / "county")
    path = tmp / "incidents.csv"
    count = generate_incident_history(county.grids, county.personnel, path, start=START, days=DAYS)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    features = json.loads(county.grids.read_text(encoding="utf-8"))["features"]
    polys = [shape(f["geometry"]) for f in features]
    points = shapely.points([(float(r["lon"]), float(r["lat"])) for r in rows])
    row_idx, grid_idx = shapely.STRtree(polys).query(points, predicate="within")
    holder = dict(zip(row_idx.tolist(), grid_idx.tolist(), strict=True))
    assert len(holder) == len(rows), "every point must lie inside a grid of the county"
    grids = [features[holder[i]]["properties"] for i in range(len(rows))]
    return History(county, path, count, rows, grids)


def _times(row: dict[str, str]) -> list[datetime]:
    return [datetime.fromisoformat(row[s]) for s in STEPS if row[s]]


def test_same_seed_same_bytes_other_seed_differs(history: History, tmp_path: Path) -> None:
    again, other = tmp_path / "again.csv", tmp_path / "other.csv"
    c = history.county
    generate_incident_history(c.grids, c.personnel, again, start=START, days=DAYS)
    generate_incident_history(c.grids, c.personnel, other, start=START, days=DAYS, seed=1)
    assert again.read_bytes() == history.path.read_bytes()
    assert other.read_bytes() != history.path.read_bytes()


def test_file_format_bom_header_and_value_spellings(history: History) -> None:
    raw = history.path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV must start with a UTF-8 BOM"
    assert list(history.rows[0]) == COLUMNS
    assert {r["channel"] for r in history.rows} <= CHANNELS
    assert Counter(r["channel"] for r in history.rows).most_common(1)[0][0] == "transfer_110"
    for row in history.rows:
        assert re.fullmatch(r"1[3-9]\d{9}", row["reporter_phone"]), row
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", row["reporter_name"]), row
        assert re.fullmatch(r"1\d{2}\.\d{6}", row["lon"]), row
        assert re.fullmatch(r"2\d\.\d{6}", row["lat"]), row
        assert row["address"] and row["description"], row


def test_row_count_in_band_and_returned(history: History) -> None:
    assert history.count == len(history.rows)
    features = json.loads(history.county.grids.read_text(encoding="utf-8"))["features"]
    residents = sum(f["properties"]["population"] for f in features)
    per_1000_per_day = len(history.rows) / DAYS / (residents / 1000)
    assert 8_000 <= len(history.rows) <= 12_000
    assert 0.1 <= per_1000_per_day <= 0.15


def test_categories_are_second_level_with_default_priority(history: History) -> None:
    priority = {c.code: c.priority for c in SECOND_LEVEL}
    for row in history.rows:
        assert row["category_code"] in priority, row["category_code"]
        assert row["priority"] == priority[row["category_code"]], row
    top = Counter(r["category_code"][:2] for r in history.rows)
    share = {k: v / len(history.rows) for k, v in top.items()}
    assert 0.18 <= share["03"] <= 0.32 and 0.18 <= share["07"] <= 0.32, share
    assert 0.10 <= share["06"] <= 0.22 and 0.06 <= share["02"] <= 0.14, share
    assert 0.05 <= share["01"] <= 0.11 and 0.06 <= share["99"] <= 0.15, share
    assert Counter(r["priority"] for r in history.rows)["urgent"] / len(history.rows) < 0.08


def test_hour_of_day_peaks_in_the_evening_and_dips_before_dawn(history: History) -> None:
    hours = np.bincount(
        [datetime.fromisoformat(r["received_at"]).hour for r in history.rows], minlength=24
    )
    assert 18 <= int(np.argmax(hours)) <= 23, hours
    assert 2 <= int(np.argmin(hours)) <= 5, hours
    assert hours[19:23].mean() > 1.3 * hours[9:17].mean(), hours


def test_friday_and_saturday_evenings_are_busier(history: History) -> None:
    evening: Counter[int] = Counter()
    for row in history.rows:
        t = datetime.fromisoformat(row["received_at"])
        if t.hour >= 19:
            evening[t.weekday()] += 1
    weekend = (evening[4] + evening[5]) / 2
    weekdays = sum(evening[d] for d in range(4)) / 4
    assert weekend > 1.25 * weekdays, evening


def test_timelines_are_complete_monotone_and_in_cst(history: History) -> None:
    end = datetime.fromisoformat(f"{START + timedelta(days=DAYS)}T00:00:00+08:00")
    for row in history.rows:
        present = [bool(row[s]) for s in STEPS]
        assert present == sorted(present, reverse=True), f"gap in the timeline: {row}"
        times = _times(row)
        assert all(row[s].endswith("+08:00") for s in STEPS if row[s]), row
        assert times == sorted(times), row
        assert times[-1] <= end, row
        assert bool(row["disposition"]) == bool(row["handled_at"]), row
        assert bool(row["responder_no"]) == bool(row["dispatched_at"]), row
        if row["disposition"]:
            assert row["disposition"] in DISPOSITIONS, row
        if row["category_code"].startswith("99") and row["disposition"]:
            assert row["disposition"] == "no_action", row
        if len(times) >= 2:
            assert timedelta(minutes=1) <= times[1] - times[0] <= timedelta(minutes=6), row


def test_a_few_recent_rows_are_still_open(history: History) -> None:
    open_rows = [r for r in history.rows if not r["closed_at"]]
    assert 0.01 <= len(open_rows) / len(history.rows) <= 0.04, len(open_rows)
    cutoff = datetime.fromisoformat(f"{START + timedelta(days=DAYS - 30)}T00:00:00+08:00")
    assert all(datetime.fromisoformat(r["received_at"]) >= cutoff for r in open_rows)


def test_rural_arrivals_take_longer(history: History) -> None:
    travel: dict[str, list[float]] = defaultdict(list)
    for row, grid in zip(history.rows, history.grids, strict=True):
        if row["arrived_at"]:
            delta = datetime.fromisoformat(row["arrived_at"]) - datetime.fromisoformat(
                row["accepted_at"]
            )
            travel[grid["kind"]].append(delta.total_seconds() / 60)
    urban, rural = np.median(travel["urban"]), np.median(travel["rural"])
    assert 5 <= urban <= 15 and 10 <= rural <= 35 and rural > urban + 5, (urban, rural)


def test_responders_serve_the_grid_and_are_mostly_officers(history: History) -> None:
    with history.county.personnel.open(encoding="utf-8-sig", newline="") as fh:
        people = {p["personnel_no"]: p for p in csv.DictReader(fh)}
    kinds: Counter[str] = Counter()
    for row, grid in zip(history.rows, history.grids, strict=True):
        if row["responder_no"]:
            person = people[row["responder_no"]]
            assert grid["code"] in person["grid_codes"].split(";"), (row, person)
            kinds[person["kind"]] += 1
    assert set(kinds) == {"officer", "auxiliary"} and kinds["officer"] > 1.5 * kinds["auxiliary"]


def test_urban_grids_have_more_incidents_per_resident(history: History) -> None:
    calls: Counter[str] = Counter(g["kind"] for g in history.grids)
    features = json.loads(history.county.grids.read_text(encoding="utf-8"))["features"]
    residents: Counter[str] = Counter()
    for f in features:
        residents[f["properties"]["kind"]] += f["properties"]["population"]
    urban, rural = (calls[k] / residents[k] for k in ("urban", "rural"))
    assert urban > 1.3 * rural, (urban, rural)


def _near_later_share(
    t: npt.NDArray[np.float64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    metres: float,
    days: float,
) -> float:
    """Share of events with another event within ``metres`` in the next ``days``."""
    order = np.argsort(t, kind="stable")
    t, x, y = t[order], x[order], y[order]
    stop = np.searchsorted(t, t + days * 86_400, side="right")
    hits = 0
    for i in range(len(t)):
        j = slice(i + 1, int(stop[i]))
        hits += bool(np.any((x[j] - x[i]) ** 2 + (y[j] - y[i]) ** 2 <= metres**2))
    return hits / len(t)


def test_self_excitation_is_visible_against_shuffled_times(history: History) -> None:
    t = np.array([datetime.fromisoformat(r["received_at"]).timestamp() for r in history.rows])
    x = np.array([float(r["lon"]) for r in history.rows]) * M_PER_DEG_LON
    y = np.array([float(r["lat"]) for r in history.rows]) * M_PER_DEG_LAT
    observed = _near_later_share(t, x, y, 500.0, 7.0)
    rng = np.random.default_rng(0)
    control = np.mean([_near_later_share(rng.permutation(t), x, y, 500.0, 7.0) for _ in range(3)])
    assert observed > control + 0.05, (observed, control)


def test_keys_unique_and_stable_format(history: History) -> None:
    keys = [r["key"] for r in history.rows]
    assert len(set(keys)) == len(keys)
    for row in history.rows:
        day = datetime.fromisoformat(row["received_at"]).strftime("%Y%m%d")
        assert re.fullmatch(rf"QX110-{day}-\d{{5}}", row["key"]), row


def test_reform_prevents_cases_and_speeds_up_arrival(history: History, tmp_path: Path) -> None:
    """After the reform day: about a third fewer case calls, arrivals several minutes faster."""
    path = tmp_path / "reform.csv"
    generate_incident_history(
        history.county.grids,
        history.county.personnel,
        path,
        start=START,
        days=DAYS,
        reform_day=DAYS // 2,
        leave_open=False,
    )
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    case_codes = {c.code for c in SECOND_LEVEL if c.is_case}
    cut = datetime(START.year, START.month, START.day).astimezone() + timedelta(days=DAYS // 2)

    def before(r: dict[str, str]) -> bool:
        return datetime.fromisoformat(r["received_at"]) < cut

    cases = Counter(before(r) for r in rows if r["category_code"] in case_codes)
    assert cases[False] < 0.85 * cases[True], cases

    def arrival_min(r: dict[str, str]) -> float:
        received, arrived = (datetime.fromisoformat(r[k]) for k in ("received_at", "arrived_at"))
        return (arrived - received).total_seconds() / 60

    early = [arrival_min(r) for r in rows if r["arrived_at"] and before(r)]
    late = [arrival_min(r) for r in rows if r["arrived_at"] and not before(r)]
    assert float(np.median(early)) - float(np.median(late)) > 2.5
    # leave_open=False: only calls of the very last hours are unfinished.
    assert sum(1 for r in rows if not r["closed_at"]) < 0.005 * len(rows)
