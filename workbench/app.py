"""``smart-workbench``: the desktop app, its screenshot mode and the headless ``render`` command.

    smart-workbench [DATASET] [--demo demo|hdm05-demo] [--settings FILE]
    smart-workbench --screenshot FILE.png [--attack]
    smart-workbench render [--dataset demo] [--model mlp] [--index 0] [--strategy ab] [--w 0.4]
                           [--alpha 0.3] [--iterations 300] [--out clip.mp4|clip.gif|folder]
                           [--mode overlay|side] [--size 640x480] [--fps 30] [--speed 1]

PySide6 is imported before pyqtgraph (which would otherwise prefer PyQt6 if present), and
``Qt.AA_ShareOpenGLContexts`` is set before the QApplication exists: pyqtgraph 0.14 caches shader
programs per class, and the export view's GL context must share them with the main view's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import PySide6  # noqa: E402,F401  (before pyqtgraph)
from PySide6 import QtCore, QtWidgets  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

__all__ = ["create_application", "main", "render_main"]

PAPER_DEFAULTS = {"w": 0.4, "alpha": 0.3, "iterations": 300}


def _leave_a_core_to_the_gui() -> None:
    """On small machines torch's intra-op threads would take every core from the GUI thread and the
    software GL rasteriser; leave one free (measured with benchmarks/gui_latency.py)."""
    import torch

    cores = os.cpu_count() or 1
    if cores <= 4 and torch.get_num_threads() >= cores:
        torch.set_num_threads(max(1, cores - 1))


def create_application(argv: list[str] | None = None) -> QtWidgets.QApplication:
    """The QApplication (existing or new) with GL contexts shared between views."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        _leave_a_core_to_the_gui()
        QtCore.QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QtWidgets.QApplication(list(argv) if argv else [sys.argv[0]])
        app.setApplicationName("SMART Workbench")
        app.setOrganizationName("smart-workbench")
    return app


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="smart-workbench",
                                description="Explore SMART adversarial attacks on skeleton motions.")
    p.add_argument("dataset", nargs="?", help="a dataset file or folder to open instead of the demo")
    p.add_argument("--demo", default=None, help="demo to open at start: demo or hdm05-demo")
    p.add_argument("--settings", default=None, help="settings file (default: the user's config folder)")
    p.add_argument("--screenshot", metavar="FILE.png", default=None,
                   help="start, wait until the demo is loaded and drawn, save the window, exit")
    p.add_argument("--attack", action="store_true",
                   help="with --screenshot: run an attack on the shown motion before saving")
    p.add_argument("--size", default="1600x960", help="with --screenshot: window size (default 1600x960)")
    p.add_argument("--index", type=int, default=0, help="with --screenshot: the motion to show (default 0)")
    p.add_argument("--frame", type=int, default=0, help="with --screenshot: the frame to show (default 0)")
    p.add_argument("--mode", default=None, choices=("overlay", "side"), help="with --screenshot: 3D layout")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="with --screenshot --attack: an attack parameter (e.g. classification_loss=margin)")
    p.add_argument("--timeout", type=float, default=180.0, help="with --screenshot: give up after seconds")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "render":
        return render_main(argv[1:])
    args = _build_parser().parse_args(argv)
    if not _has_display() and not os.environ.get("QT_QPA_PLATFORM"):
        print("error: SMART Workbench is a desktop app and found no display (DISPLAY / WAYLAND_DISPLAY "
              "unset). Run it on a desktop; headless, use `smart-workbench render …` for clips, "
              "`smart-attack …` for dataset runs, or "
              "`xvfb-run -a -s '-screen 0 1600x1000x24 +extension GLX +render' smart-workbench "
              "--screenshot window.png`.", file=sys.stderr)
        return 2
    app = create_application([sys.argv[0]])
    from widgets.skeleton_view import grab_widget

    from .export import parse_size
    from .main_window import MainWindow
    from .settings import Settings, default_path

    tmp = None
    if args.screenshot:
        tmp = tempfile.TemporaryDirectory()
        settings = Settings.load(args.settings or Path(tmp.name) / "settings.ini")
    else:
        settings = Settings.load(args.settings or default_path())
    demo = args.demo or (None if args.dataset else settings.last_demo or "demo")
    window = MainWindow(settings, start_demo=demo)
    if args.screenshot:
        window.modal_errors = False  # an error must not wait for a click: it is printed instead
    if args.screenshot:
        w, h = parse_size(args.size)
        window.resize(w, h)
    window.show()
    if args.dataset:
        QtCore.QTimer.singleShot(0, lambda: window.open_dataset(args.dataset))
    if not args.screenshot:
        rc = app.exec()
        return int(rc)

    state = {"rc": 1}
    out = Path(args.screenshot)

    def shoot():
        # two event-loop turns and a short pause so the GL view has painted the first frame
        window.view.gl_view.update()
        app.processEvents()
        grab_widget(window).save(str(out))
        print(f"saved {out}")
        state["rc"] = 0
        window.close()
        app.quit()

    def on_ready():
        if args.index:
            window.select_motion(args.index)
        if args.mode:
            window.view.set_mode(args.mode)
        window.playback.set_frame(args.frame)
        if args.attack:
            window.attack_finished.connect(lambda _r: QtCore.QTimer.singleShot(800, shoot))
            params = {"iterations": 300}
            for item in args.set:
                key, _, value = item.partition("=")
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
            window.panel.set_params(params)
            window.run_attack()
        else:
            QtCore.QTimer.singleShot(800, shoot)

    def on_error(text):
        print(f"error: {text}", file=sys.stderr)

    def give_up():
        print(f"error: the window was not ready after {args.timeout:g} s", file=sys.stderr)
        window.close()
        app.quit()

    window.ready.connect(on_ready)
    window.error_shown.connect(on_error)
    QtCore.QTimer.singleShot(int(args.timeout * 1000), give_up)
    app.exec()
    if tmp is not None:
        tmp.cleanup()
    return state["rc"]


