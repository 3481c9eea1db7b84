from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..deps import get_state
from ..metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response, summary="Prometheus metrics",
            responses={200: {"content": {"text/plain": {}},
                             "description": "Prometheus text exposition format 0.0.4"}})
async def metrics(request: Request):
    state = get_state(request)
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)
