"""``modstream models``: publish versions and choose what every worker and server runs."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modstream.commands._registry import add_kafka_args
from modstream.commands.produce import tool_settings

EPILOG = """\
examples:
  modstream models publish models/2026-11-28 --store /srv/modstream/models
  modstream models publish https://models.example/moderation/v7/ --sha256 HEX
  modstream models promote 20261128T151043Z-72b01a06
  modstream models canary 20261205T090000Z-0c1d2e3f --percent 10
  modstream models shadow 20261205T090000Z-0c1d2e3f
  modstream models rollback
  modstream models list
  modstream models history

Every command reads the registry topic to its end first; a refused request prints one
line and changes nothing. See docs/models.md. The environment may set
MODSTREAM_MODELS_TOPIC, MODSTREAM_MODEL_NAME, MODSTREAM_REGISTRY_STORE and the Kafka
connection (MODSTREAM_BOOTSTRAP_SERVERS, MODSTREAM_KAFKA_CONFIG, ...).
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "models",
        help="the model registry: publish, promote, canary, shadow, roll back, list",
        description=(
            "Publish verified model versions to the registry (a compacted Kafka topic) and "
            "choose the champion, canary and shadow every worker and server runs."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text, arguments, run in _ACTIONS:
        action = actions.add_parser(name, help=text, description=text)
        arguments(action)
        _connection_args(action)
        action.set_defaults(func=run)


def _connection_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("registry")
    add = group.add_argument
    add("--models-topic", help="the registry topic (MODSTREAM_MODELS_TOPIC, modstream-models)")
    add("--model-name", help="the model (MODSTREAM_MODEL_NAME; publish: the artifact's name)")
    add_kafka_args(group)


def _registry(args: argparse.Namespace) -> Any:
    from modstream.registry.client import Registry
    from modstream.settings import RegistrySettings

    topic = args.models_topic or RegistrySettings().models_topic
    return Registry(tool_settings(args).client_config(), topic)


def _admin(args: argparse.Namespace) -> Any:
    from modstream.registry.admin import RegistryAdmin
    from modstream.settings import RegistrySettings

    return RegistryAdmin(_registry(args), args.model_name or RegistrySettings().model_name)


# -- publish and retire ---------------------------------------------------------------------
def _publish_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifact", metavar="DIR|URL", help="artifact directory or base URL")
    parser.add_argument("--sha256", help="SHA-256 of the artifact's manifest.json (URLs)")
    parser.add_argument(
        "--store", type=Path, help="copy it into this store (MODSTREAM_REGISTRY_STORE)"
    )
    parser.add_argument("--promote", action="store_true", help="make it the champion too")


def _publish(args: argparse.Namespace) -> int:
    from modstream.registry.admin import RegistryAdmin
    from modstream.registry.publish import publish
    from modstream.settings import DataSettings, RegistrySettings

    registry = _registry(args)
    event = publish(
        registry,
        args.artifact,
        cache=DataSettings().cache_dir,
        sha256=args.sha256,
        store=args.store or RegistrySettings().registry_store,
        model_name=args.model_name,
    )
    print(f"published {event.model} {event.version} (sha256 {event.sha256}) at {event.uri}")
    if args.promote:
        _say_roles(RegistryAdmin(registry, event.model).promote(str(event.version)))
    return 0


def _version_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("version", help="a published version")


def _retire(args: argparse.Namespace) -> int:
    event = _admin(args).retire(args.version)
    print(f"retired {event.model} {event.version}")
    return 0


# -- roles ----------------------------------------------------------------------------------
def _promote(args: argparse.Namespace) -> int:
    _say_roles(_admin(args).promote(args.version))
    return 0


def _rollback_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", metavar="VERSION", help="this version (default: the previous)")


def _rollback(args: argparse.Namespace) -> int:
    _say_roles(_admin(args).rollback(args.to))
    return 0


def _canary_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("version", nargs="?", help="a published version (omit with --off)")
    parser.add_argument("--percent", type=float, help="share of comments it answers, (0, 100]")
    parser.add_argument("--off", action="store_true", help="end the canary")


def _canary(args: argparse.Namespace) -> int:
    version = _role_version(args, "canary")
    _say_roles([_admin(args).canary(version, args.percent)])
    return 0


def _shadow_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("version", nargs="?", help="a published version (omit with --off)")
    parser.add_argument("--off", action="store_true", help="end the shadow")


def _shadow(args: argparse.Namespace) -> int:
    _say_roles([_admin(args).shadow(_role_version(args, "shadow"))])
    return 0


def _role_version(args: argparse.Namespace, role: str) -> str | None:
    from modstream.errors import InvalidInput

    if args.off == (args.version is not None):
        raise InvalidInput(f"give the {role} VERSION, or --off to end the {role}")
    return None if args.off else str(args.version)


def _say_roles(events: list[Any]) -> None:
    from modstream.registry.views import event_row

    for event in events:
        row = event_row(event)
        print(f"{event.model}: {row['event']} {row['version']}".rstrip(" -"))


# -- reading --------------------------------------------------------------------------------
def _json_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON document instead")


def _list(args: argparse.Namespace) -> int:
    from modstream.registry.views import version_rows

    admin = _admin(args)
    state = admin.model_state()
    rows = version_rows(state)
    if args.json:
        print(json.dumps({"model": state.name, "versions": rows}, indent=2))
        return 0
    print(f"model {state.name} in {admin.registry.topic}")
    columns = ("version", "role", "preset", "threshold", "published_at", "uri")
    _table([{c: _cell(row[c]) for c in columns} for row in rows], columns)
    for row in rows:
        for instance, reason in row["refused_by"].items():
            print(f"  {row['version']} refused by {instance}: {reason}")
    return 0


def _history(args: argparse.Namespace) -> int:
    from modstream.registry.views import event_row

    admin = _admin(args)
    rows = [event_row(e) for e in admin.registry.history(admin.name)]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _table(rows, ("at", "version", "event", "by"))
    return 0


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "-" if value in (None, "") else str(value)


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    widths = {c: max([len(c), *(len(str(r[c])) for r in rows)]) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())


_Action = tuple[
    str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]
]
_ACTIONS: tuple[_Action, ...] = (
    ("publish", "verify an artifact and publish its version", _publish_args, _publish),
    ("promote", "make a published version the champion", _version_arg, _promote),
    ("canary", "send a stable share of comments to a version", _canary_args, _canary),
    (
        "shadow",
        "score every batch with a version too, answers to the shadow topic",
        _shadow_args,
        _shadow,
    ),
    ("rollback", "return to the previous champion", _rollback_args, _rollback),
    ("retire", "retire a version that holds no role", _version_arg, _retire),
    ("list", "list versions and their roles", _json_arg, _list),
    ("history", "every registry event, oldest first", _json_arg, _history),
)
