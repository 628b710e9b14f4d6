"""``smart-workbench``: the desktop app, its screenshot mode and the headless ``render`` command.

    smart-workbench [DATASET] [--model CHECKPOINT_OR_SHIPPED_NAME] [--demo demo|hdm05-demo] [--settings FILE]
    smart-workbench --version
    smart-workbench [DATASET] [--model M] --screenshot FILE.png [--attack] [--show transfer] [--preset paper]
    smart-workbench render [--dataset demo|PATH] [--model M] [--index 0] [--preset natural|paper]
                           [--strategy ab] [--w W] ... [--out clip.mp4|clip.gif|folder]

The app, the screenshot mode and ``render`` share one thread and device policy
(:mod:`workbench.runtime`: one torch thread per worker on the CPU) and one way of finding a model
(:func:`workbench.catalog.resolve_model_spec`: a checkpoint file or the name of a shipped model that fits
the dataset). PySide6 is imported before pyqtgraph (which would otherwise prefer PyQt6 if present), and
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

import engine  # noqa: E402

from .gui_gc import GuiThreadCollector  # noqa: E402
from .runtime import apply_thread_policy, resolve_device  # noqa: E402

__all__ = ["create_application", "main", "render_main"]


def create_application(argv: list[str] | None = None, workers: bool = True) -> QtWidgets.QApplication:
    """The QApplication (existing or new) with GL contexts shared between views. ``workers``: the app
    will run worker threads, so Python's cycles are collected in the GUI thread only (``gui_gc``)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        apply_thread_policy()
        QtCore.QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QtWidgets.QApplication(list(argv) if argv else [sys.argv[0]])
        app.setApplicationName("SMART Workbench")
        app.setApplicationVersion(engine.__version__)
        app.setOrganizationName("smart-workbench")
    if workers and app.findChild(GuiThreadCollector) is None:
        GuiThreadCollector(freeze=True, parent=app)  # cycles collected in the GUI thread only (gui_gc)
    return app


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="smart-workbench",
                                description="Explore SMART adversarial attacks on skeleton motions.")
    p.add_argument("--version", action="version", version=f"smart-workbench {engine.__version__}")
    p.add_argument("dataset", nargs="?", help="a dataset file or folder to open instead of the demo")
    p.add_argument("--model", default=None,
                   help="the model to open it with: a checkpoint file or a shipped model's name (stgcn, "
                        "...); default: the model used last, if it fits, else a shipped one that fits")
    p.add_argument("--demo", default=None, help="demo to open at start: demo or hdm05-demo")
    p.add_argument("--settings", default=None, help="settings file (default: the user's config folder)")
    p.add_argument("--screenshot", metavar="FILE.png", default=None,
                   help="start, wait until the dataset and its model are loaded and drawn, save the window, "
                        "exit")
    p.add_argument("--attack", action="store_true",
                   help="with --screenshot: run an attack on the shown motion before saving")
    p.add_argument("--preset", default=None, help="with --screenshot: the attack preset (natural, paper)")
    p.add_argument("--show", default=None, metavar="DOCK",
                   help="with --screenshot: bring a tabbed dock to the front (history, transfer, export)")
    p.add_argument("--size", default="1600x960", help="with --screenshot: window size (default 1600x960)")
    p.add_argument("--index", type=int, default=0, help="with --screenshot: the motion to show (default 0)")
    p.add_argument("--frame", type=int, default=0, help="with --screenshot: the frame to show (default 0)")
    p.add_argument("--mode", default=None, choices=("overlay", "side"), help="with --screenshot: 3D layout")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="with --screenshot --attack: an attack parameter (e.g. iterations=100)")
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
    import numpy as np

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
    window = MainWindow(settings, start_demo=None)
    if args.screenshot:
        window.modal_errors = False  # an error must not wait for a click: it is printed instead
        window.resize(*parse_size(args.size))
    window.show()
    if args.dataset:
        QtCore.QTimer.singleShot(0, lambda: window.open_dataset(args.dataset, model=args.model))
    else:
        QtCore.QTimer.singleShot(0, lambda: window.open_demo(demo, model=args.model))
    if not args.screenshot:
        return int(app.exec())

    result = {"rc": 1}
    out = Path(args.screenshot)

    def shoot():
        window.centre.view.gl_view.update()
        app.processEvents()
        grab_widget(window).save(str(out))
        print(f"saved {out}")
        result["rc"] = 0
        window.close()
        app.quit()

    def shoot_soon(_=None):
        QtCore.QTimer.singleShot(1500, shoot)

    def on_ready():
        st = window.state
        if args.index:
            window.select_motion(args.index)
        if args.attack and not st.can_attack()[0]:  # the next attack candidate from --index on
            ok = np.flatnonzero(st.correct_mask()[args.index:])
            if ok.size:
                print(f"note: motion {args.index} is not an attack candidate: showing motion "
                      f"{args.index + int(ok[0])}", file=sys.stderr)
                window.select_motion(args.index + int(ok[0]))
        if args.mode:
            window.centre.view.set_mode(args.mode)
        if args.show:
            dock = {d.objectName().removeprefix("dock_"): d for d in window.docks()}.get(args.show)
            if dock is None:
                print(f"error: --show: no dock {args.show!r}", file=sys.stderr)
            else:
                dock.show()
                dock.raise_()
        window.centre.playback.set_frame(args.frame)
        if not args.attack:
            shoot_soon()
            return
        if args.preset:
            window.attack_dock.set_preset(args.preset)
        params = {}
        for item in args.set:
            key, _, value = item.partition("=")
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        window.attack_dock.panel.set_params(params)
        if not st.can_attack()[0]:
            print(f"error: cannot attack: {st.can_attack()[1]}", file=sys.stderr)
            shoot_soon()
            return
        if args.show == "transfer":  # wait for the other models' verdicts on the finished run
            window.state.transfer_changed.connect(
                lambda: shoot_soon() if window.state.transfer and window.state.running is None else None)
        else:
            window.attack_finished.connect(shoot_soon)
        window.run_attack()

    def give_up():
        print(f"error: the window was not ready after {args.timeout:g} s", file=sys.stderr)
        window.close()
        app.quit()

    window.ready.connect(on_ready)
    window.error_shown.connect(lambda text: print(f"error: {text}", file=sys.stderr))
    QtCore.QTimer.singleShot(int(args.timeout * 1000), give_up)
    app.exec()
    if tmp is not None:
        tmp.cleanup()
    return result["rc"]


