"""All configuration: environment variables are read here and nowhere else.

Every setting has a ``MODSTREAM_`` environment variable; the names Seldon Core uses
(``PREDICTIVE_UNIT_*``, ``KAFKA_*``) are honoured as aliases. CLI flags override both.
The classes are imported on first use (pydantic is not needed to print ``--help``);
``modstream.settings.defaults`` holds the defaults other places quote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modstream._lazy import lazy_attributes

if TYPE_CHECKING:
    from modstream.settings.data import DataSettings
    from modstream.settings.monitor import MonitorSettings
    from modstream.settings.policy import PolicySettings
    from modstream.settings.registry import RegistrySettings
    from modstream.settings.serve import ServeSettings
    from modstream.settings.stream import StreamSettings
    from modstream.settings.up import UpSettings

_HOMES = {
    "DataSettings": "data",
    "MonitorSettings": "monitor",
    "PolicySettings": "policy",
    "RegistrySettings": "registry",
    "ServeSettings": "serve",
    "StreamSettings": "stream",
    "UpSettings": "up",
}
__all__ = [
    "DataSettings",
    "MonitorSettings",
    "PolicySettings",
    "RegistrySettings",
    "ServeSettings",
    "StreamSettings",
    "UpSettings",
]


__getattr__ = lazy_attributes(__name__, _HOMES)
