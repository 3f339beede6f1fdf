"""Files computed from a table (proxy correlations, predictor evaluations), which cite the
sha256 of the table they were computed on: a datasheet shows them only while it matches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def current_json(path: Path, sha256: str) -> dict[str, Any] | None:
    """The JSON object at ``path`` if it is readable and cites ``sha256``, else None."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("table_sha256") == sha256 else None
