"""The Data dock: demos, Open…, the open dataset, the motion list with the model's verdicts and the
selected motion's details. Renders from :class:`WorkbenchState`; a click in the list selects there."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import Qt, Signal

from engine import demo as demo_mod

from .motion_table import MotionFilter, MotionTableModel
from .state import ModelStatus, WorkbenchState

__all__ = ["DataDock"]


class DataDock(QtWidgets.QDockWidget):
    """Signals (the user's requests): ``demo_requested(str)``, ``open_file_requested()``,
    ``open_folder_requested()``, ``recent_requested(str)``."""

    demo_requested = Signal(str)
    open_file_requested = Signal()
    open_folder_requested = Signal()
    recent_requested = Signal(str)

    def __init__(self, state: WorkbenchState, parent=None):
        super().__init__("Data", parent)
        self.setObjectName("dock_data")
        self.state = state
        w = QtWidgets.QWidget()
        dl = QtWidgets.QVBoxLayout(w)
        row = QtWidgets.QHBoxLayout()
        self.demo_buttons: dict[str, QtWidgets.QPushButton] = {}
        for name in demo_mod.demo_names():
            b = QtWidgets.QPushButton("Demo" if name == "demo" else "HDM05 demo")
            b.setToolTip(demo_mod.demo_title(name))
            b.clicked.connect(lambda _c=False, n=name: self.demo_requested.emit(n))
            row.addWidget(b)
            self.demo_buttons[name] = b
        self.open_button = QtWidgets.QToolButton()
        self.open_button.setText("Open…")
        self.open_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.open_button.clicked.connect(self.open_file_requested)
        self.recent_menu = QtWidgets.QMenu("Recent", self)
        menu = QtWidgets.QMenu(self)
        menu.addAction("Open file…", self.open_file_requested.emit)
        menu.addAction("Open folder…", self.open_folder_requested.emit)
        menu.addMenu(self.recent_menu)
        self.open_button.setMenu(menu)
        row.addWidget(self.open_button)
        dl.addLayout(row)
        self.dataset_label = QtWidgets.QLabel("No dataset")
        self.dataset_label.setWordWrap(True)
        self.dataset_label.setTextFormat(Qt.TextFormat.RichText)
        dl.addWidget(self.dataset_label)
        frow = QtWidgets.QHBoxLayout()
        self.filter_edit = QtWidgets.QLineEdit()
        self.filter_edit.setPlaceholderText("Filter (class, subject, #)…")
        self.filter_edit.setClearButtonEnabled(True)
        self.correct_only = QtWidgets.QCheckBox("Attack candidates only")
        self.correct_only.setToolTip("Show only motions the model classifies correctly (as in the paper)")
        frow.addWidget(self.filter_edit, 1)
        frow.addWidget(self.correct_only)
        dl.addLayout(frow)
        self.table_model = MotionTableModel(self)
        self.proxy = MotionFilter(self)
        self.proxy.setSourceModel(self.table_model)
        t = self.table = QtWidgets.QTableView()
        t.setModel(self.proxy)
        t.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        t.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        t.verticalHeader().hide()
        t.verticalHeader().setDefaultSectionSize(20)
        hh = t.horizontalHeader()
        hh.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for c in (0, 2):
            hh.setSectionResizeMode(c, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(3, QtWidgets.QHeaderView.ResizeMode.Interactive)
        hh.resizeSection(3, 96)  # "✓" or "✗ <predicted class>" (elided; the tooltip has it all)
        dl.addWidget(t, 1)
        self.info = QtWidgets.QLabel("")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setMinimumHeight(60)
        dl.addWidget(self.info)
        self.setWidget(w)

        self.filter_edit.textChanged.connect(self.proxy.set_text)
        self.correct_only.toggled.connect(self.proxy.set_correct_only)
        t.selectionModel().currentRowChanged.connect(self._on_row)
        state.dataset_changed.connect(self._render_dataset)
        state.model_changed.connect(self._render_model)
        state.selection_changed.connect(self._render_selection)

    # ------------------------------------------------------------------------------------- render
    def _render_dataset(self) -> None:
        st = self.state
        ds = st.dataset
        lay = getattr(ds.layout, "name", str(ds.layout))
        self.dataset_label.setText(f"<b>{st.title}</b><br>{len(ds)} motions · {len(ds.class_names)} "
                                   f"classes · {lay} · {ds.fps:g} fps")
        subjects = getattr(ds, "subjects", None)
        subj = ["" if subjects is None or subjects[i] is None else str(subjects[i]) for i in range(len(ds))]
        self.table_model.set_motions(np.asarray(ds.labels), list(ds.class_names), subj)

    def _render_model(self) -> None:
        st = self.state
        if st.dataset is None:
            return
        if st.status == ModelStatus.READY and st.probabilities is not None:
            p = np.nan_to_num(st.probabilities, nan=-1.0)
            pred = np.argmax(p, axis=1) if len(p) else np.zeros(0, dtype=np.int64)
            names = {int(c): st.model_class_name(int(c)) for c in np.unique(pred)}
            self.table_model.set_verdicts(st.correct_mask(), [names[int(c)] for c in pred],
                                          p.max(axis=1, initial=0))
        elif st.status == ModelStatus.MISFIT:
            self.table_model.set_verdicts(np.zeros(0, dtype=bool), [], None)
        else:
            self.table_model.set_verdicts(None, [], None)
        self.proxy.invalidate()
        self._render_info()

    def _render_selection(self) -> None:
        i = self.state.index
        if i is not None:
            proxy = self.proxy.mapFromSource(self.table_model.index(i, 0))
            sm = self.table.selectionModel()
            if proxy.isValid() and sm.currentIndex().row() != proxy.row():
                with QtCore.QSignalBlocker(sm):
                    sm.setCurrentIndex(proxy, QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect
                                       | QtCore.QItemSelectionModel.SelectionFlag.Rows)
                self.table.viewport().update()
            if proxy.isValid():
                self.table.scrollTo(proxy)
        self._render_info()

    def _render_info(self) -> None:
        st = self.state
        ds, i = st.dataset, st.index
        if ds is None or i is None:
            self.info.setText("")
            return
        label = int(ds.labels[i])
        text = f"<b>#{i}</b> true label: <b>{st.class_name(label)}</b>"
        src = ds.sources[i] if getattr(ds, "sources", None) else ""
        if src:
            text += f"<br><small>{src}</small>"
        if st.status == ModelStatus.READY and st.probabilities is not None \
                and np.isfinite(st.probabilities[i]).all():
            p = st.probabilities[i]
            truth = st.model_label(i)
            items = []
            for c in np.argsort(-p)[:5]:
                s = f"{st.model_class_name(int(c))} {p[c]:.0%}"
                items.append(f"<b>{s}</b>" if int(c) == truth else s)
            ok = bool(st.correct_mask()[i])
            mark = "<span style='color:#5c6'>✓ correct</span>" if ok else \
                "<span style='color:#e55'>✗ misclassified: not an attack candidate</span>"
            text += f"<br>Model top-5: {', '.join(items)}<br>{mark}"
        elif st.status == ModelStatus.MISFIT:
            text += "<br><span style='color:#e55'>Model: does not fit this dataset</span> (Model panel)"
        elif st.status in (ModelStatus.LOADING, ModelStatus.EVALUATING):
            text += "<br>Model: evaluating…"
        self.info.setText(text)

    def set_recent(self, files: list[str], open_fn) -> None:
        self.recent_menu.clear()
        if not files:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)
        for f in files:
            self.recent_menu.addAction(f, lambda p=f: open_fn(p))

    # ------------------------------------------------------------------------------------- intents
    def _on_row(self, current: QtCore.QModelIndex, _previous) -> None:
        if current.isValid():
            self.state.select(int(self.proxy.mapToSource(current).row()))
