"""Started with no display, the app says what to do instead of Qt's plugin abort."""

from __future__ import annotations

import os
import subprocess
import sys


def test_app_without_a_display_explains_and_exits_2():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, "-m", "workbench.app"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "found no display" in proc.stderr and "smart-workbench render" in proc.stderr


def test_version_needs_no_display():
    import engine

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, "-m", "workbench.app", "--version"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == f"smart-workbench {engine.__version__}"
