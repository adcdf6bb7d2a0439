"""`fengqiao grids locate`: a CSV of points out, the same rows with their grid back."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import select

from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker
from fengqiao.org.models import PoliceDistrict, PoliceGrid, Station
from tests.test_cli import run


def test_locate_writes_each_row_with_its_grid(demo_settings: Settings, tmp_path: Path) -> None:
    engine = make_engine(demo_settings)
    with make_sessionmaker(engine)() as session:
        grids = session.execute(
            select(PoliceGrid.code, PoliceGrid.geometry, PoliceDistrict.code, Station.code)
            .join(PoliceDistrict, PoliceDistrict.id == PoliceGrid.district_id)
            .join(Station, Station.id == PoliceDistrict.station_id)
            .where(PoliceGrid.active())
        ).all()
    engine.dispose()
    rng = np.random.default_rng(7)
    picks = [grids[i] for i in rng.choice(len(grids), 20, replace=False)]
    source = tmp_path / "points.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["编号", "经度", "纬度"])
        for n, (_code, geom, _d, _s) in enumerate(picks):
            inner = shapely.point_on_surface(geom)
            writer.writerow([f"P{n}", inner.x, inner.y])
        writer.writerow(["far", "100.0", "30.0"])  # outside the county
        writer.writerow(["bad", "east", ""])  # not a number
    target = tmp_path / "placed.csv"
    db = Path(demo_settings.database_url.removeprefix("sqlite:///"))
    done = run("grids", "locate", str(source), str(target), "--chunk", "7", db=db)
    assert done.returncode == 0, done.stderr
    assert "20" in done.stdout and "2" in done.stdout
    with target.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 22
    for row, (code, _geom, district, station) in zip(rows, picks, strict=False):
        assert (row["grid_code"], row["district_code"], row["station_code"]) == (
            code,
            district,
            station,
        )
    assert rows[-2]["grid_code"] == "" and rows[-1]["grid_code"] == ""


def test_locate_needs_coordinates(demo_settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "points.csv"
    source.write_text("id,x,y\n1,117,25\n", encoding="utf-8")
    db = Path(demo_settings.database_url.removeprefix("sqlite:///"))
    done = run("grids", "locate", str(source), str(tmp_path / "out.csv"), db=db)
    assert done.returncode == 2
    assert "lon" in done.stderr and "lat" in done.stderr
