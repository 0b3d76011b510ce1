"""The NumPy hash index and columns behind the monitor's state, against a plain dict."""

from __future__ import annotations

import numpy as np

from modstream.monitor.index import Columns, KeyIndex, hash_ids


def test_the_index_finds_what_was_inserted_and_nothing_else() -> None:
    rng = np.random.default_rng(0)
    index = KeyIndex(capacity=16)
    truth: dict[int, int] = {}
    for _ in range(30):  # many small batches: growth and collisions along the way
        keys = np.unique(rng.integers(1, 2**62, 700)).astype(np.int64)
        keys = keys[[int(k) not in truth for k in keys]]
        values = rng.integers(0, 2**31 - 1, keys.size).astype(np.int32)
        index.insert(keys, values)
        truth.update(zip(keys.tolist(), values.tolist(), strict=True))
    probe = np.array([*list(truth)[:5000], 3, 5, 7], dtype=np.int64)
    expected = [truth.get(int(k), -1) for k in probe]
    assert index.lookup(probe).tolist() == expected
    assert len(index) == len(truth) and index.keys.size >= 2 * len(truth)


def test_sequential_keys_do_not_pile_up() -> None:
    keys = np.arange(1, 200_001, dtype=np.int64)
    index = KeyIndex.build(keys, np.arange(keys.size, dtype=np.int32))
    assert np.array_equal(index.lookup(keys), np.arange(keys.size))


def test_ids_hash_the_same_in_every_run() -> None:
    keys = hash_ids(["t1_abc", "t1_abd", ""])
    assert keys.tolist() == hash_ids(["t1_abc", "t1_abd", ""]).tolist()
    assert len(set(keys.tolist())) == 3 and 0 not in keys.tolist()
    assert int(keys[0]) == -5767992878512923368


def test_columns_grow_and_compact() -> None:
    table = Columns({"a": "i4", "b": "f8"}, capacity=2)
    table.append(a=np.arange(5), b=1.5)
    table.append(a=np.array([9]))
    assert table["a"].tolist() == [0, 1, 2, 3, 4, 9]
    assert table["b"].tolist() == [1.5] * 5 + [0.0]
    remap = table.keep(table["a"] % 2 == 0)
    assert table["a"].tolist() == [0, 2, 4] and remap.tolist() == [0, -1, 1, -1, 2, -1]
    copy = Columns.from_arrays({"a": "i4", "b": "f8"}, table.arrays())
    assert copy["a"].tolist() == [0, 2, 4]
