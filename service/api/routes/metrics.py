"""``GET /metrics``: Prometheus metrics, for operators (service/api/metrics.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from service.api.deps import admit_operator
from service.api.errors import documented

router = APIRouter()


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(admit_operator)],
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}, **documented(401)},
)
def metrics(request: Request) -> Response:
    """Prometheus metrics in text format; with an API key when API keys are configured."""
    registry: CollectorRegistry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
