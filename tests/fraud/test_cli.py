"""`fengqiao fraud import` and `fengqiao fraud escalate`, run as commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from fengqiao.config import Settings
from fengqiao.db import unit_of_work
from fengqiao.fraud.models import FraudOrder, FraudWarning
from tests.fraud.helpers import id_number, place


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FENGQIAO_DATABASE_URL": settings.database_url, "FENGQIAO_LANGUAGE": "en"}
    return subprocess.run(
        [sys.executable, "-m", "fengqiao", "fraud", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_import_reports_bad_rows_and_adds_nothing_the_second_time(
    county: sessionmaker[Session], county_settings: Settings, tmp_path: Path
) -> None:
    with unit_of_work(county) as session:
        place(session, "幸福路12号3栋2单元301室")
    good = id_number(11)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    data = tmp_path / "warnings.csv"
    data.write_text(
        "预警编号,姓名,手机号,身份证号,地址,预警类型,预警等级\n"
        f"C1,张三,13812345678,{good},幸福路12号3栋2单元301,正在通话,紧急\n"
        f"C2,李四,13812345679,{bad},幸福路12号,可疑转账,高\n"
        ",,,,,,\n",
        encoding="utf-8",
    )
    report = tmp_path / "report.csv"
    first = run(county_settings, "import", str(data), "--source", "96110", "--report", str(report))
    assert first.returncode == 1, first.stderr  # one row refused: a non-zero exit for scripts
    assert "1 new warnings" in first.stdout and "1 with errors" in first.stdout
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Row,Severity,Field,Problem,预警编号")
    assert any(line.startswith("3,error,id_number,") and ",C2," in line for line in lines)
    second = run(county_settings, "import", str(data), "--source", "96110")
    assert "0 new warnings, 1 already received" in second.stdout
    with county() as session:
        assert session.scalar(select(func.count(FraudWarning.id))) == 1
        assert session.scalar(select(func.count(FraudOrder.id))) == 1


def test_escalate_runs_and_counts(county_settings: Settings) -> None:
    result = run(county_settings, "escalate")
    assert result.returncode == 0, result.stderr
    assert "Orders escalated: 0" in result.stdout
