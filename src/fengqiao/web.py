"""Web plumbing shared by every domain's routes and pages: the request's database
session, the logged-in principal, templates with the current language."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import HTMLResponse, Response

from fengqiao import i18n, labels
from fengqiao.accounts import service as accounts
from fengqiao.auth import Permission, Principal, build_principal, require
from fengqiao.clock import CHINA_TZ
from fengqiao.config import LANGUAGES, Settings
from fengqiao.db import unit_of_work
from fengqiao.errors import DomainError

SESSION_COOKIE = "fq_session"
LANG_COOKIE = "fq_lang"
TEMPLATES_DIR = Path(__file__).parent / "templates"

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


class LoginRequired(DomainError):
    """No valid session: pages redirect to the login form, the API answers 401."""

    status = 401


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def login_policy(settings: Settings) -> accounts.LoginPolicy:
    return accounts.LoginPolicy(
        max_failures=settings.login_max_failures,
        window=timedelta(minutes=settings.login_window_minutes),
        idle_timeout=timedelta(minutes=settings.session_idle_minutes),
    )


def db_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed when the handler returns normally."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with unit_of_work(factory) as session:
        yield session


# scope="function": commit before the response is sent, so that a failed commit gives
# a 500 instead of a success whose changes (and audit rows) were rolled back.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def current_principal(
    request: Request,
    session: DbSession,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    token = bearer or request.cookies.get(SESSION_COOKIE)
    if token:
        found = accounts.resolve_session(
            session, token=token, policy=login_policy(settings_of(request))
        )
        if found is not None:
            user, auth = found
            principal = build_principal(session, user, ip=client_ip(request), session_id=auth.id)
            request.state.principal = principal
            return principal
    session.commit()  # keep the end time of a session that just expired
    raise LoginRequired(i18n._("Please log in."))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def requires(permission: Permission) -> Any:
    """A dependency that returns the principal when it holds ``permission``, else 403."""

    def _check(principal: CurrentPrincipal) -> Principal:
        require(principal, permission)
        return principal

    return Depends(_check)


def local_time(value: datetime | None) -> str:
    """A UTC timestamp shown in China Standard Time, e.g. 2026-11-22 20:15:03."""
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def make_templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["Permission"] = Permission
    for name in (
        "role_label",
        "status_label",
        "kind_label",
        "team_label",
        "reinforcement_answer_label",
        "channel_label",
        "priority_label",
        "incident_status_label",
        "assignment_status_label",
        "disposition_label",
        "event_label",
        "plan_status_label",
    ):
        env.globals[name] = getattr(labels, name)
    env.filters["localtime"] = local_time
    return env


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    env: Environment = request.app.state.templates
    principal = getattr(request.state, "principal", None)
    html = env.get_template(template).render(
        request=request,
        principal=principal,
        lang=i18n.current_language(),
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def download(data: bytes, filename: str, media_type: str, *, inline: bool = False) -> Response:
    """A file for the browser to save (or show, ``inline``), never cached: the files of
    this app carry personal data."""
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
