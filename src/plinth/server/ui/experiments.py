"""The experiments page: the front door of the UI, listing experiments newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from plinth.errors import InvalidArgument
from plinth.server.deps import TrackingDep
from plinth.server.ui.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/")
@router.get("/experiments")
def experiments_page(
    request: Request,
    tracking: TrackingDep,
    page_token: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """Each experiment links to the runs table filtered to it."""
    try:
        page = tracking.store.list_experiments(max_results=PAGE_SIZE, page_token=page_token)
    except InvalidArgument as exc:  # a stale or hand-edited page token
        return render(
            request,
            "error.html",
            {"title": "Cannot list experiments", "message": exc.detail},
            section="experiments",
            status_code=exc.status,
        )
    return render(
        request,
        "experiments.html",
        {
            "experiments": page.items,
            "page_token": page_token,
            "next_page_token": page.next_page_token,
        },
        section="experiments",
    )
