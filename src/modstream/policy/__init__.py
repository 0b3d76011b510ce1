"""Per-community moderation policy: keep, review or remove, applied live.

``rules`` decides (two thresholds, per-community overrides, the model's threshold as the
last fallback); ``source`` reads the policy from a file or a compacted topic and follows
it while the instance runs. See docs/models.md.
"""

from __future__ import annotations

from modstream.policy.rules import DECISIONS, KEEP, REMOVE, REVIEW, Policy, Thresholds, severest
from modstream.policy.source import FilePolicy, StaticPolicy, TopicPolicy

__all__ = [
    "DECISIONS",
    "KEEP",
    "REMOVE",
    "REVIEW",
    "FilePolicy",
    "Policy",
    "StaticPolicy",
    "Thresholds",
    "TopicPolicy",
    "severest",
]
