"""Images a cell produced: PNGs the kernel displayed (saved as ``figure_N.png``) and image files
the code wrote into the working directory."""

from __future__ import annotations

import base64
import binascii
import contextlib
import stat

from .result import CellResult
from .workspace import Workspace, write_new_file

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}


class CellImages:
    """Saves displayed figures into the workspace and finds the image files a cell wrote."""

    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace
        self._figure_n = 0

    def save_png(self, b64: str, res: CellResult) -> None:
        """Save a displayed PNG (base64) as the next free ``figure_N.png`` and add it to ``res``."""
        try:
            raw = base64.b64decode(b64)
        except (binascii.Error, ValueError):
            return
        for _ in range(1000):
            self._figure_n += 1
            path = self._ws.path / f"figure_{self._figure_n}.png"
            try:
                write_new_file(path, raw)
                break
            except FileExistsError:
                continue
        else:
            return
        self._ws.give(path)
        self._add(str(path), res)

    def snapshot(self) -> dict[str, float]:
        """Image files in the working directory and their modification times."""
        out = {}
        with contextlib.suppress(OSError):
            for p in self._ws.path.iterdir():
                if p.suffix.lower() in IMAGE_EXTS:
                    st = p.lstat()  # symlinks are never reported (they could point anywhere)
                    if stat.S_ISREG(st.st_mode):
                        out[str(p)] = st.st_mtime
        return out

    def add_new_files(self, before: dict[str, float], res: CellResult) -> None:
        """Add the image files written since ``before`` (a :meth:`snapshot`) that ``res`` lacks."""
        for path, mtime in sorted(self.snapshot().items()):
            if path in res.images or before.get(path) == mtime:
                continue
            self._add(path, res)

    def _add(self, path: str, res: CellResult) -> None:
        res.images.append(path)
        res.image_names.append(self._ws.sandbox_path(path))
