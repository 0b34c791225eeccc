"""Dependencies the routes declare (`Annotated` aliases, so that signatures read cleanly)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection

from api.runtime import Runtime
from api.view import ResultsView
from timing.core import TimingCore


def get_runtime(connection: HTTPConnection) -> Runtime:
    runtime: Runtime = connection.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_view(runtime: RuntimeDep) -> ResultsView:
    """The results, current to the core's last commit: an answer given after a read was
    acknowledged includes it."""
    return await runtime.current_view()


ViewDep = Annotated[ResultsView, Depends(get_view)]


def get_core(runtime: RuntimeDep) -> TimingCore:
    if runtime.core is None:
        raise HTTPException(503, "this is a web-only process (gambero serve --web-only): "
                                 "changes go to the process that runs the core")
    return runtime.core


CoreDep = Annotated[TimingCore, Depends(get_core)]
