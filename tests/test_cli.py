"""The command line, run as a user runs it: as a subprocess of the installed script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fengqiao.demo.county import generate_county

FENGQIAO = str(Path(sys.executable).parent / "fengqiao")


def run(*args: str, db: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    if db is not None:
        full_env["FENGQIAO_DATABASE_URL"] = f"sqlite:///{db}"
    full_env.update(env)
    return subprocess.run(
        [FENGQIAO, *args], capture_output=True, text=True, env=full_env, timeout=120, check=False
    )


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["demo"],
        ["serve"],
        ["db"],
        ["db", "upgrade"],
        ["db", "downgrade"],
        ["import"],
        ["user"],
        ["user", "create"],
        ["user", "reset-password"],
        ["audit", "verify"],
        ["grids"],
        ["grids", "plan"],
        ["grids", "publish"],
        ["grids", "coverage"],
        ["grids", "locate"],
        ["tasks"],
        ["tasks", "generate"],
        ["fraud"],
        ["fraud", "import"],
        ["fraud", "escalate"],
        ["disputes"],
        ["disputes", "link"],
        ["disputes", "figures"],
        ["disputes", "agreement"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    # Each command explains itself in Chinese as well as English.
    assert any("\u4e00" <= ch <= "\u9fff" for ch in result.stdout), result.stdout


def test_bad_setting_is_named(tmp_path: Path) -> None:
    result = run("db", "upgrade", FENGQIAO_PORT="eighty")
    assert result.returncode == 2
    assert "FENGQIAO_PORT" in result.stderr
    result = run("db", "upgrade", FENGQIAO_DATABASE_URL="mysql://x/y")
    assert result.returncode == 2
    assert "FENGQIAO_DATABASE_URL" in result.stderr


def test_upgrade_import_users_and_audit(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    files = generate_county(tmp_path / "county", seed=7)

    assert run("db", "upgrade", db=db).returncode == 0
    for kind, path in [
        ("stations", files.stations),
        ("districts", files.districts),
        ("grids", files.grids),
        ("civil-grids", files.civil_grids),
        ("personnel", files.personnel),
    ]:
        first = run("import", kind, str(path), db=db)
        assert first.returncode == 0, first.stderr
        again = run("import", kind, str(path), db=db, FENGQIAO_LANGUAGE="en")
        assert again.returncode == 0, again.stderr
        assert "0 created, 0 updated" in again.stdout

    # A bad file is refused with the file, the place and the field, and writes nothing.
    bad = tmp_path / "bad.geojson"
    data = json.loads(files.grids.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["district_code"] = "NO-SUCH"
    data["features"][0]["properties"]["code"] = "NEW-GRID"
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    refused = run("import", "grids", str(bad), db=db, FENGQIAO_LANGUAGE="en")
    assert refused.returncode == 1
    assert "bad.geojson" in refused.stderr and "district_code" in refused.stderr
    assert "NO-SUCH" in refused.stderr

    unknown = run("import", "villages", str(bad), db=db)
    assert unknown.returncode == 2

    created = run(
        "user",
        "create",
        "zhangwei",
        "--role",
        "station_chief",
        "--station",
        "QX-CG",
        db=db,
        FENGQIAO_NEW_PASSWORD="Strong-pass-2026",
    )
    assert created.returncode == 0, created.stderr
    duplicate = run(
        "user",
        "create",
        "zhangwei",
        "--role",
        "station_chief",
        "--station",
        "QX-CG",
        db=db,
        FENGQIAO_NEW_PASSWORD="Strong-pass-2026",
    )
    assert duplicate.returncode == 1
    weak = run("user", "reset-password", "zhangwei", db=db, FENGQIAO_NEW_PASSWORD="123")
    assert weak.returncode == 1
    reset = run(
        "user", "reset-password", "zhangwei", db=db, FENGQIAO_NEW_PASSWORD="Another-pass-2026"
    )
    assert reset.returncode == 0, reset.stderr

    simulated = run("simulate", "response", "--days", "20", db=db, FENGQIAO_LANGUAGE="en")
    assert simulated.returncode == 0, simulated.stderr
    rows: dict[str, list[str]] = {}
    for line in simulated.stdout.splitlines():
        if line.startswith(("independent", "joint")):
            rows.setdefault(line.split()[0], line.split())  # the table comes before the bins
    # Same call stream in both organisations: the same number of calls.
    assert rows["independent"][1] == rows["joint"][1]
    assert int(rows["joint"][1]) > 0

    verify = run("audit", "verify", db=db, FENGQIAO_LANGUAGE="en")
    assert verify.returncode == 0, verify.stderr
    assert "intact" in verify.stdout

    down = run("db", "downgrade", "base", db=db)
    assert down.returncode == 0, down.stderr
