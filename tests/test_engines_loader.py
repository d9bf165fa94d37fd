"""load_engine dispatch: which engine gets which model reference (nothing is loaded)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from calltune import models
from calltune.engines import EngineError, loader
from calltune.engines.llamacpp import gguf_context_length
from calltune.engines.loader import plan_engine


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    f = tmp_path / "tiny.gguf"
    f.write_bytes(b"GGUF")
    return f


@pytest.fixture
def fake_builtin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    paths = {"default": tmp_path / "qwen.gguf", "gemma-270m": tmp_path / "gemma.gguf"}

    def resolve(name: str | None = None, progress: bool | None = None) -> Path:
        return paths["default" if name in (None, "default") else name]

    monkeypatch.setattr(models, "resolve_model", resolve)
    return paths


def test_none_and_default_go_to_llamacpp_on_the_default_gguf(fake_builtin: dict[str, Path]) -> None:
    for ref in (None, "default"):
        plan = plan_engine(ref)
        assert (plan.engine, plan.target, plan.kwargs) == ("llamacpp", str(fake_builtin["default"]), {})


def test_builtin_on_transformers_uses_gguf_file(fake_builtin: dict[str, Path]) -> None:
    plan = plan_engine("gemma-270m", engine="transformers")
    assert plan.engine == "transformers"
    assert plan.target == str(fake_builtin["gemma-270m"].parent)
    assert plan.kwargs == {"gguf_file": "gemma.gguf"}


def test_gguf_path(gguf: Path) -> None:
    assert plan_engine(str(gguf)).engine == "llamacpp"
    assert plan_engine(gguf, engine="llama.cpp").target == str(gguf)
    plan = plan_engine(str(gguf), engine="hf")
    assert (plan.engine, plan.target, plan.kwargs) == (
        "transformers",
        str(gguf.parent),
        {"gguf_file": "tiny.gguf"},
    )


def test_missing_gguf_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="GGUF file not found"):
        plan_engine(str(tmp_path / "nope.gguf"))


def test_directories(tmp_path: Path) -> None:
    hf_dir = tmp_path / "hf"
    hf_dir.mkdir()
    (hf_dir / "config.json").write_text("{}")
    assert plan_engine(str(hf_dir)).engine == "transformers"

    out_dir = tmp_path / "run"
    out_dir.mkdir()
    (out_dir / "calltune.json").write_text(
        json.dumps({"format": "chatglm3", "base_model": "x", "adapter": True})
    )
    (out_dir / "model.gguf").write_bytes(b"GGUF")  # an exported GGUF next to the adapter
    assert plan_engine(str(out_dir)).engine == "transformers"

    only_gguf = tmp_path / "g"
    only_gguf.mkdir()
    (only_gguf / "m.gguf").write_bytes(b"GGUF")
    plan = plan_engine(str(only_gguf))
    assert (plan.engine, plan.target) == ("llamacpp", str(only_gguf / "m.gguf"))

    with pytest.raises(EngineError, match="the llama.cpp engine needs a .gguf file"):
        plan_engine(str(hf_dir), engine="llamacpp")


def test_hub_id_and_urls() -> None:
    assert plan_engine("Qwen/Qwen2.5-0.5B-Instruct") == loader.EnginePlan(
        "transformers", "Qwen/Qwen2.5-0.5B-Instruct", {}
    )
    assert plan_engine("openai:http://127.0.0.1:8000/v1").target == "http://127.0.0.1:8000/v1"
    assert plan_engine("http://127.0.0.1:9/v1").engine == "openai"
    assert plan_engine(None, engine="openai") == loader.EnginePlan("openai", "", {})
    assert plan_engine("gpt-x", engine="openai") == loader.EnginePlan("openai", "", {"model": "gpt-x"})
    with pytest.raises(EngineError, match="only the openai engine"):
        plan_engine("http://127.0.0.1:9/v1", engine="transformers")
    with pytest.raises(EngineError, match="looks like a hub id"):
        plan_engine("org/model", engine="llamacpp")


def test_unknown_engine_and_unknown_model() -> None:
    with pytest.raises(EngineError, match="unknown engine 'vllm'"):
        plan_engine("x", engine="vllm")
    with pytest.raises(EngineError, match="model 'no-such-thing' not found"):
        plan_engine("no-such-thing")


def test_load_engine_passes_arguments_to_the_engine_class(
    gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import calltune.engines.llamacpp as lc

    seen = {}

    class Fake:
        def __init__(self, path: str, **kw: object) -> None:
            seen.update(path=path, **kw)

    monkeypatch.setattr(lc, "LlamaCppEngine", Fake)
    from calltune.engines import load_engine

    eng = load_engine(str(gguf), n_ctx=2048, n_threads=1)
    assert isinstance(eng, Fake)
    assert seen == {"path": str(gguf), "n_ctx": 2048, "n_threads": 1}


def write_gguf_header(path: Path, kvs: list[tuple[str, int, bytes]]) -> None:
    def s(x: str) -> bytes:
        b = x.encode()
        return struct.pack("<Q", len(b)) + b

    body = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs))
    for key, vtype, raw in kvs:
        body += s(key) + struct.pack("<I", vtype) + raw
    path.write_bytes(body)


def test_gguf_context_length_reads_the_header(tmp_path: Path) -> None:
    f = tmp_path / "h.gguf"
    arr = struct.pack("<IQ", 8, 2) + struct.pack("<Q", 1) + b"a" + struct.pack("<Q", 2) + b"bc"
    write_gguf_header(
        f,
        [
            ("general.architecture", 8, struct.pack("<Q", 5) + b"llama"),
            ("tokenizer.ggml.tokens", 9, arr),
            ("general.file_type", 4, struct.pack("<I", 15)),
            ("llama.context_length", 4, struct.pack("<I", 4096)),
        ],
    )
    assert gguf_context_length(f) == 4096
    write_gguf_header(f, [("general.architecture", 8, struct.pack("<Q", 5) + b"llama")])
    assert gguf_context_length(f) is None
    f.write_bytes(b"not a gguf")
    assert gguf_context_length(f) is None


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by a test are dropped after it."""
    monkeypatch.setattr(loader, "_ENGINES", dict(loader._ENGINES))
    monkeypatch.setattr(loader, "_ALIASES", dict(loader._ALIASES))


