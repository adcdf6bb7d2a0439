"""Accounts: passwords (argon2id), login with lock-out, sessions and tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fengqiao.accounts.models import AuthSession, LoginFailure, Role, UserAccount
from fengqiao.audit import service as audit
from fengqiao.audit.models import AuditAction
from fengqiao.audit.service import Actor
from fengqiao.db import utcnow
from fengqiao.errors import Conflict, InvalidInput, NotFound, Unauthorized
from fengqiao.i18n import _
from fengqiao.labels import role_label
from fengqiao.org.models import Person, Station

_hasher = PasswordHasher()
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    idle_timeout: timedelta = timedelta(minutes=30)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or password.isdigit() or password.isalpha():
        raise InvalidInput(
            _(
                "The password must have at least {n} characters and mix letters with digits "
                "or symbols."
            ).format(n=MIN_PASSWORD_LENGTH)
        )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_user_by_username(session: Session, username: str) -> UserAccount | None:
    return session.scalar(select(UserAccount).where(UserAccount.username == username))


def get_user_or_raise(session: Session, username: str) -> UserAccount:
    user = get_user_by_username(session, username)
    if user is None:
        raise NotFound(_("No account named {username}.").format(username=username))
    return user


def create_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    password: str,
    role: Role,
    station_code: str | None = None,
    personnel_no: str | None = None,
    enforce_password_policy: bool = True,
) -> UserAccount:
    """Create an account. Non-admin accounts need a station (or a person, whose station is used).
    ``enforce_password_policy`` is off only for demo accounts, whose password the operator sets."""
    if not USERNAME_RE.match(username):
        raise InvalidInput(
            _(
                "Username {username!r} is not valid: use 3-64 letters, digits, '_', '.' or '-'."
            ).format(username=username)
        )
    if get_user_by_username(session, username) is not None:
        raise Conflict(_("An account named {username} already exists.").format(username=username))
    if enforce_password_policy:
        check_password_strength(password)
    person = None
    if personnel_no:
        person = session.scalar(select(Person).where(Person.personnel_no == personnel_no))
        if person is None:
            raise NotFound(_("No person with personnel number {no}.").format(no=personnel_no))
    station_id = person.station_id if person else None
    if station_code:
        station = session.scalar(select(Station).where(Station.code == station_code))
        if station is None:
            raise NotFound(_("Unknown station code {code}.").format(code=station_code))
        station_id = station.id
    if role is not Role.ADMIN and station_id is None:
        raise InvalidInput(
            _("An account with the role {role} needs a station or a person.").format(
                role=role_label(role)
            )
        )
    user = UserAccount(
        username=username,
        password_hash=hash_password(password),
        role=role,
        person_id=person.id if person else None,
        station_id=station_id,
        is_active=True,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="user_account",
        object_id=user.id,
        detail={"username": username, "role": role.value},
    )
    return user


def _recent_failures(session: Session, username: str, policy: LoginPolicy) -> int:
    since = utcnow() - policy.window
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.username == username, LoginFailure.at >= since)
        )
        or 0
    )


def authenticate(
    session: Session, *, username: str, password: str, ip: str | None, policy: LoginPolicy
) -> UserAccount:
    """Check a password. Failures are recorded and audited; the caller must commit
    even when this raises, so that the failure counts towards the lock-out."""
    actor = Actor(user_id=None, username=username[:64], role=None, ip=ip)
    if _recent_failures(session, username, policy) >= policy.max_failures:
        audit.record(
            session,
            actor=actor,
            action=AuditAction.LOGIN_LOCKED,
            object_type="user_account",
            object_id=username[:64],
            outcome="denied",
        )
        raise Unauthorized(
            _("Too many failed logins: the account is locked for {minutes} minutes.").format(
                minutes=int(policy.window.total_seconds() // 60)
            )
        )
    user = get_user_by_username(session, username)
    valid = False
    if user is not None:
        try:
            valid = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            valid = False
    else:
        # Same cost as a real check, so timing does not reveal which usernames exist.
        _hasher.hash(password)
    if not valid or user is None or not user.is_active:
        session.add(LoginFailure(username=username[:64], ip=ip))
        audit.record(
            session,
            actor=actor,
            action=AuditAction.LOGIN_FAILED,
            object_type="user_account",
            object_id=username[:64],
            outcome="failed",
            detail={"reason": "disabled" if (valid and user is not None) else "bad_credentials"},
        )
        raise Unauthorized(_("Wrong username or password, or the account is disabled."))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(
        session,
        actor=Actor(user_id=user.id, username=user.username, role=user.role.value, ip=ip),
        action=AuditAction.LOGIN,
        object_type="user_account",
        object_id=user.id,
    )
    return user


def start_session(session: Session, *, user: UserAccount, kind: str, ip: str | None) -> str:
    """Open a web session or API token; returns the secret token (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    session.add(AuthSession(token_hash=_token_hash(token), user_id=user.id, kind=kind, ip=ip))
    session.flush()
    return token


def resolve_session(
    session: Session, *, token: str, policy: LoginPolicy
) -> tuple[UserAccount, AuthSession] | None:
    """The live session for ``token``, touched; None when unknown, ended or idle too long."""
    auth = session.scalar(select(AuthSession).where(AuthSession.token_hash == _token_hash(token)))
    if auth is None or auth.ended_at is not None:
        return None
    now = utcnow()
    if now - auth.last_seen_at > policy.idle_timeout:
        auth.ended_at = now
        return None
    user = auth.user
    if not user.is_active:
        return None
    if now - auth.last_seen_at > timedelta(seconds=30):
        auth.last_seen_at = now
    return user, auth


def end_session(session: Session, *, auth: AuthSession, actor: Actor) -> None:
    auth.ended_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.LOGOUT,
        object_type="auth_session",
        object_id=auth.id,
    )


def end_all_sessions(session: Session, *, user_id: int, at: datetime | None = None) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None))
        .values(ended_at=at or utcnow())
    )


def password_matches(user: UserAccount, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def change_password(
    session: Session,
    *,
    actor: Actor,
    user: UserAccount,
    current: str | None,
    new: str,
    enforce_password_policy: bool = True,
) -> None:
    """Set a new password and end every session of the account. ``current`` is required
    when users change their own password; administrators resetting one pass None."""
    if current is not None and not password_matches(user, current):
        raise InvalidInput(_("The current password is wrong."))
    if enforce_password_policy:
        check_password_strength(new)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    end_all_sessions(session, user_id=user.id)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.PASSWORD_CHANGE,
        object_type="user_account",
        object_id=user.id,
    )


def set_active(session: Session, *, actor: Actor, user: UserAccount, active: bool) -> None:
    if user.is_active == active:
        return
    user.is_active = active
    if not active:
        end_all_sessions(session, user_id=user.id)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.ENABLE if active else AuditAction.DISABLE,
        object_type="user_account",
        object_id=user.id,
    )


def list_users(session: Session) -> list[UserAccount]:
    return list(session.scalars(select(UserAccount).order_by(UserAccount.username)))
