"""The SMART Workbench application: main window, worker thread, CLI entry points."""
