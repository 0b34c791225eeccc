"""API tokens (admin only). A token is shown once, when it is made; only its hash is kept."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field

from api.auth import AdminDep, Tokens
from api.deps import RuntimeDep
from api.runtime import Runtime
from api.schemas import Ident, Name, Role, errors
from timing.entries import ActionEntry

router = APIRouter(prefix="/api/tokens", tags=["tokens"],
                   responses=errors(401, (403, "not an admin token")))


class TokenIn(BaseModel):
    role: Role
    reader: Ident | None = Field(None, description="required for the role reader, else null")
    label: Name = ""


class TokenMade(BaseModel):
    id: int
    token: str = Field(description="shown this once; only its hash is kept")


class TokenOut(BaseModel):
    id: int
    role: str
    reader: str | None
    label: str
    created_ms: int
    revoked_ms: int | None


async def event_readers(runtime: Runtime) -> set[str]:
    """The event's readers: event.toml's, those this process runs, and those added later
    (journaled, perhaps by the core's process while this one is web-only)."""
    known = {reader.id for reader in runtime.event.readers}
    known.update(health.id for health in runtime.readers.health())
    for item in await runtime.store.actions(runtime.event_id, ["reader"]):
        entry = item.entry
        if isinstance(entry, ActionEntry):
            known.add(str(entry.payload.get("id")))
    return known


def _tokens(request: Request) -> Tokens:
    tokens: Tokens = request.app.state.tokens
    return tokens


@router.post("", response_model=TokenMade, status_code=201, summary="Make a token",
             responses=errors((400, "a reader the event does not have, a reader named for "
                                    "another role, or a body that cannot be read"),
                              422, 503))
async def create(request: Request, runtime: RuntimeDep, _: AdminDep, body: TokenIn
                 ) -> dict[str, Any]:
    if body.reader is not None:
        known = await event_readers(runtime)
        if body.reader not in known:
            raise HTTPException(400, f"reader: no reader {body.reader!r} in the event "
                                     f"{runtime.event.name!r} (readers: "
                                     f"{', '.join(sorted(known)) or 'none'}; add one with "
                                     "POST /api/readers)")
    try:
        token_id, token = await _tokens(request).create(body.role, body.reader, body.label)
    except ValueError as error:
        raise HTTPException(400, str(error)) from None
    return {"id": token_id, "token": token}


@router.get("", response_model=list[TokenOut], summary="The tokens (no secrets)")
async def listing(request: Request, _: AdminDep) -> list[dict[str, Any]]:
    return [{"id": r.id, "role": r.role, "reader": r.reader, "label": r.label,
             "created_ms": r.created_ms, "revoked_ms": r.revoked_ms}
            for r in sorted(await _tokens(request).list(), key=lambda r: r.id)]


class Revoked(BaseModel):
    id: int
    revoked: bool


@router.delete("/{token_id}", response_model=Revoked, summary="Revoke a token",
               responses=errors((404, "no active token with that id"), 422))
async def revoke(request: Request, _: AdminDep,
                 token_id: Annotated[int, Path(ge=1, lt=1 << 31)]) -> dict[str, Any]:
    if not await _tokens(request).revoke(token_id):
        raise HTTPException(404, f"no active token with id {token_id}")
    return {"id": token_id, "revoked": True}
