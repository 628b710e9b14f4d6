"""SMART Workbench engine: pure computation (numpy + torch, no Qt).

Data flows one way: files -> :mod:`engine.datasets` -> tensors ``(N, T, V, 3)`` in metres
-> recognizers (:mod:`engine.models`) / the attack (:mod:`engine.attack`) -> results
(:mod:`engine.metrics`, export).
"""

__version__ = "0.1.0"
