"""`fengqiao disputes …`: later incidents linked to disputes (a nightly run), the
figures, and an agreement printed to a file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from fengqiao import i18n

disputes_app = typer.Typer(help="Dispute mediation. 矛盾纠纷调解。", no_args_is_help=True)


@disputes_app.command("link")
def link(
    days: Annotated[
        int, typer.Option(min=1, max=3650, help="Disputes found in the last N days")
    ] = 365,
) -> None:
    """Link later incidents at the same place or between the same parties to disputes
    (run nightly from cron). 关联纠纷发生地或当事人此后的警情（可每晚定时运行）。"""
    from fengqiao.auth import system_principal
    from fengqiao.cli import _settings
    from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
    from fengqiao.disputes import revisits

    engine = make_engine(_settings())
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            added = revisits.link_recent(session, system_principal("cli"), days=days)
    finally:
        engine.dispose()
    typer.echo(i18n._("Linked {n} later incidents to disputes.").format(n=added))


@disputes_app.command("figures")
def figures(
    first: Annotated[str | None, typer.Option(help="First day found, YYYY-MM-DD")] = None,
    last: Annotated[str | None, typer.Option(help="Last day found, YYYY-MM-DD")] = None,
    by: Annotated[str, typer.Option(help="level, type, grid, station or month")] = "level",
) -> None:
    """Found, mediated, resolved and the resolution rate, with last year's, as JSON.
    纠纷排查、调解、化解数及化解率（含同比），输出 JSON。"""
    from fengqiao.auth import system_principal
    from fengqiao.cli import _settings
    from fengqiao.db import make_engine, make_sessionmaker
    from fengqiao.disputes import figures as stats
    from fengqiao.errors import DomainError

    try:
        first_day = date.fromisoformat(first) if first else None
        last_day = date.fromisoformat(last) if last else None
    except ValueError:
        typer.secho(i18n._("Give days as YYYY-MM-DD."), fg="red", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(_settings())
    try:
        with make_sessionmaker(engine)() as session:
            result = stats.report(
                session, system_principal("cli"), first=first_day, last=last_day, by=by
            )
    except DomainError as exc:
        typer.secho(exc.message, fg="red", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    out = {
        "first": result.first.isoformat(),
        "last": result.last.isoformat(),
        "total": result.total.as_dict(),
        "previous_year": result.previous.as_dict(),
        "groups": {k: v.as_dict() for k, v in sorted(result.groups.items())},
    }
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


@disputes_app.command("agreement")
def agreement(
    agreement_id: Annotated[int, typer.Argument(help="The agreement's id")],
    out: Annotated[Path, typer.Option(help="Where to write the PDF")] = Path("agreement.pdf"),
) -> None:
    """Print a mediation agreement (调解协议书) to a PDF file (audited as a read).
    将调解协议书输出为 PDF 文件（记入审计）。"""
    from fengqiao.auth import system_principal
    from fengqiao.cli import _settings
    from fengqiao.db import make_engine, make_sessionmaker, unit_of_work
    from fengqiao.disputes import agreements
    from fengqiao.errors import DomainError

    settings = _settings()
    engine = make_engine(settings)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            _name, data = agreements.printable(
                session, system_principal("cli"), agreement_id, font=settings.pdf_font
            )
    except DomainError as exc:
        typer.secho(exc.message, fg="red", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    out.write_bytes(data)
    typer.echo(i18n._("Wrote {path} ({kb} KB).").format(path=out, kb=len(data) // 1024))
