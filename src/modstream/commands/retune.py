"""``modstream retune``: a new artifact version whose threshold is chosen on live decisions."""

from __future__ import annotations

import argparse
from typing import Any

from modstream.commands._common import Progress, add_data_args, load_labelled

EPILOG = """\
examples:
  modstream export --input-topic comments --decisions-topic decisions --out labels.csv
  modstream retune --model models/current --data labels.csv --out models/retuned
  modstream retune --model models/current --data labels.csv --target-precision 0.9 \\
      --out models/current-p90

The weights and vocabulary are written unchanged (byte for byte); the manifest gets a
new version, the new threshold, metrics on the decisions at the old and new thresholds,
and where the labels came from.
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "retune",
        help="choose a model's threshold again on moderators' decisions (no retraining)",
        description=(
            "Score labelled comments (e.g. from 'modstream export') with a model, choose "
            "its threshold as training does, and write a new artifact version with the "
            "same weights."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="the artifact to re-tune")
    add_data_args(parser)
    parser.add_argument("--out", required=True, help="artifact directory to write")
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--target-precision", type=float, help="lowest threshold with this precision"
    )
    target.add_argument("--target-recall", type=float, help="highest threshold with this recall")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from modstream.monitor.retune import retune

    progress = Progress(args.quiet)
    data = load_labelled(args, progress)
    progress.step(f"scoring {len(data.texts):,} decided comments with {args.model}")
    tuned = retune(
        args.model,
        args.out,
        data,
        target_precision=args.target_precision,
        target_recall=args.target_recall,
    )
    before = tuned.metrics["decisions_at_previous_threshold"]
    after = tuned.metrics["decisions"]
    previous = tuned.training["retuned"]["previous_threshold"]
    print(
        f"{args.out}: {tuned.name} {tuned.version} threshold {previous:.4f} -> "
        f"{tuned.threshold:.4f}; on the decisions precision {before['precision']:.4f} -> "
        f"{after['precision']:.4f}, recall {before['recall']:.4f} -> {after['recall']:.4f}, "
        f"F1 {before['f1']:.4f} -> {after['f1']:.4f}"
    )
    return 0