# ============================================================================================ render
def _render_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="smart-workbench render",
        description="Render an attacked motion to a clip without a window (original and adversarial, "
                    "overlaid or side by side, labels burned in).")
    p.add_argument("--dataset", default="demo", help="a demo name (demo, hdm05-demo) or a dataset path")
    p.add_argument("--model", default=None, help="a shipped model of the demo (mlp, stgcn, ...) or a "
                   "checkpoint path (default: the demo's mlp)")
    p.add_argument("--index", type=int, default=0, help="motion index in the dataset (default 0)")
    p.add_argument("--strategy", default="ab", choices=("ab", "abn", "sa"))
    p.add_argument("--top-n", type=int, default=3, help="ABN's N")
    p.add_argument("--target", type=int, default=None, help="SA's target class id")
    p.add_argument("--w", type=float, default=PAPER_DEFAULTS["w"])
    p.add_argument("--alpha", type=float, default=PAPER_DEFAULTS["alpha"])
    p.add_argument("--betas", default="0.6,0,0.4,0,0", help="β₀…β₄, comma-separated")
    p.add_argument("--lr", type=float, default=0.005)
    p.add_argument("--iterations", type=int, default=PAPER_DEFAULTS["iterations"])
    p.add_argument("--perceptual", default="smart", choices=("smart", "l2", "l2_acc", "l2_bone"))
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="clip.mp4", help="clip.mp4, clip.gif, or a folder / name.png for frames")
    p.add_argument("--mode", default="overlay", choices=("overlay", "side"))
    p.add_argument("--size", default="640x480")
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--speed", type=float, default=1.0, help="playback speed (1/3 = the paper's slow motion)")
    p.add_argument("--camera", default="default", choices=("default", "front", "side", "top"))
    return p


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("xcb", "wayland", "windows", "cocoa", "eglfs")):
        return True
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def render_main(argv: list[str]) -> int:
    args = _render_parser().parse_args(argv)
    if not _has_display() and not os.environ.get("SMART_WORKBENCH_NO_XVFB"):
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            print("error: rendering needs OpenGL: run under a display or Xvfb "
                  "(xvfb-run -a -s '-screen 0 1600x1000x24 +extension GLX +render' smart-workbench render …)",
                  file=sys.stderr)
            return 2
        env = dict(os.environ, SMART_WORKBENCH_NO_XVFB="1")
        cmd = [xvfb, "-a", "-s", "-screen 0 1600x1000x24 +extension GLX +render",
               sys.executable, "-m", "workbench.app", "render", *argv]
        os.execvpe(cmd[0], cmd, env)  # replaces this process
    try:
        return _render(args)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _render(args) -> int:
    import numpy as np

    from engine import datasets as datasets_mod
    from engine import demo as demo_mod
    from engine.attack import attack

    from .export import parse_size
    from .render import ClipJob, make_export_view, render_clip
    from .session import check_compatible, config_from_params, evaluate, load_model

    if args.dataset in demo_mod.demo_names():
        ds, demo = demo_mod.load_demo(args.dataset), args.dataset
    else:
        ds, demo = datasets_mod.load(args.dataset), None
    if not 0 <= args.index < len(ds):
        raise ValueError(f"--index {args.index} is outside the dataset (0..{len(ds) - 1})")
    model_spec = args.model or ("mlp" if demo else None)
    if model_spec is None:
        raise ValueError("--model is needed for a dataset that is not a demo (a checkpoint path)")
    lm = load_model(model_spec, demo)
    check_compatible(lm, ds)
    clip = ds.motions[args.index:args.index + 1]
    label = int(ds.labels[args.index])
    probs = evaluate(lm.model, clip, "cpu")[0]
    if int(np.argmax(probs)) != label:
        wrong = lm.class_names[int(np.argmax(probs))]
        print(f"warning: the model misclassifies motion {args.index} ({wrong} instead of "
              f"{ds.class_names[label]})", file=sys.stderr)
    params = {
        "strategy": args.strategy, "top_n": args.top_n, "target": args.target, "w": args.w,
        "alpha": args.alpha, "betas": tuple(float(b) for b in args.betas.split(",")), "lr": args.lr,
        "iterations": args.iterations, "perceptual": args.perceptual, "classification_loss": "ce",
        "stop_on_success": True, "seed": args.seed,
    }
    config = config_from_params(params, device=args.device)
    res = attack(lm.model, clip, [label], ds.layout, config)
    pred = int(res.predicted[0])
    ok = bool(res.success[0])
    print(f"motion {args.index} ({ds.class_names[label]}): {'success' if ok else 'no success'} after "
          f"{int(res.iterations[0])} iterations, predicted {lm.class_names[pred]}")

    create_application([sys.argv[0]])
    view = make_export_view()
    strat = args.strategy.upper() + (str(args.top_n) if args.strategy == "abn" else "")
    job = ClipJob(
        original=res.original[0].numpy(), adversarial=res.adversarial[0].numpy(),
        bones=ds.layout.bone_array(), clip_fps=ds.fps, size=parse_size(args.size), fps=args.fps,
        speed=args.speed, mode=args.mode, label_original=f"original: {ds.class_names[label]}",
        label_adversarial=f"adversarial: {lm.class_names[pred]}",
        caption=f"SMART {strat} w={args.w:.2f} α={args.alpha:.2f} · {lm.title}", camera=args.camera,
    )
    total = 0
    for done, total in render_clip(view, job, args.out):
        if done == total or done % 30 == 0:
            print(f"\rframe {done}/{total}", end="", flush=True)
    print(f"\nwrote {args.out} ({total} frames)")
    view.deleteLater()
    return 0


if __name__ == "__main__":
    sys.exit(main())
