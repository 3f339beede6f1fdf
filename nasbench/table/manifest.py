"""A table's manifest (manifest.json): what it is, how it was made, and a checksum per file."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nasbench.atomic import atomic_write_text
from nasbench.errors import TableError

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class ShardInfo:
    """One Parquet file of a table."""

    path: str  # relative to the table folder
    rows: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """Everything needed to trust and reproduce a table."""

    name: str
    space: str
    schema_version: int
    synthetic: bool  # True for fixture data that is NOT the result of training
    description: str
    dataset: dict[str, Any]  # name, split_seed, checksum of the arrays
    generator: dict[str, Any]  # name, version, config (preset, epochs, ...)
    seeds: list[int]
    epochs: int
    num_archs: int
    rows: int
    latency_devices: list[str]
    files: list[ShardInfo]
    versions: dict[str, str] = field(default_factory=dict)  # nasbench, numpy, torch, ...

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @property
    def sha256(self) -> str:
        """Identity of the table's contents: sha256 of the canonical manifest JSON."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    def write(self, folder: Path) -> None:
        atomic_write_text(Path(folder) / MANIFEST_NAME, self.to_json())

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = Path(folder) / MANIFEST_NAME
        if not path.is_file():
            raise TableError(f"table {Path(folder).name!r}: missing {MANIFEST_NAME} in {folder}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TableError(f"{path}: not valid JSON ({exc})") from None
        return cls.from_dict(data, where=str(path))

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Manifest:
        if not isinstance(data, dict):
            raise TableError(f"{where}: expected a JSON object")
        names = {f.name for f in cls.__dataclass_fields__.values()}
        required = names - {"versions"}
        for key in sorted(required):
            if key not in data:
                raise TableError(f"{where}: missing field {key!r}")
        unknown = sorted(set(data) - names)
        if unknown:
            raise TableError(f"{where}: unknown field {unknown[0]!r}")
        try:
            files = [ShardInfo(**entry) for entry in data["files"]]
        except TypeError as exc:
            raise TableError(f"{where}: bad entry in 'files' ({exc})") from None
        for key in ("schema_version", "epochs", "num_archs", "rows"):
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if key == "epochs" else 0):
                raise TableError(f"{where}: field {key!r} must be a {'positive' if key == 'epochs' else 'non-negative'} integer, got {value!r}")
        seeds = data["seeds"]
        if not (isinstance(seeds, list) and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)):
            raise TableError(f"{where}: field 'seeds' must be a list of integers, got {seeds!r}")
        if seeds != sorted(set(seeds)):
            raise TableError(f"{where}: field 'seeds' must be sorted and without repeats, got {seeds!r}")
        if not isinstance(data["synthetic"], bool):
            raise TableError(f"{where}: field 'synthetic' must be true or false, got {data['synthetic']!r}")
        if not (isinstance(data["latency_devices"], list) and all(isinstance(d, str) for d in data["latency_devices"])):
            raise TableError(f"{where}: field 'latency_devices' must be a list of strings")
        return cls(**{**data, "files": files})
