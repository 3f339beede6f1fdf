"""The SearchSpace contract every space implements: pure data, no torch."""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

from nasbench.errors import OutOfDomainError

if TYPE_CHECKING:  # networkx costs ~0.1 s to import: only graph users pay it
    import networkx as nx
    import numpy as np

Arch = Hashable  # each space defines its own frozen architecture value type


def is_integer(value: Any) -> bool:
    """True for Python and numpy integers, False for bools (numpy need not be imported)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class SearchSpace(ABC):
    """Enumerates, samples, mutates and converts architectures of one space.

    Architectures are frozen value objects; conversions go to and from a canonical
    string, an integer index (when the space is enumerable), a networkx graph and
    fixed-length encodings. ``hash`` is equal for architectures that compute the
    same function, and is the key of every table.
    """

    name: str
    size: int | None  # number of architectures, None if not enumerable
    encodings: tuple[str, ...]
    #: (vertices, vertex types) of the ``graph`` encoding (a flat V x V adjacency, then the
    #: V x T vertex-type one-hot); None where the space has no graph encoding
    graph_shape: tuple[int, int] | None = None
    #: indices strategies may propose, ascending; None: all of them (see nasbench.spaces.subset)
    domain: np.ndarray | None = None

    def allows(self, arch: Any) -> bool:
        """Whether ``arch`` is in :attr:`domain` (always, for a whole space)."""
        return True

    @abstractmethod
    def parse(self, text: str) -> Any:
        """Architecture from its canonical string (raises InvalidArchitectureError)."""

    @abstractmethod
    def to_string(self, arch: Any) -> str:
        """Canonical string of an architecture."""

    @abstractmethod
    def index(self, arch: Any) -> int:
        """Integer index of an architecture in the space's fixed order."""

    def checked_index(self, index: Any) -> int:
        """``index`` as an int in ``range(size)``, or OutOfDomainError naming the bad value."""
        if type(index) is not int and not is_integer(index):
            raise OutOfDomainError(f"index: expected an integer, got {index!r}")
        if self.size is None or not 0 <= index < self.size:
            upper = "not enumerable" if self.size is None else f"0..{self.size - 1}"
            raise OutOfDomainError(f"index: {index} is out of range for {self.name} ({upper})")
        return int(index)

    @abstractmethod
    def from_index(self, index: int) -> Any:
        """Architecture at an integer index (raises OutOfDomainError)."""

    @abstractmethod
    def coerce(self, value: Any) -> Any:
        """Architecture from an architecture, a canonical string or an index."""

    def checked_indices(self, indices: np.ndarray) -> np.ndarray:
        """An integer array of indices, range-checked in one step (OutOfDomainError naming the first bad one)."""
        import numpy as np

        flat = np.asarray(indices).astype(np.int64).reshape(-1)
        bad = flat[(flat < 0) | (flat >= (self.size or 0))]
        if len(bad):
            self.checked_index(int(bad[0]))
        return flat

    def indices(self, archs: Sequence[Any]) -> np.ndarray:
        """Vectorised :meth:`index` of many architectures (cells, strings or indices)."""
        import numpy as np

        if isinstance(archs, np.ndarray) and archs.dtype.kind in "iu":
            return self.checked_indices(archs)
        return np.fromiter((self.index(self.coerce(a)) for a in archs), dtype=np.int64, count=len(archs))

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Any:
        """A uniformly random architecture."""

    @abstractmethod
    def mutate(self, arch: Any, rng: np.random.Generator) -> Any:
        """A random neighbour of ``arch`` (never ``arch`` itself)."""

    @abstractmethod
    def neighbours(self, arch: Any) -> list[Any]:
        """All architectures one mutation away, in a fixed order."""

    @abstractmethod
    def hash(self, arch: Any) -> str:
        """Isomorphism-aware canonical hash: equal iff the cells compute the same function."""

    @abstractmethod
    def to_graph(self, arch: Any) -> nx.DiGraph:
        """A networkx DiGraph view of the architecture with op labels."""

    @abstractmethod
    def encode(self, archs: Sequence[Any], kind: str) -> np.ndarray:
        """Fixed-length encodings, one row per architecture."""
