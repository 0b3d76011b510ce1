"""Compact storage for millions of pending rows: a NumPy hash index and growable columns.

A Python ``dict`` of comment ids to row objects costs several hundred bytes per comment;
these structures cost the bytes of their columns plus 12 bytes per index slot (half full
at most), and every operation works on a whole batch at once.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["Columns", "KeyIndex", "hash_ids"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_EMPTY = 0


def hash_ids(ids: list[str]) -> np.ndarray:
    """A stable non-zero 64-bit key per id (BLAKE2b; the same in every process and run)."""
    keys = np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(i.encode("utf-8"), digest_size=8).digest(), "little")
            for i in ids
        ),
        dtype=np.uint64,
        count=len(ids),
    ).view(np.int64)
    keys[keys == _EMPTY] = 1
    return keys


class KeyIndex:
    """Open-addressing hash table of non-zero int64 keys to int32 values (linear probing)."""

    def __init__(self, capacity: int = 1024) -> None:
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        size = 1 << max(4, (max(capacity, 1) - 1).bit_length())
        self.keys = np.zeros(size, dtype=np.int64)
        self.values = np.full(size, -1, dtype=np.int32)
        self.size = 0

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.values.nbytes)

    def _home(self, keys: np.ndarray) -> np.ndarray:
        bits = int(self.keys.size).bit_length() - 1
        mixed = keys.view(np.uint64) * _GOLDEN
        return (mixed >> np.uint64(64 - bits)).astype(np.int64)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key, or -1 where a key is absent."""
        result = np.full(keys.size, -1, dtype=np.int32)
        active = np.arange(keys.size)
        pos = self._home(keys)
        mask = self.keys.size - 1
        while active.size:
            found = self.keys[pos]
            hit = found == keys[active]
            result[active[hit]] = self.values[pos[hit]]
            more = ~hit & (found != _EMPTY)
            active = active[more]
            pos = (pos[more] + 1) & mask
        return result

    def insert(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Add keys that are absent and unique (the caller de-duplicates)."""
        if (self.size + keys.size) * 2 > self.keys.size:
            self._grow(self.size + keys.size)
        active = np.arange(keys.size)
        pos = self._home(keys)
        mask = self.keys.size - 1
        while active.size:
            free = self.keys[pos] == _EMPTY
            claim_pos, first = np.unique(pos[free], return_index=True)
            winners = active[free][first]
            self.keys[claim_pos] = keys[winners]
            self.values[claim_pos] = values[winners]
            placed = np.zeros(keys.size, dtype=bool)
            placed[winners] = True
            rest = ~placed[active]
            active = active[rest]
            pos = (pos[rest] + 1) & mask
        self.size += keys.size

    def _grow(self, needed: int) -> None:
        live = self.keys != _EMPTY
        keys, values = self.keys[live], self.values[live]
        self._allocate(needed * 2)
        self.insert(keys, values)

    @classmethod
    def build(cls, keys: np.ndarray, values: np.ndarray) -> KeyIndex:
        """A fresh index of unique ``keys`` (after compaction or loading a snapshot)."""
        index = cls(keys.size * 2)
        index.insert(keys, values)
        return index


class Columns:
    """Named NumPy columns of one length that grow by doubling; rows are appended in bulk."""

    def __init__(self, dtypes: dict[str, str], capacity: int = 1024) -> None:
        self.dtypes = dtypes
        self._data = {name: np.zeros(capacity, dtype=dt) for name, dt in dtypes.items()}
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, name: str) -> np.ndarray:
        """The live part of column ``name`` (a view: writes go to the table)."""
        return self._data[name][: self.size]

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in self._data.values())

    def append(self, **values: np.ndarray | float | int) -> np.ndarray:
        """Append rows (every column given or filled with its default); returns their indices."""
        n = max((np.size(v) for v in values.values()), default=0)
        if self.size + n > next(iter(self._data.values())).size:
            self._reserve(self.size + n)
        start = self.size
        self.size += n
        for name, array in self._data.items():
            array[start : self.size] = values.get(name, 0)
        return np.arange(start, self.size)

    def _reserve(self, needed: int) -> None:
        capacity = max(needed, 2 * next(iter(self._data.values())).size)
        for name, array in self._data.items():
            grown = np.zeros(capacity, dtype=array.dtype)
            grown[: self.size] = array[: self.size]
            self._data[name] = grown

    def keep(self, mask: np.ndarray) -> np.ndarray:
        """Drop the rows where ``mask`` is false; returns old index -> new index (-1 dropped)."""
        remap = np.full(self.size, -1, dtype=np.int64)
        remap[mask] = np.arange(int(mask.sum()))
        for name in list(self._data):
            self._data[name] = np.ascontiguousarray(self[name][mask])
        self.size = int(mask.sum())
        if self.size == 0:
            self._reserve(16)
        return remap

    def arrays(self) -> dict[str, np.ndarray]:
        """Copies of the live columns (for a snapshot)."""
        return {name: self[name].copy() for name in self._data}

    @classmethod
    def from_arrays(cls, dtypes: dict[str, str], arrays: dict[str, np.ndarray]) -> Columns:
        size = len(next(iter(arrays.values()))) if arrays else 0
        table = cls(dtypes, max(size, 16))
        table.size = size
        for name, dt in dtypes.items():
            table._data[name][:size] = np.asarray(arrays[name], dtype=dt)
        return table
