"""Model benchmarks: batch-prediction throughput, training time at 100k rows, scoring a 1 GB CSV,
and held-out quality of the two presets.

    python bench/bench_model.py throughput   [--data CSV] [--repeats 3]
    python bench/bench_model.py train100k    [--data CSV]
    python bench/bench_model.py score1gb     [--data CSV] [--size-gb 1.0]
    python bench/bench_model.py quality      [--data CSV]
    python bench/bench_model.py command      [--data CSV] [--rows 40000] [--repeats 3]

Each prints a markdown section (paste into BENCHMARKS.md). Throughput runs in one process
with BLAS/OpenMP limited to one thread.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "rscience_dev.csv"


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _rate(fn, n: int, repeats: int) -> float:  # type: ignore[no-untyped-def]
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def _in_calls(model: Any, texts: list[str], size: int) -> None:
    for i in range(0, len(texts), size):
        model.predict_proba(texts[i : i + size])


def article_as_written(model: Any) -> Callable[[list[str]], np.ndarray]:
    """The article preset's ``predict_proba`` computed the way the article's code computes it:
    spaCy tokens, then scikit-learn's ``TfidfVectorizer.transform`` and
    ``LogisticRegression.predict_proba`` (modstream's preset gives the same numbers through
    its own faster paths)."""
    steps = model.pipeline.named_steps

    def predict_proba(texts: list[str]) -> np.ndarray:
        tokens = steps["features"].tokenize(steps["clean"].transform(texts))
        return steps["clf"].predict_proba(steps["features"].word_.transform(tokens))

    return predict_proba


def _checked_as_written(model: Any, texts: list[str]) -> Callable[[list[str]], np.ndarray]:
    """``article_as_written(model)``, after checking it gives the preset's numbers bit for bit."""
    straight = article_as_written(model)
    if not np.array_equal(straight(texts[:500]), model.predict_proba(texts[:500])):
        raise SystemExit("the article pipeline as written and the article preset disagree")
    return straight


def throughput(data: Path, repeats: int) -> None:
    from threadpoolctl import threadpool_limits

    from modstream.datasets import read_dataset
    from modstream.model import train_model
    from modstream.text.nlp import load_nlp

    ds = read_dataset(data)
    texts = ds.texts
    models = {p: train_model(ds, p, n_jobs=1) for p in ("default", "article")}
    nlp = load_nlp()
    with threadpool_limits(1):
        for m in models.values():
            m.predict_proba(texts[:500])  # warm-up: lazy loads, per-word caches
        as_written = _checked_as_written(models["article"], list(texts))
        rows = {
            "default preset (full pipeline)": _rate(
                lambda: models["default"].predict_proba(texts), len(texts), repeats
            ),
            # What a single request (serve) and a paced stream's small batches ask for.
            "default preset, one comment per call": _rate(
                lambda: _in_calls(models["default"], texts, 1), len(texts), repeats
            ),
            "default preset, ten comments per call": _rate(
                lambda: _in_calls(models["default"], texts, 10), len(texts), repeats
            ),
            "article preset (full pipeline)": _rate(
                lambda: models["article"].predict_proba(texts), len(texts), repeats
            ),
            "article pipeline as written (scikit-learn transform + predict_proba)": _rate(
                lambda: as_written(texts), len(texts), repeats
            ),
            "spaCy tokenizer only (blank en)": _rate(
                lambda: list(nlp.tokenizer.pipe(texts, batch_size=256)), len(texts), repeats
            ),
        }
    print(
        f"### Batch prediction, one process, one thread\n\n`python bench/bench_model.py throughput` on {machine()}; "
        f"{len(texts):,} comments of {data.name}, median of {repeats} runs.\n"
    )
    print("| pipeline | comments/s |\n|---|---:|")
    for name, rate in rows.items():
        print(f"| {name} | {rate:,.0f} |")


