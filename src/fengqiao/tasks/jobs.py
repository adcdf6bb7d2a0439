"""The scheduler of the daily task job, run inside each app process (and by
``fengqiao tasks generate`` from cron). Any number may run: the job is exactly-once per
grid and day (see generation.py), so the scheduler only has to try often enough."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.orm import Session, sessionmaker

from fengqiao.clock import CHINA_TZ
from fengqiao.config import Settings
from fengqiao.db import utcnow
from fengqiao.tasks.generation import Rules, RunSummary, run_due

log = logging.getLogger(__name__)


def rules_of(settings: Settings) -> Rules:
    return Rules(
        visits_per_grid=settings.task_visits_per_grid, catch_up_days=settings.task_catch_up_days
    )


def run_once(factory: sessionmaker[Session], settings: Settings) -> RunSummary | None:
    """Run what is due, once the local clock has passed the generation hour."""
    now = utcnow()
    if now.astimezone(CHINA_TZ).hour < settings.task_generation_hour:
        return None
    return run_due(factory, now=now, rules=rules_of(settings))


async def run_scheduler(
    factory: sessionmaker[Session], settings: Settings, stop: asyncio.Event
) -> None:
    """Check every ``task_check_seconds`` until ``stop`` is set; the work runs in a
    thread off the event loop, and a round under way is finished before returning (so
    that no connection is left behind when the app shuts its engine)."""
    while not stop.is_set():
        try:
            summary = await asyncio.to_thread(run_once, factory, settings)
            if summary is not None and (summary.runs or summary.failed):
                log.info("daily tasks: %s", summary)
        except Exception:  # keep the scheduler alive; the next round tries again
            log.exception("daily task job failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.task_check_seconds)
