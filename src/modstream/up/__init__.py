"""``modstream up``: the whole stack on one machine, with a live dashboard."""

from __future__ import annotations
