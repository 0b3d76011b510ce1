"""Back to training: export comments with their latest decisions, train on the CSV as is,
and re-tune a model's threshold on it without touching its weights."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from modstream.broker import EmbeddedBroker
from modstream.cli import main
from modstream.demo.corpus import demo_rows
from modstream.model import load_model, read_manifest
from modstream.model.threshold import choose_threshold
from tests.integration.monitor_fixtures import produce_records
from tests.integration.stream_fixtures import unique
from tests.unit.monitor_records import T0, iso

pytestmark = pytest.mark.integration


def _decision(ident: str, removed: bool, at: float, source: str = "moderator") -> tuple:
    value = {"id": ident, "removed": removed, "source": source, "at": iso(at)}
    return (ident.encode(), json.dumps(value).encode(), [])


@pytest.fixture
def exported(broker: EmbeddedBroker, tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """An export of 150 demo comments and their decisions (appeals, a bad one, strays)."""
    comments, decisions = unique("comments"), unique("decisions")
    broker.create_topics({comments: 2, decisions: 2})
    rows = demo_rows(150, seed=3)
    records, expected = [], {}
    for i, (text, removed) in enumerate(rows):
        key, headers = f"c{i}", [("modstream.community", b"bio" if i % 2 else b"art")]
        records.append((key.encode(), json.dumps({"data": {"ndarray": [text]}}).encode(), headers))
        expected[key] = removed
    records.append(records[0])  # a redelivered input is one comment
    records.append(
        (None, json.dumps({"data": {"ndarray": ["no key"]}, "meta": {"puid": "p1"}}).encode(), [])
    )
    records.append((b"two", json.dumps({"data": {"ndarray": ["first", "second"]}}).encode(), []))
    produce_records(broker, comments, records)
    votes = [_decision(k, bool(v), T0 + i) for i, (k, v) in enumerate(expected.items())]
    votes += [_decision("c1", not expected["c1"], T0 - 60)]  # older: loses to the first one
    votes += [_decision("c2", not expected["c2"], T0 + 9999, "appeal")]  # newer: wins
    expected["c2"] = 1 - expected["c2"]
    votes += [_decision("p1", True, T0), _decision("two#1", False, T0), _decision("gone", True, T0)]
    expected.update({"p1": 1, "two#1": 0})
    votes += [(b"bad", b"{not json", [])]
    produce_records(broker, decisions, votes)
    out = tmp_path / "labels.csv"
    argv = ["export", "--bootstrap-servers", broker.bootstrap_servers, "--input-topic", comments,
            "--decisions-topic", decisions, "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    return out, expected


def test_the_export_has_each_decided_comment_once_with_its_latest_decision(
    exported: tuple[Path, dict[str, int]],
) -> None:
    out, expected = exported
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["id", "community", "body", "removed", "decided_at", "source"]
    assert {r["id"]: int(r["removed"]) for r in rows} == expected
    assert len(rows) == len(expected)
    by_id = {r["id"]: r for r in rows}
    assert by_id["c2"]["source"] == "appeal" and by_id["c3"]["community"] == "bio"
    assert by_id["two#1"]["body"] == "second" and by_id["p1"]["body"] == "no key"
    provenance = json.loads(Path(f"{out}.labels.json").read_text())
    assert provenance["rows"] == len(expected) and provenance["bad_decisions"] == 1
    assert provenance["decisions_without_text"] == 1
    moderator = len(expected) + 2  # plus the overruled one on c1 and the one on "gone"
    assert provenance["decisions_by_source"] == {"moderator": moderator, "appeal": 1}


def test_train_reads_the_export_as_is_and_records_where_the_labels_came_from(
    exported: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    out, expected = exported
    model_dir = tmp_path / "model"
    assert (
        main(["train", "--data", str(out), "--out", str(model_dir), "--folds", "2", "--quiet"]) == 0
    )
    reading = read_manifest(model_dir)["training"]["reading"]
    assert reading["rows_kept"] == len(expected)
    assert reading["labels"] == json.loads(Path(f"{out}.labels.json").read_text())


def test_retune_changes_the_threshold_and_nothing_else(
    exported: tuple[Path, dict[str, int]], model_dir: Path, tmp_path: Path
) -> None:
    out, expected = exported
    tuned_dir = tmp_path / "tuned"
    argv = ["retune", "--model", str(model_dir), "--data", str(out), "--target-recall", "0.95",
            "--out", str(tuned_dir), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    for name in ("arrays.npz", "vocabulary.json"):
        assert (tuned_dir / name).read_bytes() == (model_dir / name).read_bytes(), name
    old, new = load_model(model_dir), load_model(tuned_dir)
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    texts, labels = [r["body"] for r in rows], np.array([int(r["removed"]) for r in rows])
    scores = old.predict_proba(texts)[:, 1]
    assert new.threshold == choose_threshold(labels, scores, target_recall=0.95)
    np.testing.assert_array_equal(new.predict_proba(texts), old.predict_proba(texts))
    assert new.version != old.version and new.name == old.name
    retuned = read_manifest(tuned_dir)["training"]["retuned"]
    assert retuned["from_version"] == old.version and retuned["previous_threshold"] == old.threshold
    assert retuned["reading"]["labels"]["rows"] == len(expected)
    assert new.metrics["decisions"]["recall"] >= 0.95
