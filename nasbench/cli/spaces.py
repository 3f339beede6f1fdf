"""``nasbench spaces``: list the search spaces, show a cell (``show``), and enumerate
NAS-Bench-101's unique cells once (``enumerate nb101``), checked against its count."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from nasbench.cli.args import Parser
from nasbench.errors import NasbenchError


def add_commands(commands: Any) -> None:
    """Register the ``spaces`` command group."""
    group = commands.add_parser("spaces", help="search spaces: list, show a cell, enumerate nb101")
    sub = group.add_subparsers(dest="spaces_command", required=True, parser_class=Parser)
    sub.add_parser("list", help="the registered spaces and their sizes")
    show = sub.add_parser("show", help="a cell's canonical string, index, hash and size")
    show.add_argument("space")
    show.add_argument("arch", help="a canonical string or an index")
    enum = sub.add_parser("enumerate", help="write the list of nb101's unique cells (resumable), checked against "
                                            "NAS-Bench-101's 423,624")
    enum.add_argument("space", choices=("nb101",))
    enum.add_argument("--out", type=Path, default=None, metavar="FILE",
                      help="the .npy of sorted spec codes (default: the list shipped in the package)")
    enum.add_argument("--work", type=Path, default=None, metavar="DIR",
                      help="folder for per-vertex-count shards, reused by a rerun (default: FILE's folder/.nb101-work)")
    enum.add_argument("--hashes", type=Path, default=None, metavar="FILE",
                      help="also write a Parquet list (index, string, NAS-Bench-101 hash) for joining with its data")


def run(args: argparse.Namespace) -> int:
    """Dispatch a ``spaces`` sub-command."""
    return {"list": _list, "show": _show, "enumerate": _enumerate}[args.spaces_command](args)


def _list(args: argparse.Namespace) -> int:
    from nasbench.spaces import SPACES, get_space

    for name in SPACES.names():
        space = get_space(name)
        print(f"{name:6s} {space.size:>9,} cells   encodings: {', '.join(space.encodings)}")
    return 0


def _show(args: argparse.Namespace) -> int:
    from nasbench.spaces import get_space

    space = get_space(args.space)
    cell = space.coerce(args.arch)
    print(f"string  {space.to_string(cell)}")
    print(f"index   {space.index(cell)}")
    print(f"hash    {space.hash(cell)}")
    graph = space.to_graph(cell)
    print(f"size    {graph.number_of_nodes()} vertices, {graph.number_of_edges()} edges")
    return 0


def _enumerate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from nasbench.spaces import nb101_enumerate as enum

    out = args.out if args.out is not None else enum.SHIPPED
    work = args.work if args.work is not None else out.parent / ".nb101-work"
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    codes = enum.enumerate_codes(work, progress=print)
    print(f"{len(codes):,} classes in {time.perf_counter() - start:.1f} s; hashing them (NAS-Bench-101's module hash)")
    with tqdm(total=len(codes), unit="cell", mininterval=1.0) as bar:
        hashes = enum.hash_all(codes, progress=bar.update)
    enum.check_against_nasbench101(codes, hashes)
    print(f"check: {len(codes):,} classes, {len(set(hashes)):,} distinct module hashes "
          f"(NAS-Bench-101: {enum.NUM_CLASSES:,}): ok")
    enum.save_codes(out, codes)
    print(f"wrote {out}")
    if args.hashes is not None:
        _write_hashes(args.hashes, codes, hashes)
        print(f"wrote {args.hashes}")
    for shard in sorted(work.glob("codes-v*.npy")):
        shard.unlink()
    if not any(work.iterdir()):
        work.rmdir()
    return 0


def _write_hashes(path: Path, codes: Any, hashes: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from nasbench.atomic import atomic_path
    from nasbench.spaces.nb101 import NB101Cell

    strings = [str(NB101Cell.from_code(int(c))) for c in codes]
    table = pa.table({
        "index": pa.array(range(len(codes)), pa.int32()),
        "arch": pa.array(strings, pa.string()),
        "hash": pa.array(hashes, pa.string()),
    })
    if path.suffix != ".parquet":
        raise NasbenchError(f"--hashes: expected a .parquet file name, got {str(path)!r}")
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
