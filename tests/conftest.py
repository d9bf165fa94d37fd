from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def default_engine():
    """The embedded default model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M) on llama.cpp, loaded once."""
    from calltune.engines import load_engine

    eng = load_engine()
    yield eng
    eng.close()
