"""The training report is one self-contained HTML file a reviewer can open offline."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pytest

from modstream.datasets import Dataset, read_dataset
from modstream.demo import demo_dataset
from modstream.errors import DataError
from modstream.model import TextModel
from modstream.model.compare import compare, subsample
from modstream.model.train import train
from modstream.report import write_report
from tests.conftest import DEV_CSV, needs_dev_data

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
IMAGES = re.compile(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    data = demo_dataset()
    result = train(data, "default", folds=3, n_jobs=1)
    comparison = compare(subsample(data, 150), folds=2, tokenizers=True)
    path = tmp_path_factory.mktemp("report") / "nested" / "report.html"
    written = write_report(
        path, data=data, model=result.model, oof=result.oof, comparison=comparison
    )
    assert written == path
    return path.read_text(encoding="utf-8")


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(b) for b in IMAGES.findall(page)]


def test_report_is_self_contained(demo_report: str) -> None:
    assert demo_report.startswith("<!DOCTYPE html>")
    assert EXTERNAL.search(demo_report) is None
    assert "<script" not in demo_report
    assert "<link" not in demo_report


def test_report_has_every_section_and_embedded_plots(demo_report: str) -> None:
    for anchor in ("model", "data", "ngrams", "comparison", "performance", "features"):
        assert f'id="{anchor}"' in demo_report
    for text in (
        "removed (t:1)",
        "rows kept",
        "typical of removed",
        "Algorithm comparison",
        "Heaviest features",
        "multinomial NB",
        "lookup lemmas",
        "ROC AUC",
    ):
        assert text in demo_report
    images = _images(demo_report)
    # balance, lengths, 2 comparison box plots, ROC/PR, threshold, confusion, features
    assert len(images) == 8
    assert all(png.startswith(PNG_MAGIC) for png in images)


def test_report_shows_the_model_metadata(demo_report: str, model: TextModel) -> None:
    assert "preset" in demo_report and "default" in demo_report
    assert "threshold on P(removed)" in demo_report
    assert "F1 of removed" in demo_report


def test_comparison_is_optional_and_text_is_escaped(model: TextModel, tmp_path: Path) -> None:
    data = demo_dataset()
    hostile = Dataset(
        texts=[*data.texts, "<script>alert(1)</script> lol idiot"],
        labels=np.append(data.labels, 1),
        sha256="x",
        report={"source": "<b>evil</b>.csv", "rows_read": 601, "rows_kept": 601},
    )
    oof = model.predict_proba(hostile.texts)[:, 1]
    page = write_report(tmp_path / "r.html", data=hostile, model=model, oof=oof).read_text()
    assert 'id="comparison"' not in page
    assert "<script" not in page and "<b>evil" not in page
    assert "&lt;b&gt;evil&lt;/b&gt;.csv" in page
    assert len(_images(page)) == 6


def test_scores_that_do_not_match_the_rows_are_refused(model: TextModel, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="3 out-of-fold scores for 600 rows"):
        write_report(tmp_path / "r.html", data=demo_dataset(), model=model, oof=np.zeros(3))
    assert not (tmp_path / "r.html").exists()


@needs_dev_data
def test_report_on_the_real_dev_sample(tmp_path: Path) -> None:
    data = subsample(read_dataset(DEV_CSV), 1500)
    result = train(data, "default", folds=3, n_jobs=1)
    page = write_report(
        tmp_path / "dev.html", data=data, model=result.model, oof=result.oof
    ).read_text(encoding="utf-8")
    assert EXTERNAL.search(page) is None
    assert "rows sampled" in page and "duplicate rows dropped" in page
    assert "char:" in page  # default preset's character n-grams among the heaviest features
    assert len(_images(page)) == 6
