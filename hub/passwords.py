"""Password hashing (argon2id) and generated passwords."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_ALPHABET = string.ascii_letters + string.digits
MIN_LENGTH = 10

# Verified against when a username does not exist, so that "no such user" costs
# the same time as "wrong password".
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash still spends the same work."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password(length: int = 16) -> str:
    """A random password that ``password_problem`` accepts (about one draw in twelve is
    all letters: drawn again)."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if password_problem(password) is None:
            return password


def password_problem(password: str) -> str | None:
    """Why a new password is too weak, or None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位 (password needs at least {MIN_LENGTH} characters)"
    if password.isdigit() or password.isalpha():
        return "密码需同时包含字母和数字 (use letters and digits)"
    return None
