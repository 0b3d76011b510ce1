"""``modstream train``: fit a preset, choose its threshold, write the artifact (and a report)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modstream.commands._common import Progress, add_data_args, load_labelled
from modstream.facts import PRESETS

if TYPE_CHECKING:
    from modstream.datasets import Dataset
    from modstream.model import TrainResult

EPILOG = """examples:
  modstream train --data reddit_train.csv --out models/rscience
  modstream train --data reddit_200k_train.csv --preset article --out models/article
  modstream train --data comments.jsonl --text-column message --label-column flagged \\
      --target-precision 0.8 --out models/strict --report report.html
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "train",
        help="train a moderation model and write a versioned artifact",
        description="Train on a labelled CSV/JSONL. The decision threshold is chosen on "
        "out-of-fold predictions (best F1 of 'removed', or a precision/recall target) and "
        "stored in the artifact with the cross-validated metrics.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_data_args(parser)
    parser.add_argument("--out", required=True, help="artifact directory to write (atomically)")
    parser.add_argument("--preset", choices=PRESETS, default="default", help="model preset")
    parser.add_argument("--name", default="moderation", help="model name in the artifact")
    parser.add_argument("--spacy-model", help="installed spaCy model to tokenize with")
    parser.add_argument("--n-process", type=int, default=1, help="spaCy processes for tokenizing")
    parser.add_argument("--jobs", type=int, default=2, help="parallel cross-validation folds")
    parser.add_argument("--folds", type=int, default=5, help="folds for out-of-fold scores")
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--target-precision", type=float, help="lowest threshold with this precision"
    )
    target.add_argument("--target-recall", type=float, help="highest threshold with this recall")
    parser.add_argument("--report", metavar="FILE.html", help="also write the training report")
    parser.add_argument(
        "--report-folds",
        type=int,
        default=3,
        help="folds of the report's algorithm comparison (0 leaves it out; default 3)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(func=_run)


def _write_report(
    args: argparse.Namespace, data: Dataset, result: TrainResult, progress: Progress
) -> None:
    from modstream.model.compare import compare
    from modstream.report import write_report

    comparison = None
    if args.report_folds >= 2:
        progress.step(f"algorithm comparison for the report ({args.report_folds}-fold)")
        comparison = compare(
            data, preset=args.preset, folds=args.report_folds, on_step=progress.step
        )
    write_report(
        Path(args.report), data=data, model=result.model, oof=result.oof, comparison=comparison
    )


def _run(args: argparse.Namespace) -> int:
    from modstream.model import save_model
    from modstream.model.train import train

    progress = Progress(args.quiet)
    data = load_labelled(args, progress)
    progress.step(f"training preset {args.preset!r}")
    result = train(
        data,
        args.preset,
        spacy_model=args.spacy_model,
        n_process=args.n_process,
        folds=args.folds,
        n_jobs=args.jobs,
        target_precision=args.target_precision,
        target_recall=args.target_recall,
        name=args.name,
        report=progress.step,
    )
    model = result.model
    path = save_model(model, args.out)
    cv = model.metrics["cross_validated"]
    progress.step(f"wrote {path}")
    if args.report:
        _write_report(args, data, result, progress)
        progress.step(f"wrote {args.report}")
    print(
        f"{path}: {model.name} {model.version} preset={model.preset} "
        f"threshold={model.threshold:.4f} cv_roc_auc={cv['roc_auc']:.4f} "
        f"cv_f1={cv['f1']:.4f} precision={cv['precision']:.4f} recall={cv['recall']:.4f}"
    )
    return 0
