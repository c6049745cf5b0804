"""Keyed digests of shopper identifiers, the only form they take in the public schema.

HMAC-SHA256 with the store's own secret: the same e-mail gives different
digests in different stores, and without the secret a digest cannot be
checked against a list of guessed e-mails.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

IdentifierKind = Literal["email", "customer", "visitor"]


def normalise_identifier(kind: IdentifierKind, value: str) -> str:
    value = value.strip()
    return value.lower() if kind == "email" else value


def identifier_digest(secret: str, kind: IdentifierKind, value: str) -> str:
    message = f"{kind}:{normalise_identifier(kind, value)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def identifier_digests(secrets: list[str], kind: IdentifierKind, value: str) -> list[bytes]:
    """``identifier_digest`` of one value under many stores' secrets, as bytes."""
    message = f"{kind}:{normalise_identifier(kind, value)}".encode()
    return [hmac.digest(secret.encode(), message, "sha256") for secret in secrets]
