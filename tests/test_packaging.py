"""A wheel built from the checkout works outside it: engine, app entry point and the shipped demos.

Builds the wheel with the environment's own setuptools (no download), installs it without its
dependencies into a fresh virtual environment whose only link to ours is a path to our
site-packages (for torch, Qt, …; not our editable install), and runs it from a folder outside the
checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    pytest.importorskip("setuptools")
    pytest.importorskip("wheel")
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "-w", str(dist), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    (whl,) = dist.glob("smart_workbench-*.whl")
    names = zipfile.ZipFile(whl).namelist()
    for must in ("engine/__init__.py", "workbench/app.py", "widgets/skeleton_view.py", "assets/__init__.py",
                 "assets/hdm05-demo/windows.npz", "assets/hdm05-demo/LICENSE.txt", "assets/demo/stgcn.pt"):
        assert must in names, f"{must} missing from the wheel"

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # dependencies from our environment by plain path: a .pth line adds the folder without running the
    # .pth files inside it, so our editable install of the checkout stays out
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target",
                           str(site), str(whl)], capture_output=True, text=True, timeout=600)
    assert inst.returncode == 0, inst.stderr[-2000:]

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    code = (
        "import engine, workbench, sys\n"
        "from engine import demo, models\n"
        "assert 'site-packages' in engine.__file__, engine.__file__\n"
        f"assert not engine.__file__.startswith({str(ROOT)!r}), engine.__file__\n"
        "net, meta = models.load_checkpoint(demo.demo_checkpoint('hdm05-demo', 'stgcn'))\n"
        "train, val = demo.demo_split('hdm05-demo')\n"
        "print(engine.__version__, demo.ASSETS, len(val), meta.model)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    run = subprocess.run([str(py), "-c", code], cwd=outside, capture_output=True, text=True, env=env,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    version, assets, n, model = run.stdout.split()
    assert str(ROOT) not in assets and int(n) > 0 and model == "stgcn"
    ver = subprocess.run([str(py), "-c", "import sys; sys.argv = ['smart-workbench', '--version']\n"
                          "from workbench.app import main; main()"],
                         cwd=outside, capture_output=True, text=True, env=env, timeout=300)
    assert ver.returncode == 0 and version in ver.stdout, (ver.stdout, ver.stderr[-2000:])
