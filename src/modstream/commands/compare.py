"""``modstream compare``: cross-validate several classifiers and tokenizations side by side."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modstream.commands._common import Progress, add_data_args, load_labelled
from modstream.errors import ModstreamError
from modstream.facts import NGRAM_PRESETS

if TYPE_CHECKING:
    from modstream.model.compare import ComparisonResult

EPILOG = """examples:
  modstream compare --data reddit_train.csv --folds 5 --plot compare.png
  modstream compare --data reddit_200k_train.csv --sample 20000 --json > compare.json
  modstream compare --data comments.csv --text-column message --label-column flagged \\
      --preset article --skip-tokenizers

With --plot FILE.png, the classifier box plot goes to FILE.png and the tokenization
box plot to FILE-tokenizers.png.
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "compare",
        help="compare classifiers and tokenizations by cross-validation",
        description="Stratified k-fold cross-validation of logistic regression, linear SVM, "
        "multinomial naive Bayes, SGD, ridge and extra trees on the same features "
        "(fitted on each training fold), then of five tokenizations under logistic "
        "regression. Prints mean ± std of ROC AUC, PR AUC, F1 of 'removed' and times.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_data_args(parser)
    parser.add_argument("--preset", choices=NGRAM_PRESETS, default="default", help="feature preset")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--sample", type=int, metavar="N", help="stratified sample of N rows")
    parser.add_argument("--seed", type=int, default=0, help="seed for folds and sampling")
    parser.add_argument("--skip-tokenizers", action="store_true", help="compare classifiers only")
    parser.add_argument("--plot", metavar="FILE.png", help="write ROC AUC box plots")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from modstream.model.compare import compare, step_count, subsample

    progress = Progress(args.quiet)
    data = load_labelled(args, progress)
    if args.sample is not None:
        data = subsample(data, args.sample, args.seed)
        progress.step(f"sampled {len(data.texts):,} rows")
    total = step_count(args.folds, args.preset, not args.skip_tokenizers)
    started = 0
    with tqdm(total=total, disable=args.quiet, file=sys.stderr, unit="fit") as bar:

        def step(message: str) -> None:
            nonlocal started
            if started:  # the previous unit is done
                bar.update()
            started += 1
            bar.set_postfix_str(message)

        result = compare(
            data,
            preset=args.preset,
            folds=args.folds,
            seed=args.seed,
            tokenizers=not args.skip_tokenizers,
            on_step=step,
        )
        bar.update()
    plots = write_plots(result, Path(args.plot)) if args.plot else []
    for path in plots:
        progress.step(f"wrote {path}")
    if args.json:
        print(json.dumps({**result.to_dict(), "plots": [str(p) for p in plots]}, indent=2))
    else:
        print(render(result))
    return 0


def render(result: ComparisonResult) -> str:
    """Both comparison tables as aligned plain text."""
    from modstream.report.tables import COMPARISON_HEADER, COMPARISON_NOTE, aligned, comparison_rows

    intro = (
        f"{result.folds}-fold stratified CV, {result.rows:,} rows "
        f"({result.removed_rate:.1%} removed), preset {result.preset!r}"
    )
    feature_s = sum(result.feature_seconds) / max(len(result.feature_seconds), 1)
    blocks = [
        intro,
        "",
        f"Classifiers on the same features (features: {feature_s:.2f} s/fold, not in fit times)",
        aligned(COMPARISON_HEADER, comparison_rows(result.classifiers)),
    ]
    if result.tokenizers:
        blocks += [
            "",
            "Tokenizations under logistic regression (times include building features)",
            aligned(COMPARISON_HEADER, comparison_rows(result.tokenizers)),
        ]
    blocks += ["", COMPARISON_NOTE]
    return "\n".join(blocks)


def write_plots(result: ComparisonResult, path: Path) -> list[Path]:
    """Box plots of per-fold ROC AUC: classifiers to ``path``, tokenizations beside it."""
    from modstream.report.plots import score_boxplot

    figures = [(path, "Classifiers", result.classifiers)]
    if result.tokenizers:
        other = path.with_name(f"{path.stem}-tokenizers{path.suffix or '.png'}")
        figures.append((other, "Tokenizations (logistic regression)", result.tokenizers))
    written: list[Path] = []
    for target, title, rows in figures:
        png = score_boxplot([(r.name, r.roc_auc) for r in rows], title)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(png)
        except OSError as exc:
            raise ModstreamError(
                f"cannot write plot {target}: {exc.strerror or exc}", reason="IO_ERROR"
            ) from exc
        written.append(target)
    return written