# ============================================================================================ render
def _render_parser() -> argparse.ArgumentParser:
    from engine.attack import AttackConfig

    from .attack_params import presets

    d = AttackConfig()
    p = argparse.ArgumentParser(
        prog="smart-workbench render",
        description="Render an attacked motion to a clip without a window (original and adversarial, "
                    "overlaid or side by side, labels burned in). Attack settings default to the preset's "
                    "(engine.attack.AttackConfig).")
    p.add_argument("--dataset", default="demo", help="a demo name (demo, hdm05-demo) or a dataset path")
    p.add_argument("--model", default=None, help="a checkpoint file or a shipped model's name (mlp, stgcn, "
                   "...) that fits the dataset (default: mlp)")
    p.add_argument("--index", type=int, default=0, help="motion index in the dataset (default 0)")
    p.add_argument("--preset", default="natural", choices=sorted(presets()),
                   help="the attack preset the options below change (default natural)")
    p.add_argument("--strategy", default=None, choices=("ab", "abn", "sa"), help=f"default {d.strategy}")
    p.add_argument("--top-n", type=int, default=None, help=f"ABN's N (default {d.top_n})")
    p.add_argument("--target", type=int, default=None, help="SA's target class id")
    p.add_argument("--w", type=float, default=None, help=f"default {d.w}")
    p.add_argument("--alpha", type=float, default=None, help=f"default {d.alpha}")
    betas = ",".join(f"{b:g}" for b in d.betas)
    p.add_argument("--betas", default=None, help=f"β₀…β₄, comma-separated (default {betas})")
    p.add_argument("--lr", type=float, default=None, help=f"default {d.lr}")
    p.add_argument("--iterations", type=int, default=None, help=f"default {d.iterations}")
    p.add_argument("--perceptual", default=None, choices=("smart", "l2", "l2_acc", "l2_bone"))
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--seed", type=int, default=None)
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
    apply_thread_policy()
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
    from engine.models import fit

    from .attack_params import config_from_params, params_from_config, presets
    from .catalog import load_model, resolve_model_spec
    from .evaluation import evaluate
    from .export import parse_size
    from .records import strategy_text
    from .render import ClipJob, make_export_view, render_clip

    ds = demo_mod.load_demo(args.dataset) if args.dataset in demo_mod.demo_names() \
        else datasets_mod.load(args.dataset)
    if not 0 <= args.index < len(ds):
        raise ValueError(f"--index {args.index} is outside the dataset (0..{len(ds) - 1})")
    lm = load_model(resolve_model_spec(args.model or "mlp", ds))
    label_map = fit(lm.model, ds)
    device = resolve_device(args.device)
    clip = ds.motions[args.index:args.index + 1]
    label = int(ds.labels[args.index])
    truth = int(label_map[label])
    names = {int(m): ds.class_names[k] for k, m in enumerate(label_map) if m >= 0}
    probs = evaluate(lm.model, clip, device)[0]
    if int(np.argmax(probs)) != truth:
        wrong = names.get(int(np.argmax(probs)), lm.class_names[int(np.argmax(probs))])
        print(f"warning: the model misclassifies motion {args.index} ({wrong} instead of "
              f"{ds.class_names[label]})", file=sys.stderr)
    base = presets()[args.preset]()
    params = params_from_config(base)
    given = {"strategy": args.strategy, "top_n": args.top_n, "w": args.w, "alpha": args.alpha, "lr": args.lr,
             "iterations": args.iterations, "perceptual": args.perceptual, "seed": args.seed,
             "betas": None if args.betas is None else tuple(float(b) for b in args.betas.split(","))}
    params.update({k: v for k, v in given.items() if v is not None})
    if params["strategy"] == "sa":
        if args.target is None:
            raise ValueError("--strategy sa needs --target (a class id of the dataset)")
        params["target"] = int(label_map[args.target])
    config = config_from_params(params, base, device=device)
    res = attack(lm.model, clip, [truth], layout=ds.layout, config=config)
    pred = int(res.predicted[0])
    ok = bool(res.success[0])
    pred_name = names.get(pred, lm.class_names[pred])
    print(f"motion {args.index} ({ds.class_names[label]}): {'success' if ok else 'no success'} after "
          f"{int(res.iterations[0])} iterations, predicted {pred_name}")

    create_application([sys.argv[0]], workers=False)  # renders in this thread only
    view = make_export_view()
    job = ClipJob(
        original=res.original[0].numpy(), adversarial=res.adversarial[0].numpy(),
        bones=ds.layout.bone_array(), clip_fps=ds.fps, size=parse_size(args.size), fps=args.fps,
        speed=args.speed, mode=args.mode, label_original=f"original: {ds.class_names[label]}",
        label_adversarial=f"adversarial: {pred_name}",
        caption=f"SMART {strategy_text(params)} w={config.w:.2f} α={config.alpha:.2f} · {lm.title}",
        camera=args.camera,
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
