"""Roles and bearer tokens.

Roles: `admin` (everything, tokens included), `timekeeper` (race operations), `reader` (posts
reads for one reader only) and the anonymous public (read-only routes). A token is 32 random
bytes; the database keeps only its SHA-256 (a fast hash is enough for a random secret of that
size: there is nothing to guess from it). Tokens are looked up in a copy refreshed every few
seconds, so that a token revoked through another process stops working soon after.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from timing.store import Store, TokenRecord

ROLES = ("admin", "timekeeper", "reader")
PREFIX = "gmb_"
REFRESH_S = 5.0
MISS_RELOAD_S = 1.0


@dataclass(frozen=True)
class Principal:
    token_id: int
    role: str
    reader: str | None
    label: str

    @property
    def actor(self) -> str:
        """Who did it, as the journal records it."""
        return f"{self.role}:{self.label or self.token_id}"[:64]


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


class Tokens:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_hash: dict[str, TokenRecord] = {}
        self._loaded_at = float("-inf")

    async def refresh(self) -> None:
        self._by_hash = {record.token_hash: record for record in await self.store.tokens()}
        self._loaded_at = time.monotonic()

    async def check(self, token: str) -> Principal | None:
        digest = token_hash(token)
        record = self._by_hash.get(digest)
        age = time.monotonic() - self._loaded_at
        # An unknown token may be new (made by `gambero token create` in another process):
        # reload, but at most once a second, so that wrong tokens cannot keep the database busy.
        if age > REFRESH_S or (record is None and age > MISS_RELOAD_S):
            await self.refresh()
            record = self._by_hash.get(digest)
        if record is None or record.revoked_ms is not None:
            return None
        return Principal(record.id, record.role, record.reader, record.label)

    async def create(self, role: str, reader: str | None, label: str,
                     token: str | None = None) -> tuple[int, str]:
        """A new token (or `token` given, e.g. from GAMBERO_ADMIN_TOKEN): (id, token)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if (role == "reader") != (reader is not None):
            raise ValueError("a reader token names its reader (--reader ID); other roles none")
        secret = token or new_token()
        token_id = await self.store.add_token(role, reader, label, token_hash(secret),
                                              time.time_ns() // 1_000_000)
        await self.refresh()
        return token_id, secret

    async def list(self) -> list[TokenRecord]:
        await self.refresh()
        return list(self._by_hash.values())

    async def revoke(self, token_id: int) -> bool:
        revoked = await self.store.revoke_token(token_id, time.time_ns() // 1_000_000)
        await self.refresh()
        return revoked

    async def ensure_admin(self, from_env: str | None) -> str | None:
        """The admin token on start: `from_env` (GAMBERO_ADMIN_TOKEN) is made valid if it is
        not yet; with none given and no admin token at all, a new one is made and returned (to
        print once). Returns None when nothing new is to be shown."""
        records = await self.list()
        if from_env:
            record = self._by_hash.get(token_hash(from_env))
            if record is None:
                await self.create("admin", None, "GAMBERO_ADMIN_TOKEN", from_env.strip())
            elif record.revoked_ms is not None:
                raise ValueError("GAMBERO_ADMIN_TOKEN names a revoked token")
            return None
        if any(r.role == "admin" and r.revoked_ms is None for r in records):
            return None
        _, secret = await self.create("admin", None, "first start")
        return secret


_bearer = HTTPBearer(auto_error=False, description="a token from `gambero token create` or "
                     "POST /api/tokens")


async def principal(connection: HTTPConnection,
                    credentials: Annotated[HTTPAuthorizationCredentials | None,
                                           Depends(_bearer)]) -> Principal:
    """The caller's token; 401 without a valid one."""
    if credentials is None:
        raise HTTPException(401, "this route needs a token: Authorization: Bearer TOKEN",
                            headers={"WWW-Authenticate": "Bearer"})
    tokens: Tokens = connection.app.state.tokens
    found = await tokens.check(credentials.credentials)
    if found is None:
        raise HTTPException(401, "invalid or revoked token",
                            headers={"WWW-Authenticate": "Bearer"})
    return found


PrincipalDep = Annotated[Principal, Depends(principal)]


def _needs(*roles: str) -> object:
    async def check(caller: PrincipalDep) -> Principal:
        if caller.role not in roles:
            raise HTTPException(403, f"role {caller.role} may not do this "
                                     f"(needs {' or '.join(roles)})")
        return caller
    return Depends(check)


TimekeeperDep = Annotated[Principal, _needs("timekeeper", "admin")]
AdminDep = Annotated[Principal, _needs("admin")]
