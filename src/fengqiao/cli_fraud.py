"""`fengqiao fraud …`: warning files from the command line, and the deadline watch
from cron."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fengqiao import i18n

fraud_app = typer.Typer(help="Anti-fraud warnings. 反诈预警。", no_args_is_help=True)


@fraud_app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or .xlsx file")],
    source: Annotated[
        str, typer.Option(help="Where the warnings come from (e.g. 96110)")
    ] = "batch",
    report: Annotated[Path | None, typer.Option(help="Write the per-row report (CSV) here")] = None,
) -> None:
    """Take a file of warnings (CSV or Excel): good rows become orders, bad rows go to
    the report; the same file again adds nothing.
    导入预警文件：合格行生成劝阻指令，问题行写入逐行报告；重复导入不会重复生成。"""
    import fengqiao.models  # noqa: F401  # every table, for the foreign keys of bulk inserts
    from fengqiao.auth import system_principal
    from fengqiao.cli import _settings
    from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
    from fengqiao.errors import DomainError
    from fengqiao.fraud import batch

    settings = _settings()
    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    principal = system_principal("cli")
    try:
        with unit_of_work(factory) as session:
            batch_id = batch.start_batch(
                session,
                principal,
                filename=path.name,
                source=source,
                digest=batch.file_digest(path),
            ).id
        try:
            done = batch.run_batch(factory, settings, principal, batch_id, path)
        except DomainError as exc:
            typer.secho(exc.message, fg="red", err=True)
            raise typer.Exit(2) from None
        if report is not None:
            with factory() as session:
                report.write_text(batch.report_csv(session, batch_id), encoding="utf-8")
    finally:
        engine.dispose()
    typer.echo(
        i18n._(
            "Batch {id}: {rows} rows, {accepted} new warnings, {duplicates} already received, "
            "{rejected} with errors, {orders} new orders ({queued} in the queue), "
            "{merged} merged; {seconds} s."
        ).format(
            id=done.id,
            rows=done.rows,
            accepted=done.accepted,
            duplicates=done.duplicates,
            rejected=done.rejected,
            orders=done.orders,
            queued=done.queued,
            merged=done.merged,
            seconds=done.seconds,
        )
    )
    if done.rejected:
        raise typer.Exit(1)


@fraud_app.command("escalate")
def escalate() -> None:
    """Escalate the orders whose contact or visit deadline has passed (each once); safe
    to run from cron beside the app. 升级已超时的劝阻指令（每单每阶段一次）。"""
    from fengqiao.cli import _settings
    from fengqiao.db import make_engine, make_sessionmaker
    from fengqiao.fraud.jobs import escalate_once

    engine = make_engine(_settings())
    try:
        count = escalate_once(make_sessionmaker(engine))
    finally:
        engine.dispose()
    typer.echo(i18n._("Orders escalated: {n}").format(n=count))
