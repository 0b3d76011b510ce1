"""``modstream evaluate``: score a labelled file with a saved model."""

from __future__ import annotations

import argparse
import json
from typing import Any

from modstream.commands._common import (
    Progress,
    add_data_args,
    add_text_limit_arg,
    data_plane,
    load_labelled,
)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "evaluate",
        help="ROC/PR AUC, precision/recall/F1, confusion matrix, calibration on labelled data",
        description="Evaluate a saved model on a labelled file, at the threshold stored in "
        "the artifact.",
        epilog="example:\n  modstream evaluate --model models/rscience --data reddit_test.csv --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="model artifact directory")
    add_data_args(parser)
    add_text_limit_arg(parser)
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.set_defaults(func=_run)


def format_metrics(m: dict) -> str:
    cm = m["confusion_matrix"]
    return "\n".join(
        [
            f"rows               {m['n']:,} ({100 * m['positive_rate']:.1f}% removed)",
            f"ROC AUC            {m['roc_auc']:.4f}",
            f"PR AUC             {m['pr_auc']:.4f}",
            f"threshold          {m['threshold']:.4f}",
            f"precision          {m['precision']:.4f}",
            f"recall             {m['recall']:.4f}",
            f"F1 (removed)       {m['f1']:.4f}   (at 0.5: {m['f1_at_0_5']:.4f})",
            f"calibration error  {m['calibration_error']:.4f}",
            "confusion matrix   predicted kept  predicted removed",
            f"  actually kept    {cm['tn']:>14,}  {cm['fp']:>17,}",
            f"  actually removed {cm['fn']:>14,}  {cm['tp']:>17,}",
        ]
    )


def _run(args: argparse.Namespace) -> int:
    import numpy as np

    from modstream.model import load_model
    from modstream.model.metrics import evaluate_scores

    plane = data_plane(load_model(args.model), args)
    data = load_labelled(args, Progress(quiet=args.json))
    scores = plane.score(data.texts)
    metrics = evaluate_scores(np.asarray(data.labels), scores.p_removed, scores.model.threshold)
    metrics["model"] = {
        "name": scores.model.name,
        "version": scores.model.version,
        "preset": scores.model.preset,
    }
    metrics["texts_cut"] = len(scores.truncated)
    print(json.dumps(metrics, indent=2) if args.json else format_metrics(metrics))
    return 0
