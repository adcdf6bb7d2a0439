"""JSON API: OAuth2 password-flow tokens, the current user, account administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from fengqiao.accounts import service as accounts
from fengqiao.accounts.models import AuthSession, UserAccount
from fengqiao.accounts.schemas import MeOut, PasswordChange, TokenOut, UserCreate, UserOut
from fengqiao.auth import Permission, Principal
from fengqiao.errors import Forbidden, Unauthorized
from fengqiao.i18n import _
from fengqiao.web import CurrentPrincipal, DbSession, client_ip, login_policy, requires, settings_of

router = APIRouter(tags=["accounts"])
AdminPrincipal = Annotated[Principal, requires(Permission.MANAGE_USERS)]


def _user_out(user: UserAccount) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        role=user.role,
        station_id=user.station_id,
        person_id=user.person_id,
        is_active=user.is_active,
    )


@router.post("/auth/token", response_model=TokenOut)
def issue_token(
    request: Request, session: DbSession, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    """OAuth2 password flow: exchange username and password for a bearer token."""
    policy = login_policy(settings_of(request))
    try:
        user = accounts.authenticate(
            session,
            username=form.username,
            password=form.password,
            ip=client_ip(request),
            policy=policy,
        )
    except Unauthorized:
        session.commit()  # the failure must count even though the request fails
        raise
    token = accounts.start_session(session, user=user, kind="api", ip=client_ip(request))
    return TokenOut(access_token=token, expires_in=int(policy.idle_timeout.total_seconds()))


@router.post("/auth/logout", status_code=204)
def revoke_token(session: DbSession, principal: CurrentPrincipal) -> None:
    """End the session or token used for this request."""
    auth = session.get(AuthSession, principal.session_id)
    if auth is not None:
        accounts.end_session(session, auth=auth, actor=principal.actor)


@router.get("/me", response_model=MeOut)
def me(session: DbSession, principal: CurrentPrincipal) -> MeOut:
    user = session.get(UserAccount, principal.user_id)
    assert user is not None  # the principal was just built from it
    return MeOut(
        **_user_out(user).model_dump(),
        scope_station_ids=sorted(principal.station_ids)
        if principal.station_ids is not None
        else None,
        scope_grid_ids=sorted(principal.grid_ids) if principal.grid_ids is not None else None,
    )


@router.post("/me/password", status_code=204)
def change_own_password(
    session: DbSession, principal: CurrentPrincipal, body: PasswordChange
) -> None:
    """Change your own password; every session of the account ends, this one included."""
    user = session.get(UserAccount, principal.user_id)
    assert user is not None
    if not body.current_password:
        raise Forbidden(_("Give your current password to change it."))
    accounts.change_password(
        session,
        actor=principal.actor,
        user=user,
        current=body.current_password,
        new=body.new_password,
    )


@router.get("/users", response_model=list[UserOut])
def list_users(session: DbSession, principal: AdminPrincipal) -> list[UserOut]:
    return [_user_out(u) for u in accounts.list_users(session)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(session: DbSession, principal: AdminPrincipal, body: UserCreate) -> UserOut:
    user = accounts.create_user(
        session,
        actor=principal.actor,
        username=body.username,
        password=body.password,
        role=body.role,
        station_code=body.station_code,
        personnel_no=body.personnel_no,
    )
    return _user_out(user)


@router.post("/users/{username}/disable", response_model=UserOut)
def disable_user(session: DbSession, principal: AdminPrincipal, username: str) -> UserOut:
    user = accounts.get_user_or_raise(session, username)
    accounts.set_active(session, actor=principal.actor, user=user, active=False)
    return _user_out(user)


@router.post("/users/{username}/enable", response_model=UserOut)
def enable_user(session: DbSession, principal: AdminPrincipal, username: str) -> UserOut:
    user = accounts.get_user_or_raise(session, username)
    accounts.set_active(session, actor=principal.actor, user=user, active=True)
    return _user_out(user)
