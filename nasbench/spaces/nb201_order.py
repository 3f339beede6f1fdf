"""NAS-Bench-201's index order, precomputed: ``code_of_index()[i]`` is the base-5 code of the
cell at index ``i`` (``random.seed(88); random.shuffle(codes)`` over codes 0..15,624, as
NAS-Bench-201 builds it). Rebuilding it with Python's ``random`` costs 10-30 ms at every
start; loading ``nb201_order.npy`` (31 KB, int16) costs well under a millisecond, and
:func:`codes` reads it with the standard library alone (a fresh process that looks up one
cell need not import numpy). The file
is written by ``python -m nasbench.spaces.nb201_order``; the test
``test_precomputed_order_is_the_seed_88_shuffle`` checks it against the shuffle itself.
"""

from __future__ import annotations

import sys
from array import array
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

NUM_CELLS = 15625
SHUFFLE_SEED = 88
ORDER_FILE = Path(__file__).with_name("nb201_order.npy")
NPY_HEADER = b"{'descr': '<i2', 'fortran_order': False, 'shape': (15625,), }"


def codes(path: Path = ORDER_FILE) -> array:
    """The code of every index as a stdlib ``array('h')``, read from the ``.npy`` file without
    numpy (format 1.0: magic, a 2-byte header length, the header this file was written with, data)."""
    raw = path.read_bytes()
    start = 10 + int.from_bytes(raw[8:10], "little")
    if raw[:8] != b"\x93NUMPY\x01\x00" or raw[10:start].strip() != NPY_HEADER:
        raise ValueError(f"{path}: not the int16 ({NUM_CELLS},) .npy file that write_order_file writes")
    out = array("h", raw[start:])
    if sys.byteorder != "little":
        out.byteswap()
    return out


def code_of_index() -> np.ndarray:
    """(15625,) int32: the code of every index, read from the shipped file."""
    import numpy as np

    return np.load(ORDER_FILE, allow_pickle=False).astype(np.int32)


def shuffled_codes() -> list[int]:
    """The same order computed from scratch, as NAS-Bench-201 does."""
    import random

    codes = list(range(NUM_CELLS))
    random.Random(SHUFFLE_SEED).shuffle(codes)  # same algorithm as random.seed(88); shuffle
    return codes


def write_order_file(path: Path = ORDER_FILE) -> Path:
    """Write the shuffle to ``path`` (how the shipped file was made)."""
    import numpy as np

    np.save(path, np.asarray(shuffled_codes(), dtype=np.int16), allow_pickle=False)
    return path


if __name__ == "__main__":
    print(f"wrote {write_order_file()}")
