"""All configuration: environment variables are read here and nowhere else.

Every setting has a ``MODSTREAM_`` environment variable; the names Seldon Core uses
(``PREDICTIVE_UNIT_*``, ``KAFKA_*``) are honoured as aliases. CLI flags override both.
"""

from __future__ import annotations

from modstream.settings.data import DataSettings
from modstream.settings.monitor import MonitorSettings
from modstream.settings.policy import PolicySettings
from modstream.settings.registry import RegistrySettings
from modstream.settings.serve import ServeSettings
from modstream.settings.stream import StreamSettings
from modstream.settings.up import UpSettings

__all__ = [
    "DataSettings",
    "MonitorSettings",
    "PolicySettings",
    "RegistrySettings",
    "ServeSettings",
    "StreamSettings",
    "UpSettings",
]
