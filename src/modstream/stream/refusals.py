"""Kafka errors no retry can fix: a refused login, a missing ACL, a topic that does not exist,
a transactional id or static group membership id another worker took.

librdkafka retries everything. A wrong password, an untrusted certificate or an ACL that
does not allow a topic is reported through ``error_cb`` or a record's error, again and
again, while the client keeps trying; from outside that looks like a slow but healthy
process. ``refusal`` picks those errors out and turns each into a modstream error that
says what to fix; ``Refusals`` collects them from a client's callbacks so the client's
owner can stop; ``TopicWait`` gives a missing topic a bounded time to appear.
Credentials never appear in these messages (librdkafka does not quote them, and the CLI
masks remembered secrets in every line it prints).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from modstream.errors import (
    AuthenticationFailed,
    Fenced,
    ModstreamError,
    NotAuthorized,
    TopicMissing,
)

# A login the cluster refused: SASL credentials or mechanism, or TLS (an untrusted
# certificate, a failed handshake).
_LOGIN = {KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED, KafkaError._SSL}
# A SASL handshake the connection itself cut short (the broker closed it, or it timed
# out) is reported as a login error too, its text naming librdkafka's own local error: the
# client connects and logs in again, so that is no refusal.
_CUT_SHORT = tuple(
    KafkaError(code).str() for code in (KafkaError._TRANSPORT, KafkaError._TIMED_OUT)
)
# What an ACL did not allow, by the kind of resource it protects.
_ACL = {
    KafkaError.TOPIC_AUTHORIZATION_FAILED: "topic",
    KafkaError.GROUP_AUTHORIZATION_FAILED: "group",
    KafkaError.CLUSTER_AUTHORIZATION_FAILED: "cluster",
    KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "transactional id",
}
# A newer producer with the same transactional id started: this one is fenced for good.
_FENCED = {KafkaError._FENCED, KafkaError.PRODUCER_FENCED}
MISSING_TOPIC = frozenset({KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC})
# A consumer that assigns its partitions and commits nothing (the monitor, a table
# follower) has a group id only because the client requires one: a principal the ACLs do
# not let into that group still reads, so that refusal does not stop it.
NOMINAL_GROUP = frozenset({KafkaError.GROUP_AUTHORIZATION_FAILED})


# What the principal was refused on each kind of resource, when the caller does not say.
_VERBS = {"group": "join", "cluster": "use", "transactional id": "use", "topic": "use"}


def refusal(
    error: KafkaError, *, action: str | None = None, names: Mapping[str, str] | None = None
) -> ModstreamError | None:
    """The modstream error for ``error`` if no retry can fix it, else ``None``.

    ``names`` maps a kind of resource ("topic", "group", "transactional id") to the one the
    caller used, and ``action`` says what it did with the topic ("write to"), so the
    message names what the ACLs refused; librdkafka's own text follows.
    """
    code = error.code()
    if code in _LOGIN:
        if any(local in error.str() for local in _CUT_SHORT):
            return None
        return AuthenticationFailed(
            f"the Kafka cluster refused the login: {error.str()} (check security.protocol, "
            "sasl.mechanism, sasl.username and the password, and the CA certificate)"
        )
    if code in _FENCED:
        taken = (names or {}).get("transactional id", "this worker's transactional id")
        return Fenced(
            f"fenced: another worker started with transactional id {taken!r} (the same group, "
            "input topic, instance and worker index), so this one stops; the broker aborted "
            "its open transaction and the other worker answers those inputs. If the other is "
            "not this worker restarted, give each host its own MODSTREAM_INSTANCE"
        )
    if code == KafkaError.FENCED_INSTANCE_ID:
        return instance_fenced(names)
    kind = _ACL.get(code)
    if kind is None:
        return None
    name = (names or {}).get(kind)
    verb = action if kind == "topic" and action else _VERBS[kind]
    what = f"{kind} {name!r}" if name else f"the {kind}"
    return NotAuthorized(
        f"not authorized to {verb} {what}: {error.name()} (the cluster's ACLs do not "
        "allow this principal)"
    )


def instance_fenced(names: Mapping[str, str] | None) -> Fenced:
    """Another consumer joined the group with this one's ``group.instance.id``."""
    names = names or {}
    taken = names.get("group.instance.id", "this worker's group.instance.id")
    return Fenced(
        f"fenced: another consumer joined group {names.get('group', '?')!r} with "
        f"group.instance.id {taken!r}, so this one stops; the other reads its partitions. "
        "If the other is not this worker restarted, give each worker its own group.instance.id"
    )


class Refusals:
    """The first refusal among the errors a client reported; ``check`` raises it.

    ``names``: the group and transactional id the client uses, named in the message.
    """

    def __init__(
        self, names: Mapping[str, str] | None = None, ignored: frozenset[int] = frozenset()
    ) -> None:
        self.names = dict(names or {})
        self.ignored = ignored  # error codes that do not stop this client's owner
        self.first: ModstreamError | None = None

    def note(self, error: KafkaError, action: str | None = None, topic: str | None = None) -> bool:
        """Remember ``error`` if it is a refusal; returns whether it was one. ``action`` and
        ``topic``: what the client did with which topic, when the error is a record's."""
        if error.code() in self.ignored:
            return False
        names = self.names if topic is None else {**self.names, "topic": topic}
        found = refusal(error, action=action, names=names)
        if found is not None:
            self.keep(found)
        return found is not None

    def keep(self, found: ModstreamError) -> None:
        """Remember a refusal already told (``refusal``'s answer), if it is the first."""
        if self.first is None:
            self.first = found

    def check(self) -> None:
        """Raise the first refusal, if there was one."""
        if self.first is not None:
            raise self.first