def _repeat_csv(data: Path, out: Path, rows: int) -> int:
    """Write ``data`` repeated until ``rows`` data rows (header once); returns rows written."""
    lines = data.read_bytes().split(b"\r\n", 1)
    header, body = lines[0], lines[1]
    import pandas as pd

    per_copy = len(pd.read_csv(data, encoding="latin-1"))
    copies = max(1, -(-rows // per_copy))
    with open(out, "wb") as fh:
        fh.write(header + b"\r\n")
        for _ in range(copies):
            fh.write(body if body.endswith(b"\r\n") else body + b"\r\n")
    return copies * per_copy


def train100k(data: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "dev_x20.csv"
        n = _repeat_csv(data, csv, 100_000)
        out = {}
        for preset in ("default", "article"):
            cmd = [
                sys.executable,
                "-m",
                "modstream",
                "train",
                "--data",
                str(csv),
                "--keep-duplicates",
                "--preset",
                preset,
                "--out",
                f"{tmp}/m-{preset}",
                "--jobs",
                "2",
                "--quiet",
            ]
            if preset == "article":
                cmd += ["--n-process", "2"]
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            out[preset] = time.perf_counter() - start
    print(
        f"### Training on {n:,} comments ({data.name} repeated, duplicates kept)\n\n"
        f"`python bench/bench_model.py train100k` on {machine()}: wall time of `modstream train "
        "--jobs 2` (5-fold out-of-fold threshold included; the article preset also with `--n-process 2`).\n"
    )
    print("| preset | wall seconds |\n|---|---:|")
    for preset, sec in out.items():
        print(f"| {preset} | {sec:.1f} |")


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def score1gb(data: Path, size_gb: float) -> None:
    from modstream.datasets import read_dataset
    from modstream.model import save_model, train_model

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = save_model(
            train_model(read_dataset(data), "default", n_jobs=2), Path(tmp) / "m"
        )
        csv = Path(tmp) / "big.csv"
        per_row = data.stat().st_size / 5000
        rows = _repeat_csv(data, csv, int(size_gb * 1e9 / per_row))
        cmd = [
            sys.executable,
            "-m",
            "modstream",
            "predict",
            "--model",
            str(model_dir),
            "--data",
            str(csv),
            "--output",
            f"{tmp}/scores.jsonl",
        ]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        samples: list[tuple[float, int]] = []

        def sample() -> None:
            while proc.poll() is None:
                samples.append((time.perf_counter() - start, _rss_kb(proc.pid)))
                time.sleep(1.0)

        thread = threading.Thread(target=sample)
        thread.start()
        proc.wait()
        thread.join()
        wall = time.perf_counter() - start
        with open(f"{tmp}/scores.jsonl", "rb") as fh:
            lines = sum(1 for _ in fh)
        size = csv.stat().st_size
    rss = np.array([r for _, r in samples if r > 0]) / 1024
    q = lambda f: rss[int(f * (len(rss) - 1))]  # noqa: E731
    print(
        f"### Scoring a {size / 1e9:.2f} GB CSV ({rows:,} rows) with `modstream predict --data`\n\n"
        f"`python bench/bench_model.py score1gb` on {machine()}: {lines:,} output lines, {wall:.0f} s wall "
        f"({lines / wall:,.0f} rows/s). Resident memory sampled every second:\n"
    )
    print("| at 10% | at 50% | at 90% | peak |\n|---:|---:|---:|---:|")
    print(f"| {q(0.1):.0f} MB | {q(0.5):.0f} MB | {q(0.9):.0f} MB | {rss.max():.0f} MB |")


def _article_rates(ds: object, repeats: int) -> dict[str, tuple[float, float]]:
    """In-process batch comments/s of the article pipeline, by wall clock and by CPU time:
    as modstream's article preset computes it and as the article's code computes it."""
    from threadpoolctl import threadpool_limits

    from modstream.model import train_model

    article = train_model(ds, "article", n_jobs=1)  # type: ignore[arg-type]
    texts = list(ds.texts)  # type: ignore[attr-defined]
    ways = {
        "article preset (modstream's paths)": article.predict_proba,
        "article pipeline as written (scikit-learn's transform and predict_proba)": (
            _checked_as_written(article, texts)
        ),
    }
    rates = {}
    with threadpool_limits(1):
        for name, predict in ways.items():
            predict(texts[:500])
            cpu = time.process_time()
            wall = _rate(lambda p=predict: p(texts), len(texts), repeats)  # type: ignore[misc]
            rates[name] = (wall, len(texts) * repeats / (time.process_time() - cpu))
    return rates


def _run_timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of ``cmd``."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def command(data: Path, rows: int, repeats: int, jobs: list[int]) -> None:
    """Wall time of the whole ``modstream predict --data`` process (start-up, reading,
    repairing, scoring, writing) against the article pipeline's in-process batch speed;
    with each ``--jobs`` value, the runs of the values alternating, each checked to write
    the same bytes as the first."""
    from modstream.datasets import read_dataset
    from modstream.model import save_model, train_model

    ds = read_dataset(data)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = save_model(train_model(ds, "default", n_jobs=2), Path(tmp) / "m")
        csv = Path(tmp) / "big.csv"
        n = _repeat_csv(data, csv, rows)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        loads = [os.getloadavg()[0]]
        runs: dict[int, list[tuple[float, float]]] = {j: [] for j in jobs}
        outputs: set[bytes] = set()
        for _ in range(repeats):
            for j in jobs:
                out = Path(tmp) / f"scores-{j}.jsonl"
                cmd = [sys.executable, "-m", "modstream", "predict", "--model", str(model_dir),
                       "--data", str(csv), "--output", str(out), "--jobs", str(j)]  # fmt: skip
                runs[j].append(_run_timed(cmd, env))
                outputs.add(out.read_bytes())
        if len(outputs) != 1:
            sys.exit("the runs did not all write the same bytes")
        articles = _article_rates(ds, repeats)
        loads.append(os.getloadavg()[0])
    print(
        f"### Whole-command scoring: `modstream predict --data` on {n:,} comments\n\n"
        f"`python bench/bench_model.py command --jobs {','.join(map(str, jobs))}` on {machine()}; "
        f"{data.name} repeated, default preset, median of {repeats} runs, start-up included "
        f"(the `--jobs` values' runs alternating, every output the same bytes); one-minute load "
        f"{loads[0]:.1f} before, {loads[1]:.1f} after.\n"
    )
    print("| what | comments/s (wall) | comments per CPU-second |\n|---|---:|---:|")
    wholes = {}
    for j, timed in runs.items():
        wholes[j] = n / statistics.median(wall for wall, _ in timed)
        whole_cpu = n * repeats / sum(cpu for _, cpu in timed)
        print(
            f"| `modstream predict --data … --output … --jobs {j}`, whole process "
            f"| {wholes[j]:,.0f} | {whole_cpu:,.0f} |"
        )
    for name, (article, article_cpu) in articles.items():
        print(f"| {name}, in-process batch, one thread | {article:,.0f} | {article_cpu:,.0f} |")
        for j, whole in wholes.items():
            print(f"| `--jobs {j}`: ratio to it | {whole / article:.2f}× | |")


def _cell(scores: list[dict], key: str) -> str:
    values = [s[key] for s in scores]
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def quality(data: Path) -> None:
    from sklearn.model_selection import StratifiedKFold

    from modstream.datasets import Dataset, read_dataset
    from modstream.model import train_model
    from modstream.model.metrics import evaluate_scores

    ds = read_dataset(data)
    print(
        f"### Held-out quality, 5-fold CV on {data.name} ({len(ds.texts):,} rows)\n\n"
        "`python bench/bench_model.py quality`: each preset is trained (threshold chosen on its own "
        "inner out-of-fold scores) on 4/5 and scored on the held-out 1/5.\n"
    )
    print(
        "| preset | ROC AUC | PR AUC | F1(removed) at stored threshold | F1 at 0.5 |\n|---|---|---|---|---|"
    )
    for preset in ("default", "article"):
        scores = []
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=1).split(ds.texts, ds.labels):
            part = Dataset([ds.texts[i] for i in tr], ds.labels[tr], ds.sha256)
            model = train_model(part, preset, n_jobs=2)
            p = model.predict_proba([ds.texts[i] for i in te])[:, 1]
            scores.append(evaluate_scores(ds.labels[te], p, model.threshold))
        print(
            f"| {preset} | {_cell(scores, 'roc_auc')} | {_cell(scores, 'pr_auc')} | {_cell(scores, 'f1')} | {_cell(scores, 'f1_at_0_5')} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "what", choices=["throughput", "train100k", "score1gb", "quality", "command"]
    )
    parser.add_argument("--data", type=Path, default=DEV)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size-gb", type=float, default=1.0)
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument(
        "--jobs", default="1", help="command: comma-separated `predict --jobs` values to time"
    )
    args = parser.parse_args()
    if not args.data.is_file():
        sys.exit(f"no data at {args.data}; pass --data")
    if args.what == "throughput":
        throughput(args.data, args.repeats)
    elif args.what == "train100k":
        train100k(args.data)
    elif args.what == "command":
        command(args.data, args.rows, args.repeats, [int(j) for j in args.jobs.split(",")])
    elif args.what == "score1gb":
        score1gb(args.data, args.size_gb)
    else:
        quality(args.data)


if __name__ == "__main__":
    main()
