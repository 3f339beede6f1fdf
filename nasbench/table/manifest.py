"""A table's manifest (manifest.json): what it is, how it was made, and a checksum per file.

A table's identity (:attr:`Manifest.sha256`, cited by result files as ``table_sha256``)
is a sha256 over only what determines its data and schema, so that new package
versions, a reworded description or a fuller provenance record leave it unchanged; see
:meth:`Manifest.identity` for exactly what is hashed. A file's nasbench schema metadata
(table name, units: nasbench.table.stamp) is left out too: the identity covers each
file's bytes as written without it (:attr:`ShardInfo.identity_sha256`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nasbench.atomic import atomic_write_text
from nasbench.errors import TableError

MANIFEST_NAME = "manifest.json"
SYNTHETIC_WARNING = "SYNTHETIC fixture data, not training results"  # printed wherever such a table shows
IDENTITY_FORMAT = "nasbench.table-identity/1"  # hashed with the fields; bump if the definition changes


@dataclass(frozen=True)
class ShardInfo:
    """One Parquet file of a table."""

    path: str  # relative to the table folder
    rows: int
    sha256: str  # of the file's bytes as they are (checked on every load)
    # of the same file without its nasbench.* schema metadata; None when it carries none
    unstamped_sha256: str | None = None

    @property
    def identity_sha256(self) -> str:
        """The hash the table's identity covers: the file's bytes without nasbench metadata."""
        return self.unstamped_sha256 or self.sha256

    def to_dict(self) -> dict[str, Any]:
        """JSON form; ``unstamped_sha256`` only where set, so older manifests read back unchanged."""
        out: dict[str, Any] = {"path": self.path, "rows": self.rows, "sha256": self.sha256}
        if self.unstamped_sha256 is not None:
            out["unstamped_sha256"] = self.unstamped_sha256
        return out


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
        return json.dumps(self._as_json(unstamped=False), indent=2, sort_keys=True) + "\n"

    def _as_json(self, unstamped: bool) -> dict[str, Any]:
        """The manifest as JSON data; ``unstamped`` renders every file as it was before stamping."""
        data = asdict(self)
        if unstamped:
            data["files"] = [{"path": f.path, "rows": f.rows, "sha256": f.identity_sha256} for f in self.files]
        else:
            data["files"] = [f.to_dict() for f in self.files]
        return data

    def identity(self) -> dict[str, Any]:
        """What the identity hash covers: the fields that determine the table's data and schema.

        A format tag (``IDENTITY_FORMAT``), ``schema_version``, ``space`` (how
        ``arch_index`` is read), ``synthetic`` (fixture data or training results),
        ``seeds``, ``epochs``, ``num_archs``, ``rows``, ``latency_devices`` and every
        file's ``path``, ``rows`` and ``sha256`` (its bytes; file order is row order).
        Left out, because they describe the data without changing it: ``name`` (a copy
        under another name holds the same data), ``description``, ``dataset`` and
        ``generator`` (provenance: what they produced is pinned by the files' sha256) and
        ``versions``.
        """
        return {
            "format": IDENTITY_FORMAT,
            "schema_version": self.schema_version,
            "space": self.space,
            "synthetic": self.synthetic,
            "seeds": list(self.seeds),
            "epochs": self.epochs,
            "num_archs": self.num_archs,
            "rows": self.rows,
            "latency_devices": list(self.latency_devices),
            "files": [{"path": f.path, "rows": f.rows, "sha256": f.identity_sha256} for f in self.files],
        }

    @property
    def sha256(self) -> str:
        """The table's identity: sha256 of the canonical JSON (sorted keys, no spaces) of :meth:`identity`."""
        text = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def legacy_sha256(self) -> str:
        """The identity earlier result files cite: sha256 of the whole manifest JSON.

        It also changes with ``versions`` and ``description``; kept so that those result
        files still name their table (see :meth:`matches`). Stamped files are rendered as
        they were before stamping (``sha256`` = the unstamped hash, no ``unstamped_sha256``),
        so stamping metadata onto a table's files leaves this hash unchanged too.
        """
        text = json.dumps(self._as_json(unstamped=True), indent=2, sort_keys=True) + "\n"
        return hashlib.sha256(text.encode()).hexdigest()

    def matches(self, sha256: str) -> bool:
        """True when a cited ``table_sha256`` names this table (its identity or its legacy hash)."""
        return sha256.lower() in (self.sha256, self.legacy_sha256)

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
        for key in ("name", "space", "description"):
            if not isinstance(data[key], str) or (key != "description" and not data[key]):
                raise TableError(f"{where}: field {key!r} must be a{' non-empty' if key != 'description' else ''} string, "
                                 f"got {data[key]!r}")
        for key in ("dataset", "generator", "versions"):
            if key in data and not isinstance(data[key], dict):
                raise TableError(f"{where}: field {key!r} must be a JSON object, got {data[key]!r}")
        if not isinstance(data["files"], list):
            raise TableError(f"{where}: field 'files' must be a list, got {data['files']!r}")
        files = [_shard_info(entry, f"{where}: files[{i}]") for i, entry in enumerate(data["files"])]
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


def _shard_info(entry: Any, where: str) -> ShardInfo:
    """One ``files`` entry, its fields type-checked (a relative path inside the table folder)."""
    if not isinstance(entry, dict):
        raise TableError(f"{where}: expected a JSON object, got {entry!r}")
    try:
        info = ShardInfo(**entry)
    except TypeError as exc:
        raise TableError(f"{where}: bad entry in 'files' ({exc})") from None
    path = info.path
    if not isinstance(path, str) or not path or path.startswith(("/", "\\")) or ".." in Path(path).parts:
        raise TableError(f"{where}: 'path' must be a relative path inside the table folder, got {path!r}")
    if isinstance(info.rows, bool) or not isinstance(info.rows, int) or info.rows < 0:
        raise TableError(f"{where}: 'rows' must be a non-negative integer, got {info.rows!r}")
    for key in ("sha256", "unstamped_sha256"):
        value = getattr(info, key)
        if (value is not None or key == "sha256") and not (
                isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)):
            raise TableError(f"{where}: {key!r} must be 64 lowercase hex digits, got {value!r}")
    return info
