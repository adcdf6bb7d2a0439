"""`fengqiao grids plan | publish | coverage`, run as a user runs them: subprocesses of the
installed script on a copy of the county (SQLite). Few calls, as each costs seconds."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sqlalchemy import select

from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker
from fengqiao.org.models import PoliceDistrict, PoliceGrid, Station
from tests.test_cli import run


def _layout(db: Path) -> tuple[list[str], list[str], set[int]]:
    """Station codes, the active grid codes of QX-ML-D2, all active grid ids."""
    engine = make_engine(Settings(database_url=f"sqlite:///{db}", secret_key="test-secret"))  # type: ignore[call-arg]
    with make_sessionmaker(engine)() as session:
        stations = list(session.scalars(select(Station.code).order_by(Station.code)))
        grids = list(
            session.scalars(
                select(PoliceGrid.code)
                .join(PoliceDistrict)
                .where(PoliceDistrict.code == "QX-ML-D2", PoliceGrid.active())
                .order_by(PoliceGrid.code)
            )
        )
        ids = set(session.scalars(select(PoliceGrid.id).where(PoliceGrid.active())))
    engine.dispose()
    return stations, grids, ids


def test_plan_publish_and_coverage(sqlite_county_template: Path, tmp_path: Path) -> None:
    db = tmp_path / "county.db"
    shutil.copy(sqlite_county_template, db)
    stations, grids, ids = _layout(db)
    en = {"FENGQIAO_LANGUAGE": "en"}

    planned = run("grids", "plan", "--district", "QX-ML-D2", db=db, **en)
    assert planned.returncode == 0, planned.stderr
    out = planned.stdout.splitlines()
    assert re.match(r"Plan (\d+) \(.+\), version 1, Draft$", out[0]), out[0]
    plan_id = re.match(r"Plan (\d+)", out[0]).group(1)  # type: ignore[union-attr]
    assert f"Grids: {len(grids)} (lower bound ceil(population / cap) = " in planned.stdout
    lower = int(re.search(r"= (\d+)\)", planned.stdout).group(1))  # type: ignore[union-attr]
    assert 1 <= lower <= len(grids)
    assert "Units moved from their current grid: 0 (0 residents)" in planned.stdout
    header = next(i for i, line in enumerate(out) if line.startswith("Grid "))
    rows = [line.split() for line in out[header + 1 : header + 1 + len(grids)]]
    assert [r[0] for r in rows] == grids
    for code, units, residents, cap, pp, *note in rows:
        assert int(units) > 0 and 0 < int(residents) <= int(cap) == 3000
        assert 0 < float(pp) <= 1
        assert note == ["continues", code]
    assert "Planning" in planned.stderr  # progress goes to stderr, not into the table

    published = run("grids", "publish", plan_id, db=db, **en)
    assert published.returncode == 0, published.stderr
    assert f"Published: {len(grids)} grids kept, 0 new, 0 retired" in published.stdout
    assert _layout(db)[2] == ids

    unknown = run("grids", "plan", "--district", "QX-NOPE", db=db, **en)
    assert unknown.returncode == 2
    assert "Unknown police district QX-NOPE" in unknown.stderr
    # Refusals made before the database is opened are in the chosen language too.
    neither = run("grids", "plan", db=db, **en)
    assert neither.returncode == 2 and "--station or --district" in neither.stderr
    missing = run("grids", "locate", str(tmp_path / "none.csv"), str(tmp_path / "o.csv"), **en)
    assert missing.returncode == 2 and "File not found" in missing.stderr

    coverage = run("grids", "coverage", db=db, **en)
    assert coverage.returncode == 0, coverage.stderr
    lines = coverage.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == stations
    for line in lines:
        assert re.search(r": \d+ grids, \d+ residents, \d+ officers \(\d+ residents each\)", line)
