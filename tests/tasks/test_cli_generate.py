"""`fengqiao tasks generate` run as a process: makes the day's tasks once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from fengqiao.config import Settings
from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
from fengqiao.tasks.models import Task, TaskRun


def _run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FENGQIAO_DATABASE_URL": settings.database_url, "FENGQIAO_LANGUAGE": "en"}
    return subprocess.run(
        [sys.executable, "-m", "fengqiao", "tasks", "generate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).parent,
    )


def _counts(settings: Settings) -> tuple[int, int]:
    engine = make_engine(settings)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            return (
                session.scalar(select(func.count()).select_from(TaskRun)) or 0,
                session.scalar(select(func.count()).select_from(Task)) or 0,
            )
    finally:
        engine.dispose()


def test_generate_twice_makes_tasks_once(demo_settings: Settings) -> None:
    # The demo build already ran today: a second run finds nothing to do.
    runs, tasks = _counts(demo_settings)
    assert runs > 0 and tasks > 0
    done = _run(demo_settings)
    assert done.returncode == 0, done.stderr
    assert "Grids run: 0; tasks made: 0" in done.stdout
    assert _counts(demo_settings) == (runs, tasks)
