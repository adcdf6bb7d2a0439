"""The sender of pending notice deliveries, run inside each app process. Any number may
run: each delivery is claimed by one sender only (see sending.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.orm import Session, sessionmaker

from fengqiao.config import Settings
from fengqiao.notify.sending import BATCH, SendSummary, send_pending

log = logging.getLogger(__name__)


def send_once(factory: sessionmaker[Session], settings: Settings) -> SendSummary:
    return send_pending(factory, settings)


async def run_sender(
    factory: sessionmaker[Session], settings: Settings, stop: asyncio.Event
) -> None:
    """Send what is due every ``notify_check_seconds`` until ``stop`` is set; the work
    runs in a thread off the event loop, and a round under way is finished before
    returning (so that no connection is left behind when the app shuts its engine)."""
    while not stop.is_set():
        try:
            summary = await asyncio.to_thread(send_once, factory, settings)
            if summary:
                log.info("notices: %s", summary)
            if summary.claimed >= BATCH:
                continue  # more are waiting: go on without pausing
        except Exception:  # keep the sender alive; the next round tries again
            log.exception("notice sender failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.notify_check_seconds)
