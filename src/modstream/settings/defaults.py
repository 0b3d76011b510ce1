"""Default values that other places show or reuse (help texts, ``up``, ``deploy``).

Each is defined here once and used by its settings class; this module imports nothing, so
``--help`` can quote them without loading pydantic.
"""

from __future__ import annotations

# modstream serve (ServeSettings)
HOST = "127.0.0.1"
HTTP_PORT = 9000
GRPC_PORT = 5000
MAX_BATCH_TEXTS = 64  # texts merged into one model call
MAX_WAIT_MS = 2.0
MAX_BODY_BYTES = 1_048_576  # REST bodies; 413 beyond
GRPC_MAX_MESSAGE_BYTES = 4_194_304
MAX_TEXT_CHARS = 100_000  # well under spaCy's 1,000,000-character limit
SHUTDOWN_GRACE_S = 10.0

# modstream monitor (MonitorSettings)
MONITOR_PORT = 9500

# modstream stream (StreamSettings), the console tools and the embedded broker
BROKER_HOST = "127.0.0.1"
BROKER_PORT = 9092
BOOTSTRAP_SERVERS = f"{BROKER_HOST}:{BROKER_PORT}"
GROUP = "modstream"
MAX_BATCH_RECORDS = 256  # records per poll: the most records one micro-batch takes
STREAM_MAX_WAIT_MS = 5.0  # how long the first record of a batch waits for company
MAX_VALUE_BYTES = 1_048_576  # larger record values are dead-lettered
METRICS_PORT = 9100  # the worker's metrics server in containers and under modstream up
METRICS_PATH = "/metrics"
READY_PATH = "/ready"  # 200 once the worker is warmed up and in its group, else 503
DEAD_LETTER_SUFFIX = ".dlq"
TOPIC_WAIT_S = 10.0  # how long a missing topic is waited for before the worker stops


def dead_letter_topic(input_topic: str | None) -> str:
    """The dead-letter topic when none is named: ``<input-topic>.dlq``."""
    return f"{input_topic}{DEAD_LETTER_SUFFIX}"


# The model registry and the moderation policy (RegistrySettings, PolicySettings)
MODELS_TOPIC = "modstream-models"  # its append-only history is <topic>.history
MODEL_NAME = "moderation"
POLICIES_TOPIC = "modstream-policies"
SHADOW_SUFFIX = ".shadow"  # the shadow's answers: <output-topic>.shadow
REVIEW_SUFFIX = ".review"  # review-band comments: <output-topic>.review

# modstream up (UpSettings): the dashboard and the topics it creates
UP_PORT = 8080
UP_INPUT_TOPIC = "comments"
UP_OUTPUT_TOPIC = "predictions"
UP_PARTITIONS = 1
UP_DECISIONS_TOPIC = "decisions"  # moderators' decisions (the dashboard's buttons)
UP_MONITOR_METRICS_TOPIC = "monitor.metrics"
UP_ALERTS_TOPIC = "monitor.alerts"
