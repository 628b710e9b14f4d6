"""The Model dock: the models that fit the open dataset (shipped checkpoints with the same layout and class
names, and checkpoints opened this session), the device, and the model's status for the dataset —
evaluating (with progress and Cancel), ready (how many motions it classifies correctly), or does not fit
(with the reason)."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import Qt, Signal

from .runtime import cuda_available
from .state import ModelStatus, WorkbenchState

__all__ = ["ModelDock"]


class ModelDock(QtWidgets.QDockWidget):
    """Signals: ``model_requested(str)`` (a source), ``checkpoint_requested()``, ``device_changed(str)``,
    ``cancel_requested()``."""

    model_requested = Signal(str)
    checkpoint_requested = Signal()
    device_changed = Signal(str)
    cancel_requested = Signal()

    def __init__(self, state: WorkbenchState, parent=None):
        super().__init__("Model", parent)
        self.setObjectName("dock_model")
        self.state = state
        w = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(w)
        row = QtWidgets.QHBoxLayout()
        self.combo = QtWidgets.QComboBox()
        self.combo.setToolTip("The shipped models that fit the open dataset (same skeleton and classes), and "
                              "the checkpoints you opened")
        self.combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)
        self.combo.setPlaceholderText("no model fits this dataset")
        self.checkpoint_button = QtWidgets.QToolButton()
        self.checkpoint_button.setText("Open…")
        self.checkpoint_button.setToolTip("Open a checkpoint file (.pt) trained on this dataset (Ctrl+K)")
        row.addWidget(self.combo, 1)
        row.addWidget(self.checkpoint_button)
        form.addRow("Model", row)
        self.device_combo = QtWidgets.QComboBox()
        self.device_combo.addItem("CPU", "cpu")
        self.device_combo.addItem("CUDA", "cuda")
        if not cuda_available():
            self.device_combo.model().item(1).setEnabled(False)
            self.device_combo.setItemData(1, "CUDA is not available on this machine",
                                          Qt.ItemDataRole.ToolTipRole)
        form.addRow("Device", self.device_combo)
        self.status_label = QtWidgets.QLabel("No model")
        self.status_label.setWordWrap(True)
        self.status_label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                                        QtWidgets.QSizePolicy.Policy.Preferred)  # long paths never widen it
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        form.addRow(self.status_label)
        prow = QtWidgets.QHBoxLayout()
        self.progress = QtWidgets.QProgressBar()
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        prow.addWidget(self.progress, 1)
        prow.addWidget(self.cancel_button)
        self.progress_row = QtWidgets.QWidget()
        self.progress_row.setLayout(prow)
        self.progress_row.hide()
        form.addRow(self.progress_row)
        scroll = QtWidgets.QScrollArea()  # a long "does not fit" reason scrolls instead of being cut
        scroll.setWidget(w)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(scroll)

        self.combo.activated.connect(self._on_combo)
        self.checkpoint_button.clicked.connect(self.checkpoint_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.device_combo.currentIndexChanged.connect(
            lambda i: self.device_changed.emit(self.device_combo.itemData(i)))
        state.model_changed.connect(self.render)
        state.job_changed.connect(self.render)

    def device(self) -> str:
        return self.device_combo.currentData()

    def set_device(self, device: str) -> None:
        idx = self.device_combo.findData(device)
        if idx >= 0 and self.device_combo.model().item(idx).isEnabled():
            with QtCore.QSignalBlocker(self.device_combo):
                self.device_combo.setCurrentIndex(idx)

    def render(self) -> None:
        st = self.state
        with QtCore.QSignalBlocker(self.combo):
            self.combo.clear()
            for c in st.choices:
                self.combo.addItem(c.title, c.source)
                self.combo.setItemData(self.combo.count() - 1, c.source, Qt.ItemDataRole.ToolTipRole)
            if st.model is not None:
                idx = self.combo.findData(st.model.source)
                if idx < 0 and st.status == ModelStatus.READY:
                    self.combo.addItem(st.model.title, st.model.source)
                    idx = self.combo.count() - 1
                self.combo.setCurrentIndex(idx)
        self.status_label.setText(self._status_text())
        job = st.job
        self.progress_row.setVisible(job is not None)
        if job is not None:
            text, done, total = job
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat(text if total == 0 else "evaluating %v / %m")

    def _status_text(self) -> str:
        st = self.state
        m = st.model
        if st.status == ModelStatus.MISFIT:
            head = f"<b>{m.title}</b>: " if m is not None else ""
            return (f"{head}<span style='color:#e55'><b>does not fit this dataset</b></span><br>"
                    f"{_html(st.reason)}")
        if m is None:
            return _html(st.reason) if st.reason else "No model"
        head = f"<b>{m.title}</b> · {m.name} · {m.layout}"
        if st.status in (ModelStatus.LOADING, ModelStatus.EVALUATING):
            return f"{head}<br>evaluating on this dataset…"
        if st.status == ModelStatus.NONE:
            return f"{head}<br>{_html(st.reason)}"
        ok = st.correct_mask()
        if not len(ok):
            return head
        return (f"{head}<br>{int(ok.sum())} / {len(ok)} motions classified correctly ({ok.mean():.1%}); only "
                "those are attack candidates.")

    def _on_combo(self, idx: int) -> None:
        source = self.combo.itemData(idx)
        m = self.state.model
        if source and (m is None or source != m.source or self.state.status != ModelStatus.READY):
            self.model_requested.emit(source)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
