"""The watch over fraud-order deadlines, run inside each app process (and by
``fengqiao fraud escalate`` from cron). Any number may run: each order is escalated
once per stage by a conditional update (see orders.escalate_due)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.orm import Session, sessionmaker

from fengqiao.auth import system_principal
from fengqiao.config import Settings
from fengqiao.db import unit_of_work
from fengqiao.fraud.orders import escalate_due

log = logging.getLogger(__name__)


def escalate_once(factory: sessionmaker[Session]) -> int:
    with unit_of_work(factory) as session:
        return escalate_due(session, system_principal("fraud-deadlines"))


async def run_watch(
    factory: sessionmaker[Session], settings: Settings, stop: asyncio.Event
) -> None:
    """Check every ``fraud_check_seconds`` until ``stop`` is set; a round under way is
    finished before returning."""
    while not stop.is_set():
        try:
            count = await asyncio.to_thread(escalate_once, factory)
            if count:
                log.info("fraud orders escalated: %d", count)
        except Exception:  # keep watching; the next round tries again
            log.exception("fraud deadline watch failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.fraud_check_seconds)
