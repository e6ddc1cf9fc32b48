"""Digests and sealing shared by tokens, sessions, API clients and webhook secrets.

``digest`` is the SHA-256 kept instead of a secret (API tokens, client secrets, session
keys): a lookup by digest is an indexed equality. ``seal``/``unseal`` encrypt a value that
must be shown or used again later (a token until its one reveal, a webhook signing secret)
with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``), under a key derived from
``SECRET_KEY`` and a purpose label, so that each use has its own key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

__all__ = ["InvalidToken", "digest", "hmac_sha256", "seal", "unseal"]

TOKEN_SEAL = b"datapass-token-seal:"


def digest(value: str) -> str:
    """Hex SHA-256 of a secret: what is stored and looked up instead of the secret."""
    return hashlib.sha256(value.encode()).hexdigest()


def _fernet(purpose: bytes = TOKEN_SEAL) -> Fernet:
    key = hashlib.sha256(purpose + current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key.digest()))


def seal(value: str, *, purpose: bytes = TOKEN_SEAL) -> str:
    """Encrypt ``value`` under a key derived from ``SECRET_KEY`` (raises nothing)."""
    return _fernet(purpose).encrypt(value.encode()).decode()


def unseal(sealed: str, *, purpose: bytes = TOKEN_SEAL) -> str:
    """Decrypt a sealed value; raises ``InvalidToken`` if the key or the value changed."""
    return _fernet(purpose).decrypt(sealed.encode()).decode()


def hmac_sha256(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``body`` (webhook signatures)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
