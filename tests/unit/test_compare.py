"""The algorithm comparison: every candidate scored on every fold, tables, JSON and plots."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from modstream.cli import main
from modstream.datasets import Dataset
from modstream.demo import demo_dataset, write_demo_csv
from modstream.errors import DataError
from modstream.model.candidates import classifiers, tokenizations
from modstream.model.compare import ComparisonResult, compare, subsample

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result() -> ComparisonResult:
    return compare(subsample(demo_dataset(), 240), folds=3)


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "demo.csv"
    write_demo_csv(path)
    return path


def test_every_classifier_and_tokenization_has_finite_scores_per_fold(
    result: ComparisonResult,
) -> None:
    assert [r.name for r in result.classifiers] == [c.name for c in classifiers("default")]
    assert [r.name for r in result.tokenizers] == [t.name for t in tokenizations("default")]
    for row in result.classifiers + result.tokenizers:
        for metric in (row.roc_auc, row.pr_auc, row.f1_tuned, row.f1_default, row.fit_seconds):
            assert len(metric) == 3
            assert all(math.isfinite(v) for v in metric)
        assert 0.0 <= row.mean("roc_auc") <= 1.0
    # the demo corpus is easy: every candidate should rank far better than chance
    assert min(r.mean("roc_auc") for r in result.classifiers) > 0.9


def test_fold_count_is_respected_and_reported(result: ComparisonResult) -> None:
    assert result.folds == 3
    assert len(result.feature_seconds) == 3
    assert result.rows == 240
    assert json.loads(json.dumps(result.to_dict()))["classifiers"][0]["per_fold"]["roc_auc"]


def test_sample_keeps_both_classes_in_proportion() -> None:
    data = demo_dataset()
    sample = subsample(data, 100)
    assert len(sample.texts) == 100
    assert abs(sample.labels.mean() - data.labels.mean()) < 0.02
    assert sample.report["sampled_rows"] == 100


def test_too_few_rows_per_class_for_the_folds_is_a_data_error() -> None:
    tiny = Dataset(texts=["a b", "c d", "e f", "g h"], labels=np.array([0, 0, 0, 1]), sha256="")
    with pytest.raises(DataError, match="at least 5 rows of each class"):
        compare(tiny, folds=5)


def test_cli_prints_both_tables_and_writes_two_pngs(
    demo_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / "cmp.png"
    code = main(
        [
            "compare",
            "--data",
            str(demo_csv),
            "--folds",
            "2",
            "--sample",
            "150",
            "--plot",
            str(plot),
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "2-fold stratified CV, 150 rows" in out
    for name in ("logistic regression", "linear SVM", "multinomial NB", "ridge", "extra trees"):
        assert name in out
    for name in ("spaCy lemmas", "word tokens", "lookup lemmas", "char 1-4-grams"):
        assert name in out
    assert "ROC AUC" in out and "F1 @tuned" in out
    assert plot.read_bytes().startswith(PNG_MAGIC)
    assert (tmp_path / "cmp-tokenizers.png").read_bytes().startswith(PNG_MAGIC)


def test_cli_json_parses(demo_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "compare",
            "--data",
            str(demo_csv),
            "--folds",
            "2",
            "--sample",
            "120",
            "--skip-tokenizers",
            "--json",
            "--quiet",
        ]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["folds"] == 2
    assert payload["tokenizers"] == []
    names = {row["name"] for row in payload["classifiers"]}
    assert "multinomial NB" in names
    assert all(0.0 <= row["roc_auc_mean"] <= 1.0 for row in payload["classifiers"])


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (None, [], "no such file"),
        ("body,removed\nhello,1\nworld,0\n", ["--folds", "2"], "at least 2 rows of each class"),
        ("text,removed\nhello,maybe\n", [], "other than 0/1"),
        ("body,removed\na,1\nb,0\nc,1\nd,0\n", ["--folds", "1"], "--folds must be at least 2"),
        ("body,removed\na,1\nb,0\nc,1\nd,0\n", ["--sample", "0"], "--sample must be positive"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    extra: list[str],
    message: str,
) -> None:
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_text(content)
    code = main(["compare", "--data", str(path), "--quiet", *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.startswith("modstream compare: error:")
    assert err.count("\n") == 1
