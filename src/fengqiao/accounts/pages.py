"""HTML pages: login, logout, language switch, own password, account administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from fengqiao import i18n
from fengqiao.accounts import service as accounts
from fengqiao.accounts.models import AuthSession, Role, UserAccount
from fengqiao.auth import Permission, Principal
from fengqiao.errors import DomainError, Unauthorized
from fengqiao.i18n import _
from fengqiao.web import (
    LANG_COOKIE,
    SESSION_COOKIE,
    CurrentPrincipal,
    DbSession,
    client_ip,
    login_policy,
    render,
    requires,
    settings_of,
)

router = APIRouter(include_in_schema=False)
AdminPrincipal = Annotated[Principal, requires(Permission.MANAGE_USERS)]


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "accounts/login.html", next=_safe_next(next), error=None)


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    settings = settings_of(request)
    try:
        user = accounts.authenticate(
            session,
            username=username.strip(),
            password=password,
            ip=client_ip(request),
            policy=login_policy(settings),
        )
    except Unauthorized as exc:
        session.commit()  # the failure counts towards the lock-out
        return render(
            request,
            "accounts/login.html",
            status_code=401,
            next=_safe_next(next),
            error=exc.message,
            username=username,
        )
    token = accounts.start_session(session, user=user, kind="web", ip=client_ip(request))
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    auth = session.get(AuthSession, principal.session_id)
    if auth is not None:
        accounts.end_session(session, auth=auth, actor=principal.actor)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "/") -> Response:
    lang = i18n.parse_language(code) or settings_of(request).language
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response


@router.get("/account/password")
def password_form(request: Request, principal: CurrentPrincipal) -> Response:
    return render(request, "accounts/password.html", error=None)


@router.post("/account/password")
def change_password(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    current_password: Annotated[str, Form()],
    new_password: Annotated[str, Form()],
) -> Response:
    user = session.get(UserAccount, principal.user_id)
    assert user is not None
    try:
        accounts.change_password(
            session, actor=principal.actor, user=user, current=current_password, new=new_password
        )
    except DomainError as exc:
        return render(request, "accounts/password.html", status_code=exc.status, error=exc.message)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/admin/users")
def users_page(request: Request, session: DbSession, principal: AdminPrincipal) -> Response:
    return render(
        request,
        "accounts/users.html",
        users=accounts.list_users(session),
        roles=list(Role),
        error=None,
        notice=None,
    )


@router.post("/admin/users")
def create_user_page(
    request: Request,
    session: DbSession,
    principal: AdminPrincipal,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[Role, Form()],
    station_code: Annotated[str, Form()] = "",
    personnel_no: Annotated[str, Form()] = "",
) -> Response:
    error = notice = None
    try:
        with session.begin_nested():
            accounts.create_user(
                session,
                actor=principal.actor,
                username=username.strip(),
                password=password,
                role=role,
                station_code=station_code.strip() or None,
                personnel_no=personnel_no.strip() or None,
            )
        notice = _("Account {username} created.").format(username=username)
    except DomainError as exc:
        error = exc.message
    return render(
        request,
        "accounts/users.html",
        status_code=422 if error else 200,
        users=accounts.list_users(session),
        roles=list(Role),
        error=error,
        notice=notice,
    )


@router.post("/admin/users/{user_id}/active")
def toggle_user(
    request: Request,
    session: DbSession,
    principal: AdminPrincipal,
    user_id: int,
    active: Annotated[bool, Form()],
) -> Response:
    user = session.get(UserAccount, user_id)
    if user is not None and user.id != principal.user_id:
        accounts.set_active(session, actor=principal.actor, user=user, active=active)
    return RedirectResponse("/admin/users", status_code=303)
