"""The registry as rows: what ``modstream models list|history`` print and the dashboard shows."""

from __future__ import annotations

from typing import Any

from modstream.registry import events as ev
from modstream.registry.events import ModelEvent
from modstream.registry.state import ModelState

__all__ = ["event_row", "role_label", "version_rows"]


def role_label(state: ModelState, version: str) -> str:
    """``champion``, ``canary 10%``, ``shadow``, ``retired`` or ``-``."""
    labels = []
    for role in state.roles_of(version):
        if role == ev.CANARY:
            percent = state.roles[ev.CANARY].percent or 0.0
            labels.append(f"canary {percent:g}%")
        else:
            labels.append(role)
    if state.versions[version].retired:
        labels.append("retired")
    return ", ".join(labels) or "-"


def version_rows(state: ModelState) -> list[dict[str, Any]]:
    """One row per version, newest publication first, with its roles and refusals."""
    rows = []
    for entry in sorted(state.versions.values(), key=lambda e: e.published_at, reverse=True):
        refusals = state.refusals.get(entry.version, {})
        rows.append(
            {
                "version": entry.version,
                "role": role_label(state, entry.version),
                "roles": state.roles_of(entry.version),
                "retired": entry.retired,
                "preset": entry.preset,
                "threshold": entry.threshold,
                "created_at": entry.created_at,
                "published_at": entry.published_at,
                "uri": entry.uri,
                "sha256": entry.sha256,
                "refused_by": {i: e.reason for i, e in sorted(refusals.items())},
            }
        )
    return rows


def event_row(event: ModelEvent) -> dict[str, Any]:
    """One history line: when, who, what."""
    what = event.type
    if event.type == ev.CANARY:
        what = f"canary {event.percent:g}%" if event.version else "canary ended"
    elif event.type == ev.SHADOW and not event.version:
        what = "shadow ended"
    elif event.type == ev.REFUSED:
        what = f"refused by {event.instance}: {event.reason}"
    return {"at": event.at, "by": event.by, "version": event.version or "-", "event": what}
