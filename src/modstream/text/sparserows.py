"""Tf-idf rows built straight from column ids, without scipy's and scikit-learn's checks.

Scoring one comment is a few hundred multiplications, yet building it through
``scipy.sparse`` constructors, ``TfidfTransformer.transform`` and ``normalize`` costs about
a millisecond of input validation per call. These rows are computed with the same
floating-point operations in the same order (counts, ``log(tf) + 1``, times idf, then
scikit-learn's own in-place L2 normalisation), so the result is bit for bit what the
straightforward path computes; ``tests/unit/test_fast_paths.py`` checks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2


@dataclass
class Rows:
    """A CSR matrix as its three arrays and its width; each row's entry order is kept."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    width: int

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    @classmethod
    def counted(
        cls, rows: np.ndarray, columns: np.ndarray, n_rows: int, width: int, *, descending: bool
    ) -> Rows:
        """Counts of each (row, column) pair, columns ascending or descending in each row.

        The pairs are counted by sorting one key per pair; 32-bit keys (whenever rows ×
        width fits) sort about twice as fast as 64-bit ones.
        """
        kind: type[np.signedinteger] = np.int32 if n_rows * width < 2**31 else np.int64
        keyed: np.ndarray = columns.astype(kind)
        if descending:
            keyed = (width - 1) - keyed
        keys, counts = np.unique(rows.astype(kind) * width + keyed, return_counts=True)
        found_rows, found = np.divmod(keys, width)
        if descending:
            found = (width - 1) - found
        indptr = np.zeros(n_rows + 1, dtype=np.int32)
        np.cumsum(np.bincount(found_rows, minlength=n_rows), out=indptr[1:])
        return cls(counts.astype(np.float64), found.astype(np.int32), indptr, width)

    @classmethod
    def of(cls, matrix: sp.spmatrix) -> Rows:
        """The rows of a scipy matrix (converted to CSR if needed), entry order kept."""
        csr = sp.csr_matrix(matrix)
        return cls(csr.data, csr.indices, csr.indptr, csr.shape[1])

    def tfidf(self, sublinear_tf: bool, idf: np.ndarray | None) -> Rows:
        """``log(tf) + 1`` when sub-linear, times idf, then each row scaled to unit L2 norm."""
        if sublinear_tf:
            np.log(self.data, self.data)
            self.data += 1.0
        if idf is not None:
            self.data *= idf[self.indices]
        inplace_csr_row_normalize_l2(self)
        return self

    @property
    def shape(self) -> tuple[int, int]:
        """For scikit-learn's in-place normalisation, which reads CSR attributes."""
        return (self.n_rows, self.width)

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """Each row's sum of its values times ``weights`` at its columns: ``to_csr() @
        weights`` bit for bit, without building the matrix. scipy's product starts each
        row's sum at zero and adds the row's entries in order; ``np.bincount`` with weights
        does exactly that, entry after entry. (With no entries at all, ``np.bincount``
        answers integers; the zeros are returned as floats, as scipy's are.)"""
        products = self.data * weights[self.indices]
        rows = row_ids(np.diff(self.indptr))
        sums = np.bincount(rows, weights=products, minlength=self.n_rows)
        return sums.astype(np.float64, copy=False)

    def to_csr(self) -> sp.csr_matrix:
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


def row_ids(lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    """The row of every entry when row ``i`` holds ``lengths[i]`` entries."""
    return np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)


def hstack(blocks: Sequence[Rows]) -> Rows:
    """Blocks side by side: each row is its blocks' entries in block order, columns offset."""
    if len(blocks) == 1:
        return blocks[0]
    offsets = np.cumsum([0] + [b.width for b in blocks])
    data = np.concatenate([b.data for b in blocks])
    indices = np.concatenate(
        [b.indices.astype(np.int64) + off for b, off in zip(blocks, offsets, strict=False)]
    )
    if blocks[0].n_rows > 1:  # gather each row's entries; one comment's are in place already
        order = np.argsort(
            np.concatenate([row_ids(np.diff(b.indptr)) for b in blocks]), kind="stable"
        )
        data, indices = data[order], indices[order]
    indptr = np.sum([b.indptr for b in blocks], axis=0).astype(np.int32)
    return Rows(data, indices.astype(np.int32), indptr, int(offsets[-1]))


def vstack(parts: Sequence[Rows]) -> Rows:
    """Row blocks of the same width one under another."""
    if len(parts) == 1:
        return parts[0]
    offsets = np.cumsum([0] + [int(p.indptr[-1]) for p in parts[:-1]])
    indptr = [parts[0].indptr[:1]] + [p.indptr[1:] + o for p, o in zip(parts, offsets, strict=True)]
    return Rows(
        np.concatenate([p.data for p in parts]),
        np.concatenate([p.indices for p in parts]),
        np.concatenate(indptr).astype(np.int32),
        parts[0].width,
    )
