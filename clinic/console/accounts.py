"""Staff accounts: argon2id password hashes, creation with clear errors, sign-in checks."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, List

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clinic.db.models import ROLES, StaffSession, StaffUser, utc_now

SessionFactory = Callable[[], Session]
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # argon2 takes any length; this bounds the work per attempt
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")


class AccountError(ValueError):
    """A staff account cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None


def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) defaults


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password_rules(password: str) -> None:
    if not password.strip():
        raise AccountError("the password is empty")
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password is too short: at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"the password is too long: at most {MAX_PASSWORD_CHARS} characters")


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise AccountError(
            "the name must be 2-64 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


def _account(user: StaffUser) -> Account:
    return Account(
        id=user.id,
        name=user.name,
        role=user.role,
        active=bool(user.active),
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def create_user(sessions: SessionFactory, name: str, role: str, password: str) -> Account:
    """A new account; ``AccountError`` for a taken name, a bad role or a weak password."""
    check_name(name)
    check_role(role)
    check_password_rules(password)
    with sessions() as session:
        taken = select(StaffUser.id).where(func.lower(StaffUser.name) == name.lower())
        if session.execute(taken).first() is not None:
            raise AccountError(f"a staff user named {name!r} already exists")
        user = StaffUser(name=name, role=role, password_hash=hash_password(password))
        session.add(user)
        try:
            session.commit()
        except IntegrityError as exc:
            raise AccountError(f"a staff user named {name!r} already exists") from exc
        return _account(user)


# A real hash to verify against when the name is unknown: both cases take as long.
_DUMMY_HASH: List[str] = []


def authenticate(sessions: SessionFactory, name: str, password: str) -> Account | None:
    """The active account when name and password match, else None (always one hash check)."""
    with sessions() as session:
        user = session.execute(
            select(StaffUser).where(func.lower(StaffUser.name) == name.strip().lower())
        ).scalar_one_or_none()
        hasher = _hasher()
        if user is None or not user.active:
            if not _DUMMY_HASH:
                _DUMMY_HASH.append(hasher.hash("not-a-password-of-anyone"))
            with contextlib.suppress(VerificationError):
                hasher.verify(_DUMMY_HASH[0], password[:MAX_PASSWORD_CHARS])
            return None
        try:
            hasher.verify(user.password_hash, password[:MAX_PASSWORD_CHARS])
        except (VerificationError, InvalidHashError):
            return None
        if hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hasher.hash(password)
        user.last_login_at = utc_now()
        session.commit()
        return _account(user)


def list_users(sessions: SessionFactory) -> List[Account]:
    with sessions() as session:
        users = session.execute(select(StaffUser).order_by(StaffUser.name)).scalars()
        return [_account(user) for user in users]


def find_user(sessions: SessionFactory, name: str) -> Account | None:
    """The account named ``name``, whatever its case, or None."""
    with sessions() as session:
        user = session.execute(
            select(StaffUser).where(func.lower(StaffUser.name) == name.strip().lower())
        ).scalar_one_or_none()
        return _account(user) if user else None


def get_user(sessions: SessionFactory, user_id: int) -> Account | None:
    with sessions() as session:
        user = session.get(StaffUser, user_id)
        return _account(user) if user else None


def _active_admins(session: Session) -> int:
    query = select(func.count(StaffUser.id)).where(
        StaffUser.role == "admin", StaffUser.active.is_(True)
    )
    return int(session.execute(query).scalar_one())


def update_user(
    sessions: SessionFactory,
    user_id: int,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> Account:
    """Changes role, active or password; the last active admin cannot be demoted or disabled.
    A disabled account or a new password ends that person's sessions."""
    with sessions() as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            raise AccountError("no such staff user")
        demoting = (role is not None and role != "admin") or active is False
        if demoting and user.role == "admin" and user.active and _active_admins(session) <= 1:
            raise AccountError("the last active admin cannot be demoted or disabled")
        if role is not None:
            user.role = check_role(role)
        if active is not None:
            user.active = active
        if password is not None:
            check_password_rules(password)
            user.password_hash = hash_password(password)
        if active is False or password is not None:
            session.query(StaffSession).filter(StaffSession.user_id == user_id).delete()
        session.commit()
        return _account(user)
