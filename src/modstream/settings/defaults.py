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
