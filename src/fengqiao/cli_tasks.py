"""`fengqiao tasks …`: the daily task job from cron, and a look at a day's tasks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from fengqiao import i18n

tasks_app = typer.Typer(help="Daily prevention tasks. 每日防范任务。", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg="red", err=True)
    return typer.Exit(code)


@tasks_app.command("generate")
def generate(
    day: Annotated[
        str | None,
        typer.Option(help="Run as if on this day (YYYY-MM-DD), e.g. to catch up 按指定日期生成"),
    ] = None,
) -> None:
    """Make today's tasks for every grid not done yet (and days missed, up to the
    catch-up limit). Safe to run from several machines: each grid and day is made once.
    为尚未生成的警格生成当日任务；可在多台机器上同时运行，不会重复。"""
    from fengqiao.cli import _settings
    from fengqiao.clock import CHINA_TZ
    from fengqiao.db import make_engine, make_sessionmaker, utcnow
    from fengqiao.tasks.generation import run_due
    from fengqiao.tasks.jobs import rules_of

    settings = _settings()
    now = utcnow()
    if day is not None:
        try:
            wanted = date.fromisoformat(day)
        except ValueError:
            raise _fail(i18n._("Give the day as YYYY-MM-DD, e.g. 2026-11-22.")) from None
        now = datetime.combine(wanted, now.astimezone(CHINA_TZ).timetz())
        if now > utcnow():
            raise _fail(i18n._("Tasks are not made for a day in the future."))
    engine = make_engine(settings)
    try:
        summary = run_due(make_sessionmaker(engine), now=now, rules=rules_of(settings))
    finally:
        engine.dispose()
    typer.echo(
        i18n._(
            "Grids run: {runs}; tasks made: {tasks}; already done by another run: {skipped}"
        ).format(runs=summary.runs, tasks=summary.tasks, skipped=summary.skipped)
    )
    for grid_id, when, message in summary.failed:
        typer.secho(f"grid {grid_id} {when.isoformat()}: {message}", fg="red", err=True)
    if summary.failed:
        raise typer.Exit(1)
