"""REST transport: Seldon and V2 routes over the shared data plane (Starlette)."""

from __future__ import annotations

from modstream.rest.app import build_app

__all__ = ["build_app"]