class TopicWait:
    """Missing topics and since when; ``check`` stops once one was missing for ``limit`` s.

    A consumer learns that a topic was created only at its next metadata refresh, and is
    assigned its partitions only after its group has rebalanced, which together can take
    longer than ``limit``. So before stopping, ``exists`` asks the cluster itself: a topic
    it knows is waited for again, and so is one it could not be asked about (it may be
    down, which is not the same as the topic missing).
    """

    def __init__(self, limit: float, exists: Callable[[str], bool] | None = None) -> None:
        self.limit = limit
        self.exists = exists
        self._since: dict[str, float] = {}

    def missing(self, topic: str) -> None:
        self._since.setdefault(topic, time.monotonic())

    def found(self, topic: str) -> None:
        self._since.pop(topic, None)

    def check(self) -> None:
        now = time.monotonic()
        for topic, since in list(self._since.items()):
            if now - since < self.limit:
                continue
            if self.exists is None:
                raise topic_missing(topic, self.limit)
            try:
                there = self.exists(topic)
            except KafkaException:
                there = None
            if there is False:
                raise topic_missing(topic, self.limit)
            self._since[topic] = time.monotonic()  # ask again after another ``limit``


class Followed(Protocol):
    """A topic a worker follows beside its input (the registry's models, the policies):
    ``refused`` says why the cluster no longer lets it follow, if it does not."""

    @property
    def refused(self) -> ModstreamError | None: ...


class Guard:
    """When a worker stops instead of retrying: a refusal reported by one of its clients or
    met by a topic it ``followed``, a record it may not read or write, a topic missing for
    longer than ``topic_wait_s``."""

    def __init__(
        self,
        refusals: Refusals,
        topic_wait_s: float,
        topic_exists: Callable[[str], bool] | None = None,
        followed: Iterable[Followed] = (),
    ) -> None:
        self.refusals = refusals
        self.topics = TopicWait(topic_wait_s, topic_exists)
        self.followed = list(followed)

    def record_error(self, error: KafkaError, topic: str) -> None:
        """A consumed record's error: raise a refusal, note a missing topic."""
        found = refusal(error, action="read", names={**self.refusals.names, "topic": topic})
        if found is None and error.code() == KafkaError._FATAL:
            # A consumer's one fatal error: another took its static membership id.
            found = instance_fenced(self.refusals.names)
        if found is not None:
            raise found
        if error.code() in MISSING_TOPIC:
            self.topics.missing(topic)

    def failed_writes(self, failures: Iterable[tuple[KafkaError, str]]) -> None:
        """The output errors of a failed batch, by topic: raise a refusal or a topic that is
        missing (the producer waited ``topic_wait_s`` for it already)."""
        for error, topic in failures:
            names = {**self.refusals.names, "topic": topic}
            found = refusal(error, action="write to", names=names)
            if found is not None:
                raise found
            if error.code() in MISSING_TOPIC:
                raise topic_missing(topic, self.topics.limit)

    def check(self) -> None:
        """Raise what stops the worker, if anything does."""
        self.refusals.check()
        for followed in self.followed:
            if followed.refused is not None:
                raise followed.refused
        self.topics.check()


def topic_exists(client: Any, topic: str, timeout: float = 5.0) -> bool:
    """Whether the cluster knows ``topic`` (asked now; a topic still being created counts).
    Raises ``KafkaException`` when the cluster cannot be asked."""
    entry = client.list_topics(topic, timeout=timeout).topics.get(topic)
    return entry is not None and (entry.error is None or entry.error.code() not in MISSING_TOPIC)


def topic_missing(topic: str, waited: float) -> TopicMissing:
    return TopicMissing(
        f"topic {topic!r} does not exist (waited {waited:g}s): create it, or let the "
        "cluster create topics (auto.create.topics.enable)"
    )


def check_login(config: Mapping[str, str | int], timeout: float = 10.0) -> None:
    """Raise the cluster's refusal of this client configuration, if it refuses it.

    Returns as soon as the cluster answers, when it cannot be reached at all (callers
    wait for a broker their own way), or after ``timeout``. A refused login is reported
    within about a second, before anything slow (a model load) is started.
    """
    refusals = Refusals()
    unreachable: list[KafkaError] = []

    def on_error(error: KafkaError) -> None:
        if not refusals.note(error) and error.code() == KafkaError._ALL_BROKERS_DOWN:
            unreachable.append(error)

    hooks: dict[str, Any] = {"log_level": 0, "error_cb": on_error}
    admin = AdminClient({**config, **hooks})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            admin.list_topics(timeout=0.5)
            return
        except KafkaException:
            pass
        admin.poll(0)  # serves error_cb
        refusals.check()
        if unreachable:
            return
