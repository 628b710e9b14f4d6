"""Reusable Qt widgets of SMART Workbench. They display numpy data and emit signals; no torch, no engine."""
