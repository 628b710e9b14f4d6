"""Errors raised by the engine.

All derive from :class:`ValueError` (via :class:`WorkbenchError`) so that callers
catching bad input with ``except ValueError`` see them, and the GUI can show the
message as it is: every message names the file or value and what was expected.
"""

from __future__ import annotations


class WorkbenchError(ValueError):
    """Base class of every error the engine raises on bad input."""


class LayoutMismatchError(WorkbenchError):
    """A motion, model or checkpoint does not fit the skeleton layout it is used with."""


class CheckpointError(WorkbenchError):
    """A checkpoint file cannot be read, or is for another model, layout or class count."""


class DatasetError(WorkbenchError):
    """A dataset file or folder cannot be read: names the file, the line or frame and what was expected."""
