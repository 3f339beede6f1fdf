"""NAS-Bench-201's index order, precomputed: ``code_of_index()[i]`` is the base-5 code of the
cell at index ``i`` (``random.seed(88); random.shuffle(codes)`` over codes 0..15,624, as
NAS-Bench-201 builds it). Rebuilding it with Python's ``random`` costs 10-30 ms at every
start; loading ``nb201_order.npy`` (31 KB, int16) costs well under a millisecond. The file
is written by ``python -m nasbench.spaces.nb201_order``; the test
``test_precomputed_order_is_the_seed_88_shuffle`` checks it against the shuffle itself.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

NUM_CELLS = 15625
SHUFFLE_SEED = 88
ORDER_FILE = Path(__file__).with_name("nb201_order.npy")


def code_of_index() -> np.ndarray:
    """(15625,) int32: the code of every index, read from the shipped file."""
    return np.load(ORDER_FILE, allow_pickle=False).astype(np.int32)


def shuffled_codes() -> list[int]:
    """The same order computed from scratch, as NAS-Bench-201 does."""
    codes = list(range(NUM_CELLS))
    random.Random(SHUFFLE_SEED).shuffle(codes)  # same algorithm as random.seed(88); shuffle
    return codes


def write_order_file(path: Path = ORDER_FILE) -> Path:
    """Write the shuffle to ``path`` (how the shipped file was made)."""
    np.save(path, np.asarray(shuffled_codes(), dtype=np.int16), allow_pickle=False)
    return path


if __name__ == "__main__":
    print(f"wrote {write_order_file()}")
