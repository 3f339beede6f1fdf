"""Per-architecture memo of a surrogate's predictions, so an oracle's one-at-a-time
queries cost a lookup: an enumerable space of at most DENSE_LIMIT architectures is
predicted whole on first use (one vectorised pass); any other space keeps a dict from
canonical string to a row, predicting only architectures not seen before."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nasbench.spaces import SearchSpace

DENSE_LIMIT = 1_000_000  # predict the whole space up front when it has at most this many architectures
CHUNK = 65_536  # architectures per prediction pass (bounds the memory of one pass)


def as_list(archs: Any) -> list[Any]:
    """A list of architectures from one architecture or a sequence of them."""
    if isinstance(archs, (list, tuple)) and not hasattr(archs, "_fields"):
        return list(archs)
    if isinstance(archs, np.ndarray):
        return archs.ravel().tolist()
    if isinstance(archs, (str, bytes, int, np.integer)) or not isinstance(archs, Sequence):
        return [archs]
    return list(archs)


class PredictionMemo:
    """Rows of ``predict(archs) -> (n, width)`` per architecture of ``space``, computed once."""

    def __init__(self, space: SearchSpace, predict: Callable[[Sequence[Any]], np.ndarray]) -> None:
        """Nothing is predicted until the first :meth:`rows`."""
        self.space = space
        self.predict = predict
        self.dense = bool(space.size) and space.size <= DENSE_LIMIT
        self._all: np.ndarray | None = None
        self._row_of: dict[str, int] = {}
        self._buffer = np.empty((0, 0))  # rows 0..len(_row_of)-1 hold predictions; grows by doubling

    def indices(self, archs: list[Any]) -> np.ndarray:
        """Space indices of architectures (cells, canonical strings or indices)."""
        vectorised = getattr(self.space, "indices", None)
        if vectorised is not None:
            return np.asarray(vectorised(archs), dtype=np.int64)
        return np.fromiter((self.space.index(self.space.coerce(a)) for a in archs), dtype=np.int64, count=len(archs))

    def rows(self, archs: Any) -> np.ndarray:
        """(n, width) read-only predictions of ``archs`` (one architecture or a sequence)."""
        items = archs.ravel() if isinstance(archs, np.ndarray) and archs.dtype.kind in "iu" else as_list(archs)
        if self.dense:
            if self._all is None:
                size = int(self.space.size)
                parts = [self.predict(np.arange(start, min(start + CHUNK, size))) for start in range(0, size, CHUNK)]
                self._all = np.vstack(parts)
                self._all.flags.writeable = False
            return self._all[self.indices(items)]
        keys = [self.space.to_string(self.space.coerce(a)) for a in items]
        new = list(dict.fromkeys(k for k in keys if k not in self._row_of))
        if new:
            values = self.predict(new)
            count = len(self._row_of)
            if count + len(new) > len(self._buffer):
                grown = np.empty((max(2 * len(self._buffer), count + len(new), 64), values.shape[1]))
                if count:
                    grown[:count] = self._buffer[:count]
                self._buffer = grown
            self._buffer[count:count + len(new)] = values
            for offset, key in enumerate(new):
                self._row_of[key] = count + offset
        return self._buffer[[self._row_of[k] for k in keys]]
