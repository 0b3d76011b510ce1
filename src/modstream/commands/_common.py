"""Arguments and helpers shared by the data-reading verbs (train, evaluate, compare, predict)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modstream.dataplane import DataPlane
    from modstream.datasets import Dataset
    from modstream.model import TextModel


def add_data_args(parser: argparse.ArgumentParser, *, labels: bool = True) -> None:
    """``--data`` and the options that say how to read it."""
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data",
        required=True,
        metavar="CSV|JSONL|URL",
        help="r/science Kaggle CSV (either layout), a generic CSV or JSONL, or an "
        "http(s):// URL (needs --sha256; downloaded once into the cache)",
    )
    group.add_argument("--text-column", help="text column name (default: body/text/comment)")
    if labels:
        group.add_argument("--label-column", help="label column name (default: removed/label)")
        group.add_argument(
            "--drop-boilerplate",
            action="store_true",
            help="drop rows of leaked moderator or bot text ('Your submission has been removed', ...)",
        )
        group.add_argument(
            "--keep-duplicates", action="store_true", help="keep exact duplicate texts"
        )
    group.add_argument(
        "--encoding", default="auto", help="file encoding (default: UTF-8, else Latin-1)"
    )
    group.add_argument("--sha256", help="expected SHA-256 of the file or download")


def add_text_limit_arg(parser: argparse.ArgumentParser) -> None:
    """``--max-text-chars``: the same cut the servers and the stream worker apply."""
    parser.add_argument(
        "--max-text-chars",
        type=int,
        metavar="N",
        help="texts are cut at this length before scoring, as `serve` and `stream` cut them "
        "(default: MODSTREAM_MAX_TEXT_CHARS, else 100000)",
    )


def data_plane(model: TextModel, args: argparse.Namespace) -> DataPlane:
    """The data plane the command scores through, with the serving text limit."""
    from modstream.dataplane import DataPlane
    from modstream.settings.serve import ServeSettings

    limit = args.max_text_chars or ServeSettings().max_text_chars
    return DataPlane(model, max_text_chars=limit)


def load_labelled(args: argparse.Namespace, progress: Progress) -> Dataset:
    """Read ``--data`` as a labelled dataset and report what cleaning removed."""
    from modstream.datasets import read_dataset
    from modstream.monitor.provenance import label_provenance

    progress.step(f"reading {args.data}")
    data = read_dataset(
        args.data,
        text_column=args.text_column,
        label_column=args.label_column,
        encoding=args.encoding,
        sha256=args.sha256,
        drop_boilerplate=args.drop_boilerplate,
        keep_duplicates=args.keep_duplicates,
    )
    data.report.update(label_provenance(str(args.data), data.sha256))  # an export's labels
    r = data.report
    dropped = ", ".join(
        f"{r[k]} {k.removesuffix('_dropped')}"
        for k in ("empty_dropped", "duplicates_dropped", "boilerplate_dropped")
        if k in r
    )
    progress.step(
        f"{r['rows_kept']:,} of {r['rows_read']:,} rows kept (dropped: {dropped}); "
        f"{100 * r['removed_rate']:.1f}% removed"
    )
    return data


class Progress:
    """Timestamped progress lines on stderr (silent with ``quiet``)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.start = time.perf_counter()

    def step(self, message: str) -> None:
        if not self.quiet:
            print(
                f"[{time.perf_counter() - self.start:6.1f}s] {message}", file=sys.stderr, flush=True
            )
