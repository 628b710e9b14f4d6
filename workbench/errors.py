"""What the user reads when something goes wrong: a message in our words (what happened, what to do),
said once, and the library's own text under "details".

Workers turn an exception into a :class:`Problem` (plain data, safe to send between threads) with
:func:`describe`; the GUI shows it with :func:`show_problem`. Our exceptions (:class:`WorkbenchError`,
``ValueError`` raised by the engine's checks) carry our words in their message and the library's
exception as ``__cause__``; anything else is an unexpected failure whose text goes to the details.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

__all__ = ["Problem", "describe", "show_problem"]


@dataclass(frozen=True)
class Problem:
    """``message``: our words, once. ``details``: library text and traceback (may be empty)."""

    message: str
    details: str = ""

    def first_line(self) -> str:
        return self.message.strip().splitlines()[0] if self.message.strip() else ""


def _chain(exc: BaseException) -> list[BaseException]:
    out = []
    e: BaseException | None = exc
    while e is not None and e not in out:
        out.append(e)
        e = e.__cause__ or (None if e.__suppress_context__ else e.__context__)
    return out


def describe(exc: BaseException, unexpected: str = "Something unexpected went wrong.") -> Problem:
    """A :class:`Problem` for ``exc``. Our errors (WorkbenchError, ValueError, OSError) give their own
    message; their causes (numpy's, torch's text) and the traceback go to the details. Other
    exceptions give ``unexpected`` and their text in the details."""
    from engine.errors import WorkbenchError

    chain = _chain(exc)
    details = []
    for e in chain[1:]:
        text = str(e).strip()
        details.append(f"{type(e).__name__}: {text}" if text else type(e).__name__)
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).strip()
    ours = isinstance(exc, WorkbenchError | ValueError | OSError | KeyError)
    text = str(exc).strip().strip("'\"") if ours else ""
    if not text:
        text = unexpected
        details.insert(0, f"{type(exc).__name__}: {str(exc).strip()}")
    if tb:
        details.append(tb)
    return Problem(text, "\n\n".join(d for d in details if d))


def show_problem(parent, title: str, problem: Problem, hint: str = "", modal: bool = True) -> str:
    """Show ``problem`` (plus ``hint``, unless the message already says it) in a critical message box
    with the details folded away; returns the text shown. ``modal=False`` shows nothing."""
    from PySide6 import QtWidgets

    text = problem.message
    if hint and hint not in text:
        text = f"{text}\n\n{hint}"
    if not modal:
        return text
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Critical, title, text,
                                QtWidgets.QMessageBox.StandardButton.Ok, parent)
    if problem.details:
        box.setDetailedText(problem.details)
    box.exec()
    box.deleteLater()
    return text
