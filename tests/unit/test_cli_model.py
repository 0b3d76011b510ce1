"""The train / evaluate / predict commands end to end, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modstream.cli import main
from modstream.datasets import iter_text_chunks
from modstream.demo import write_demo_csv
from modstream.model import load_model


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modstream", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_csv(tmp_path_factory.mktemp("data") / "demo.csv", n=300)


@pytest.fixture(scope="module")
def trained(demo_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("m") / "model"
    result = run("train", "--data", str(demo_csv), "--out", str(out), "--jobs", "1")
    assert result.returncode == 0, result.stderr
    assert "cv_roc_auc=" in result.stdout
    assert "rows kept" in result.stderr and "out-of-fold" in result.stderr
    return out


def test_predict_prints_probability_and_label(trained: Path) -> None:
    result = run(
        "predict",
        "--model",
        str(trained),
        "Wake up sheeple!!",
        "the methods section explains how they measured the soil carbon over ten years",
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) == 2
    assert lines[0].split()[1] == "removed" and lines[1].split()[1] == "kept"
    assert 0.0 <= float(lines[0].split()[0]) <= 1.0


def test_predict_explain_and_trace(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", "--model", str(trained), "--explain", "--json", "thanks obama"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["explanation"] and {"feature", "weight", "kind"} <= set(out["explanation"][0])
    assert main(["predict", "--model", str(trained), "--trace", "See [x](http://a.b) &amp; c"]) == 0
    text = capsys.readouterr().out
    assert "cleaned        See x http://a.b & c" in text and "tokens/lemmas" in text


def test_predict_reads_stdin(trained: Path) -> None:
    result = run("predict", "--model", str(trained), "-", stdin="one\ntwo\nthree\n")
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 3


def test_predict_scores_a_file_in_order(trained: Path, demo_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.jsonl"
    assert (
        main(
            [
                "predict",
                "--model",
                str(trained),
                "--data",
                str(demo_csv),
                "--output",
                str(out),
                "--chunk-rows",
                "64",
            ]
        )
        == 0
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["row"] for r in rows] == list(range(300))
    assert set(rows[0]) == {"row", "removed_probability", "removed"}


def _model_lines(trained: Path, demo_csv: Path) -> str:
    """What ``predict --data`` must write: ``json.dumps`` of the model's probabilities
    computed in this process, one line per row."""
    model = load_model(trained)
    texts = [text for chunk in iter_text_chunks(demo_csv) for text in chunk]
    p_removed = model.predict_proba(texts)[:, 1].tolist()
    return "".join(
        json.dumps({"row": i, "removed_probability": p, "removed": int(p >= model.threshold)})
        + "\n"
        for i, p in enumerate(p_removed)
    )


@pytest.mark.parametrize(
    "more", [[], ["--chunk-rows", "16", "--jobs", "2"]], ids=["one process", "two processes"]
)
def test_a_scored_file_holds_exactly_the_models_scores(
    trained: Path, demo_csv: Path, tmp_path: Path, more: list[str]
) -> None:
    """The command's own process (allocator and collector tuned for one batch) writes the
    same bytes as ``json.dumps`` of the model's probabilities computed in this process; so
    do two scoring processes (19 chunks, more than are read ahead: answers come back while
    chunks are still being sent)."""
    out = tmp_path / "scores.jsonl"
    result = run("predict", "--model", str(trained), "--data", str(demo_csv), "--output",
                 str(out), *more)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "scored 300 rows" in result.stderr
    assert out.read_text(encoding="utf-8") == _model_lines(trained, demo_csv)


def test_a_negative_number_of_processes_is_refused_in_one_line(
    trained: Path, demo_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "scores.jsonl"
    args = ["predict", "--model", str(trained), "--data", str(demo_csv), "--output", str(out)]
    with pytest.raises(SystemExit) as stopped:  # the argument parser's exit
        main([*args, "--jobs", "-1"])
    assert stopped.value.code == 2
    assert _one_error_line(capsys.readouterr().err, "predict", "argument --jobs: expected 0")
    assert not out.exists()


def dying_chunk(texts: list[str]) -> object:
    """A scoring process killed mid-chunk (out of memory, or by hand)."""
    os._exit(9)


def test_a_scoring_process_that_dies_ends_the_command_with_one_line(
    trained: Path, demo_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setattr("modstream.model.scoring._score_chunk", dying_chunk)
    args = ["predict", "--model", str(trained), "--data", str(demo_csv),
            "--output", str(tmp_path / "scores.jsonl"), "--jobs", "2"]  # fmt: skip
    assert main(args) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors[-1].startswith("modstream predict: error: a scoring process ended"), errors
    assert not any("Traceback" in line for line in errors)


def test_evaluate_json(trained: Path, demo_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--model", str(trained), "--data", str(demo_csv), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["roc_auc"] > 0.9
    assert set(metrics["confusion_matrix"]) == {"tn", "fp", "fn", "tp"}
    assert {"pr_auc", "precision", "recall", "f1", "calibration_error"} <= set(metrics)


def test_target_precision_is_stored(demo_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "strict"
    assert (
        main(
            [
                "train",
                "--data",
                str(demo_csv),
                "--out",
                str(out),
                "--quiet",
                "--jobs",
                "1",
                "--target-precision",
                "0.99",
            ]
        )
        == 0
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["metrics"]["cross_validated"]["precision"] >= 0.99
    assert manifest["training"]["target_precision"] == 0.99


def _bad_inputs(tmp: Path, trained: Path) -> list[tuple[list[str], str]]:
    (tmp / "empty.csv").write_bytes(b"")
    (tmp / "cols.csv").write_text("a,b\n1,2\n")
    (tmp / "labels.csv").write_text("body,removed\nhi,0\nyo,2\n")
    (tmp / "one.csv").write_text("body,removed\nhi,1\nyo,1\n")
    (tmp / "bytes.jsonl").write_bytes(b'{"body": "\xff", "removed": 1}\n')
    tampered = tmp / "tampered"
    tampered.mkdir()
    for f in trained.iterdir():
        (tampered / f.name).write_bytes(f.read_bytes())
    (tampered / "arrays.npz").write_bytes(b"garbage")
    train = ["train", "--out", str(tmp / "m"), "--data"]
    return [
        ([*train, str(tmp / "empty.csv")], "empty"),
        ([*train, str(tmp / "cols.csv")], "no text column"),
        ([*train, str(tmp / "labels.csv")], "other than 0/1/True/False"),
        ([*train, str(tmp / "one.csv")], "both classes"),
        ([*train, str(tmp / "bytes.jsonl")], "not valid utf-8"),
        ([*train, str(tmp / "missing.csv")], "no such file"),
        (["predict", "--model", str(tmp / "nope"), "x"], "no model artifact"),
        (["predict", "--model", str(tampered), "x"], "checksum"),
    ]


def test_bad_input_is_one_line_and_exit_2(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = _bad_inputs(tmp_path, trained)
    # One as a real process (its exit status and stderr), the rest through the same entry
    # point in this process, which is what ``python -m modstream`` calls.
    args, message = cases[0]
    result = run(*args)
    assert result.returncode == 2, (args, result.stderr)
    assert "Traceback" not in result.stderr
    assert _one_error_line(result.stderr, args[0], message)
    for args, message in cases[1:]:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert _one_error_line(err, args[0], message)
    assert not (tmp_path / "m").exists()


def _one_error_line(stderr: str, command: str, message: str) -> bool:
    last = stderr.strip().splitlines()[-1]
    return last.startswith(f"modstream {command}: error:") and message in last


def test_train_writes_a_self_contained_report(demo_csv: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    assert (
        main(
            [
                "train",
                "--data",
                str(demo_csv),
                "--out",
                str(tmp_path / "m"),
                "--quiet",
                "--jobs",
                "1",
                "--report",
                str(report),
                "--report-folds",
                "2",
            ]
        )
        == 0
    )
    html = report.read_text()
    assert "Algorithm comparison" in html and "data:image/png;base64," in html
    assert "<script src=" not in html and 'href="http' not in html


LONG = "the sample size in this study seems small " + "lol wake up sheeple " * 20


def _predict_json(model_dir: Path, *flags: str) -> dict:
    result = run("predict", "--model", str(model_dir), "--json", *flags, LONG)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_predict_and_the_rest_server_agree_on_a_text_over_the_limit(trained: Path) -> None:
    import httpx

    from tests.integration.serve_fixtures import running_server

    cut = _predict_json(trained, "--max-text-chars", "40")
    whole = _predict_json(trained, "--max-text-chars", str(len(LONG)))
    assert cut["removed_probability"] != whole["removed_probability"]
    for server in running_server(trained, "--max-text-chars", "40"):
        body = {"data": {"ndarray": [LONG]}}
        reply = httpx.post(f"{server.url}/api/v1.0/predictions", json=body, timeout=30).json()
        assert reply["data"]["ndarray"][0][1] == cut["removed_probability"]
