"""Not a test: shows the widgets on a synthetic walking stick figure and saves a PNG.

    xvfb-run -a -s "-screen 0 1600x1000x24 +extension GLX +render" \\
        .venv/bin/python tests/widgets/screenshot_widgets.py [OUT.png]

Default output: /tmp/widgets.png (also /tmp/widgets_gl.png, the GL framebuffer alone, as exported).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]

import numpy as np  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402
from stick_figure import BONES, JOINT_NAMES, perturbed, walking_figure  # noqa: E402

from widgets.displacement_chart import DisplacementChart  # noqa: E402
from widgets.loss_plot import LossPlot  # noqa: E402
from widgets.parameter_panel import ParameterPanel  # noqa: E402
from widgets.playback import PlaybackBar  # noqa: E402
from widgets.probability_chart import ProbabilityBars  # noqa: E402
from widgets.skeleton_view import SkeletonView, grab_widget  # noqa: E402


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/widgets.png")
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    app.setApplicationName("smart-widgets-screenshot")
    original = walking_figure(90)
    adversarial = perturbed(original, 0.04)
    classes = ["walk", "run", "jump", "sit down", "kick", "punch", "wave", "throw", "hop", "turn", "squat",
               "put on a shoe while standing on one leg"]

    window = QtWidgets.QWidget()
    window.setWindowTitle("SMART widgets")
    grid = QtWidgets.QGridLayout(window)
    view = SkeletonView()
    bar = PlaybackBar()
    try:  # the panel shows what the caller passes: here the engine's presets, as the app does
        from engine.attack import PRESETS, AttackConfig

        defaults = AttackConfig().to_dict()
        presets = {name: make().to_dict() for name, make in PRESETS.items()}
    except ImportError:  # engine not importable: a small stand-in
        defaults = {"strategy": "ab", "w": 0.4, "alpha": 0.3, "iterations": 300, "lr": 0.005}
        presets = None
    panel = ParameterPanel(defaults=defaults, presets=presets)
    loss = LossPlot(refresh_ms=0)
    probs = ProbabilityBars()
    disp = DisplacementChart()
    left = QtWidgets.QVBoxLayout()
    left.addWidget(view, 1)
    left.addWidget(bar)
    grid.addLayout(left, 0, 0, 2, 1)
    grid.addWidget(panel, 0, 1, 2, 1)
    grid.addWidget(loss, 0, 2)
    grid.addWidget(probs, 1, 2)
    grid.addWidget(disp, 0, 3, 2, 1)
    grid.setColumnStretch(0, 3)
    grid.setColumnStretch(2, 2)
    grid.setColumnStretch(3, 1)
    bar.create_actions(window)
    bar.frame_changed.connect(view.set_frame)

    view.set_motions(original, adversarial, BONES, fps=30)
    view.set_labels("walk (clean, p=0.91)", "run (adversarial, p=0.64)")
    view.set_trails(True, length=15)
    bar.set_length(len(original))
    bar.set_fps(30)
    panel.set_class_names(classes)
    panel.set_progress(120, 300)

    rng = np.random.default_rng(0)
    it = np.arange(120)
    lc = 2.0 * np.exp(-it / 30) + 0.05
    lp = 0.002 * (1 - np.exp(-it / 20)) + 1e-4
    for i in it:
        loss.append(i, {"total": 0.4 * lc[i] + 0.6 * lp[i], "Lc": lc[i], "Lp": lp[i],
                        "l_dyn": 0.7 * lp[i], "l_bl": 0.3 * lp[i] * (1 + 0.1 * rng.standard_normal())})
    loss.flush()
    loss.set_log_scale(True)
    loss.mark_flip(64)
    p = rng.dirichlet(np.full(len(classes), 0.5))
    p[1], p[0], p[11] = 0.64, 0.2, 0.1
    p /= p.sum()
    probs.set_probabilities(p, classes, clean=0, target=11, k=6)
    disp.set_displacement(view.displacement.mean(axis=0), JOINT_NAMES)

    window.resize(1560, 820)
    window.show()
    view.reset_camera()
    bar.play()
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(700, loop.quit)
    loop.exec()
    bar.pause()
    print(f"frame after 0.7 s at 30 fps: {bar.frame}")
    grab_widget(window).save(str(out))
    view.grab_frame().save(str(out.with_name(out.stem + "_gl.png")))
    print(f"saved {out}")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
