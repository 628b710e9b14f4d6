"""Typed settings of the workbench, backed by a QSettings file whose path is given (STYLE.md B2).

    s = Settings.load(path)      # defaults for missing keys
    s.add_recent("/data/clips.npz"); s.save()

Tests pass a path under ``tmp_path``; the app uses :func:`default_path`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

__all__ = ["MAX_RECENT", "Settings", "default_path"]

MAX_RECENT = 10


def default_path() -> Path:
    """``<config dir>/smart-workbench/settings.ini`` (``SMART_WORKBENCH_SETTINGS`` overrides it)."""
    env = os.environ.get("SMART_WORKBENCH_SETTINGS")
    if env:
        return Path(env)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base or Path.home() / ".config") / "smart-workbench" / "settings.ini"


def _bytes(v) -> bytes:
    if isinstance(v, QByteArray):
        return bytes(v.data())
    if isinstance(v, bytes | bytearray):
        return bytes(v)
    return b""


def _str_list(v) -> list[str]:
    if v is None or v == "":
        return []
    if isinstance(v, str):
        return [v]
    return [str(x) for x in v]


@dataclass
class Settings:
    """What persists between launches.

    geometry, window_state: ``QMainWindow.saveGeometry()`` / ``saveState()`` bytes (empty: none yet).
    recent_files: datasets opened, newest first (at most :data:`MAX_RECENT`).
    last_demo: the demo shown at start when no file is given. last_model: the checkpoint used last (a
    path; it is offered again, and chosen, wherever it fits the dataset). last_device: 'cpu' or 'cuda'.
    view_mode: 'overlay' or 'side'. playback_speed: 0.1–4.
    export_size, export_fps, export_speed: the export panel's last values; export_dir: the folder of the
    last export (the save dialog opens there while it is writable).
    """

    path: Path
    geometry: bytes = b""
    window_state: bytes = b""
    recent_files: list[str] = field(default_factory=list)
    last_demo: str = "demo"
    last_model: str = ""
    last_device: str = "cpu"
    view_mode: str = "overlay"
    playback_speed: float = 1.0
    export_size: str = "640x480"
    export_fps: int = 30
    export_speed: float = 1.0
    export_dir: str = ""

    @classmethod
    def load(cls, path: str | os.PathLike) -> Settings:
        """Read ``path`` (a missing file gives the defaults; a bad value keeps its default)."""
        s = cls(path=Path(path))
        q = s._qsettings()
        for f in fields(cls):
            if f.name == "path" or not q.contains(f.name):
                continue
            raw = q.value(f.name)
            default = getattr(s, f.name)
            try:
                if isinstance(default, bytes):
                    value = _bytes(raw)
                elif isinstance(default, list):
                    value = _str_list(raw)[:MAX_RECENT]
                elif isinstance(default, bool):
                    value = str(raw).lower() in ("1", "true", "yes")
                elif isinstance(default, int):
                    value = int(raw)
                elif isinstance(default, float):
                    value = float(raw)
                else:
                    value = str(raw)
            except (TypeError, ValueError):
                continue
            setattr(s, f.name, value)
        return s

    def _qsettings(self) -> QSettings:
        return QSettings(str(self.path), QSettings.Format.IniFormat)

    def save(self) -> None:
        """Write every field and sync the file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        q = self._qsettings()
        for f in fields(self):
            if f.name == "path":
                continue
            v = getattr(self, f.name)
            if isinstance(v, bytes):
                v = QByteArray(v)
            elif isinstance(v, list):
                v = list(v)
            q.setValue(f.name, v)
        q.sync()

    def add_recent(self, file: str | os.PathLike) -> None:
        """Put ``file`` first in the recent list (once), keeping at most :data:`MAX_RECENT`."""
        p = str(Path(file).resolve()) if not str(file).startswith("demo:") else str(file)
        self.recent_files = [p] + [r for r in self.recent_files if r != p]
        del self.recent_files[MAX_RECENT:]
