"""Where the policy comes from, live: a JSON file or a compacted policies topic.

Both are read again while the instance runs and the new policy applies from the next
batch, without a restart. A file is checked once a second; a bad file is logged and the
previous policy stays. The policies topic is keyed by community (``*`` for all); a
record's value is the thresholds object and a null value (tombstone) removes that entry.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from modstream.errors import InvalidInput, ModstreamError
from modstream.policy.rules import Policy, Thresholds
from modstream.registry.table import Config, TableFollower, append, create_topic, read_table
from modstream.settings.policy import PolicySettings

log = logging.getLogger(__name__)

TOPIC_CONFIG = {"cleanup.policy": "compact"}

__all__ = [
    "FilePolicy",
    "StaticPolicy",
    "TopicPolicy",
    "policy_source",
    "read_policies",
    "write_policy",
]


class StaticPolicy:
    """A policy that never changes (the default: decide with each model's threshold)."""

    refused: ModstreamError | None = None  # read from no topic, so never refused

    def __init__(self, policy: Policy | None = None) -> None:
        self.current = policy or Policy()

    def stop(self) -> None:
        return None


class FilePolicy:
    """The policy in a JSON file, re-read when the file changes."""

    refused: ModstreamError | None = None  # read from no topic, so never refused

    def __init__(self, path: Path, interval: float = 1.0) -> None:
        self.path = path
        self.interval = interval
        self._seen = self._stamp()
        self.current = self._read()  # a bad file at start-up is an error, not a default
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="modstream-policy", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _read(self) -> Policy:
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read the policy file {self.path}: {exc}") from exc
        return Policy.from_json(raw, str(self.path))

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            stamp = self._stamp()
            if stamp == self._seen:
                continue
            self._seen = stamp
            try:
                self.current = self._read()
            except ModstreamError as exc:
                log.error("policy not changed: %s", exc.message)
                continue
            log.info("policy now %s", self.current.to_dict())


class TopicPolicy:
    """The policy in a compacted topic, followed from its beginning."""

    def __init__(self, config: Config, topic: str) -> None:
        self._rules: dict[str, Thresholds] = {}
        self.current = Policy()
        self._follower = TableFollower(
            config, topic, self._fold, on_settled=self._settled, name="modstream-policy"
        ).start()

    def wait_caught_up(self, timeout: float) -> bool:
        return self._follower.wait_caught_up(timeout)

    def stop(self) -> None:
        self._follower.stop()

    @property
    def refused(self) -> ModstreamError | None:
        """Why the topic is no longer followed: the cluster refused the reader."""
        return self._follower.refused

    def _fold(self, message: Any) -> None:
        _fold_into(self._rules, message)

    def _settled(self) -> None:
        policy = Policy(dict(self._rules))
        if policy != self.current:
            self.current = policy
            log.info("policy now %s", policy.to_dict())


def _fold_into(rules: dict[str, Thresholds], message: Any) -> None:
    community = (message.key() or b"").decode("utf-8", "replace")
    if message.value() is None:
        rules.pop(community, None)
        return
    try:
        rules[community] = Thresholds.from_json(message.value(), f"policy for {community!r}")
    except InvalidInput as exc:
        log.warning("policy record skipped: %s", exc.message)


def read_policies(config: Config, topic: str) -> Policy:
    """The policy in ``topic`` now (read to its end)."""
    rules: dict[str, Thresholds] = {}
    read_table(config, topic, lambda message: _fold_into(rules, message))
    return Policy(rules)


def write_policy(config: Config, topic: str, community: str, rule: Thresholds | None) -> None:
    """Set (or with ``None`` remove) the thresholds of ``community`` in ``topic``."""
    create_topic(config, topic, TOPIC_CONFIG)
    value = json.dumps(rule.to_dict()).encode() if rule is not None else None
    append(config, topic, community, value)


def policy_source(
    settings: PolicySettings, client_config: Config, startup_timeout: float = 30.0
) -> StaticPolicy | FilePolicy | TopicPolicy:
    """The live policy the settings name: the file, else the topic, else the models' own."""
    if settings.policy_file is not None:
        return FilePolicy(settings.policy_file)
    if settings.policies_topic:
        source = TopicPolicy(client_config, settings.policies_topic)
        if not source.wait_caught_up(startup_timeout):
            if source.refused is not None:
                raise source.refused
            log.warning(
                "policies topic %s not read yet: deciding with the models' thresholds",
                settings.policies_topic,
            )
        return source
    return StaticPolicy()
