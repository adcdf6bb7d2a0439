"""`fengqiao tasks …`: the daily task job from cron, and a look at a day's tasks."""

from __future__ import annotations

import typer

from fengqiao import i18n

tasks_app = typer.Typer(help="Daily prevention tasks. 每日防范任务。", no_args_is_help=True)


@tasks_app.command("generate")
def generate() -> None:
    """Make today's tasks for every grid not done yet, and those of days missed while
    nothing ran (up to FENGQIAO_TASK_CATCH_UP_DAYS). Safe to run from cron on several
    machines: each grid and day is made once.
    为尚未生成的警格生成当日任务（并补齐停机错过的日期）；可在多台机器上同时运行，不会重复。"""
    from fengqiao.cli import _settings
    from fengqiao.db import make_engine, make_sessionmaker
    from fengqiao.tasks.generation import run_due
    from fengqiao.tasks.jobs import rules_of

    settings = _settings()
    engine = make_engine(settings)
    try:
        summary = run_due(make_sessionmaker(engine), rules=rules_of(settings))
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
