"""The centre of the window: the 3D view and its playback bar, rendering the selected motion and the shown
run (or two runs played against each other). A new dataset or motion re-frames the camera; a new run
keeps the user's camera. Texts name classes by the dataset's class names."""

from __future__ import annotations

from PySide6 import QtWidgets

from widgets.playback import PlaybackBar
from widgets.skeleton_view import SkeletonView

from .records import RunRecord
from .state import WorkbenchState

__all__ = ["ViewPanel"]


class ViewPanel(QtWidgets.QWidget):
    def __init__(self, state: WorkbenchState, parent=None):
        super().__init__(parent)
        self.state = state
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(2, 2, 2, 2)
        self.view = SkeletonView()
        self.playback = PlaybackBar()
        col.addWidget(self.view, 1)
        col.addWidget(self.playback)
        self.comparing = False
        self.playback.frame_changed.connect(self.view.set_frame)
        state.selection_changed.connect(self.render_motion)
        state.runs_changed.connect(self.render_run)
        state.model_changed.connect(self.render_labels)
        state.run_started.connect(self.render_labels)

    def render_motion(self) -> None:
        st = self.state
        if st.dataset is None or st.index is None:
            return
        ds = st.dataset
        clip = ds.motions[st.index]
        adv = st.shown.adversarial if st.shown is not None else None
        self.comparing = False
        self.view.set_motions(clip, adv, ds.layout.bone_array(), ds.fps)  # re-frames the camera
        self.playback.set_fps(ds.fps)
        self.playback.set_length(len(clip))
        self.playback.set_frame(0)
        self.view.set_frame(self.playback.frame)
        self.render_labels()

    def render_run(self) -> None:
        st = self.state
        if st.dataset is None or st.index is None:
            return
        rec = st.shown
        if self.comparing:
            self.render_motion()
            return
        if st.running is None or rec is not None:
            self.view.set_adversarial(None if rec is None else rec.adversarial)
        self.view.set_frame(self.playback.frame)
        self.render_labels()

    def render_labels(self) -> None:
        st = self.state
        if st.dataset is None or st.index is None or self.comparing:
            return
        orig = f"original: {st.class_name(int(st.dataset.labels[st.index]))}"
        rec = st.shown
        if st.running is not None:
            self.view.set_labels(orig, "adversarial (optimising…)", "")
        elif rec is None:
            self.view.set_labels(orig, "adversarial", "")
        else:
            self.view.set_labels(orig, f"adversarial: {st.model_class_name(rec.predicted)}", rec.caption())

    def show_iterate(self, adversarial) -> None:
        """The attack's current iterate (live)."""
        if not self.comparing and self.state.index is not None:
            self.view.set_adversarial(adversarial)

    def compare(self, a: RunRecord, b: RunRecord) -> None:
        """Play the adversarial motions of runs ``a`` and ``b`` against each other (A blue, B pink)."""
        st = self.state
        ds = st.dataset
        self.view.set_motions(a.adversarial, b.adversarial, ds.layout.bone_array(), ds.fps)
        self.comparing = True
        self.view.set_labels(f"A: run #{a.run_id} ({st.model_class_name(a.predicted)})",
                             f"B: run #{b.run_id} ({st.model_class_name(b.predicted)})",
                             "A vs B · heat = distance between the two")
        self.view.set_frame(self.playback.frame)
        self.playback.play()
