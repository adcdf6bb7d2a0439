"""Recording and verifying the audit log.

Each row carries the SHA-256 of its predecessor's hash and its own content, so that
any edit, insertion or deletion inside the table breaks the chain at that row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from fengqiao.audit.models import AuditAction, AuditEvent
from fengqiao.db import utcnow

GENESIS_HASH = "0" * 64
_LAST_HASH_KEY = "fengqiao_audit_last_hash"


@dataclass(frozen=True)
class Actor:
    """Who acts, from where: a logged-in user, or the system (CLI, jobs)."""

    user_id: int | None
    username: str
    role: str | None
    ip: str | None = None


SYSTEM = Actor(user_id=None, username="system", role=None, ip="local")


def _content(
    *,
    at: datetime,
    user_id: int | None,
    username: str | None,
    role: str | None,
    ip: str | None,
    action: str,
    object_type: str,
    object_id: str | None,
    outcome: str,
    detail: str,
) -> str:
    return json.dumps(
        [
            at.astimezone(UTC).isoformat(),
            user_id,
            username,
            role,
            ip,
            action,
            object_type,
            object_id,
            outcome,
            detail,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + "\n" + content).encode("utf-8")).hexdigest()


def _last_hash(session: Session) -> str:
    cached = session.info.get(_LAST_HASH_KEY)
    if cached is not None:
        return str(cached)
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders across processes until this transaction ends.
        session.execute(text("SELECT pg_advisory_xact_lock(7355608)"))
    last = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return last or GENESIS_HASH


def record(
    session: Session,
    *,
    actor: Actor,
    action: AuditAction,
    object_type: str,
    object_id: str | int | None = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row in the caller's transaction."""
    at = utcnow()
    detail_json = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    oid = None if object_id is None else str(object_id)[:200]
    prev = _last_hash(session)
    content = _content(
        at=at,
        user_id=actor.user_id,
        username=actor.username,
        role=actor.role,
        ip=actor.ip,
        action=action.value,
        object_type=object_type,
        object_id=oid,
        outcome=outcome,
        detail=detail_json,
    )
    row = AuditEvent(
        at=at,
        user_id=actor.user_id,
        username=actor.username,
        role=actor.role,
        ip=actor.ip,
        action=action,
        object_type=object_type,
        object_id=oid,
        outcome=outcome,
        detail=detail_json,
        prev_hash=prev,
        hash=_chain_hash(prev, content),
    )
    session.add(row)
    session.flush()
    session.info[_LAST_HASH_KEY] = row.hash
    return row


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    first_bad_id: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None


def _iter_events(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def verify_chain(session: Session) -> VerifyResult:
    """Recompute the chain from the first row; report the first row that does not fit."""
    prev = GENESIS_HASH
    checked = 0
    for row in _iter_events(session):
        if row.prev_hash != prev:
            return VerifyResult(checked, row.id, "prev_hash does not match the previous row")
        content = _content(
            at=row.at,
            user_id=row.user_id,
            username=row.username,
            role=row.role,
            ip=row.ip,
            action=row.action.value,
            object_type=row.object_type,
            object_id=row.object_id,
            outcome=row.outcome,
            detail=row.detail,
        )
        if _chain_hash(prev, content) != row.hash:
            return VerifyResult(checked, row.id, "content does not match its hash")
        prev = row.hash
        checked += 1
    return VerifyResult(checked, None, None)


def list_events(
    session: Session, *, limit: int = 100, before_id: int | None = None
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(session.scalars(query))


def install_session_hooks() -> None:
    """Refuse updates and deletes of audit rows from any session; forget the cached
    chain head when a transaction ends (another process may append next). Idempotent."""
    if getattr(install_session_hooks, "_installed", False):
        return

    @event.listens_for(Session, "after_soft_rollback")
    def _forget_head(session: Session, *_args: Any) -> None:
        session.info.pop(_LAST_HASH_KEY, None)

    @event.listens_for(Session, "after_commit")
    def _forget_head_at_end(session: Session) -> None:
        # Releasing a savepoint also fires after_commit; the outer transaction still
        # holds the chain (its lock) and the head it read, so keep the head until it ends.
        if not session.in_nested_transaction():
            session.info.pop(_LAST_HASH_KEY, None)

    @event.listens_for(Session, "before_flush")
    def _guard(session: Session, _ctx: Any, _instances: Any) -> None:
        for obj in (*session.dirty, *session.deleted):
            if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
                raise PermissionError("the audit log is append-only")

    install_session_hooks._installed = True  # type: ignore[attr-defined]  # run-once flag
