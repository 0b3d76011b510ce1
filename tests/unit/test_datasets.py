"""Dataset readers: every layout, the cleaning report, and clear errors for bad files."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from modstream.datasets import iter_text_chunks, read_dataset
from modstream.errors import DataError
from tests.conftest import DEV_CSV, needs_dev_data

KAGGLE_ROWS = [
    (
        b'0,10,"First line\r\nsecond line, with a comma",0',
        "First line\r\nsecond line, with a comma",
        0,
    ),
    (b"1,11,Caf\xe9 au lait is not science,1", "Café au lait is not science", 1),
    (b"2,12,it\xe2\x80\x99s a mis-decoded quote,0", "it\u2019s a mis-decoded quote", 0),
    (b"3,13,,1", None, None),
    (b"4,14,Caf\xe9 au lait is not science,1", None, None),
    (b"5,15,Your submission has been removed for breaking rule 3,1", "Your submission", 1),
]


def write_kaggle(path: Path) -> Path:
    body = b",X,BODY,REMOVED\r\n" + b"\r\n".join(raw for raw, _, _ in KAGGLE_ROWS) + b"\r\n"
    path.write_bytes(body)
    return path


def test_kaggle_layout_latin1_crlf_multiline_with_repairs_and_counts(tmp_path: Path) -> None:
    data = read_dataset(write_kaggle(tmp_path / "reddit_train.csv"))
    assert data.texts[:3] == [row[1] for row in KAGGLE_ROWS[:3]]
    assert data.labels.tolist() == [0, 1, 0, 1]
    assert data.report["empty_dropped"] == 1
    assert data.report["duplicates_dropped"] == 1
    assert data.report["rows_read"] == 6 and data.report["rows_kept"] == 4


def test_drop_boilerplate_removes_leaked_moderator_text(tmp_path: Path) -> None:
    data = read_dataset(write_kaggle(tmp_path / "r.csv"), drop_boilerplate=True)
    assert not any("submission has been removed" in t for t in data.texts)
    assert data.report["boilerplate_dropped"] == 1


def test_200k_layout_true_false_labels_and_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "reddit_200k_train.csv"
    path.write_text(
        ",body,score.x,parent_id.x,id,created_utc.x,retrieved_on,removed\n"
        "0,Great study,5,t3_a,c1,1500000000,1500000100,False\n"
        "1,lol no,1,t3_a,c2,1500000001,1500000101,True\n"
        '2,"Well, maybe",2,t3_b,c3,1500000002,1500000102,false\n',
        encoding="utf-8",
    )
    data = read_dataset(path)
    assert data.texts == ["Great study", "lol no", "Well, maybe"]
    assert data.labels.tolist() == [0, 1, 0]


def test_generic_csv_and_jsonl_with_named_columns(tmp_path: Path) -> None:
    csv_path = tmp_path / "g.csv"
    csv_path.write_text("id,Message,Flagged\n1,hello there,0\n2,go away,1\n", encoding="utf-8")
    jsonl = tmp_path / "g.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps({"message": m, "flagged": f}) for m, f in [("hi", 0), ("bye", 1)]),
        encoding="utf-8",
    )
    a = read_dataset(csv_path, text_column="message", label_column="FLAGGED")
    b = read_dataset(jsonl, text_column="message", label_column="flagged")
    assert (a.texts, a.labels.tolist()) == (["hello there", "go away"], [0, 1])
    assert (b.texts, b.labels.tolist()) == (["hi", "bye"], [0, 1])


@needs_dev_data
def test_the_real_dev_sample() -> None:
    data = read_dataset(DEV_CSV)
    assert data.report["rows_read"] == 5000
    assert len(data.texts) == data.report["rows_kept"] > 4900
    assert 0.30 < data.labels.mean() < 0.35


@pytest.mark.parametrize(
    ("content", "kwargs", "message"),
    [
        (b"", {}, "empty"),
        (b",X,BODY,REMOVED\r\n", {}, "no rows"),
        (b"a,b\n1,2\n", {}, "no text column found"),
        (b"body,removed\nhi,0\n", {"text_column": "message"}, "no column named 'message'"),
        (b"body,removed\nhi,0\nyo,maybe\n", {}, "other than 0/1/True/False"),
        (b"body,removed\nhi,1\nyo,1\n", {}, "needs both classes"),
        (b"body,removed\nh\xe9,1\nyo,0\n", {"encoding": "utf-8"}, "not valid utf-8"),
    ],
)
def test_bad_files_are_clear_errors(
    tmp_path: Path, content: bytes, kwargs: dict, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_dataset(path, **kwargs)


def test_undecodable_jsonl_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"body": "caf\xe9", "removed": 1}\n')
    with pytest.raises(DataError, match="not valid utf-8"):
        read_dataset(path)


def test_text_chunks_keep_every_row_in_order(tmp_path: Path) -> None:
    path = write_kaggle(tmp_path / "r.csv")
    chunks = list(iter_text_chunks(path, chunk_rows=4))
    assert [len(c) for c in chunks] == [4, 2]
    assert chunks[0][1] == "Café au lait is not science" and chunks[0][3] == ""


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    served = tmp_path / "www"
    served.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(served), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", served, requests
    server.shutdown()


def test_url_is_downloaded_once_verified_and_cached(
    http_root: tuple[str, Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, served, requests = http_root
    monkeypatch.setenv("MODSTREAM_CACHE_DIR", str(tmp_path / "cache"))
    write_kaggle(served / "train.csv")
    digest = hashlib.sha256((served / "train.csv").read_bytes()).hexdigest()
    first = read_dataset(f"{base}/train.csv", sha256=digest)
    second = read_dataset(f"{base}/train.csv", sha256=digest)
    assert first.texts == second.texts and len(first.texts) == 4
    assert len(requests) == 1
    assert next(iter((tmp_path / "cache" / "data").iterdir())).name.endswith("train.csv")


def test_url_with_wrong_checksum_is_refused_and_not_cached(
    http_root: tuple[str, Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, served, _ = http_root
    monkeypatch.setenv("MODSTREAM_CACHE_DIR", str(tmp_path / "cache"))
    write_kaggle(served / "train.csv")
    with pytest.raises(DataError, match="refused"):
        read_dataset(f"{base}/train.csv", sha256="0" * 64)
    assert list((tmp_path / "cache" / "data").iterdir()) == []


def test_url_without_checksum_is_refused() -> None:
    with pytest.raises(DataError, match="--sha256"):
        read_dataset("https://example.invalid/data.csv")
