"""``modstream policy``: the keep / review / remove thresholds, per community, live."""

from __future__ import annotations

import argparse
import json
from typing import Any

from modstream.commands._registry import add_kafka_args
from modstream.commands.produce import tool_settings

EPILOG = """\
examples:
  modstream policy set --remove 0.8 --review 0.5            # every community
  modstream policy set --community askscience --remove 0.7  # one community's override
  modstream policy clear --community askscience
  modstream policy show

Workers started with --policies-topic (or MODSTREAM_POLICIES_TOPIC) apply a change from
their next batch. A threshold left unset falls back to the default (*), and the removal
threshold finally to the answering model's own. See docs/models.md.
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "policy",
        help="show or change the keep/review/remove thresholds per community",
        description=(
            "Read or change the moderation policy in its compacted Kafka topic: two "
            "thresholds on P(removed), for every community (*) and per community."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print the policy now in the topic")
    show.add_argument("--json", action="store_true", help="one JSON document instead")
    change = actions.add_parser("set", help="set thresholds for every community or one")
    change.add_argument("--remove", type=float, help="P(removed) at or above which: remove")
    change.add_argument("--review", type=float, help="at or above which (below remove): review")
    clear = actions.add_parser("clear", help="remove the thresholds of every community or one")
    for action, run in ((show, _show), (change, _set), (clear, _clear)):
        if action is not show:
            action.add_argument("--community", default="*", help="the community (default *: all)")
        group = action.add_argument_group("connection")
        group.add_argument("--policies-topic", help="the policies topic (modstream-policies)")
        add_kafka_args(group)
        action.set_defaults(func=run)


def _where(args: argparse.Namespace) -> tuple[dict[str, str], str]:
    from modstream.settings import PolicySettings
    from modstream.settings.defaults import POLICIES_TOPIC

    topic = args.policies_topic or PolicySettings().policies_topic or POLICIES_TOPIC
    return tool_settings(args).client_config(), topic


def _show(args: argparse.Namespace) -> int:
    from modstream.policy.source import read_policies

    policy = read_policies(*_where(args))
    if args.json:
        print(json.dumps(policy.to_dict(), indent=2))
        return 0
    for community, rule in policy.to_dict().items():
        parts = [f"{name} at {value:g}" for name, value in rule.items()]
        print(f"{community}: {', '.join(parts) or 'model threshold'}")
    return 0


def _set(args: argparse.Namespace) -> int:
    """Change the thresholds given; the community's other threshold stays as it was."""
    from modstream.errors import InvalidInput, NotFound
    from modstream.policy import Thresholds
    from modstream.policy.source import read_policies, write_policy

    if args.remove is None and args.review is None:
        raise InvalidInput("give --remove and/or --review")
    where = _where(args)
    try:
        before = read_policies(*where).rules.get(args.community, Thresholds()).to_dict()
    except NotFound:  # no policy yet: the topic is created by the write
        before = {}
    given = {k: v for k, v in (("remove", args.remove), ("review", args.review)) if v is not None}
    rule = Thresholds.parse({**before, **given}, f"community {args.community!r}")
    write_policy(*where, args.community, rule)
    print(f"{args.community}: {json.dumps(rule.to_dict())}")
    return 0


def _clear(args: argparse.Namespace) -> int:
    from modstream.policy.source import write_policy

    write_policy(*_where(args), args.community, None)
    print(f"{args.community}: cleared")
    return 0
