"""``modstream predict``: score texts (with explanations and traces) or a whole file."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
from typing import TYPE_CHECKING, Any

from modstream.commands._common import add_text_limit_arg, data_plane
from modstream.commands._process import freeze_long_lived, keep_freed_memory

if TYPE_CHECKING:
    from modstream.dataplane import DataPlane

EPILOG = """examples:
  modstream predict --model models/rscience "This is an input" "lol who cares"
  modstream predict --model models/rscience --explain "Source: trust me bro"
  modstream predict --model models/rscience --trace "See [the paper](https://doi.org/x)"
  echo "one comment per line" | modstream predict --model models/rscience -
  modstream predict --model models/rscience --data reddit_test.csv --output scores.jsonl
  modstream predict --model models/rscience --data big.csv --output scores.jsonl --jobs 0
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "predict",
        help="score comments: probability of removal and label",
        description="Print, per text, the probability that moderators would remove it and "
        "the label at the model's stored threshold.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="model artifact directory")
    parser.add_argument(
        "texts", nargs="*", help="texts to score ('-' reads one per line from stdin)"
    )
    parser.add_argument("--explain", action="store_true", help="show the n-grams that pushed most")
    parser.add_argument(
        "--trace", action="store_true", help="show what each stage makes of the text"
    )
    parser.add_argument("--top", type=int, default=5, help="how many n-grams to show")
    parser.add_argument("--json", action="store_true", help="one JSON object per text")
    parser.add_argument("--data", help="score a whole CSV/JSONL file instead (streamed)")
    parser.add_argument("--text-column", help="text column of --data")
    parser.add_argument("--encoding", default="auto", help="encoding of --data")
    parser.add_argument("--output", help="JSONL file for --data scores ('-' for stdout)")
    parser.add_argument("--chunk-rows", type=int, default=2048, help="rows per batch for --data")
    parser.add_argument(
        "--jobs",
        type=_jobs,
        default=1,
        help="processes scoring --data chunks side by side (0: one per core); the output "
        "is the same bytes in the same order",
    )
    add_text_limit_arg(parser)
    parser.set_defaults(func=_run)


def _texts(args: argparse.Namespace) -> list[str]:
    if args.texts == ["-"]:
        return [line.rstrip("\n") for line in sys.stdin]
    return list(args.texts)


def _print_text(plane: DataPlane, text: str, args: argparse.Namespace) -> None:
    if args.trace:
        trace = plane.trace(text, top=args.top)
        print(json.dumps(trace, ensure_ascii=False) if args.json else _format_trace(trace))
        return
    scores = plane.score([text])
    p = float(scores.p_removed[0])
    label = int(p >= scores.model.threshold)
    if scores.truncated:
        print(
            f"note: text cut from {len(text):,} to {scores.text_limit:,} characters",
            file=sys.stderr,
        )
    contributions = plane.explain([text], top=args.top)[0] if args.explain else []
    if args.json:
        out: dict[str, Any] = {"text": text, "removed_probability": p, "removed": label}
        if args.explain:
            out["explanation"] = [c.__dict__ for c in contributions]
        print(json.dumps(out, ensure_ascii=False))
        return
    print(f"{p:.4f}  {'removed' if label else 'kept':<7}  {text}")
    for c in contributions:
        direction = "towards removal" if c.weight > 0 else "towards keeping"
        print(f"          {c.weight:+.3f}  {c.feature!r} ({c.kind}, {direction})")


def _jobs(value: str) -> int:
    jobs = int(value) if value.isdigit() else -1
    if jobs < 0:
        raise argparse.ArgumentTypeError(
            f"expected 0 (one per core) or more processes, not {value!r}"
        )
    return jobs


def _cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _format_trace(trace: dict) -> str:
    lines = [
        f"input          {trace['input']}",
        f"cleaned        {trace['cleaned']}",
        f"tokens/lemmas  {' '.join(trace['tokens'])}",
        "tf-idf         " + ", ".join(f"{f!r}={w:.3f}" for f, w in trace["tfidf"]),
        "pushes         " + ", ".join(f"{f!r}{w:+.3f}" for f, w, _ in trace["contributions"]),
        f"probabilities  t:0 (kept)={trace['probabilities']['t:0']:.4f}  "
        f"t:1 (removed)={trace['probabilities']['t:1']:.4f}",
        f"decision       {'removed' if trace['removed'] else 'kept'} "
        f"(threshold {trace['threshold']:.4f})",
    ]
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    from modstream.model import load_model
    from modstream.model.scoring import score_file

    if args.data:
        keep_freed_memory()
    plane = data_plane(load_model(args.model), args)
    freeze_long_lived()
    if args.data:
        if not args.output:
            raise SystemExit("modstream predict: error: --data needs --output FILE.jsonl")
        if args.jobs != 1 and "fork" not in multiprocessing.get_all_start_methods():
            raise SystemExit("modstream predict: error: --jobs needs fork, which this OS lacks")
        rows, cut = score_file(
            plane,
            args.data,
            args.output,
            text_column=args.text_column,
            encoding=args.encoding,
            chunk_rows=args.chunk_rows,
            jobs=args.jobs or _cores(),
        )
        freeze_long_lived()  # and what scoring kept (per-word caches)
        note = f" ({cut:,} cut at {plane.max_text_chars:,} characters)" if cut else ""
        print(f"scored {rows:,} rows into {args.output}{note}", file=sys.stderr)
        return 0
    texts = _texts(args)
    if not texts:
        raise SystemExit("modstream predict: error: give texts, '-' for stdin, or --data")
    for text in texts:
        _print_text(plane, text, args)
    return 0
