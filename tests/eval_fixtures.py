"""Hand-written cases in BFCL's file format (our own functions, not BFCL's) for the eval tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AREA = {
    "name": "geometry.rectangle_area",
    "description": "Area of a rectangle.",
    "parameters": {
        "type": "dict",
        "properties": {
            "width": {"type": "float", "description": "Width in metres."},
            "height": {"type": "float", "description": "Height in metres."},
            "unit": {"type": "string", "enum": ["m2", "cm2"], "description": "Unit.", "default": "m2"},
        },
        "required": ["width", "height"],
    },
}
SHIP = {
    "name": "ship_parcel",
    "description": "Ship a parcel.",
    "parameters": {
        "type": "dict",
        "properties": {
            "weight_kg": {"type": "integer", "description": "Weight."},
            "express": {"type": "boolean", "description": "Express delivery.", "optional": True},
            "stops": {"type": "array", "items": {"type": "string"}, "description": "Stops on the way."},
            "box": {"type": "tuple", "items": {"type": "integer"}, "description": "Box size (l, w, h)."},
            "address": {
                "type": "dict",
                "description": "Where to.",
                "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
                "required": ["city"],
            },
            "note": {"type": "any", "description": "Free note."},
        },
        "required": ["weight_kg", "address"],
    },
}
TOKEN = {
    "name": "makeToken",
    "description": "Makes a signed token for a user.",
    "parameters": {
        "type": "dict",
        "properties": {
            "username": {"type": "String", "description": "Who the token is for."},
            "options": {
                "type": "dict",
                "description": "Token options.",
                "properties": {"role": {"type": "String", "description": "The user's role."}},
            },
        },
        "required": ["username", "options"],
    },
}
TEMP = {
    "name": "weather.temperature",
    "description": "Current temperature in a city.",
    "parameters": {
        "type": "dict",
        "properties": {"city": {"type": "string", "description": "City name."}},
        "required": ["city"],
    },
}

CASES: dict[str, list[dict[str, Any]]] = {
    "simple_python": [
        {
            "id": "simple_python_0",
            "question": [[{"role": "user", "content": "Area of a 3 by 4.5 metre rectangle?"}]],
            "function": [AREA],
        },
        {
            "id": "simple_python_1",
            "question": [[{"role": "user", "content": "Send 2 kg to Lyon."}]],
            "function": [SHIP],
        },
    ],
    "parallel": [
        {
            "id": "parallel_0",
            "question": [[{"role": "user", "content": "Temperature in Oslo and in Rome?"}]],
            "function": [TEMP],
        }
    ],
    "simple_javascript": [
        {
            "id": "simple_javascript_0",
            "question": [[{"role": "user", "content": "A token for ann with the role admin."}]],
            "function": [TOKEN],
        }
    ],
    "irrelevance": [
        {
            "id": "irrelevance_0",
            "question": [[{"role": "user", "content": "Who wrote Hamlet?"}]],
            "function": [TEMP],
        }
    ],
}
ANSWERS: dict[str, list[dict[str, Any]]] = {
    "simple_python": [
        {
            "id": "simple_python_0",
            "ground_truth": [
                {"geometry.rectangle_area": {"width": [3.0], "height": [4.5], "unit": ["m2", ""]}}
            ],
        },
        {
            "id": "simple_python_1",
            "ground_truth": [
                {
                    "ship_parcel": {
                        "weight_kg": [2],
                        "express": [False, ""],
                        "stops": [[], ""],
                        "box": [""],
                        "address": [{"city": ["Lyon"], "zip": [""]}],
                        "note": [""],
                    }
                }
            ],
        },
    ],
    "simple_javascript": [
        {
            "id": "simple_javascript_0",
            "ground_truth": [{"makeToken": {"username": ["ann"], "options": [{"role": ["admin"]}]}}],
        }
    ],
    "parallel": [
        {
            "id": "parallel_0",
            "ground_truth": [
                {"weather.temperature": {"city": ["Oslo"]}},
                {"weather.temperature": {"city": ["Rome"]}},
            ],
        }
    ],
}


def write_data(root: Path) -> Path:
    """Write the cases and answers as ``BFCL_v4_<category>.json`` (+ ``possible_answer/``) under ``root``."""
    (root / "possible_answer").mkdir(parents=True, exist_ok=True)
    for cat, rows in CASES.items():
        (root / f"BFCL_v4_{cat}.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for cat, rows in ANSWERS.items():
        (root / "possible_answer" / f"BFCL_v4_{cat}.json").write_text(
            "".join(json.dumps(r) + "\n" for r in rows)
        )
    return root
