"""The sender of pending notice deliveries (filled in with the notify service)."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker

from fengqiao.config import Settings


async def run_sender(factory: sessionmaker[Session], settings: Settings, stop: asyncio.Event) -> None:
    await stop.wait()