def test_the_built_in_engines_are_registered() -> None:
    assert loader.engine_names()[:3] == ["llamacpp", "transformers", "openai"]
    with pytest.raises(EngineError, match="use one of: llamacpp, transformers, openai"):
        plan_engine("x", engine="vllm")


def test_a_registered_engine_claims_its_references_and_is_loaded(registry: None) -> None:
    made: list[tuple[str, dict]] = []

    def factory(target: str, **kw: object) -> object:
        made.append((target, kw))
        return "an engine"

    loader.register_engine(
        "echo",
        ("Echo-Engine",),
        factory=factory,  # type: ignore[arg-type]
        matches=lambda ref: ref[len("echo:") :] if ref.startswith("echo:") else None,
        what="an echo reference",
    )
    assert plan_engine("echo:abc") == loader.EnginePlan("echo", "abc", {})
    assert plan_engine("echo:abc", engine="echo-engine").engine == "echo"
    with pytest.raises(EngineError, match="'echo:abc' is an echo reference; only the echo engine can use it"):
        plan_engine("echo:abc", engine="llamacpp")
    # asked for by name, a reference it does not claim is its target as given
    assert plan_engine("anything", engine="ECHO") == loader.EnginePlan("echo", "anything", {})
    assert "echo" in str(pytest.raises(EngineError, plan_engine, "x", engine="nope").value)
    from calltune.engines import load_engine

    assert load_engine("echo:abc", n_ctx=5, flag=True) == "an engine"
    assert made == [("abc", {"n_ctx": 5, "flag": True})]
    # the URL rule of the remote engine is still checked first for URLs
    assert plan_engine("http://127.0.0.1:9/v1").engine == "openai"


def test_a_scripted_engine_replays_a_script_file(tmp_path: Path) -> None:
    from calltune.engines import SamplingParams, load_engine

    script = tmp_path / "script.json"
    script.write_text(json.dumps({"outputs": ["Hello there.", "Bye."], "delay_s": 0.0, "record": "p.jsonl"}))
    eng = load_engine(str(script), engine="scripted", n_ctx=4096)
    assert eng.context_length == 4096 and eng.model_id == "scripted"
    assert eng.generate("hi", SamplingParams(max_tokens=50)).text == "Hello there."
    assert eng.generate([ord(c) for c in "again"], SamplingParams(max_tokens=50)).text == "Bye."
    lines = (tmp_path / "p.jsonl").read_text().splitlines()
    assert [json.loads(line)["prompt"] for line in lines] == ["hi", "again"]  # token ids decoded
    with pytest.raises(EngineError, match="ran out"):
        eng.generate("more", SamplingParams())


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("not json", "cannot read the script"),
        ('["a"]', 'an "outputs" list'),
        ('{"outputs": ["a"], "speed": 2}', r"unknown script keys \['speed'\]"),
    ],
)
def test_a_bad_script_file_is_a_clear_error(tmp_path: Path, content: str, error: str) -> None:
    from calltune.engines import load_engine

    script = tmp_path / "script.json"
    script.write_text(content)
    with pytest.raises(EngineError, match=error):
        load_engine(str(script), engine="scripted")
    with pytest.raises(EngineError, match="cannot read the script"):
        load_engine(str(tmp_path / "missing.json"), engine="scripted")
