"""What every bench script does last: write its JSON result (with the machine's load) and say where."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_result(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({**result, "load_avg_at_end": os.getloadavg()}, indent=1) + "\n", encoding="utf-8"
    )
    print(f"wrote {path}")
